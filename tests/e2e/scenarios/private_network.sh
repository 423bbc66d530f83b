# shellcheck shell=bash
# private_network: what PrivateNetwork=yes (in the shipped foobar.service)
# does inside this nspawn machine, which, like any container nspawn starts
# without --private-network, has no CAP_NET_ADMIN. The releases differ:
# - 252 still gives foobard a network namespace of its own (and logs that it
#   cannot configure its loopback device);
# - 257 checks for the privilege first and starts foobard without one, in
#   PID 1's network namespace ("proceeding without").
# On a host whose PID 1 has CAP_NET_ADMIN both isolate the service. Either way
# the socket systemd passes works, and RestrictAddressFamilies=AF_UNIX keeps
# foobard off the network.

scenario_private_network() {
  want "foobar.service PrivateNetwork" "$(prop foobar.service PrivateNetwork)" yes
  # The premise: the machine's PID 1 lacks CAP_NET_ADMIN (capability 12).
  local bounding
  bounding=$(e2e_exec sed -n 's/^CapBnd:[[:space:]]*//p' /proc/1/status)
  [[ "${bounding}" =~ ^[0-9a-f]+$ ]] || flunk "PID 1's CapBnd is '${bounding}'"
  want "CAP_NET_ADMIN in PID 1's bounding set (${bounding})" \
    "$(((16#${bounding} >> 12) & 1))" 0
  want "echo before the check" "$(echo_hi 2>&1)" hi
  local pid own pid1
  pid=$(prop foobar.service MainPID)
  own=$(e2e_exec readlink "/proc/${pid}/ns/net") || flunk "no /proc/${pid}/ns/net"
  pid1=$(e2e_exec readlink /proc/1/ns/net) || flunk "no /proc/1/ns/net"
  local shares=no
  [[ "${own}" == "${pid1}" ]] && shares=yes
  case "${E2E_RELEASE}" in
    bookworm)
      want "foobard (${own}) shares PID 1's network namespace (${pid1}) on 252" "${shares}" no
      note "252: own network namespace"
      ;;
    trixie)
      want "foobard (${own}) shares PID 1's network namespace (${pid1}) on 257" "${shares}" yes
      note "257: PrivateNetwork= skipped without CAP_NET_ADMIN"
      ;;
  esac
}
