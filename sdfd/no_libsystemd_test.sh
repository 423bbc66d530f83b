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
if ! ldd "${control}" | grep -q 'libsystemd'; then
  echo "FAIL: ldd does not show libsystemd even in ${control}" >&2
  status=1
fi

echo "ldd ${probe}:"
ldd "${probe}"
if ldd "${probe}" | grep -Eq 'libsystemd|liblzma|libgcrypt|libzstd|liblz4|libcap'; then
  echo "FAIL: the probe links libsystemd or one of its dependencies" >&2
  status=1
fi
if nm -D --undefined-only "${probe}" | grep -Eq ' sd_[a-z_]+$'; then
  echo "FAIL: the probe needs sd_* symbols from elsewhere" >&2
  status=1
fi
# The probe must also run: not activated, it does nothing and exits 0.
env -u LISTEN_PID -u LISTEN_FDS -u NOTIFY_SOCKET -u WATCHDOG_USEC \
  "${probe}" </dev/null || status=1
exit "${status}"
