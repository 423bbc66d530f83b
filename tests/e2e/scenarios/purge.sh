# shellcheck shell=bash
# purge: re-installing the same package (the upgrade path) while 20 clients
# talk keeps serving them (the postinst's try-restart hands them over: a new
# MainPID holds the 20 connections, the fd store is empty again); remove
# stops socket and service; purge leaves no file of ours behind.

scenario_purge() {
  local out
  want "echo before reinstall" "$(echo_hi 2>&1)" hi
  driver_start upgrade --mode=hold --connections=20 --messages=0 --max_size=4096
  wait_until 30 driver_ready upgrade ||
    driver_flunk upgrade "20 clients did not all get an echo"
  local pid
  pid=$(prop foobar.service MainPID)
  foobard_holds 20 "${pid}" || flunk "before reinstall: ${FOOBARD_SEEN}"
  out=$(e2e_sh "cd /root && apt-get install -y --reinstall ./${DEB_NAME}" 2>&1) ||
    flunk "apt-get install --reinstall failed: $(tail -n 5 <<<"${out}" | tr '\n' '|')"
  # The postinst's try-restart really restarted foobard under the clients,
  # and the new one adopted all 20 of them.
  main_pid_is_new "${pid}" || flunk "MainPID still ${pid} after reinstall"
  wait_until 10 foobard_holds 20 || flunk "after reinstall: ${FOOBARD_SEEN}"
  want "NFileDescriptorStore after reinstall" "$(prop foobar.service NFileDescriptorStore)" 0
  local summary rc=0
  driver_stop upgrade || rc=$?
  summary=${DRIVER_SUMMARY}
  ((rc == 0)) || flunk "clients during reinstall: ${summary}"
  want "echo after reinstall" "$(echo_hi 2>&1)" hi

  local files
  files=$(e2e_exec dpkg -L foobar) || flunk "dpkg -L foobar failed"
  out=$(e2e_exec apt-get remove -y foobar 2>&1) ||
    flunk "apt-get remove failed: $(tail -n 5 <<<"${out}" | tr '\n' '|')"
  want "foobar.socket after remove" "$(e2e_exec systemctl is-active foobar.socket)" inactive
  want "foobar.service after remove" "$(e2e_exec systemctl is-active foobar.service)" inactive
  out=$(e2e_exec apt-get purge -y foobar 2>&1) ||
    flunk "apt-get purge failed: $(tail -n 5 <<<"${out}" | tr '\n' '|')"
  local path left=()
  while IFS= read -r path; do
    [[ -n "${path}" && "${path}" != /. ]] || continue
    # A directory that the base system already had is not ours.
    if [[ -e "${E2E_ROOT}${path}" || -L "${E2E_ROOT}${path}" ]] &&
      ! [[ -d "${E2E_ROOT}${path}" && -d "${ROOT_CACHE}${path}" ]]; then
      left+=("${path}")
    fi
  done <<<"${files}"
  # Files the maintainer scripts and systemd create on our behalf.
  local extra
  extra=$(e2e_exec find /etc/systemd /var/lib/systemd /run -name '*foobar*' 2>/dev/null |
    tr '\n' ' ')
  if ((${#left[@]} > 0)) || [[ -n "${extra}" ]]; then
    flunk "left after purge: ${left[*]} ${extra}"
  fi
}
