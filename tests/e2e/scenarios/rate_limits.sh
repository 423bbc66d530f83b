# shellcheck shell=bash
# rate_limits: a burst of restarts and crashes (more than systemd's default
# StartLimitBurst=5 in 10 s) must not leave the socket failed; the next client
# is served without anyone running `systemctl reset-failed`. 250 clients at
# once on foobar-inetd.socket (every connection a trigger) leave it active.
# The control: with systemd's default limits restored by runtime drop-ins, the
# same bursts leave foobar.socket failed (start-limit-hit) on every release.
# For foobar-inetd.socket the releases differ: 252's default trigger limit
# fails it (trigger-limit-hit); 255 added PollLimitIntervalSec=/PollLimitBurst=
# (for Accept=yes 150 polls per 2 s, below the trigger limit's 200), which
# slows the burst down instead, so on 257 the socket stays active under
# systemd's defaults and fails only with the poll limit turned off too.

scenario_rate_limits() {
  local i pid burst_start=${SECONDS} failed_restarts=0
  for ((i = 1; i <= 8; i++)); do
    # A start that fails inside the burst is one more crash for Restart= to
    # absorb; what must hold is the end state below. Failures are reported.
    if ! e2e_exec systemctl restart foobar.service; then
      failed_restarts=$((failed_restarts + 1))
      echo "e2e: rate_limits: restart #${i} of the burst failed: $(journal_tail foobar.service 12)" >&2
    fi
  done
  for ((i = 1; i <= 8; i++)); do
    pid=$(prop foobar.service MainPID)
    ((pid != 0)) || {
      echo_hi >/dev/null 2>&1
      pid=$(prop foobar.service MainPID)
    }
    e2e_exec kill -9 "${pid}" || flunk "kill -9 #${i} failed"
    wait_until 10 main_pid_is_new "${pid}" ||
      flunk "crash #${i}: no new foobard: $(journal_tail foobar.service)"
  done
  want "foobar.socket after 8 restarts and 8 crashes" \
    "$(e2e_exec systemctl is-active foobar.socket)" active
  ! e2e_exec systemctl is-failed --quiet foobar.service ||
    flunk "foobar.service failed ($(prop foobar.service Result)): $(journal_tail foobar.service)"
  wait_until 10 is_state foobar.service active ||
    flunk "foobar.service $(e2e_exec systemctl is-active foobar.service) 10 s after the burst"
  want "echo after the burst" "$(echo_hi 2>&1)" hi
  local starts_took=$((SECONDS - burst_start))
  # With Accept=yes every connection is a trigger: 250 at once is more than
  # systemd's default TriggerLimitBurst= for such sockets (200 per 2 s).
  e2e_exec systemctl start foobar-inetd.socket ||
    flunk "systemctl start foobar-inetd.socket failed"
  local inetd_start=${SECONDS} out
  out=$(e2e_exec /root/e2e/e2e_driver --mode=hold --socket=/run/foobar-inetd.sk \
    --connections=250 --messages=1 --max_size=64 --timeout_ms=60000 2>&1) ||
    flunk "250 clients at once on foobar-inetd.socket: ${out}"
  want "foobar-inetd.socket after 250 connections at once" \
    "$(e2e_exec systemctl is-active foobar-inetd.socket)" active
  note "16 starts in ${starts_took} s, 250 inetd triggers in $((SECONDS - inetd_start)) s"
  note "StartLimitIntervalUSec=$(prop foobar.service StartLimitIntervalUSec)" \
    "TriggerLimitIntervalUSec=$(prop foobar-inetd.socket TriggerLimitIntervalUSec)"
  wait_until 60 running_inetd_instances_are_zero ||
    flunk "foobar-inetd@ instances still running 60 s after their clients left"

  # The control: the same bursts under systemd's default limits (restored by
  # runtime drop-ins) do leave the sockets failed (on 257, foobar-inetd.socket
  # with its poll limit off; see the top of this file). This shows the bursts
  # are big enough to matter and that the shipped settings are what saves them.
  e2e_sh 'mkdir -p /run/systemd/system/foobar.service.d /run/systemd/system/foobar-inetd.socket.d
    printf "[Unit]\nStartLimitIntervalSec=10s\nStartLimitBurst=5\n" \
      >/run/systemd/system/foobar.service.d/e2e-defaults.conf
    printf "[Socket]\nTriggerLimitIntervalSec=2s\nTriggerLimitBurst=200\n" \
      >/run/systemd/system/foobar-inetd.socket.d/e2e-defaults.conf
    systemctl daemon-reload' || flunk "cannot install the control drop-ins"
  for ((i = 1; i <= 8; i++)); do
    e2e_exec systemctl restart foobar.service >/dev/null 2>&1 || true
  done
  local control_socket control_inetd control_inetd_no_poll_limit=""
  control_socket="$(e2e_exec systemctl is-active foobar.socket) $(prop foobar.socket Result)"
  rate_limits_inetd_burst
  control_inetd="$(e2e_exec systemctl is-active foobar-inetd.socket) $(prop foobar-inetd.socket Result)"
  if [[ "${E2E_RELEASE}" == trixie ]]; then
    wait_until 60 running_inetd_instances_are_zero ||
      flunk "foobar-inetd@ instances still running 60 s after the control's clients left"
    e2e_sh 'printf "PollLimitIntervalSec=0\n" \
        >>/run/systemd/system/foobar-inetd.socket.d/e2e-defaults.conf
      systemctl daemon-reload
      systemctl reset-failed foobar-inetd.socket
      systemctl restart foobar-inetd.socket' ||
      flunk "cannot turn the poll limit off for the control"
    rate_limits_inetd_burst
    control_inetd_no_poll_limit="$(e2e_exec systemctl is-active foobar-inetd.socket)"
    control_inetd_no_poll_limit+=" $(prop foobar-inetd.socket Result)"
  fi
  # Back to the units as shipped, for the scenarios after this one.
  e2e_sh 'rm -r /run/systemd/system/foobar.service.d /run/systemd/system/foobar-inetd.socket.d
    systemctl daemon-reload
    systemctl reset-failed foobar.socket foobar.service foobar-inetd.socket
    systemctl stop foobar-inetd.socket
    systemctl start foobar.socket' || flunk "cannot remove the control drop-ins"
  want "control: foobar.socket after 8 restarts with default start limits" \
    "${control_socket}" "failed service-start-limit-hit"
  case "${E2E_RELEASE}" in
    bookworm)
      want "control: foobar-inetd.socket after 250 connections with 252's default limits" \
        "${control_inetd}" "failed trigger-limit-hit"
      note "with systemd's defaults both sockets fail (control checked)"
      ;;
    trixie)
      want "control: foobar-inetd.socket after 250 connections with 257's default limits" \
        "${control_inetd}" "active success"
      want "control: foobar-inetd.socket after 250 connections, default trigger limit, no poll limit" \
        "${control_inetd_no_poll_limit}" "failed trigger-limit-hit"
      note "with systemd's defaults foobar.socket fails and foobar-inetd.socket is" \
        "slowed by its poll limit; with the poll limit off it fails (controls checked)"
      ;;
  esac
  want "echo after the control" "$(echo_hi 2>&1)" hi
  if ((failed_restarts > 0)); then
    note "${failed_restarts} restart jobs of the burst failed and were recovered (see stderr)"
  fi
}

# rate_limits_inetd_burst: 250 clients at once on foobar-inetd.socket, each
# sending one message; in the controls some are refused, which is the point.
rate_limits_inetd_burst() {
  e2e_exec /root/e2e/e2e_driver --mode=hold --socket=/run/foobar-inetd.sk \
    --connections=250 --messages=1 --max_size=64 --timeout_ms=60000 >/dev/null 2>&1 || true
}
