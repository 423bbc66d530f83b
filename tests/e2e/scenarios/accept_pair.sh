# shellcheck shell=bash
# accept_pair: the Accept=yes pair. 50 concurrent clients of
# foobar-inetd.socket run exactly 50 foobar-inetd@ instances, which all exit
# after their clients leave.

scenario_accept_pair() {
  e2e_exec systemctl start foobar-inetd.socket ||
    flunk "systemctl start foobar-inetd.socket failed: $(journal_tail foobar-inetd.socket)"
  driver_start inetd --mode=hold --socket=/run/foobar-inetd.sk --connections=50 --messages=0
  wait_until 30 driver_ready inetd ||
    driver_flunk inetd "50 clients did not all get an echo in 30 s"
  local instances
  instances=$(e2e_exec systemctl list-units --no-legend --plain --state=running \
    'foobar-inetd@*.service' | wc -l)
  local summary rc=0
  driver_stop inetd || rc=$?
  summary=${DRIVER_SUMMARY}
  ((rc == 0)) || flunk "clients of foobar-inetd.socket: ${summary}"
  want "running foobar-inetd@ instances with 50 clients" "${instances}" 50
  wait_until 15 running_inetd_instances_are_zero ||
    flunk "foobar-inetd@ instances still running 15 s after their clients left"
}
