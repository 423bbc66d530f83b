#!/usr/bin/env bash
# Usage: tests/bench/sandbox.sh --bin-dir=DIR --out=DIR [--reps=N] [--unit=FILE]
#          [--foobard=PATH]
#
# What the sandbox of foobar.service costs, under a real systemd: boots the
# e2e container (tests/e2e/lib.sh), installs foobard (PATH, else from DIR, a
# bazel-bin) and units/foobar.socket as shipped, then for each profile (the shipped
# foobar.service, FILE, made fully hardened, with option groups removed)
# records the unit's `systemd-analyze security` exposure and the cold first
# round trip through foobar.socket (the service stopped before each one),
# timed inside the container by tests/bench/cold_start. Profiles are measured
# in rounds, in turn, and their samples pooled, so drift on a shared machine
# hits all alike. Writes DIR/sandbox.tsv (profile, groups removed, exposure,
# runs, median, p10 and p90 in µs, "yes" on the profile that is the shipped
# unit), DIR/sandbox_groups.tsv (each group's options) and DIR/profiles/
# (each unit measured).
set -euo pipefail

bin_dir=""
out=""
foobard=""
reps=21
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
unit="${repo}/units/foobar.service"
for arg in "$@"; do
  case "${arg}" in
    --bin-dir=*) bin_dir="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --reps=*) reps="${arg#*=}" ;;
    --unit=*) unit="${arg#*=}" ;;
    --foobard=*) foobard="${arg#*=}" ;;
    *)
      sed -n '2,3p' "$0" | sed 's/^# //' >&2
      exit 2
      ;;
  esac
done
if [[ -z "${bin_dir}" || -z "${out}" ]]; then
  sed -n '2,3p' "$0" | sed 's/^# //' >&2
  exit 2
fi

# Option groups of the shipped unit, from the most to the least expensive
# kind of kernel work they ask systemd to do at every start.
declare -A group=(
  # Read-only remounts of /proc/sys, /sys and the other kernel tunables, and
  # of /sys/fs/cgroup: many mount operations at every start.
  [tunables]="ProtectKernelTunables ProtectControlGroups"
  # Module directories and /dev/kmsg made inaccessible, plus their seccomp
  # filters and capability drops.
  [modules]="ProtectKernelModules ProtectKernelLogs"
  # The file-system view: read-only /, no /home, private /tmp and /dev,
  # hidden /proc entries; a mount namespace with a private /dev and /tmp.
  [files]="ProtectSystem ProtectHome PrivateTmp PrivateDevices DevicePolicy PrivateMounts ProtectProc ProcSubset"
  # Identity: a transient user (which itself implies a read-only / and a
  # private /tmp) and a user namespace. User= goes with DynamicUser=: without
  # it, a named user would have to exist.
  [user]="DynamicUser User PrivateUsers"
  # Network and hostname namespaces.
  [network]="PrivateNetwork ProtectHostname"
  # In-process restrictions: seccomp filters, capabilities, no_new_privs.
  [process]="CapabilityBoundingSet AmbientCapabilities NoNewPrivileges RestrictAddressFamilies RestrictNamespaces RestrictRealtime RestrictSUIDSGID LockPersonality MemoryDenyWriteExecute RemoveIPC IPAddressDeny KeyringMode UMask SystemCallArchitectures SystemCallFilter SystemCallErrorNumber ProtectClock"
)
# Profiles are derived from "full": the shipped unit with every option of
# the kernel groups set (the shipped unit may leave some out because of what
# this benchmark measured), so the table always spans fully hardened to none.
# Profile name -> the groups it removes from "full".
profiles=(full no-tunables no-kernel no-files no-user no-network no-mounts none)
declare -A removes=(
  [full]=""
  [no-tunables]="tunables"
  [no-kernel]="tunables modules"
  [no-files]="files"
  [no-user]="user"
  [no-network]="network"
  [no-mounts]="tunables modules files"
  [none]="tunables modules files user network process"
)

mkdir -p "${out}/profiles"
full="${out}/profiles/full.service"
cp "${unit}" "${full}"
for option in ${group[tunables]} ${group[modules]}; do
  if ! grep -q "^${option}=" "${full}"; then
    sed -i "/^\[Service\]\$/a ${option}=yes" "${full}"
  fi
done
for p in "${profiles[@]}"; do
  options=""
  for g in ${removes[${p}]}; do options+=" ${group[${g}]}"; done
  [[ -n "${options}" ]] || continue
  pattern="^($(tr ' ' '\n' <<<"${options# }" | paste -sd '|'))="
  grep -Ev "${pattern}" "${full}" >"${out}/profiles/${p}.service"
done

# settings FILE: a unit's settings without comments or blank lines, sorted,
# to tell which profile is the shipped unit.
settings() { grep -Ev '^[[:space:]]*(#|$)' "$1" | sort; }
shipped_profile=""
for p in "${profiles[@]}"; do
  if [[ "$(settings "${out}/profiles/${p}.service")" == "$(settings "${unit}")" ]]; then
    shipped_profile="${p}"
  fi
done

# shellcheck source=tests/e2e/lib.sh
source "${repo}/tests/e2e/lib.sh"
e2e_boot bench-sandbox
e2e_copy_in "${foobard:-${bin_dir}/daemon/foobard}" /usr/bin/foobard
e2e_copy_in "${bin_dir}/tests/bench/cold_start" /usr/local/bin/cold_start
e2e_copy_in "${repo}/units/foobar.socket" /etc/systemd/system/foobar.socket
# The group SocketGroup= names; the package creates it through sysusers.d.
e2e_exec groupadd --system foobar
e2e_exec systemctl daemon-reload

# use_profile NAME: makes NAME the foobar.service systemd runs.
use_profile() {
  e2e_copy_in "${out}/profiles/$1.service" /etc/systemd/system/foobar.service
  e2e_exec systemctl daemon-reload
  e2e_exec systemctl reset-failed foobar.service foobar.socket 2>/dev/null || true
  e2e_exec systemctl restart foobar.socket
}

declare -A exposure=()
for p in "${profiles[@]}"; do
  use_profile "${p}"
  exposure[${p}]="$(e2e_exec systemd-analyze security --no-pager foobar.service |
    awk '/Overall exposure level/ { print $(NF - 2) }')"
  : >"${E2E_DIR}/${p}.samples"
done

rounds=3
# systemctl warns that the socket can still activate the service: we know.
stop='systemctl stop foobar.service 2>/dev/null'
for ((round = 1; round <= rounds; round++)); do
  for p in "${profiles[@]}"; do
    use_profile "${p}"
    n=$(((reps + rounds - round) / rounds))
    # One warm-up activation (page cache, first-start work) is not counted.
    e2e_exec cold_start --reps=1 --socket=/run/foobar.sk \
      --before="${stop}" >/dev/null || true
    if line="$(e2e_exec cold_start --reps="${n}" --socket=/run/foobar.sk \
      --before="${stop}")"; then
      tr ',' '\n' <<<"${line##*samples_us=}" >>"${E2E_DIR}/${p}.samples"
    else
      echo "sandbox: profile ${p} failed its round trip; its journal:" >&2
      e2e_exec journalctl -u foobar.service -n 20 --no-pager >&2 || true
    fi
  done
  echo "sandbox: round ${round}/${rounds} done" >&2
done

: >"${out}/sandbox.tsv"
for p in "${profiles[@]}"; do
  removed="${removes[${p}]:-—}"
  sort -n "${E2E_DIR}/${p}.samples" | awk -v p="${p}" -v r="${removed}" \
    -v x="${exposure[${p}]}" -v shipped="$([[ "${p}" == "${shipped_profile}" ]] && echo yes)" '
    { v[NR] = $1 }
    END {
      if (NR == 0) { printf "%s\t%s\t%s\t0\t\t\t\t%s\n", p, r, x, shipped; exit }
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s\t%s\t%s\t%d\t%.0f\t%.0f\t%.0f\t%s\n", p, r, x, NR, med,
        v[int(NR / 10) + 1], v[int(NR * 9 / 10)], shipped
    }' >>"${out}/sandbox.tsv"
done
# The legend of the group names used in sandbox.tsv.
for g in tunables modules files user network process; do
  printf '%s\t%s\n' "${g}" "${group[${g}]}"
done >"${out}/sandbox_groups.tsv"
e2e_exec systemd-analyze --version | awk 'NR == 1 { print "container_systemd=" $2 }' \
  >>"${out}/machine.txt"
echo "sandbox: results in ${out}/sandbox.tsv" >&2
