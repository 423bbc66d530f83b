# shellcheck shell=bash
# Usage: source tests/e2e/helpers.sh   (tests/e2e/run does, after lib.sh)
#
# What every scenario of the end-to-end suite may use. tests/e2e/run runs
# each scenario function in a subshell of its own: the first check that does
# not hold calls flunk, which records the reason and ends that subshell, so a
# scenario is a plain list of checks. What must be undone however the
# scenario ends (a driver still running, a stopped journald, a drop-in) is
# registered with at_exit. The driver prints the PASS or FAIL line
# (tests/lib/checks.sh) with the reason and the scenario's notes.
#
#   flunk REASON...        ends the scenario as failed, saying REASON
#   want WHAT GOT WANTED   flunks unless GOT == WANTED, saying both
#   note TEXT...           adds TEXT to the scenario's PASS line
#   at_exit CMD ARGS...    runs CMD when the scenario ends, however it ends
#   prop UNIT PROPERTY     one property, as `systemctl show -P` prints it
#   wait_until TIMEOUT_S CMD...   polls CMD every 0.1 s; 1 on timeout
#   is_state UNIT STATE    `systemctl is-active UNIT` prints STATE
#   main_pid_is_new PID    foobar.service has a MainPID, not PID
#   foobard_holds N        foobar.service's MainPID holds N connections
#                          accepted on /run/foobar.sk and the listener
#   systemd_version        the machine's systemd version (252, 257, ...)
#   journal_tail UNIT [N]  the unit's last journal lines, for reasons
#   echo_hi                `echo hi | foobar` in the machine, as root
#   driver_start NAME ARGS... / driver_stop NAME / driver_ready NAME
#                          e2e_driver in the background (see below)
#   driver_flunk NAME REASON   stops the driver, flunks with its summary
#   driver_stop_clean NAME WHAT  stops it; flunks unless every round trip
#                          came back whole (exit 0, errors=0, mismatches=0)
#   summary_field LINE KEY the value of KEY=value in a driver summary
#   running_inetd_instances_are_zero
#
# Set by tests/e2e/run before any scenario runs: DEB_NAME (the .deb's file
# name, copied to /root in the machine), ROOT_CACHE (the cached root, the
# machine's lower layer), E2E_RELEASE and everything lib.sh's e2e_boot sets;
# for each scenario SCENARIO_REASON_FILE and SCENARIO_NOTE_FILE, through
# which its subshell tells run why it failed and what its PASS line says.

# flunk REASON...: records why the current scenario failed and ends it (the
# scenario's subshell; its at_exit commands run).
flunk() {
  printf '%s\n' "$*" >"${SCENARIO_REASON_FILE}"
  exit 1
}

# want WHAT ACTUAL EXPECTED: fails the scenario unless ACTUAL == EXPECTED.
want() {
  [[ "$2" == "$3" ]] || flunk "$1: got '$2', want '$3'"
}

# note TEXT...: one more part of the passing scenario's PASS line.
note() {
  printf '%s\n' "$*" >>"${SCENARIO_NOTE_FILE}"
}

# at_exit CMD ARGS...: runs CMD ARGS when the scenario ends, passed or
# failed; the last registered runs first. Failures are ignored: the scenario
# has already said what it found.
SCENARIO_CLEANUPS=()
at_exit() {
  local cmd
  printf -v cmd '%q ' "$@"
  SCENARIO_CLEANUPS=("${cmd}" "${SCENARIO_CLEANUPS[@]}")
}

# scenario_cleanup: the scenario subshell's EXIT trap (tests/e2e/run). Runs
# the at_exit commands, then stops a driver the scenario left running.
scenario_cleanup() {
  local cmd
  for cmd in "${SCENARIO_CLEANUPS[@]}"; do
    eval "${cmd}" >/dev/null 2>&1 || true
  done
  SCENARIO_CLEANUPS=()
  if [[ -n "${DRIVER_PID}" ]]; then
    driver_stop "${DRIVER_NAME}" || true
  fi
}

# prop UNIT PROPERTY: one property of a unit, as systemctl show prints it.
prop() {
  e2e_exec systemctl show -P "$2" "$1"
}

# wait_until TIMEOUT_S CMD...: polls CMD (a host-side command or function)
# every 0.1 s until it succeeds; returns 1 on timeout.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

is_state() { [[ "$(e2e_exec systemctl is-active "$1")" == "$2" ]]; }

main_pid_is_new() {
  local pid
  pid=$(prop foobar.service MainPID)
  [[ "${pid}" != 0 && "${pid}" != "$1" ]]
}

# systemd_version: the major version of the machine's systemd, from its
# manager (not from the release name), e.g. 252 on bookworm, 257 on trixie.
systemd_version() {
  local version
  version=$(e2e_exec systemctl show -P Version)
  # "252.39-1~deb12u1" or "257.13-1~deb13u1": the number before the dot.
  [[ "${version}" =~ ^([0-9]+) ]] || {
    e2e_log "systemctl show -P Version printed '${version}'"
    return 1
  }
  echo "${BASH_REMATCH[1]}"
}

# journal_tail UNIT [N]: the unit's last journal lines, for failure reasons,
# plus any recent line about cgroups: a service process that fails before it
# is in the unit's cgroup (exit 219/CGROUP) logs without the unit's name.
journal_tail() {
  e2e_exec journalctl -u "$1" -n "${2:-8}" --no-pager -o cat 2>/dev/null | tr '\n' '|'
  e2e_exec journalctl -n 400 --no-pager -o cat 2>/dev/null | grep -i cgroup | tail -n 3 |
    tr '\n' '|'
}

# echo_hi: the user's first command, as root.
echo_hi() {
  e2e_sh 'echo hi | foobar'
}

# The driver runs inside the machine; its files live under /root/e2e, which
# the host sees at ${E2E_ROOT}/root/e2e. (Not /tmp: nspawn mounts a tmpfs
# there, which hides what the host copies in.)
DRIVER_PID=""
DRIVER_NAME=""
# driver_start NAME ARGS...: starts e2e_driver in the background. One at a
# time; a driver still running when the scenario ends is stopped then.
driver_start() {
  local name=$1
  shift
  DRIVER_NAME=${name}
  rm -f "${E2E_ROOT}/root/e2e/${name}".{out,err,ready,stop}
  e2e_exec /root/e2e/e2e_driver "$@" \
    --ready_file="/root/e2e/${name}.ready" --stop_file="/root/e2e/${name}.stop" \
    >"${E2E_ROOT}/root/e2e/${name}.out" 2>"${E2E_ROOT}/root/e2e/${name}.err" &
  DRIVER_PID=$!
}
# driver_stop NAME: asks the driver to finish its round trips, waits for it,
# sets DRIVER_SUMMARY to its summary line (and first errors) and returns its
# exit status. Not in $(...): only this shell can wait for the driver.
DRIVER_SUMMARY=""
driver_stop() {
  local name=$1 rc=0
  touch "${E2E_ROOT}/root/e2e/${name}.stop"
  wait "${DRIVER_PID}" || rc=$?
  DRIVER_PID=""
  # shellcheck disable=SC2034  # the scenarios read it.
  DRIVER_SUMMARY="$(tr '\n' ' ' <"${E2E_ROOT}/root/e2e/${name}.out")$(head -n 3 \
    "${E2E_ROOT}/root/e2e/${name}.err" | tr '\n' ' ')"
  return "${rc}"
}
driver_ready() { [[ -e "${E2E_ROOT}/root/e2e/$1.ready" ]]; }

# driver_flunk NAME REASON...: stops the driver and flunks with REASON and
# the driver's summary (which says which connection failed and how).
driver_flunk() {
  local name=$1
  shift
  driver_stop "${name}" || true
  flunk "$*: ${DRIVER_SUMMARY}"
}

# driver_stop_clean NAME WHAT: driver_stop NAME, then flunks unless the
# driver exited 0 with errors=0 and mismatches=0, naming WHAT (the load) in
# the reason. DRIVER_SUMMARY stays set for the scenario's own checks.
driver_stop_clean() {
  local rc=0
  driver_stop "$1" || rc=$?
  ((rc == 0)) || flunk "$2: ${DRIVER_SUMMARY}"
  want "$2: errors" "$(summary_field "${DRIVER_SUMMARY}" errors)" 0
  want "$2: mismatches" "$(summary_field "${DRIVER_SUMMARY}" mismatches)" 0
}

# summary_field LINE KEY: the value of KEY=value in a driver summary line.
summary_field() {
  sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"
}

# foobard_holds N [PID]: foobar.service's MainPID (or PID) holds exactly N
# connected sockets accepted on /run/foobar.sk, and the listener itself: the
# kernel's view (ss -xp), whatever foobard says about it. An accepted unix
# socket carries its listener's address, so `src /run/foobar.sk` keeps the
# daemon's side of each connection. ss lists every machine's sockets (the
# network namespace is the host's), but it resolves pid= through this
# machine's /proc, so a pid it names is this machine's. Sets FOOBARD_SEEN
# to what was found, for reasons and notes.
FOOBARD_SEEN=""
foobard_holds() {
  local want=$1 pid=${2:-} connected listening
  [[ -n "${pid}" ]] || pid=$(prop foobar.service MainPID)
  connected=$(e2e_exec ss -xpH state established src /run/foobar.sk |
    grep -c "\",pid=${pid},") || true
  listening=$(e2e_exec ss -xlpH src /run/foobar.sk | grep -c "\",pid=${pid},") || true
  # shellcheck disable=SC2034  # the scenarios read it.
  FOOBARD_SEEN="MainPID ${pid} holds ${connected} connections and ${listening} listener(s)"
  [[ "${pid}" != 0 && "${connected}" == "${want}" && "${listening}" == 1 ]]
}

running_inetd_instances_are_zero() {
  [[ -z "$(e2e_exec systemctl list-units --no-legend --plain --state=running \
    'foobar-inetd@*.service')" ]]
}
