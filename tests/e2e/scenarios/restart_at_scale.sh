# shellcheck shell=bash
# restart_at_scale: `systemctl restart foobar.service` three times under 100,
# 1,000, 10,000 and 16,384 live connections (RESTART_AT_SCALE_SIZES), each
# connection doing closed-loop round trips that check every byte. During each
# restart 10 clients do not read, so foobard holds unsent bytes for them that
# must travel in the handoff. Checks, at every size: zero errors and zero
# changed bytes, the stalled clients' echoes included (what foobard had not
# sent them yet travelled); after each restart a new MainPID holding all N
# connections and the listener (the kernel's view, ss); NFileDescriptorStore
# at most 2 while the restart runs (one entry, not one per connection) and 0
# once the new instance adopted it; $FDSTORE in foobard's environment where
# systemd tells it the store's size (>= 254), absent on 252; PID 1's fd count
# the same before and after. The note gives the longest round trip of the
# reading clients (e2e_driver's max_rtt_us) at each size.

# The sizes, overridable for a quick run (e.g. "100 1000").
RESTART_AT_SCALE_SIZES=${RESTART_AT_SCALE_SIZES:-100 1000 10000 16384}

# restart_at_scale_sample OUT STOP: appends NFileDescriptorStore to OUT, as
# fast as systemctl answers, until STOP exists.
restart_at_scale_sample() {
  while [[ ! -e "$2" ]]; do
    prop foobar.service NFileDescriptorStore >>"$1" 2>/dev/null || true
  done
}

# restart_at_scale_held: every stalled client is blocked in send().
restart_at_scale_held() { [[ -e "${E2E_ROOT}/root/e2e/scale.stall.held" ]]; }

# restart_at_scale_released: the driver has seen the stall end.
restart_at_scale_released() { [[ ! -e "${E2E_ROOT}/root/e2e/scale.stall.held" ]]; }

# restart_at_scale_pid1_fds: how many fds the machine's PID 1 holds.
restart_at_scale_pid1_fds() {
  find "/proc/${E2E_PID}/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# restart_at_scale_fdstore PID: $FDSTORE in the environment systemd gave
# PID, empty when it has none.
restart_at_scale_fdstore() {
  e2e_exec cat "/proc/$1/environ" | tr '\0' '\n' | sed -n 's/^FDSTORE=//p'
}

# restart_at_scale_one N: the checks at one size; sets LAST_RTT_US.
restart_at_scale_one() {
  local n=$1 name="scale$1" i pid samples max fds_before summary rc=0
  local stall="${E2E_ROOT}/root/e2e/scale.stall"
  rm -f "${stall}" "${stall}.held"
  driver_start "${name}" --mode=hold --connections="${n}" --messages=0 \
    --max_size=256 --stall_connections=10 --stall_file=/root/e2e/scale.stall \
    --stall_size=4194304 --timeout_ms=30000
  # Stalled clients never finish a round trip: release them however this ends.
  at_exit rm -f "${stall}"
  wait_until 120 driver_ready "${name}" ||
    driver_flunk "${name}" "${n} clients did not all get an echo in 120 s"
  wait_until 30 foobard_holds "${n}" || flunk "${n}: before the restarts: ${FOOBARD_SEEN}"
  fds_before=$(restart_at_scale_pid1_fds)
  for ((i = 1; i <= 3; i++)); do
    touch "${stall}"
    wait_until 30 restart_at_scale_held ||
      flunk "${n}: restart #${i}: the 10 stalled clients did not block in 30 s"
    pid=$(prop foobar.service MainPID)
    samples="${E2E_DIR}/store.${n}.${i}"
    : >"${samples}"
    restart_at_scale_sample "${samples}" "${samples}.stop" &
    local sampler=$!
    e2e_exec systemctl restart foobar.service || rc=$?
    touch "${samples}.stop"
    wait "${sampler}" || true
    ((rc == 0)) ||
      flunk "${n}: systemctl restart #${i} failed: $(journal_tail foobar.service)"
    main_pid_is_new "${pid}" || flunk "${n}: restart #${i}: MainPID still ${pid}"
    # One handoff: the new instance holds every connection (the kernel's
    # view) and took the one store entry that carried them.
    wait_until 30 foobard_holds "${n}" || flunk "${n}: restart #${i}: ${FOOBARD_SEEN}"
    want "${n}: NFileDescriptorStore after adoption #${i}" \
      "$(prop foobar.service NFileDescriptorStore)" 0
    max=$(sort -n "${samples}" | tail -n 1)
    ((${max:-0} <= 2)) ||
      flunk "${n}: NFileDescriptorStore reached ${max} during restart #${i}"
    ((${max:-0} > RESTART_AT_SCALE_STORE_SEEN)) && RESTART_AT_SCALE_STORE_SEEN=${max}
    # The stalled clients read again: what the old instance had not sent
    # them yet must reach them from the new one. The driver removes the
    # .held file once it has seen the stall end.
    rm -f "${stall}"
    wait_until 30 restart_at_scale_released ||
      flunk "${n}: restart #${i}: the stalled clients were not released in 30 s"
  done
  driver_stop_clean "${name}" "${n} clients across 3 restarts"
  summary=${DRIVER_SUMMARY}
  # Each restart found the stalled clients blocked in send(), so foobard
  # held echo bytes they had not read; that every one of their echoes came
  # back whole (no error, no mismatch) is what shows those bytes travelled.
  (($(summary_field "${summary}" stalled_bytes) > 0)) ||
    flunk "${n}: the stalled clients sent nothing: ${summary}"
  want "${n}: PID 1's fd count after 3 restarts" "$(restart_at_scale_pid1_fds)" "${fds_before}"
  # Whether foobard can know that the store kept its entry: systemd >= 254
  # tells the service its store's size in $FDSTORE, 252 does not.
  local fdstore=""
  (($(systemd_version) >= 254)) && fdstore=$(prop foobar.service FileDescriptorStoreMax)
  want "${n}: \$FDSTORE of the last foobard (systemd $(systemd_version))" \
    "$(restart_at_scale_fdstore "$(prop foobar.service MainPID)")" "${fdstore}"
  LAST_RTT_US=$(summary_field "${summary}" max_rtt_us)
  note "${n}: longest round trip $((LAST_RTT_US / 1000)) ms," \
    "stalled clients sent $(summary_field "${summary}" stalled_bytes) bytes"
}

# RESTART_AT_SCALE_STORE_SEEN is the most NFileDescriptorStore any sample
# saw during a restart: the "at most 2" check means something only if the
# sampler caught the entry in the store at least once (a 100-connection
# restart can be over between two samples; twelve restarts cannot all be).
RESTART_AT_SCALE_STORE_SEEN=0

scenario_restart_at_scale() {
  local n
  RESTART_AT_SCALE_STORE_SEEN=0
  for n in ${RESTART_AT_SCALE_SIZES}; do
    restart_at_scale_one "${n}"
  done
  ((RESTART_AT_SCALE_STORE_SEEN >= 1)) ||
    flunk "no NFileDescriptorStore sample saw the handoff entry in any restart"
}
