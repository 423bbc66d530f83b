#!/usr/bin/env bash
# Usage: tests/bench/restart.sh --out=DIR [--releases="bookworm trixie"] [--sizes="100 1000 4000 10000 16384"] [--reps=3] [--no-build | --deb=FILE --driver=FILE]
#
# What `systemctl restart foobar.service` costs the clients of a live
# foobard, under a real systemd: boots the e2e container of each release
# (tests/e2e/lib.sh), installs the .deb with the shipped units, and for each
# number of connections runs the same closed-loop load (tests/e2e/e2e_driver,
# 64-byte round trips, every byte checked) twice per repetition, in turn:
#   baseline  3 s of load, no restart;
#   restart   1 s of load, `systemctl restart foobar.service`, then load
#             until 3 s have passed since the first.
# The figure of a run is the longest round trip any client saw (max_rtt_us:
# round trips started once every connection had its first echo). The window
# is a fixed time, not something to wait for, so it is slept. A run with an
# error or a changed byte fails the benchmark. Writes DIR/restart.tsv:
# release, systemd version, connections, repetitions, then the median over
# the repetitions of each run's longest round trip (baseline, restart, in µs),
# the ratio of those medians, the restart's extra stall (restart - baseline)
# and the median time `systemctl restart` took (ms). --deb and --driver name
# the .deb and e2e_driver to use instead of asking Bazel for them.
set -euo pipefail

out=""
releases="bookworm trixie"
sizes="100 1000 4000 10000 16384"
reps=3
build=1
deb=""
driver=""
for arg in "$@"; do
  case "${arg}" in
    --out=*) out="${arg#*=}" ;;
    --releases=*) releases="${arg#*=}" ;;
    --sizes=*) sizes="${arg#*=}" ;;
    --reps=*) reps="${arg#*=}" ;;
    --no-build) build=0 ;;
    --deb=*)
      deb="${arg#*=}"
      build=0
      ;;
    --driver=*) driver="${arg#*=}" ;;
    *)
      sed -n '2p' "$0" | sed 's/^# //' >&2
      exit 2
      ;;
  esac
done
[[ -n "${out}" ]] || {
  sed -n '2p' "$0" | sed 's/^# //' >&2
  exit 2
}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${repo}"
mkdir -p "${out}"
# shellcheck source=tests/e2e/lib.sh
source tests/e2e/lib.sh
if ((build)); then
  e2e_bazel build //packaging:foobar_deb //tests/e2e:e2e_driver >&2
fi
[[ -n "${deb}" ]] || deb=$(e2e_deb_path)
[[ -n "${driver}" ]] || driver="$(e2e_bazel info bazel-bin 2>/dev/null)/tests/e2e/e2e_driver"

# median: the median of the numbers on stdin, one per line.
median() {
  sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print 0; exit }
    print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# one_run N RESTART: one run of N connections; prints "max_rtt_us restart_ms".
one_run() {
  local n=$1 restart=$2 dir="${E2E_ROOT}/root/e2e" start end summary took=0
  rm -f "${dir}"/bench.{ready,stop,out,err}
  e2e_exec /root/e2e/e2e_driver --mode=hold --connections="${n}" --messages=0 \
    --min_size=64 --max_size=64 --timeout_ms=30000 \
    --ready_file=/root/e2e/bench.ready --stop_file=/root/e2e/bench.stop \
    >"${dir}/bench.out" 2>"${dir}/bench.err" &
  local pid=$!
  local deadline=$((SECONDS + 120))
  until [[ -e "${dir}/bench.ready" ]]; do
    if ((SECONDS > deadline)) || ! kill -0 "${pid}" 2>/dev/null; then
      echo "restart: ${n} connections did not all get an echo" >&2
      cat "${dir}/bench.err" >&2
      return 1
    fi
    sleep 0.05
  done
  start=$(date +%s%N)
  sleep 1
  if ((restart)); then
    local t0
    t0=$(date +%s%N)
    e2e_exec systemctl restart foobar.service
    took=$((($(date +%s%N) - t0) / 1000000))
  fi
  end=$((start + 3000000000))
  local now
  now=$(date +%s%N)
  if ((now < end)); then
    sleep "$(awk -v ns="$((end - now))" 'BEGIN { printf "%.3f", ns / 1e9 }')"
  fi
  touch "${dir}/bench.stop"
  wait "${pid}" || {
    echo "restart: the load failed: $(cat "${dir}/bench.out" "${dir}/bench.err")" >&2
    return 1
  }
  summary=$(cat "${dir}/bench.out")
  [[ "${summary}" == *" errors=0 mismatches=0 "* ]] || {
    echo "restart: errors in ${summary}" >&2
    return 1
  }
  echo "$(sed -n 's/.*max_rtt_us=\([0-9]*\).*/\1/p' <<<"${summary}") ${took}"
}

: >"${out}/restart.tsv"
for release in ${releases}; do
  export E2E_RELEASE=${release}
  e2e_boot "bench-restart-${release}"
  version=$(e2e_exec systemctl show -P Version | sed 's/[^0-9].*//')
  e2e_copy_in "${deb}" /root/
  mkdir -p "${E2E_ROOT}/root/e2e"
  e2e_copy_in "${driver}" /root/e2e/e2e_driver
  e2e_sh "apt-get install -y /root/$(basename "${deb}")" >"${out}/install-${release}.log" 2>&1
  for n in ${sizes}; do
    : >"${out}/${release}-${n}.runs"
    for ((r = 1; r <= reps; r++)); do
      # In turn, so drift on a shared machine hits both alike.
      run=$(one_run "${n}" 0) || exit 1
      read -r base _ <<<"${run}"
      run=$(one_run "${n}" 1) || exit 1
      read -r with took <<<"${run}"
      printf '%s\t%s\t%s\n' "${base}" "${with}" "${took}" >>"${out}/${release}-${n}.runs"
      echo "restart: ${release} ${n} rep ${r}: baseline ${base} us, restart ${with} us (${took} ms)" >&2
    done
    b=$(cut -f1 "${out}/${release}-${n}.runs" | median)
    w=$(cut -f2 "${out}/${release}-${n}.runs" | median)
    t=$(cut -f3 "${out}/${release}-${n}.runs" | median)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\n' "${release}" "${version}" "${n}" \
      "${reps}" "${b}" "${w}" "$(awk -v w="${w}" -v b="${b}" 'BEGIN { print w / b }')" \
      "$((w - b))" "${t}" >>"${out}/restart.tsv"
  done
  e2e_cleanup
done
echo "restart: results in ${out}/restart.tsv" >&2
