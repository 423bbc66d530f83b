# shellcheck shell=bash
# purge: re-installing the same package (the upgrade path) while 20 clients
# talk keeps serving them (the postinst's try-restart hands them over); remove
# stops socket and service; purge leaves no file of ours behind.

scenario_purge() {
  local out
  want "echo before reinstall" "$(echo_hi 2>&1)" hi || return 1
  driver_start upgrade --mode=hold --connections=20 --messages=0 --max_size=4096
  if ! wait_until 30 driver_ready upgrade; then
    driver_stop upgrade || true
    flunk "20 clients did not all get an echo: ${DRIVER_SUMMARY}"
    return 1
  fi
  local handoffs_before
  handoffs_before=$(count_handoffs 20)
  out=$(e2e_sh "cd /root && apt-get install -y --reinstall ./${DEB_NAME}" 2>&1) ||
    flunk "apt-get install --reinstall failed: $(tail -n 5 <<<"${out}" | tr '\n' '|')" || {
    driver_stop upgrade || true
    return 1
  }
  local summary rc=0
  driver_stop upgrade || rc=$?
  summary=${DRIVER_SUMMARY}
  ((rc == 0)) || flunk "clients during reinstall: ${summary}" || return 1
  # The postinst's try-restart really restarted foobard under the clients.
  want "handoffs of the 20 clients during reinstall" \
    "$(($(count_handoffs 20) - handoffs_before))" 1 || return 1
  want "echo after reinstall" "$(echo_hi 2>&1)" hi || return 1

  local files
  files=$(e2e_exec dpkg -L foobar) || flunk "dpkg -L foobar failed" || return 1
  out=$(e2e_exec apt-get remove -y foobar 2>&1) ||
    flunk "apt-get remove failed: $(tail -n 5 <<<"${out}" | tr '\n' '|')" || return 1
  want "foobar.socket after remove" "$(e2e_exec systemctl is-active foobar.socket)" inactive || return 1
  want "foobar.service after remove" "$(e2e_exec systemctl is-active foobar.service)" inactive || return 1
  out=$(e2e_exec apt-get purge -y foobar 2>&1) ||
    flunk "apt-get purge failed: $(tail -n 5 <<<"${out}" | tr '\n' '|')" || return 1
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
