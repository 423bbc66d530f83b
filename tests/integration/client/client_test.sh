#!/usr/bin/env bash
# Usage: client_test.sh FOOBAR FOOBARD FAKE_SERVER
# (run by: bazel test //tests/integration/client:client_test)
#
# foobar against a real foobard started through systemd-socket-activate,
# and against fake servers for each error path. Every check asserts the
# exact stdout, stderr and exit code. Ends with "N passed, N failed".
set -euo pipefail

FOOBAR=$(realpath "$1")
FOOBARD=$(realpath "$2")
FAKE_SERVER=$(realpath "$3")

# Socket paths must fit sockaddr_un (107 bytes) and Bazel's $TEST_TMPDIR is
# often longer; the permission check also needs a directory that an
# unprivileged user can traverse, which $TEST_TMPDIR (under /root) is not.
DIR=$(mktemp -d /tmp/foobar-client-it.XXXXXX)
chmod 755 "$DIR"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

# shellcheck source=tests/lib/checks.sh
source tests/lib/checks.sh

# start_bg NAME PATTERN CMD...: runs CMD in the background with its stdout
# and stderr on a fifo, waits for the first line (which must match
# PATTERN: the program says it is ready), then drains the rest to a log.
start_bg() {
  local name=$1 pattern=$2
  shift 2
  local fifo="$DIR/$name.fifo" line fd
  mkfifo "$fifo"
  "$@" >"$fifo" 2>&1 &
  PIDS+=($!)
  exec {fd}<"$fifo"
  # shellcheck disable=SC2053  # PATTERN is a glob on purpose
  if ! IFS= read -r -u "$fd" line || [[ $line != $pattern ]]; then
    echo "cannot start $name: '$line'" >&2
    exit 1
  fi
  cat <&"$fd" >"$DIR/$name.log" &
  PIDS+=($!)
  exec {fd}<&-
}

# run [--stdin FILE] CMD...: runs CMD, keeping its stdout in $DIR/out,
# stderr in $DIR/err and exit code in RC.
run() {
  local input=/dev/null
  if [[ $1 == --stdin ]]; then
    input=$2
    shift 2
  fi
  set +e
  "$@" <"$input" >"$DIR/out" 2>"$DIR/err"
  RC=$?
  set -e
}

# expect NAME RC STDERR [STDOUT_FILE]: checks the last run() exactly; the
# expected stdout is empty unless a file is given.
expect() {
  local name=$1 rc=$2 err=$3 out=${4:-/dev/null}
  local problems=()
  [[ $RC == "$rc" ]] || problems+=("exit code $RC, expected $rc")
  [[ $(cat "$DIR/err") == "$err" ]] ||
    problems+=("stderr: $(head -c 600 "$DIR/err")" "expected: $err")
  cmp -s "$DIR/out" "$out" ||
    problems+=("stdout differs: $(cmp "$DIR/out" "$out" 2>&1 | head -c 300)")
  if ((${#problems[@]} == 0)); then
    pass "$name"
  else
    fail "$name" "${problems[@]}"
  fi
}

# expect_summary NAME KEY=VALUE...: checks the last run() was a successful
# bench whose one summary line holds every KEY=VALUE, all values numbers.
expect_summary() {
  local name=$1
  shift
  local problems=() line pair
  line=$(cat "$DIR/out")
  [[ $RC == 0 ]] || problems+=("exit code $RC: $(cat "$DIR/err")")
  [[ $(wc -l <"$DIR/out") == 1 ]] || problems+=("not one line: $line")
  [[ $line =~ ^connections=[0-9]+\ messages=[0-9]+\ bytes=[0-9]+\ seconds=[0-9.]+\ msgs_per_s=[0-9]+\ mib_per_s=[0-9.]+\ p50_us=[0-9.]+\ p99_us=[0-9.]+\ max_us=[0-9.]+\ errors=[0-9]+\ mismatches=[0-9]+$ ]] ||
    problems+=("not the summary format: $line")
  for pair in "$@"; do
    [[ " $line " == *" $pair "* ]] || problems+=("no $pair in: $line")
  done
  if ((${#problems[@]} == 0)); then
    pass "$name ($line)"
  else
    fail "$name" "${problems[@]}"
  fi
}

# --- against foobard, through systemd-socket-activate ----------------------
SOCK="$DIR/foobar.sk"
start_bg foobard 'Listening on *' \
  systemd-socket-activate -l "$SOCK" "$FOOBARD"

printf 'a\nb\n' >"$DIR/ab"
run --stdin "$DIR/ab" "$FOOBAR" --connect="unix:$SOCK"
expect "line mode prints exactly a, b" 0 "" "$DIR/ab"

printf 'x' >"$DIR/one_byte"
run --stdin "$DIR/one_byte" "$FOOBAR" --connect="$SOCK"
expect "line mode, one byte without newline" 0 "" "$DIR/one_byte"

printf 'x\ny\n\n' >"$DIR/short_lines"
run --stdin "$DIR/short_lines" "$FOOBAR" --connect="$SOCK"
expect "line mode, 1 B lines and an empty line" 0 "" "$DIR/short_lines"

# Lines of exactly 4 KiB and 1 MiB (newline included) of random bytes
# other than '\n', different in each line, so that a merged or truncated
# line cannot compare equal.
line_file() { # line_file FILE LENGTH COUNT
  local i
  : >"$1"
  for ((i = 0; i < $3; i++)); do
    head -c $(($2 - 1)) /dev/urandom | tr '\n' 'n' >>"$1"
    echo >>"$1"
  done
}
line_file "$DIR/4k" 4096 50
run --stdin "$DIR/4k" "$FOOBAR" --connect="$SOCK"
expect "line mode, 50 lines of 4 KiB" 0 "" "$DIR/4k"
if [[ $(wc -c <"$DIR/4k") != $((4096 * 50)) ]]; then
  fail "4 KiB input is not 50 x 4096 bytes"
fi

line_file "$DIR/1m" $((1024 * 1024)) 3
run --stdin "$DIR/1m" "$FOOBAR" --connect="$SOCK"
expect "line mode, 3 lines of 1 MiB" 0 "" "$DIR/1m"

run env FOOBAR_SOCKET="unix:$SOCK" "$FOOBAR" --message='hello, foobard'
printf 'hello, foobard\n' >"$DIR/hello"
expect "--message via FOOBAR_SOCKET" 0 "" "$DIR/hello"

head -c 100M /dev/urandom >"$DIR/random"
set +e
# shellcheck disable=SC2094  # reads random, writes err and cmp: different files
"$FOOBAR" --raw --connect="$SOCK" <"$DIR/random" 2>"$DIR/err" | cmp - "$DIR/random" >"$DIR/cmp" 2>&1
statuses=("${PIPESTATUS[@]}")
set -e
if [[ ${statuses[*]} == "0 0" && ! -s $DIR/err ]]; then
  pass "--raw, 100 MiB of random bytes, cmp"
else
  fail "--raw, 100 MiB of random bytes, cmp" "exit codes ${statuses[*]}" \
    "$(cat "$DIR/err" "$DIR/cmp")"
fi
rm -f "$DIR/random"

run "$FOOBAR" --connect="$SOCK" --bench --connections=1 --messages=2000
expect_summary "bench, 1 connection" connections=1 messages=2000 \
  bytes=128000 errors=0 mismatches=0

run "$FOOBAR" --connect="$SOCK" --bench --connections=1000 --messages=20000 \
  --size=100
expect_summary "bench, 1000 connections" connections=1000 messages=20000 \
  bytes=2000000 errors=0 mismatches=0

# --- error paths --------------------------------------------------------------
run "$FOOBAR" --connect="$DIR/missing.sk" --message=x
expect "missing socket" 1 "foobar: cannot connect to $DIR/missing.sk: No such file or directory (is foobar.socket running? try: systemctl enable --now foobar.socket)"

start_bg refused ready "$FAKE_SERVER" bind "$DIR/refused.sk"
run "$FOOBAR" --connect="$DIR/refused.sk" --message=x
expect "connection refused" 1 "foobar: cannot connect to $DIR/refused.sk: Connection refused (the socket exists but no server is listening on it; try: systemctl restart foobar.socket)"

# Permission denied: a 0660 socket of group daemon, and a client running as
# nobody:nogroup with no supplementary groups. The binary is copied out of
# the runfiles, which live under /root where nobody may not go.
if ((EUID == 0)); then
  start_bg perm ready "$FAKE_SERVER" bind "$DIR/perm.sk"
  chgrp daemon "$DIR/perm.sk"
  chmod 0660 "$DIR/perm.sk"
  install -m 0755 "$FOOBAR" "$DIR/foobar"
  run setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$DIR/foobar" --connect="$DIR/perm.sk" --message=x
  expect "permission denied names the group" 1 "foobar: cannot connect to $DIR/perm.sk: Permission denied (the socket belongs to group daemon; try: sudo adduser \$USER daemon, then log in again)"
else
  fail "permission denied names the group" \
    "this check must run as root, to run foobar as nobody with setpriv"
fi

start_bg reset ready "$FAKE_SERVER" reset "$DIR/reset.sk"
run "$FOOBAR" --connect="$DIR/reset.sk" --message=x
expect "connection reset" 1 "foobar: connection to $DIR/reset.sk was reset by the server (recv: Connection reset by peer); check its log: journalctl -u foobar.service"

start_bg silent ready "$FAKE_SERVER" silent "$DIR/silent.sk"
run "$FOOBAR" --connect="$DIR/silent.sk" --message=x --timeout=200ms
expect "echo timeout" 1 "foobar: no echo from $DIR/silent.sk within 200ms (the server accepted the connection but does not answer; check: systemctl status foobar.service, or raise --timeout)"

run --stdin "$DIR/ab" "$FOOBAR" --connect="$DIR/silent.sk" --timeout=200ms
expect "echo timeout in line mode" 1 "foobar: no echo from $DIR/silent.sk within 200ms (the server accepted the connection but does not answer; check: systemctl status foobar.service, or raise --timeout)"

start_bg full ready "$FAKE_SERVER" full "$DIR/full.sk"
run "$FOOBAR" --connect="$DIR/full.sk" --message=x --timeout=200ms
expect "connect timeout" 1 "foobar: cannot connect to $DIR/full.sk: timed out after 200ms (the server is not accepting connections; check: systemctl status foobar.service, or raise --timeout)"

run "$FOOBAR" --colour
expect "unknown flag" 2 "foobar: unknown flag --colour (see foobar --help)"
run "$FOOBAR" --raw --bench
expect "conflicting modes" 2 "foobar: --raw and --bench cannot be combined: pick one mode (see foobar --help)"
run "$FOOBAR" --bench --size=0
expect "bad --size" 2 "foobar: invalid --size=0: expected 1 to 16M bytes, like 64, 4K or 1M (see foobar --help)"
run "$FOOBAR" --timeout=soon
if [[ $RC == 2 && $(cat "$DIR/err") == "foobar: invalid value for --timeout=soon: "* ]]; then
  pass "bad --timeout"
else
  fail "bad --timeout" "exit $RC: $(cat "$DIR/err")"
fi
run "$FOOBAR" hello
expect "positional argument" 2 "foobar: unexpected argument 'hello': foobar takes no arguments (see foobar --help)"
run "$FOOBAR" --connect=udp:127.0.0.1:9
expect "datagram target" 2 "foobar: invalid --connect: foobar talks over stream sockets; use unix:/path, unix:@name or tcp:HOST:PORT (see foobar --help)"

run "$FOOBAR" --help
if [[ $RC == 0 && ! -s $DIR/err ]] && grep -q -- '--bench' "$DIR/out"; then
  pass "--help"
else
  fail "--help" "exit $RC"
fi

checks_summary
