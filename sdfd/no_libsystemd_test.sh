#!/usr/bin/env bash
# Usage: no_libsystemd_test.sh PROBE_BINARY CONTROL_BINARY
# Fails when a binary linking //sdfd:sdfd depends on libsystemd, at run time
# (ldd) or through an sd_* symbol of its own: libsdfd implements the
# protocols natively, and libsystemd would drag libgcrypt, liblzma, libzstd,
# liblz4, libcap and libgpg-error into every cold start.
set -euo pipefail

probe=${1:?usage: no_libsystemd_test.sh PROBE_BINARY CONTROL_BINARY}
control=${2:?usage: no_libsystemd_test.sh PROBE_BINARY CONTROL_BINARY}
status=0

# The control (the differential test, which links libsystemd on purpose)
# proves that this check can see libsystemd at all.
# Each listing is read whole before grep looks at it: `ldd | grep -q` under
# pipefail fails at random when grep exits early and ldd, still writing a
# long listing, dies of SIGPIPE.
control_libs=$(ldd "${control}")
if ! grep -q 'libsystemd' <<<"${control_libs}"; then
  echo "FAIL: ldd does not show libsystemd even in ${control}" >&2
  status=1
fi

probe_libs=$(ldd "${probe}")
echo "ldd ${probe}:"
echo "${probe_libs}"
if grep -Eq 'libsystemd|liblzma|libgcrypt|libzstd|liblz4|libcap' <<<"${probe_libs}"; then
  echo "FAIL: the probe links libsystemd or one of its dependencies" >&2
  status=1
fi
probe_undefined=$(nm -D --undefined-only "${probe}")
if grep -Eq ' sd_[a-z_]+$' <<<"${probe_undefined}"; then
  echo "FAIL: the probe needs sd_* symbols from elsewhere" >&2
  status=1
fi
# The probe must also run: not activated, it does nothing and exits 0.
env -u LISTEN_PID -u LISTEN_FDS -u NOTIFY_SOCKET -u WATCHDOG_USEC \
  "${probe}" </dev/null || status=1
exit "${status}"
