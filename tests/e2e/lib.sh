# shellcheck shell=bash
# Usage: source tests/e2e/lib.sh   (from bash; it defines functions only)
#
# A throwaway Debian machine with systemd as PID 1, for tests and demos that
# need a real systemd (the host's PID 1 is not systemd). E2E_RELEASE picks the
# release: bookworm (Debian 12, systemd 252; the default) or trixie (Debian 13,
# systemd 257). The recipe: a debootstrap minbase root with systemd, booted
# by systemd-nspawn, commands run through nsenter into its PID 1.
#
# Each release's root file system is built once and cached outside the repo,
# in ${E2E_CACHE_DIR:-/var/cache/foobar-e2e}/<release>-root (a stamp file
# written last marks it complete; a missing or stale stamp rebuilds it). Every
# boot gets a fresh copy: an overlayfs whose lower layer is the cache, so a
# test can change anything and the next boot starts clean. The container
# shares the host's network, so apt-get inside it can still fetch from Debian.
#
# Functions (all print diagnostics to stderr; none call `exit`):
#   e2e_root_dir         Prints the path of E2E_RELEASE's cached root.
#   e2e_root_ensure      Builds the cached root if needed; prints its path.
#                        Fails for a release other than bookworm or trixie.
#   e2e_boot [NAME]      Boots a fresh machine and waits until systemd reports
#                        "running" (or "degraded", printing the failed units).
#                        Sets E2E_NAME, E2E_DIR (scratch dir of this run),
#                        E2E_ROOT (the machine's / as seen from the host),
#                        E2E_NSPAWN_PID and E2E_PID (the machine's PID 1, in
#                        the host's PID namespace) and E2E_CGROUP (the path
#                        of the machine's own cgroup, when the host's PID 1
#                        is not systemd). Installs e2e_cleanup as the
#                        EXIT/INT/TERM/HUP trap; a caller that needs its own
#                        EXIT trap must call e2e_cleanup from it. Returns non-zero
#                        (after cleaning up) if the machine did not come up.
#   e2e_exec CMD [ARG..] Runs CMD inside the machine (all namespaces of its
#                        PID 1, a clean root environment); returns CMD's status.
#   e2e_sh SCRIPT        Runs `bash -c SCRIPT` inside the machine.
#   e2e_copy_in SRC DEST Copies host file SRC to DEST inside the machine
#                        (DEST is an absolute path in the machine; a
#                        directory ending in / keeps SRC's name).
#   e2e_shutdown         `systemctl poweroff` inside, waits up to
#                        E2E_STOP_TIMEOUT seconds (default 30), then SIGKILLs.
#   e2e_cleanup          Shuts the machine down if it is up, removes its
#                        cgroup, unmounts the overlay, removes E2E_DIR.
#                        Idempotent; safe in traps.
#   e2e_bazel ARG..      Runs bazel, with --output_base=$E2E_BAZEL_OUTPUT_BASE
#                        when that is set (the default output base otherwise).
#   e2e_deb_path         Prints the path of the .deb //packaging:foobar_deb
#                        built last (it must be built already).
#
# Example (the error path included):
#   source tests/e2e/lib.sh
#   e2e_boot demo || { echo "machine did not boot" >&2; exit 1; }
#   deb=$(e2e_deb_path) || exit 1
#   e2e_copy_in "${deb}" /root/
#   e2e_sh "cd /root && apt-get install -y ./$(basename "${deb}")"
#   e2e_exec systemctl is-active foobar.socket || echo "socket not active" >&2
#   # e2e_cleanup runs from the EXIT trap.
#
# Environment: E2E_RELEASE (bookworm or trixie, default bookworm; read when a
# function runs, so it may be set after sourcing), E2E_CACHE_DIR (root cache),
# E2E_RUN_BASE (where per-run scratch dirs go, default /var/tmp), E2E_BOOT_TIMEOUT (default 60 s),
# E2E_STOP_TIMEOUT (default 30 s), E2E_BAZEL_OUTPUT_BASE.

E2E_RELEASE=${E2E_RELEASE:-bookworm}
E2E_CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/foobar-e2e}
E2E_RUN_BASE=${E2E_RUN_BASE:-/var/tmp}
E2E_BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-60}
E2E_STOP_TIMEOUT=${E2E_STOP_TIMEOUT:-30}

# The recipe. Changing it changes the stamp, which rebuilds the cache. iproute2
# (ss) and procps (ps) are there so tests and the demo can show sockets and
# processes; everything the package Depends on (libc6, libstdc++6, libgcc-s1)
# is already in minbase, so installing the .deb needs no network.
readonly E2E_INCLUDE=systemd,systemd-sysv,dbus,iproute2,procps

E2E_NAME=""
E2E_DIR=""
E2E_ROOT=""
E2E_NSPAWN_PID=""
E2E_PID=""
E2E_CGROUP=""

e2e_log() {
  echo "e2e: $*" >&2
}

# e2e_release_known: fails, saying so, for a release the harness does not know.
e2e_release_known() {
  case "${E2E_RELEASE}" in
    bookworm | trixie) return 0 ;;
  esac
  e2e_log "unknown E2E_RELEASE '${E2E_RELEASE}' (want bookworm or trixie)"
  return 1
}

e2e_root_dir() {
  e2e_release_known || return 1
  echo "${E2E_CACHE_DIR}/${E2E_RELEASE}-root"
}

e2e_root_ensure() {
  local root stamp stamp_text log
  root=$(e2e_root_dir) || return 1
  stamp="${root}/.foobar-e2e-stamp"
  stamp_text="debootstrap --variant=minbase --include=${E2E_INCLUDE} ${E2E_RELEASE} v1"
  log="${E2E_CACHE_DIR}/debootstrap-${E2E_RELEASE}.log"
  mkdir -p "${E2E_CACHE_DIR}"
  # One builder at a time; a concurrent caller waits and then finds the stamp.
  (
    flock 9
    if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${stamp_text}" ]]; then
      exit 0
    fi
    e2e_log "building the cached root in ${root} (first run only, ~1 min)"
    local tmp="${root}.tmp"
    rm -rf "${tmp}" "${root}"
    local start=${SECONDS}
    if ! debootstrap --variant=minbase --include="${E2E_INCLUDE}" \
      "${E2E_RELEASE}" "${tmp}" >"${log}" 2>&1; then
      e2e_log "debootstrap failed; see ${log}"
      tail -n 20 "${log}" >&2
      exit 1
    fi
    # Downloaded .debs are not needed to boot; keep the cache small.
    rm -rf "${tmp}"/var/cache/apt/archives/*.deb
    # No login prompt on the console and no getty to wait for.
    ln -sf /dev/null "${tmp}/etc/systemd/system/console-getty.service"
    echo "${stamp_text}" >"${tmp}/.foobar-e2e-stamp"
    mv "${tmp}" "${root}"
    e2e_log "cached root built in $((SECONDS - start)) s"
  ) 9>"${E2E_CACHE_DIR}/.lock" || return 1
  echo "${root}"
}

e2e_exec() {
  if [[ -z "${E2E_PID}" ]]; then
    e2e_log "e2e_exec: no machine is running"
    return 1
  fi
  nsenter -t "${E2E_PID}" -m -u -i -n -p -- \
    /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
    SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

e2e_sh() {
  e2e_exec /bin/bash -c "$1"
}

e2e_copy_in() {
  local src=$1 dest=$2
  if [[ -z "${E2E_ROOT}" ]]; then
    e2e_log "e2e_copy_in: no machine is running"
    return 1
  fi
  cp -- "${src}" "${E2E_ROOT}${dest}"
}

# e2e_find_pid1: the machine's PID 1 is the nspawn process's child that is
# running systemd (nspawn forks it into the new PID namespace).
e2e_find_pid1() {
  local child children
  children=$(cat "/proc/${E2E_NSPAWN_PID}/task/"*/children 2>/dev/null) || return 1
  for child in ${children}; do
    if [[ "$(cat "/proc/${child}/comm" 2>/dev/null)" == systemd ]]; then
      echo "${child}"
      return 0
    fi
  done
  return 1
}

# e2e_make_cgroup: with --keep-unit, nspawn puts the machine in a "payload"
# cgroup under its own. On a host whose PID 1 is not systemd every process sits
# in the root cgroup, so all machines would share /payload, and with it the
# cgroup of every unit: two machines running foobar.service at once would
# attach to and remove the same /payload/system.slice/foobar.service (seen as
# a start failing with 219/CGROUP). Each machine gets a cgroup of its own, in
# every hierarchy nspawn and the machine's systemd use (cgroup v2 alone, or
# v1's name=systemd plus the hybrid unified one).
E2E_CGROUP_DIRS=()
e2e_make_cgroup() {
  E2E_CGROUP=""
  E2E_CGROUP_DIRS=()
  if [[ -d /run/systemd/system ]]; then
    return 0 # systemd on the host owns the tree; nspawn runs in our own unit.
  fi
  local root roots=()
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    roots=(/sys/fs/cgroup)
  else
    for root in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
      [[ -f "${root}/cgroup.procs" ]] && roots+=("${root}")
    done
  fi
  for root in "${roots[@]}"; do
    if ! mkdir -p "${root}/foobar-e2e/${E2E_NAME}" 2>/dev/null; then
      e2e_log "cannot create ${root}/foobar-e2e/${E2E_NAME}; concurrent machines may interfere"
      continue
    fi
    E2E_CGROUP_DIRS+=("${root}/foobar-e2e/${E2E_NAME}")
  done
  if ((${#E2E_CGROUP_DIRS[@]} > 0)); then
    E2E_CGROUP="/foobar-e2e/${E2E_NAME}"
  fi
}

# e2e_enter_cgroup: moves the calling (sub)shell into the machine's cgroups.
e2e_enter_cgroup() {
  local dir
  for dir in "${E2E_CGROUP_DIRS[@]}"; do
    echo "${BASHPID}" >"${dir}/cgroup.procs" ||
      e2e_log "cannot move into ${dir}; concurrent machines may interfere"
  done
}

# e2e_remove_cgroup: removes the machine's cgroup trees, deepest first (the
# machine's systemd leaves its slices behind at power-off).
# shellcheck disable=SC2034  # E2E_CGROUP is for callers.
e2e_remove_cgroup() {
  local dir
  for dir in "${E2E_CGROUP_DIRS[@]}"; do
    [[ -d "${dir}" ]] || continue
    find "${dir}" -depth -type d -exec rmdir {} + 2>/dev/null || true
    if [[ -d "${dir}" ]]; then
      e2e_log "cgroup ${dir} still has processes; left in place"
    fi
  done
  E2E_CGROUP_DIRS=()
  E2E_CGROUP=""
}

e2e_boot() {
  local name=${1:-foobar-e2e}
  local root
  root=$(e2e_root_ensure) || return 1
  trap e2e_cleanup EXIT
  trap 'e2e_cleanup; trap - INT; kill -INT $$' INT
  trap 'e2e_cleanup; trap - TERM; kill -TERM $$' TERM
  trap 'e2e_cleanup; trap - HUP; kill -HUP $$' HUP

  E2E_NAME="${name}-$$"
  E2E_DIR=$(mktemp -d "${E2E_RUN_BASE}/foobar-e2e.XXXXXX")
  mkdir "${E2E_DIR}/upper" "${E2E_DIR}/work" "${E2E_DIR}/root"
  if ! mount -t overlay overlay \
    -o "lowerdir=${root},upperdir=${E2E_DIR}/upper,workdir=${E2E_DIR}/work" \
    "${E2E_DIR}/root"; then
    e2e_log "cannot mount the overlay root in ${E2E_DIR}/root"
    e2e_cleanup
    return 1
  fi
  E2E_ROOT="${E2E_DIR}/root"

  local start=${SECONDS}
  e2e_make_cgroup
  # Background jobs of a non-interactive shell ignore SIGINT, so ctrl-C reaches
  # our trap, which powers the machine off cleanly.
  (
    e2e_enter_cgroup
    exec systemd-nspawn -q -D "${E2E_ROOT}" --boot --register=no --keep-unit \
      --machine="${E2E_NAME}"
  ) </dev/null >"${E2E_DIR}/console.log" 2>&1 &
  E2E_NSPAWN_PID=$!

  local deadline=$((SECONDS + E2E_BOOT_TIMEOUT)) state=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "${E2E_NSPAWN_PID}" 2>/dev/null; then
      e2e_log "systemd-nspawn exited during boot; console:"
      tail -n 30 "${E2E_DIR}/console.log" >&2
      e2e_cleanup
      return 1
    fi
    if [[ -z "${E2E_PID}" ]]; then
      E2E_PID=$(e2e_find_pid1) || E2E_PID=""
    fi
    if [[ -n "${E2E_PID}" ]]; then
      # --wait blocks until start-up finishes, once the manager answers at all.
      state=$(timeout 20 nsenter -t "${E2E_PID}" -m -u -i -n -p -- \
        systemctl is-system-running --wait 2>/dev/null) || true
      case "${state}" in
        running) break ;;
        degraded)
          e2e_log "machine is degraded; failed units:"
          e2e_exec systemctl --failed --no-legend >&2 || true
          break
          ;;
      esac
    fi
    sleep 0.1
  done
  if [[ "${state}" != running && "${state}" != degraded ]]; then
    e2e_log "machine did not reach running within ${E2E_BOOT_TIMEOUT} s (state '${state}'); console:"
    tail -n 30 "${E2E_DIR}/console.log" >&2
    e2e_cleanup
    return 1
  fi
  e2e_log "machine ${E2E_NAME} up in $((SECONDS - start)) s (PID 1 is host PID ${E2E_PID})"
}

e2e_shutdown() {
  if [[ -z "${E2E_NSPAWN_PID}" ]]; then
    return 0
  fi
  if kill -0 "${E2E_NSPAWN_PID}" 2>/dev/null; then
    if [[ -n "${E2E_PID}" ]]; then
      e2e_exec systemctl poweroff --no-block >/dev/null 2>&1 || true
    fi
    local deadline=$((SECONDS + E2E_STOP_TIMEOUT))
    while kill -0 "${E2E_NSPAWN_PID}" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if kill -0 "${E2E_NSPAWN_PID}" 2>/dev/null; then
      e2e_log "machine did not power off in ${E2E_STOP_TIMEOUT} s; killing it"
      # Killing PID 1 kills every process of its PID namespace.
      [[ -n "${E2E_PID}" ]] && kill -KILL "${E2E_PID}" 2>/dev/null
      kill -KILL "${E2E_NSPAWN_PID}" 2>/dev/null || true
    fi
  fi
  wait "${E2E_NSPAWN_PID}" 2>/dev/null || true
  E2E_NSPAWN_PID=""
  E2E_PID=""
  e2e_remove_cgroup
}

e2e_cleanup() {
  e2e_shutdown
  e2e_remove_cgroup
  if [[ -n "${E2E_DIR}" ]]; then
    if mountpoint -q "${E2E_DIR}/root"; then
      umount "${E2E_DIR}/root" 2>/dev/null || umount -l "${E2E_DIR}/root" || true
    fi
    rm -rf "${E2E_DIR}"
    E2E_DIR=""
    E2E_ROOT=""
  fi
}

e2e_bazel() {
  if [[ -n "${E2E_BAZEL_OUTPUT_BASE:-}" ]]; then
    bazel --output_base="${E2E_BAZEL_OUTPUT_BASE}" "$@"
  else
    bazel "$@"
  fi
}

e2e_deb_path() {
  local repo bin deb
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  bin=$(cd "${repo}" && e2e_bazel info bazel-bin 2>/dev/null) || return 1
  # The file name carries the Debian version (foobar_<version>-<rev>_amd64.deb);
  # the newest one is what the last build wrote.
  deb=$(find "${bin}/packaging" -maxdepth 1 -name 'foobar_*_amd64.deb' \
    -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
  if [[ -z "${deb}" ]]; then
    e2e_log "no ${bin}/packaging/foobar_*_amd64.deb: run bazel build //packaging:foobar_deb"
    return 1
  fi
  echo "${deb}"
}
