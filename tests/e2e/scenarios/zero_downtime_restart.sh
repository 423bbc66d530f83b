# shellcheck shell=bash
# zero_downtime_restart: 100 long-lived clients exchange 1 B-16 KiB messages
# while `systemctl restart foobar.service` runs 5 times; each new instance
# reports the 100 connections in STATUS=; foobard logs 5 handoffs of 100
# connections; no reset, error, lost or changed byte.

scenario_zero_downtime_restart() {
  want "echo before restarts" "$(echo_hi 2>&1)" hi || return 1
  driver_start restart --mode=hold --connections=100 --messages=0 --max_size=16384
  if ! wait_until 30 driver_ready restart; then
    driver_stop restart || true
    flunk "100 clients did not all get an echo in 30 s: ${DRIVER_SUMMARY}"
    return 1
  fi
  local i pid handoffs_before handoffs
  handoffs_before=$(count_handoffs 100)
  for ((i = 1; i <= 5; i++)); do
    pid=$(prop foobar.service MainPID)
    e2e_exec systemctl restart foobar.service ||
      flunk "systemctl restart #${i} failed: $(journal_tail foobar.service)" || {
      driver_stop restart || true
      return 1
    }
    main_pid_is_new "${pid}" ||
      flunk "restart #${i}: MainPID still ${pid}" || {
      driver_stop restart || true
      return 1
    }
    # The new instance took the 100 connections over and echoes on them
    # (its STATUS= counts them) before the next restart.
    wait_until 10 status_shows_traffic 100 ||
      flunk "restart #${i}: new foobard reports '$(prop foobar.service StatusText)'" || {
      driver_stop restart || true
      return 1
    }
  done
  local summary rc=0
  driver_stop restart || rc=$?
  summary=${DRIVER_SUMMARY}
  ((rc == 0)) || flunk "clients across 5 restarts: ${summary}" || return 1
  want "errors across 5 restarts" "$(summary_field "${summary}" errors)" 0 || return 1
  want "mismatches across 5 restarts" "$(summary_field "${summary}" mismatches)" 0 || return 1
  handoffs=$(($(count_handoffs 100) - handoffs_before))
  want "journal lines 'handed off 100 connections'" "${handoffs}" 5 || return 1
  note "$(summary_field "${summary}" messages) round trips, 5 handoffs of 100 connections"
}
