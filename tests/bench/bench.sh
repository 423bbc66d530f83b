#!/usr/bin/env bash
# Usage: tests/bench/bench.sh --bin-dir=DIR --out=DIR [--client=PATH]
#          [--foobard=PATH] [--reps=N] [--conns="1 100 1000 10000"] [--big=CONNSxBYTES]
#          [--scale=F] [--cold-reps=N] [--idle=N] [--process-cap=N]
#          [--servers="baseline foobard socat inetd"]
#
# Measures the echo servers side by side in one run and writes raw results
# (TSV) into --out; tests/bench/report.sh turns them into the tables and the
# plot. DIR is a bazel-bin holding tests/bench/{ref_echo,cold_start,
# idle_conns}, and daemon/foobard and client/foobar unless --foobard and
# --client name them (tools/bench passes the ones the .deb ships). Servers:
#   baseline  tests/bench/ref_echo under systemd-socket-activate
#   foobard   daemon/foobard under systemd-socket-activate
#   socat     socat UNIX-LISTEN:…,fork EXEC:cat (a process pair per client)
#   inetd     systemd-socket-activate --accept foobard (Accept=yes style)
# Load comes from `foobar --bench`. Every figure is repeated --reps times with
# the servers interleaved, so a busy neighbour on the machine hits all of
# them alike; report.sh takes the medians.
set -euo pipefail

bin_dir=""
out=""
client=""
foobard=""
reps=5
conns="1 100 1000 10000"
big="10x65536"
scale=1
cold_reps=30
idle=10000
process_cap=1000
servers="baseline foobard socat inetd"

for arg in "$@"; do
  case "${arg}" in
    --bin-dir=*) bin_dir="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --client=*) client="${arg#*=}" ;;
    --foobard=*) foobard="${arg#*=}" ;;
    --reps=*) reps="${arg#*=}" ;;
    --conns=*) conns="${arg#*=}" ;;
    --big=*) big="${arg#*=}" ;;
    --scale=*) scale="${arg#*=}" ;;
    --cold-reps=*) cold_reps="${arg#*=}" ;;
    --idle=*) idle="${arg#*=}" ;;
    --process-cap=*) process_cap="${arg#*=}" ;;
    --servers=*) servers="${arg#*=}" ;;
    *)
      sed -n '2,6s/^# \{0,1\}//p' "$0" >&2
      exit 2
      ;;
  esac
done
if [[ -z "${bin_dir}" || -z "${out}" ]]; then
  sed -n '2,6s/^# \{0,1\}//p' "$0" >&2
  exit 2
fi
client="${client:-${bin_dir}/client/foobar}"
ref_echo="${bin_dir}/tests/bench/ref_echo"
cold_start="${bin_dir}/tests/bench/cold_start"
idle_conns="${bin_dir}/tests/bench/idle_conns"
foobard="${foobard:-${bin_dir}/daemon/foobard}"
for f in "${client}" "${ref_echo}" "${cold_start}" "${idle_conns}" "${foobard}"; do
  [[ -x "${f}" ]] || {
    echo "bench: missing program ${f} (build it first)" >&2
    exit 1
  }
done

mkdir -p "${out}"
# Unix socket paths must stay under 108 bytes, so they live in a short
# private directory rather than under --out.
sock_dir="$(mktemp -d /tmp/bench.XXXXXX)"
log="${out}/servers.log"
: >"${log}"
declare -A server_pid=()

cleanup() {
  local name
  for name in "${!server_pid[@]}"; do
    stop_server "${name}"
  done
  rm -rf "${sock_dir}"
}
trap cleanup EXIT

# per_process NAME: true for the servers that run a process per connection.
per_process() { [[ "$1" == socat || "$1" == inetd ]]; }

# wait_listening PATH: polls /proc/net/unix until PATH is a listening socket
# (flag 00010000, __SO_ACCEPTCON); connecting to test would activate it.
wait_listening() {
  local path="$1" i
  for ((i = 0; i < 500; i++)); do
    if awk -v p="${path}" '$8 == p && $4 == "00010000" { found = 1 }
        END { exit !found }' /proc/net/unix; then
      return 0
    fi
    sleep 0.01
  done
  echo "bench: ${path} never started listening (see ${log})" >&2
  return 1
}

# start_server NAME: starts NAME listening on ${sock_dir}/NAME.sk.
start_server() {
  local name="$1" sk="${sock_dir}/$1.sk"
  rm -f "${sk}"
  case "${name}" in
    baseline) systemd-socket-activate -l "${sk}" -- "${ref_echo}" 2>>"${log}" & ;;
    foobard) systemd-socket-activate -l "${sk}" -- "${foobard}" 2>>"${log}" & ;;
    # backlog=4096 only spares socat's default queue of 5 from a burst of
    # connects; it does not change how socat serves them.
    socat) socat "UNIX-LISTEN:${sk},fork,backlog=4096" EXEC:cat 2>>"${log}" & ;;
    inetd) systemd-socket-activate --accept -l "${sk}" -- "${foobard}" 2>>"${log}" & ;;
    *)
      echo "bench: unknown server ${name}" >&2
      return 1
      ;;
  esac
  server_pid[${name}]=$!
  wait_listening "${sk}"
}

stop_server() {
  local name="$1" pid="${server_pid[$1]:-}"
  [[ -n "${pid}" ]] || return 0
  # socat's and the activator's per-connection children end with their
  # client; only the listener needs the signal.
  kill "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
  unset "server_pid[${name}]"
}

# messages CONNS SIZE NAME: how many round trips one load run sends, sized
# for about a second on the baseline (fewer for process-per-client servers,
# which are several times slower).
messages() {
  local c="$1" size="$2" name="$3" m
  if ((size >= 4096)); then
    m=20000
  elif ((c == 1)); then
    m=30000
  elif ((c >= 10000)); then
    m=$((c * 30))
  else
    m=200000
  fi
  per_process "${name}" && m=$((m / 5))
  m="$(awk -v m="${m}" -v s="${scale}" -v c="${c}" \
    'BEGIN { m = int(m * s); if (m < c) m = c; print m }')"
  echo "${m}"
}

# load NAME REP CONNS SIZE: one closed-loop run, appended to load.tsv.
load() {
  local name="$1" rep="$2" c="$3" size="$4" m line
  m="$(messages "${c}" "${size}" "${name}")"
  if ! line="$(timeout 300 "${client}" --bench \
    --connect="unix:${sock_dir}/${name}.sk" --connections="${c}" \
    --messages="${m}" --size="${size}" 2>>"${log}" | grep '^connections=')"; then
    line="connections=${c} messages=0 errors=failed"
    echo "bench: ${name} ${c}x${size} rep ${rep} failed" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "${name}" "${c}" "${size}" "${rep}" \
    "${line}" >>"${out}/load.tsv"
}

# ---- throughput and latency ----------------------------------------------
: >"${out}/load.tsv"
for name in ${servers}; do start_server "${name}"; done
scenarios=()
for c in ${conns}; do scenarios+=("${c}x64"); done
[[ -n "${big}" ]] && scenarios+=("${big}")
for ((rep = 1; rep <= reps; rep++)); do
  for sc in "${scenarios[@]}"; do
    c="${sc%x*}"
    size="${sc#*x}"
    for name in ${servers}; do
      # A process per client: 10,000 clients would mean 10,000 (socat:
      # 20,000) processes on a shared 2-core machine, so these stop at the cap.
      if per_process "${name}" && ((c > process_cap)); then continue; fi
      load "${name}" "${rep}" "${c}" "${size}"
    done
  done
  echo "bench: load repetition ${rep}/${reps} done" >&2
done
for name in ${servers}; do stop_server "${name}"; done

# ---- cold start ------------------------------------------------------------
# Rounds of 5 per server, servers interleaved, samples pooled: a compile job
# starting next door then slows every server alike instead of one.
# summarize NAME: pools NAME's samples into one cold.tsv line.
summarize() {
  sort -n "${sock_dir}/$1.cold" | awk -v name="$1" '
    { v[NR] = $1 }
    END {
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s\treps=%d median_us=%.0f p10_us=%.0f p90_us=%.0f min_us=%.0f max_us=%.0f\n",
        name, NR, med, v[int(NR / 10) + 1], v[int(NR * 9 / 10)], v[1], v[NR]
    }'
}
: >"${out}/cold.tsv"
cold_servers=()
for name in ${servers}; do
  # socat listens by itself: there is no activation to time.
  [[ "${name}" == socat ]] || cold_servers+=("${name}")
done
for ((done_reps = 0; done_reps < cold_reps; done_reps += 5)); do
  n=$((cold_reps - done_reps < 5 ? cold_reps - done_reps : 5))
  for name in "${cold_servers[@]}"; do
    case "${name}" in
      baseline) args=(-- "${ref_echo}") ;;
      foobard) args=(-- "${foobard}") ;;
      inetd) args=(--accept -- "${foobard}") ;;
    esac
    line="$("${cold_start}" --reps="${n}" --socket="${sock_dir}/cold.sk" "${args[@]}")"
    # One sample per line; pooled by summarize.
    tr ',' '\n' <<<"${line##*samples_us=}" >>"${sock_dir}/${name}.cold"
  done
done
for name in "${cold_servers[@]}"; do summarize "${name}" >>"${out}/cold.tsv"; done
echo "bench: cold start done" >&2

# ---- memory ----------------------------------------------------------------
# tree_pids PID: PID and all its descendants.
tree_pids() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      keep[root] = 1; print root; changed = 1
      while (changed) {
        changed = 0
        for (i in pids) {
          p = pids[i]
          if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; print p; changed = 1 }
        }
      }
    }'
}

# field_kib PID FILE FIELD: a "Field:   N kB" value from /proc/PID/FILE.
field_kib() {
  awk -v f="$3:" '$1 == f { print $2; exit }' "/proc/$1/$2" 2>/dev/null || echo 0
}

# tree_pss_kib PID: proportional set size of PID's whole process tree; shared
# library pages count once, split among the processes that map them.
tree_pss_kib() {
  local total=0 p v
  for p in $(tree_pids "$1"); do
    v="$(field_kib "${p}" smaps_rollup Pss)"
    total=$((total + ${v:-0}))
  done
  echo "${total}"
}

# hold_idle NAME N: opens N idle connections on a coprocess; waits for "ready".
hold_idle() {
  coproc IDLE { "${idle_conns}" --socket="${sock_dir}/$1.sk" --connections="$2"; }
  local line=""
  read -r line <&"${IDLE[0]}" || true
  [[ "${line}" == "ready $2" ]] || {
    echo "bench: $1 did not serve $2 idle connections" >&2
    return 1
  }
}

release_idle() {
  local fd="${IDLE[1]}"
  exec {fd}>&-
  wait "${IDLE_PID}" 2>/dev/null || true
}

: >"${out}/mem.tsv"
for name in ${servers}; do
  start_server "${name}"
  pid="${server_pid[${name}]}"
  n="${idle}"
  if per_process "${name}" && ((n > process_cap / 10)); then n=$((process_cap / 10)); fi
  if per_process "${name}"; then
    # One client's processes are the cost of "after start"; the listener
    # alone holds no client at all.
    base="$(tree_pss_kib "${pid}")"
    hold_idle "${name}" 1
    one_rss=0
    for p in $(tree_pids "${pid}"); do
      ((p == pid)) && continue
      one_rss=$((one_rss + $(field_kib "${p}" status VmRSS)))
    done
    release_idle
    hold_idle "${name}" "${n}"
    loaded="$(tree_pss_kib "${pid}")"
    release_idle
    printf '%s\t%s\t%s\t%s\t%s\n' "${name}" "${one_rss}" "${n}" "${loaded}" \
      "$(awk -v a="${loaded}" -v b="${base}" -v n="${n}" \
        'BEGIN { printf "%.2f", (a - b) / n }')" >>"${out}/mem.tsv"
  else
    # "After start" is after the activating client's echo, once it is gone.
    hold_idle "${name}" 1
    release_idle
    start_rss="$(field_kib "${pid}" status VmRSS)"
    hold_idle "${name}" "${n}"
    loaded="$(field_kib "${pid}" status VmRSS)"
    release_idle
    printf '%s\t%s\t%s\t%s\t%s\n' "${name}" "${start_rss}" "${n}" "${loaded}" \
      "$(awk -v a="${loaded}" -v b="${start_rss}" -v n="${n}" \
        'BEGIN { printf "%.2f", (a - b) / n }')" >>"${out}/mem.tsv"
  fi
  stop_server "${name}"
done
echo "bench: memory done" >&2

# ---- binaries ----------------------------------------------------------------
: >"${out}/bin.tsv"
for f in "${foobard}" "${client}" "${ref_echo}" "$(command -v socat)"; do
  stripped="$(mktemp)"
  strip -o "${stripped}" "${f}" 2>/dev/null || cp "${f}" "${stripped}"
  libs="$(ldd "${f}" 2>/dev/null | awk '$1 !~ /^linux-vdso/ && $1 !~ /^\/lib64\/ld-linux/ {
      sub(/\.so.*/, "", $1); printf "%s%s", sep, $1; sep = " " }')"
  printf '%s\t%s\t%s\t%s\n' "$(basename "${f}")" "$(stat -c %s "${f}")" \
    "$(stat -c %s "${stripped}")" "${libs:-(static)}" >>"${out}/bin.tsv"
  rm -f "${stripped}"
done

# ---- the machine ---------------------------------------------------------------
{
  echo "cores=$(nproc)"
  echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "memory_mib=$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "systemd=$(systemd-socket-activate --version | awk 'NR == 1 { print $2 }')"
  echo "socat=$(socat -V 2>/dev/null | awk '/socat version/ { print $3; exit }')"
} >"${out}/machine.txt"
echo "bench: results in ${out}" >&2
