# shellcheck shell=bash
# install: `apt-get install ./foobar_*.deb`; the socket listens with the right
# owner, group and mode while the service is inactive; the first client
# activates foobard, which runs as a dynamic user, and gets its echo.

scenario_install() {
  local out
  out=$(e2e_sh "cd /root && apt-get install -y ./${DEB_NAME}" 2>&1) ||
    flunk "apt-get install ./${DEB_NAME} failed: $(tail -n 5 <<<"${out}" | tr '\n' '|')"
  want "foobar.socket is-enabled" "$(e2e_exec systemctl is-enabled foobar.socket)" enabled
  want "foobar.socket is-active" "$(e2e_exec systemctl is-active foobar.socket)" active
  want "/run/foobar.sk type owner group mode" \
    "$(e2e_exec stat -c '%F %U %G %a' /run/foobar.sk)" "socket root foobar 660"
  # The machine shares the host's network namespace, so ss also lists other
  # machines' sockets; ours is the one the machine's PID 1 (systemd) holds.
  want "ss listening on /run/foobar.sk" \
    "$(e2e_exec ss -xlnpH src /run/foobar.sk | grep '"systemd",pid=1,' | awk '{print $1, $2, $5}')" \
    "u_str LISTEN /run/foobar.sk"
  want "foobar.service before the first client" \
    "$(e2e_exec systemctl is-active foobar.service)" inactive
  want "echo hi | foobar" "$(echo_hi 2>&1)" hi
  want "foobar.service after the first client" \
    "$(e2e_exec systemctl is-active foobar.service)" active
  local pid uid
  pid=$(prop foobar.service MainPID)
  uid=$(e2e_exec sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/${pid}/status")
  # systemd allocates DynamicUser= ids from 61184-65519 (its DYNAMIC_UID range).
  ((uid >= 61184 && uid <= 65519)) ||
    flunk "foobard (PID ${pid}) runs as uid ${uid}, not a dynamic user (61184-65519)"
}
