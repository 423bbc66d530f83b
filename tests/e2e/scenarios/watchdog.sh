# shellcheck shell=bash
# watchdog: foobar.service says "foobard pings the watchdog from its event
# loop at half this interval; a stuck loop is killed with SIGABRT and
# restarted". A foobard frozen with SIGSTOP stops pinging: after WatchdogSec=
# systemd logs a watchdog timeout and kills it, Restart=on-failure starts a
# new one (NRestarts grows by exactly 1), and the next client is served.

scenario_watchdog() {
  want "echo before freezing foobard" "$(echo_hi 2>&1)" hi
  local pid restarts watchdog cursor start=${SECONDS}
  pid=$(prop foobar.service MainPID)
  restarts=$(prop foobar.service NRestarts)
  watchdog=$(prop foobar.service WatchdogUSec)
  cursor=$(e2e_exec journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
  # A foobard the watchdog failed to replace must not stay frozen.
  at_exit e2e_exec kill -CONT "${pid}"
  e2e_exec kill -STOP "${pid}" || flunk "kill -STOP ${pid} failed"
  wait_until 120 main_pid_is_new "${pid}" ||
    flunk "foobard frozen 120 s and still MainPID (WatchdogSec=${watchdog}): $(journal_tail foobar.service)"
  local took=$((SECONDS - start)) timeouts
  want "NRestarts after one watchdog kill" "$(prop foobar.service NRestarts)" \
    "$((restarts + 1))"
  e2e_exec journalctl --sync
  timeouts=$(e2e_exec journalctl --after-cursor="${cursor}" -u foobar.service -o cat \
    --no-pager | grep -c "Watchdog timeout" || true)
  want "\"Watchdog timeout\" lines in the journal" "${timeouts}" 1
  want "echo after the restart" "$(echo_hi 2>&1)" hi
  note "a frozen foobard was replaced ${took} s after SIGSTOP (WatchdogSec=${watchdog})"
}
