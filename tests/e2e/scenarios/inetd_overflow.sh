# shellcheck shell=bash
# inetd_overflow: what foobar-inetd.socket does beyond MaxConnections=, exactly
# as its unit, foobard(8) and the README say. With MaxConnections= instances
# running (an instance counts until it exits), PID 1 still accepts every
# further connection and closes it at once, logging "Too many incoming
# connections (N), dropping connection."; a client that has sent nothing yet
# reads end of stream, one that already sent bytes gets a reset (the kernel
# answers unread data on a closed socket with one), and nothing waits in the
# backlog. Once the instances exit, clients are served
# again. Deterministic: the first MaxConnections= clients each complete a
# round trip (so each instance runs and counts) and stay connected until all
# the others have been turned away.

# inetd_overflow_no_instance_units: no foobar-inetd@ unit is loaded at all,
# failed or otherwise.
inetd_overflow_no_instance_units() {
  [[ -z "$(e2e_exec systemctl list-units --all --no-legend --plain \
    'foobar-inetd@*.service')" ]]
}

scenario_inetd_overflow() {
  e2e_exec systemctl start foobar-inetd.socket ||
    flunk "systemctl start foobar-inetd.socket failed: $(journal_tail foobar-inetd.socket)"
  local max extra=44 accepted refused cursor
  max=$(prop foobar-inetd.socket MaxConnections)
  accepted=$(prop foobar-inetd.socket NAccepted)
  refused=$(prop foobar-inetd.socket NRefused)
  cursor=$(e2e_exec journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
  # Each instance is a sandboxed process that PID 1 starts one after another;
  # on a busy 2-core machine the last of 256 can take a minute to answer.
  local held_start=${SECONDS}
  driver_start overflow --mode=hold --socket=/run/foobar-inetd.sk \
    --connections="${max}" --messages=0 --max_size=64 --timeout_ms=300000
  wait_until 300 driver_ready overflow ||
    driver_flunk overflow "${max} clients did not all get an echo in 300 s"
  local connections out rc=0 pss_kib held_took=$((SECONDS - held_start))
  connections=$(prop foobar-inetd.socket NConnections)
  # What the limit bounds: the memory of the instances running at once.
  # shellcheck disable=SC2016  # expanded by the shell inside the machine
  pss_kib=$(e2e_sh 'for c in $(grep -l "foobar-inetd@" /proc/[0-9]*/cgroup); do
      sed -n "s/^Pss: *\([0-9]*\) kB/\1/p" "${c%/cgroup}/smaps_rollup"
    done | awk "{ s += \$1 } END { print s + 0 }"')
  out=$(e2e_exec /root/e2e/e2e_driver --mode=refused --socket=/run/foobar-inetd.sk \
    --connections="${extra}" --timeout_ms=60000 2>&1) || rc=$?
  # A client that talks first, as foobar does: an error, never an echo.
  local talker talker_rc=0
  talker=$(e2e_exec foobar --connect=/run/foobar-inetd.sk --message=hi --timeout=60s 2>&1) ||
    talker_rc=$?
  local held_rc=0
  driver_stop overflow || held_rc=$?
  want "NConnections with ${max} clients held" "${connections}" "${max}"
  ((rc == 0)) || flunk "${extra} clients beyond MaxConnections=${max}: ${out}"
  want "clients beyond the limit" "${out}" \
    "refused connections=${extra} closed=${extra} open=0 errors=0"
  ((held_rc == 0)) || flunk "the ${max} held clients: ${DRIVER_SUMMARY}"
  want "foobar's exit status beyond the limit" "${talker_rc}" 1
  [[ "${talker}" =~ ^foobar:\ connection\ to\ /run/foobar-inetd.sk\ was\ (reset|closed)\ by\ the\ server ]] ||
    flunk "foobar beyond the limit said: ${talker}"
  # NRefused is PID 1's own count; the journal lines are only reported (the
  # journal is no exact counter: a line can be lost to rate limits).
  want "NRefused grew by" "$(($(prop foobar-inetd.socket NRefused) - refused))" "$((extra + 1))"
  local dropped
  e2e_exec journalctl --sync
  dropped=$(e2e_exec journalctl --after-cursor="${cursor}" -u foobar-inetd.socket -o cat \
    --no-pager | grep -c "Too many incoming connections (${max}), dropping connection\.$" || true)
  wait_until 120 running_inetd_instances_are_zero ||
    flunk "foobar-inetd@ instances still running 120 s after their clients left"
  # foobar-inetd@.service: an instance whose client is gone is not a failure
  # (Type=simple), and CollectMode=inactive-or-failed forgets it at once.
  wait_until 30 inetd_overflow_no_instance_units ||
    flunk "foobar-inetd@ units left behind: $(e2e_exec systemctl list-units --all --no-legend \
      --plain 'foobar-inetd@*.service' | head -n 3 | tr '\n' '|')"
  want "echo once the instances are gone" \
    "$(e2e_exec foobar --connect=/run/foobar-inetd.sk --message=again 2>&1)" again
  want "NAccepted grew by (the held clients and the last one)" \
    "$(($(prop foobar-inetd.socket NAccepted) - accepted))" "$((max + 1))"
  note "MaxConnections=${max}: ${extra} more closed at once, ${dropped} journal lines;" \
    "the ${max} instances started in ${held_took} s and held $((pss_kib / 1024)) MiB (Pss)"
  e2e_exec systemctl stop foobar-inetd.socket
}
