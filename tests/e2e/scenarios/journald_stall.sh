# shellcheck shell=bash
# journald_stall: a stopped journald never stops foobard. foobard logs one
# line per connection with --verbose (added to the shipped unit by a runtime
# drop-in). With systemd-journald stopped (SIGSTOP) its stream socket fills
# (8 MiB, as systemd sets it up), yet the tens of thousands of clients that
# takes are all served; once journald runs again foobard
# writes what it queued and one line with the count of lines it dropped; and
# with journald stopped again, `systemctl stop foobar.service` finishes
# cleanly (Result=success, no SIGKILL after TimeoutStopSec=).

# journald_stall_sink_full: foobard's stderr, a stream socket to journald, is
# at least 90% full. systemd raises its send buffer to 8 MiB, so this takes
# thousands of verbose connections; ss reports the bytes queued (t) and the
# buffer's size (tb).
SINK_SEEN=""
journald_stall_sink_full() {
  local pid ino line
  pid=$(prop foobar.service MainPID)
  ino=$(e2e_exec readlink "/proc/${pid}/fd/2" | tr -dc '0-9')
  SINK_SEEN="foobard ${pid}, stderr socket ${ino:-none}: no ss line"
  line=$(e2e_exec ss -xmH | grep -m 1 " \* ${ino} \* ") || return 1
  SINK_SEEN="foobard ${pid}: ${line##* }"
  [[ "${line}" =~ ,t([0-9]+),tb([0-9]+), ]] || return 1
  ((BASH_REMATCH[1] * 10 >= BASH_REMATCH[2] * 9))
}

# journald_stall_clients: rounds of 3,000 concurrent clients, one round trip
# each, until foobard's log socket is nearly full, then two more rounds (far
# more lines than the rest of it and foobard's own 64 KiB buffer hold), so
# foobard must be dropping lines. How many rounds that takes depends on how
# many lines each write carries (skb overhead counts against the buffer):
# 6 to 10 here on a quiet machine, more under load. At most 100 rounds.
# Sets STALL_CLIENTS.
STALL_CLIENTS=0
journald_stall_clients() {
  local round out extra=2
  for ((round = 0; round < 100 && extra > 0; round++)); do
    out=$(e2e_exec /root/e2e/e2e_driver --mode=hold --connections=3000 --messages=1 \
      --max_size=64 --timeout_ms=60000 2>&1) ||
      flunk "round ${round} of 3000 clients with journald stopped: ${out}"
    STALL_CLIENTS=$((STALL_CLIENTS + 3000))
    if ((extra < 2)) || journald_stall_sink_full; then
      extra=$((extra - 1))
    fi
  done
  ((extra == 0)) ||
    flunk "foobard's log socket not full after ${round} rounds of 3000 clients (${SINK_SEEN})"
}

journald_stall_dropped_line_logged() {
  e2e_exec journalctl --sync
  e2e_exec journalctl -u foobar.service --after-cursor="$1" -o cat --no-pager |
    grep -q '^dropped [0-9]* log lines: the log sink was not reading$'
}

# journald_stall_restore JOURNALD_PID: journald runs again and the unit is
# as shipped. Once: the scenario calls it before its last checks, and at_exit
# calls it again however the scenario ends.
JOURNALD_STALL_RESTORED=0
journald_stall_restore() {
  ((JOURNALD_STALL_RESTORED == 0)) || return 0
  JOURNALD_STALL_RESTORED=1
  e2e_exec kill -CONT "$1" || true
  e2e_sh 'rm -rf /run/systemd/system/foobar.service.d && systemctl daemon-reload' || true
}

scenario_journald_stall() {
  # The shipped command line, plus --verbose.
  local argv
  argv=$(prop foobar.service ExecStart | sed -n 's/.*argv\[\]=\([^;]*\) ;.*/\1/p' | sed 's/ *$//')
  [[ "${argv}" == /usr/bin/foobard* ]] || flunk "unexpected ExecStart: ${argv}"
  local journald cursor timeout_stop
  journald=$(prop systemd-journald.service MainPID)
  # However the scenario ends, journald runs and the unit is as shipped.
  at_exit journald_stall_restore "${journald}"
  e2e_sh "mkdir -p /run/systemd/system/foobar.service.d &&
    printf '[Service]\nExecStart=\nExecStart=%s --verbose\n' '${argv}' \
      >/run/systemd/system/foobar.service.d/e2e-verbose.conf &&
    systemctl daemon-reload && systemctl stop foobar.service" ||
    flunk "cannot add --verbose to foobar.service"
  want "echo with --verbose" "$(echo_hi 2>&1)" hi
  [[ "$(prop foobar.service ExecStart)" == *--verbose* ]] ||
    flunk "ExecStart has no --verbose: $(prop foobar.service ExecStart)"
  cursor=$(e2e_exec journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p')

  # Round one: stalled, every client served; journald resumes and foobard
  # reports what it dropped, while it keeps running.
  e2e_exec kill -STOP "${journald}" || flunk "kill -STOP journald failed"
  journald_stall_clients
  e2e_exec kill -CONT "${journald}"
  wait_until 30 journald_stall_dropped_line_logged "${cursor}" ||
    flunk "no \"dropped N log lines\" line 30 s after journald resumed: $(journal_tail foobar.service 3)"
  local report
  report=$(e2e_exec journalctl -u foobar.service --after-cursor="${cursor}" -o cat --no-pager |
    grep '^dropped [0-9]* log lines' | tail -n 1)

  # Round two: stalled again, then stopped. The old foobard sat in write(2)
  # with SIGTERM unread until TimeoutStopSec= ended it with SIGKILL.
  e2e_exec kill -STOP "${journald}" || flunk "kill -STOP journald failed"
  journald_stall_clients
  timeout_stop=$(prop foobar.service TimeoutStopUSec)
  local stop_start=${SECONDS} stop_rc=0
  e2e_exec systemctl stop foobar.service || stop_rc=$?
  local stop_took=$((SECONDS - stop_start)) result status
  result=$(prop foobar.service Result)
  status=$(prop foobar.service ExecMainStatus)
  journald_stall_restore "${journald}"
  ((stop_rc == 0)) || flunk "systemctl stop foobar.service failed (${stop_rc})"
  want "Result after stopping with journald stopped" "${result}" success
  want "foobard's exit status" "${status}" 0
  want "echo after journald resumed" "$(echo_hi 2>&1)" hi
  note "${STALL_CLIENTS} clients with journald stopped; ${report};" \
    "stop took ${stop_took} s (TimeoutStopSec ${timeout_stop})"
}
