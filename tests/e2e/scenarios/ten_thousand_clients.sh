# shellcheck shell=bash
# ten_thousand_clients: foobar.service raises LimitNOFILE= to 65536 for
# "10,000+ concurrent clients". 10,000 connections held open at once through
# the shipped units each keep doing round trips with exact echoes, and
# foobard (MainPID) holds all 10,000 of them at once (the kernel's view, ss).

scenario_ten_thousand_clients() {
  want "echo before" "$(echo_hi 2>&1)" hi
  driver_start tenk --mode=hold --connections=10000 --messages=0 --max_size=64 \
    --timeout_ms=120000
  wait_until 180 driver_ready tenk ||
    driver_flunk tenk "10,000 clients did not all get an echo in 180 s"
  # Every client has had an echo, so each connection was accepted; the
  # count is exact, and a few seconds cover a busy machine's ss.
  wait_until 30 foobard_holds 10000 ||
    driver_flunk tenk "with 10,000 clients held: ${FOOBARD_SEEN}"
  driver_stop_clean tenk "10,000 concurrent clients"
  note "${FOOBARD_SEEN}; LimitNOFILE=$(prop foobar.service LimitNOFILE)"
}
