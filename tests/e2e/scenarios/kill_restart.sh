# shellcheck shell=bash
# kill_restart: `kill -9` of foobard under a client loop. Restart=on-failure
# restarts it exactly once, at most the one accepted connection fails, and the
# loop is served again.

scenario_kill_restart() {
  want "echo before kill" "$(echo_hi 2>&1)" hi
  local pid restarts
  pid=$(prop foobar.service MainPID)
  restarts=$(prop foobar.service NRestarts)
  driver_start kill --mode=loop --gaps_ms=0
  wait_until 10 driver_ready kill ||
    driver_flunk kill "client loop got no echo"
  e2e_exec kill -9 "${pid}" || flunk "kill -9 ${pid} failed"
  # The loop re-creates its ready file on its next success.
  rm -f "${E2E_ROOT}/root/e2e/kill.ready"
  wait_until 15 main_pid_is_new "${pid}" ||
    flunk "no new foobard after kill -9: $(journal_tail foobar.service)"
  wait_until 10 driver_ready kill ||
    driver_flunk kill "client loop not served after kill -9"
  local summary
  # The loop exits 1 when any round trip failed; the one failure kill -9 may
  # cause is allowed, so its summary is what is checked below.
  driver_stop kill || true
  summary=${DRIVER_SUMMARY}
  want "NRestarts after kill -9" "$(prop foobar.service NRestarts)" "$((restarts + 1))"
  want "service after kill -9" "$(e2e_exec systemctl is-active foobar.service)" active
  # Only the connection foobard had accepted when it was killed may fail.
  local failures last iterations
  failures=$(summary_field "${summary}" failures)
  last=$(summary_field "${summary}" last_failure)
  iterations=$(summary_field "${summary}" iterations)
  ((failures <= 1)) || flunk "${failures} client failures around kill -9 (want <= 1): ${summary}"
  ((iterations - last > 20)) || flunk "too few round trips after kill -9: ${summary}"
  want "echo after kill -9" "$(echo_hi 2>&1)" hi
  note "${failures} of ${iterations} loop round trips failed"
}
