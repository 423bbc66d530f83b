# shellcheck shell=bash
# zero_downtime_restart: 100 long-lived clients exchange 1 B-16 KiB messages
# while `systemctl restart foobar.service` runs 5 times. After each restart a
# new MainPID holds all 100 connections and the listener (the kernel's view,
# ss) and the fd store is empty again (NFileDescriptorStore=0): 5 handoffs.
# The clients see no reset, error, lost or changed byte.

scenario_zero_downtime_restart() {
  want "echo before restarts" "$(echo_hi 2>&1)" hi
  driver_start restart --mode=hold --connections=100 --messages=0 --max_size=16384
  wait_until 30 driver_ready restart ||
    driver_flunk restart "100 clients did not all get an echo in 30 s"
  foobard_holds 100 || flunk "before the restarts: ${FOOBARD_SEEN}"
  local i pid
  for ((i = 1; i <= 5; i++)); do
    pid=$(prop foobar.service MainPID)
    e2e_exec systemctl restart foobar.service ||
      flunk "systemctl restart #${i} failed: $(journal_tail foobar.service)"
    main_pid_is_new "${pid}" || flunk "restart #${i}: MainPID still ${pid}"
    # The new instance took the 100 connections over (and the store entry
    # that carried them is gone) before the next restart.
    wait_until 10 foobard_holds 100 || flunk "restart #${i}: ${FOOBARD_SEEN}"
    want "restart #${i}: NFileDescriptorStore after adoption" \
      "$(prop foobar.service NFileDescriptorStore)" 0
  done
  driver_stop_clean restart "clients across 5 restarts"
  note "$(summary_field "${DRIVER_SUMMARY}" messages) round trips, 5 handoffs of 100 connections"
}
