# shellcheck shell=bash
# ten_thousand_clients: foobar.service raises LimitNOFILE= to 65536 for
# "10,000+ concurrent clients". 10,000 connections held open at once through
# the shipped units each keep doing round trips with exact echoes, and
# foobard's STATUS= counts all 10,000 of them.

scenario_ten_thousand_clients() {
  want "echo before" "$(echo_hi 2>&1)" hi || return 1
  driver_start tenk --mode=hold --connections=10000 --messages=0 --max_size=64 \
    --timeout_ms=120000
  if ! wait_until 180 driver_ready tenk; then
    driver_stop tenk || true
    flunk "10,000 clients did not all get an echo in 180 s: ${DRIVER_SUMMARY}"
    return 1
  fi
  # STATUS= goes out at most once a second, so give it a few.
  local status_ok=0
  wait_until 10 status_shows_traffic 10000 || status_ok=$?
  local status rc=0
  status=$(prop foobar.service StatusText)
  driver_stop tenk || rc=$?
  ((rc == 0)) || flunk "10,000 concurrent clients: ${DRIVER_SUMMARY}" || return 1
  ((status_ok == 0)) || flunk "STATUS= with 10,000 clients held: '${status}'" || return 1
  want "driver errors" "$(summary_field "${DRIVER_SUMMARY}" errors)" 0 || return 1
  want "driver mismatches" "$(summary_field "${DRIVER_SUMMARY}" mismatches)" 0 || return 1
  note "${status}; LimitNOFILE=$(prop foobar.service LimitNOFILE)"
}
