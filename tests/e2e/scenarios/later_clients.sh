# shellcheck shell=bash
# later_clients: the original design served only the first client. 100
# sequential clients, then 1,000 concurrent ones (e2e_driver, then the shipped
# `foobar --bench`), all with exact echoes.

scenario_later_clients() {
  local i out
  for ((i = 0; i < 100; i++)); do
    out=$(e2e_exec foobar --message="client ${i}" 2>&1) ||
      flunk "sequential client ${i}: ${out}"
    want "sequential client ${i}" "${out}" "client ${i}"
  done
  out=$(e2e_exec /root/e2e/e2e_driver --mode=hold --connections=1000 --messages=3 \
    --max_size=2048 2>&1) || flunk "1000 concurrent clients: ${out}"
  want "1000 concurrent clients" "$(summary_field "${out}" messages)" 3000
  # The shipped client's load generator, as a user would run it.
  out=$(e2e_exec foobar --bench --connections=1000 --messages=5000 --size=100 2>&1) ||
    flunk "foobar --bench --connections=1000: ${out}"
  want "foobar --bench messages" "$(summary_field "${out}" messages)" 5000
  want "foobar --bench errors" "$(summary_field "${out}" errors)" 0
  want "foobar --bench mismatches" "$(summary_field "${out}" mismatches)" 0
}
