# shellcheck shell=bash
# upgrade_from_0_1_0: a user's first upgrade, under load. foobar 0.1.0 (built
# from its commit, see below) is installed and serves 1,000 live clients, ten
# of which do not read, so 0.1.0 holds unsent bytes for them; then this
# version's .deb is installed over it with `apt-get install`. The postinst
# reloads the units and restarts the service: 0.1.0 stores its connections
# one entry each (and a memfd of unsent bytes beside each of those ten) under
# the new unit, and the new foobard adopts them. Checks: the upgrade
# succeeds; a new MainPID holds the 1,000 connections and the listener (the
# kernel's view, ss); the store is empty afterwards; the clients see zero
# errors and zero changed bytes, the ten stalled ones included, so the bytes
# 0.1.0 had not sent yet reached them through the new foobard.

# UPGRADE_FROM_COMMIT is v0.1.0. The commit id, not the tag: CI runs on a
# fresh clone of main, which may not have the tag.
readonly UPGRADE_FROM_COMMIT=5c7e5ba
readonly UPGRADE_FROM_VERSION=0.1.0-1

# upgrade_from_0_1_0_deb: prints the path of 0.1.0's .deb, building it first
# if it is not cached: in a detached git worktree of UPGRADE_FROM_COMMIT with
# a Bazel output base of its own (both under E2E_CACHE_DIR, so nothing in this
# checkout or its output base changes), cached by commit. Minutes the first
# time; instant after.
upgrade_from_0_1_0_deb() {
  local cache="${E2E_CACHE_DIR}/foobar-${UPGRADE_FROM_COMMIT}"
  local deb="${cache}/foobar_${UPGRADE_FROM_VERSION}_amd64.deb"
  mkdir -p "${cache}"
  (
    flock 9
    [[ -f "${deb}" ]] && exit 0
    local tree="${cache}/src" base="${cache}/bazel-output-base" bin
    git worktree remove --force "${tree}" >/dev/null 2>&1 || rm -rf "${tree}"
    # --force reuses a registration whose directory is gone (a killed run)
    # without pruning anyone else's stale worktrees.
    git worktree add --force --detach "${tree}" "${UPGRADE_FROM_COMMIT}" >&2 ||
      exit 1
    e2e_log "building foobar ${UPGRADE_FROM_VERSION} from ${UPGRADE_FROM_COMMIT} (first run only)"
    if (cd "${tree}" && bazel --output_base="${base}" build \
      --symlink_prefix=/ //packaging:foobar_deb) >"${cache}/build.log" 2>&1; then
      bin=$(cd "${tree}" && bazel --output_base="${base}" info bazel-bin 2>/dev/null)
      cp "${bin}/packaging/foobar_${UPGRADE_FROM_VERSION}_amd64.deb" "${deb}.tmp" &&
        mv "${deb}.tmp" "${deb}"
    else
      e2e_log "building ${UPGRADE_FROM_VERSION} failed; see ${cache}/build.log"
    fi
    (cd "${tree}" && bazel --output_base="${base}" shutdown) >/dev/null 2>&1 || true
    git worktree remove --force "${tree}" >/dev/null 2>&1 || true
    [[ -f "${deb}" ]]
  ) 9>"${cache}/.lock" || return 1
  echo "${deb}"
}

# upgrade_from_0_1_0_held: the ten stalled clients are blocked in send().
upgrade_from_0_1_0_held() { [[ -e "${E2E_ROOT}/root/e2e/upgrade.stall.held" ]]; }

scenario_upgrade_from_0_1_0() {
  local old summary stall="${E2E_ROOT}/root/e2e/upgrade.stall" pid
  old=$(upgrade_from_0_1_0_deb) || flunk "cannot build ${UPGRADE_FROM_VERSION}"
  e2e_copy_in "${old}" /root/
  # Start from 0.1.0 as its user had it: purge this version, install that.
  e2e_sh "apt-get purge -y foobar && apt-get install -y /root/$(basename "${old}")" \
    >"${E2E_DIR}/upgrade-old.log" 2>&1 ||
    flunk "installing ${UPGRADE_FROM_VERSION}: $(tail -n 3 "${E2E_DIR}/upgrade-old.log")"
  # shellcheck disable=SC2016  # ${Version} is dpkg-query's, not the shell's.
  want "installed version" "$(e2e_exec dpkg-query -W -f='${Version}' foobar)" \
    "${UPGRADE_FROM_VERSION}"
  rm -f "${stall}" "${stall}.held"
  driver_start upgrade --mode=hold --connections=1000 --messages=0 --max_size=256 \
    --stall_connections=10 --stall_file=/root/e2e/upgrade.stall \
    --stall_size=4194304 --timeout_ms=60000
  wait_until 60 driver_ready upgrade ||
    driver_flunk upgrade "1,000 clients of ${UPGRADE_FROM_VERSION} did not all get an echo"
  pid=$(prop foobar.service MainPID)
  foobard_holds 1000 "${pid}" || flunk "${UPGRADE_FROM_VERSION} before the upgrade: ${FOOBARD_SEEN}"
  # Stalled clients never finish a round trip: release them however this ends.
  at_exit rm -f "${stall}"
  touch "${stall}"
  wait_until 30 upgrade_from_0_1_0_held || flunk "the stalled clients did not block"
  e2e_sh "apt-get install -y /root/${DEB_NAME}" >"${E2E_DIR}/upgrade-new.log" 2>&1 ||
    flunk "apt-get install /root/${DEB_NAME} over ${UPGRADE_FROM_VERSION}: $(tail -n 3 "${E2E_DIR}/upgrade-new.log")"
  rm -f "${stall}"
  # The new foobard adopted every connection 0.1.0 stored.
  main_pid_is_new "${pid}" || flunk "MainPID still ${pid} after the upgrade"
  wait_until 30 foobard_holds 1000 || flunk "after the upgrade: ${FOOBARD_SEEN}"
  want "NFileDescriptorStore after the upgrade" \
    "$(prop foobar.service NFileDescriptorStore)" 0
  driver_stop_clean upgrade "1,000 clients across the upgrade"
  summary=${DRIVER_SUMMARY}
  # The stalled clients were blocked in send() while 0.1.0 stopped: it held
  # echo bytes they had not read yet, in the conn-data memfds it stored. That
  # every one of their echoes came back whole (no error, no mismatch above)
  # is what shows those bytes travelled; a 0 here would mean no client was
  # stalled, and the path never ran.
  (($(summary_field "${summary}" stalled_bytes) > 0)) ||
    flunk "the stalled clients sent nothing: ${summary}"
  note "0.1.0's 1,000 connections adopted; the stalled clients sent" \
    "$(summary_field "${summary}" stalled_bytes) bytes, all echoed;" \
    "$(summary_field "${summary}" messages) round trips, longest" \
    "$(($(summary_field "${summary}" max_rtt_us) / 1000)) ms"
}
