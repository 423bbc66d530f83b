#!/usr/bin/env bash
# Usage: units_test.sh FOOBAR.DEB
# Checks the units as the package installs them: each unit in the .deb is the
# one in units/, `systemd-analyze verify` is clean (no output at all, not only
# exit 0: unknown keys are mere warnings), both services score <= 1.0 in
# `systemd-analyze security --offline=true`, and the sysusers.d entry creates
# the system group "foobar". verify checks that ExecStart= binaries and
# Documentation= man pages exist, so it runs against a root made of the
# extracted package plus the host's own units (sysinit.target, ...). Needs no
# running systemd.
set -euo pipefail

if (($# != 1)); then
  echo "usage: $0 FOOBAR.DEB" >&2
  exit 2
fi
readonly deb=$1
readonly units=(foobar.socket foobar.service foobar-inetd.socket foobar-inetd@.service)
readonly services=(foobar.service foobar-inetd@.service)
readonly max_exposure=1.0

tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/units.XXXXXX")
trap 'rm -rf "${tmp}"' EXIT
root="${tmp}/root"
dpkg-deb -x "${deb}" "${root}"
cp -an /lib/systemd/system/. "${root}/lib/systemd/system/"
# verify asks man(1) for each Documentation= page: look in the package's.
export MANPATH="${root}/usr/share/man"

# shellcheck source=tests/lib/checks.sh
source tests/lib/checks.sh

same_as_source() { cmp "units/$1" "${root}/lib/systemd/system/$1"; }

verify_clean() {
  local out
  out=$(systemd-analyze verify --root="${root}" "$1" 2>&1) || {
    echo "${out}"
    return 1
  }
  [[ -z "${out}" ]] || {
    echo "${out}"
    return 1
  }
}

exposure_at_most_max() {
  local out level
  out=$(systemd-analyze security --offline=true --root="${root}" "$1" 2>&1)
  level=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"${out}")
  echo "$1: exposure ${level:-unknown} (max ${max_exposure})"
  [[ -n "${level}" ]] && awk -v l="${level}" -v m="${max_exposure}" 'BEGIN { exit !(l <= m) }'
}

sysusers_creates_system_group() {
  local sysroot="${tmp}/sysroot"
  mkdir -p "${sysroot}/etc"
  systemd-sysusers --root="${sysroot}" "${root}/usr/lib/sysusers.d/foobar.conf"
  local gid
  gid=$(awk -F: '$1 == "foobar" { print $3 }' "${sysroot}/etc/group")
  echo "group foobar: gid ${gid:-none}"
  # System groups live below 1000 (SYS_GID_MAX on Debian).
  [[ -n "${gid}" ]] && ((gid < 1000))
}

for unit in "${units[@]}"; do
  check "${unit} in the package is units/${unit}" same_as_source "${unit}"
  check "${unit} passes systemd-analyze verify with no output" verify_clean "${unit}"
done
for service in "${services[@]}"; do
  check "${service} exposure <= ${max_exposure}" exposure_at_most_max "${service}"
done
check "sysusers.d entry creates system group foobar" sysusers_creates_system_group

checks_summary
