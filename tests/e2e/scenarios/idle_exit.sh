# shellcheck shell=bash
# idle_exit: the service stops by itself after --idle_exit (30 s in the
# shipped unit), cleanly (no Restart=); the next client re-activates it; a
# client loop whose pauses straddle the idle timeout sees zero failures.

scenario_idle_exit() {
  local idle_s
  idle_s=$(prop foobar.service ExecStart | sed -n 's/.*--idle_exit=\([0-9]*\)s.*/\1/p')
  [[ -n "${idle_s}" ]] || flunk "no --idle_exit=Ns in ExecStart"
  want "echo before idling" "$(echo_hi 2>&1)" hi
  local restarts start=${SECONDS}
  restarts=$(prop foobar.service NRestarts)
  wait_until $((idle_s + 15)) is_state foobar.service inactive ||
    flunk "foobar.service still $(e2e_exec systemctl is-active foobar.service) $((idle_s + 15)) s after the last client"
  local took=$((SECONDS - start))
  ((took >= idle_s - 1)) || flunk "service went inactive after ${took} s, before --idle_exit=${idle_s}s"
  want "Result after idle exit" "$(prop foobar.service Result)" success
  want "NRestarts after a clean idle exit" "$(prop foobar.service NRestarts)" "${restarts}"
  want "echo after idle exit" "$(echo_hi 2>&1)" hi
  want "service after re-activation" "$(e2e_exec systemctl is-active foobar.service)" active
  # Pauses just under and just over the idle timeout put connections right
  # before and right after the moment foobard decides to exit.
  local ms=$((idle_s * 1000)) invocation out
  invocation=$(prop foobar.service InvocationID)
  out=$(e2e_exec /root/e2e/e2e_driver --mode=loop \
    --gaps_ms="$((ms - 20)),$((ms + 5)),$((ms + 40)),0" 2>&1) ||
    flunk "client loop across idle exits: ${out}"
  [[ "$(prop foobar.service InvocationID)" != "${invocation}" ]] ||
    flunk "the loop did not span an idle exit (same invocation)"
}
