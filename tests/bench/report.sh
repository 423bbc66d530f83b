#!/usr/bin/env bash
# Usage: tests/bench/report.sh RESULTS_DIR MARKDOWN PNG [COMMAND]
#
# Turns the raw results of tests/bench/bench.sh (and tests/bench/sandbox.sh,
# when RESULTS_DIR has sandbox.tsv) into medians, ratios to the baseline and
# target verdicts. The tables replace whatever lies between the
# "<!-- bench:begin -->" and "<!-- bench:end -->" lines of MARKDOWN (the
# hand-written analysis around them stays); a missing MARKDOWN is created.
# PNG gets the gnuplot chart of throughput and p99 against connections.
# COMMAND is quoted in the report as the command that produced it.
set -euo pipefail
# shellcheck source=tests/bench/markdown.sh disable=SC1091  # lint runs without -x.
source "$(dirname "${BASH_SOURCE[0]}")/markdown.sh"

if (($# < 3 || $# > 4)); then
  sed -n '2p' "$0" | sed 's/^# //' >&2
  exit 2
fi
results="$1"
markdown="$2"
png="$3"
command="${4:-tools/bench}"
for f in load.tsv cold.tsv mem.tsv bin.tsv machine.txt; do
  [[ -f "${results}/${f}" ]] || {
    echo "report: ${results}/${f} is missing" >&2
    exit 1
  }
done

sandbox_files=()
for f in sandbox.tsv sandbox_groups.tsv; do
  [[ -f "${results}/${f}" ]] && sandbox_files+=("${results}/${f}")
done
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

machine() { awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' \
  "${results}/machine.txt"; }

# ---- tables ------------------------------------------------------------------
# One awk program reads every result file (the file name tells which) and
# prints the tables in markdown; it also writes the plot's data files.
awk -v plotdir="${work}" -F'\t' '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return ""
    for (i = 2; i <= n; i++) {
      t = a[i] + 0
      for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
      a[j + 1] = t
    }
    return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function kv(text, key,   m) {
    if (match(" " text " ", " " key "=[^ ]*")) {
      m = substr(" " text " ", RSTART + length(key) + 2, RLENGTH - length(key) - 2)
      return m
    }
    return ""
  }
  # paired(ARR, KEY, BKEY): median over repetitions of ARR[KEY,rep] /
  # ARR[BKEY,rep], each server run set against the baseline run of the same
  # repetition (seconds apart), which cancels drift in the machine'"'"'s load.
  function paired(arr, key, bkey,   n, reps, i, list) {
    n = split(replist[key], reps, " "); list = ""
    for (i = 1; i <= n; i++)
      if (((bkey, reps[i]) in arr) && arr[bkey, reps[i]] > 0)
        list = list " " arr[key, reps[i]] / arr[bkey, reps[i]]
    return median(list)
  }
  function pratio(r) { return (r == "") ? "n/a" : sprintf("%.2f×", r) }
  function ratio(x, base) { return (base > 0 && x != "") ? sprintf("%.2f×", x / base) : "n/a" }
  function num(x) { return (x == "") ? "n/a" : sprintf("%.0f", x) }
  function grouped(x,   s, r) {
    if (x == "") return "n/a"
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
  }
  function label(s) {
    if (s == "baseline") return "baseline (ref_echo)"
    if (s == "foobard") return "**foobard**"
    if (s == "socat") return "socat fork"
    if (s == "inetd") return "Accept=yes (foobard per connection)"
    return s
  }
  # verdict WHAT VALUE LIMIT HIGHER_IS_BETTER: "met" or "missed by N %".
  function verdict(value, limit, higher,   miss) {
    if (value == "") return "not measured"
    if (higher ? value >= limit : value <= limit) return "met"
    miss = higher ? (limit - value) / limit * 100 : (value - limit) / limit * 100
    return sprintf("**missed by %.0f%%**", miss)
  }
  FILENAME ~ /load\.tsv$/ {
    key = $1 SUBSEP $2 SUBSEP $3
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
    if (!($1 in is_server)) { is_server[$1] = 1; servers[++nservers] = $1 }
    sc = $2 SUBSEP $3
    if (!(sc in is_scenario)) { is_scenario[sc] = 1; scenarios[++nscenarios] = sc }
    reps[key]++
    e = kv($5, "errors"); mm = kv($5, "mismatches")
    if (e != "0" || mm != "0") { bad[key]++; next }
    tput[key] = tput[key] " " kv($5, "msgs_per_s")
    mib[key] = mib[key] " " kv($5, "mib_per_s")
    p50[key] = p50[key] " " kv($5, "p50_us")
    p99[key] = p99[key] " " kv($5, "p99_us")
    # Per repetition, for ratios paired with the baseline run next to it.
    rt[key, $4] = kv($5, "msgs_per_s"); r50[key, $4] = kv($5, "p50_us")
    r99[key, $4] = kv($5, "p99_us"); replist[key] = replist[key] " " $4
    next
  }
  FILENAME ~ /cold\.tsv$/ {
    cold[$1] = kv($2, "median_us"); cold10[$1] = kv($2, "p10_us")
    cold90[$1] = kv($2, "p90_us"); coldn[$1] = kv($2, "reps"); next
  }
  FILENAME ~ /mem\.tsv$/ {
    mem_order[++nmem] = $1; mstart[$1] = $2; midle[$1] = $3; mloaded[$1] = $4
    mper[$1] = $5; next
  }
  FILENAME ~ /bin\.tsv$/ {
    bins[++nbins] = $0; next
  }
  FILENAME ~ /sandbox\.tsv$/ {
    sb[++nsb] = $0; next
  }
  FILENAME ~ /sandbox_groups\.tsv$/ {
    legend[++nlegend] = $0; next
  }
  END {
    print "### Throughput and latency"
    print ""
    print "Closed-loop round trips (`foobar --bench`): each connection sends a message,"
    print "waits for its whole echo, checks it and sends the next. Figures are"
    print "medians of the repetitions. Each \"× baseline\" is the median, over the"
    print "repetitions, of the ratio to the baseline run seconds before in the same"
    print "repetition, so a busy neighbour slowing one repetition down cancels out."
    print ""
    print "| connections × size | server | msgs/s | × baseline | MiB/s | p50 µs | × baseline | p99 µs | × baseline | runs (failed) |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= nscenarios; i++) {
      split(scenarios[i], sp, SUBSEP)
      bkey = "baseline" SUBSEP sp[1] SUBSEP sp[2]
      for (j = 1; j <= nservers; j++) {
        s = servers[j]; key = s SUBSEP sp[1] SUBSEP sp[2]
        size = (sp[2] >= 1024) ? (sp[2] / 1024 " KiB") : (sp[2] " B")
        if (!(key in seen)) {
          printf "| %s × %s | %s | not run (a process per client: %s processes) | | | | | | | |\n", grouped(sp[1]), size, label(s), grouped(sp[1] * (s == "socat" ? 2 : 1))
          continue
        }
        t = median(tput[key]); l50 = median(p50[key]); l99 = median(p99[key])
        pt = paired(rt, key, bkey)
        printf "| %s × %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %d (%d) |\n", grouped(sp[1]), size, label(s), grouped(t), pratio(pt), median(mib[key]), num(l50), pratio(paired(r50, key, bkey)), num(l99), pratio(paired(r99, key, bkey)), reps[key], bad[key]
        if (sp[2] == 64) printf "%s %s %s\n", sp[1], t, l99 >> (plotdir "/" s ".dat")
        bt = median(tput[bkey])
        if (s == "foobard" && sp[1] == 100 && sp[2] == 64) { t100 = pt; t100m = (bt > 0) ? t / bt : "" }
        if (s == "foobard" && sp[1] == 10 && sp[2] == 65536) { tbig = pt; tbigm = (bt > 0) ? t / bt : "" }
      }
    }
    print ""
    print "### Cold start"
    print ""
    print "First round trip through a fresh `systemd-socket-activate` (exec, init,"
    print "accept, echo of 64 B), timed by `tests/bench/cold_start` from `connect()`"
    print "to the last echoed byte once the activator is blocked in `epoll_wait`."
    print "socat listens by itself, so it has no activation to time."
    print ""
    print "| server | runs | median µs | × baseline | p10 µs | p90 µs |"
    print "| --- | ---: | ---: | ---: | ---: | ---: |"
    for (j = 1; j <= nservers; j++) {
      s = servers[j]
      if (!(s in cold)) continue
      printf "| %s | %d | %s | %s | %s | %s |\n", label(s), coldn[s], grouped(cold[s]), ratio(cold[s], cold["baseline"]), grouped(cold10[s]), grouped(cold90[s])
    }
    if ("foobard" in cold && cold["baseline"] > 0) tcold = cold["foobard"] / cold["baseline"]
    print ""
    print "### Memory"
    print ""
    print "Single-process servers: `VmRSS` after the activating client has gone, then"
    print "with N idle connections (each did one 1-byte round trip first, held by"
    print "`tests/bench/idle_conns`). Process-per-client servers: \"after start\" is the"
    print "`VmRSS` of one client'"'"'s processes, and the growth is the proportional set size"
    print "(PSS, shared pages split among processes) of the whole process tree."
    print ""
    print "| server | RSS after start KiB | idle connections | KiB with them | KiB per idle connection |"
    print "| --- | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= nmem; i++) {
      s = mem_order[i]
      printf "| %s | %s | %s | %s | %s |\n", label(s), grouped(mstart[s]), grouped(midle[s]), grouped(mloaded[s]), mper[s]
    }
    print ""
    print "### Binaries"
    print ""
    print "| binary | bytes | stripped bytes | shared libraries loaded (ldd) |"
    print "| --- | ---: | ---: | --- |"
    for (i = 1; i <= nbins; i++) {
      split(bins[i], b, "\t")
      printf "| %s | %s | %s | %s |\n", b[1], grouped(b[2]), grouped(b[3]), b[4]
    }
    if (nsb > 0) {
      print ""
      print "### What the sandbox costs (real systemd, in the e2e container)"
      print ""
      print "Cold first round trip through `foobar.socket` (systemd forks, sets up the"
      print "sandbox, execs foobard, which accepts and echoes 64 B), the service stopped"
      print "before each run. Each profile is `full`, the shipped `units/foobar.service`"
      print "with every option of the groups below set, minus whole option groups;"
      print "exposure is `systemd-analyze security` of that unit, inside the container."
      print ""
      print "| profile | groups removed from full | exposure | runs | median ms | × full | p10 ms | p90 ms |"
      print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
      full = ""
      for (i = 1; i <= nsb; i++) { split(sb[i], b, "\t"); if (b[1] == "full") full = b[5]; if (b[8] == "yes") shipped_name = b[1] }
      best = ""
      for (i = 1; i <= nsb; i++) {
        split(sb[i], b, "\t")
        if (b[3] + 0 <= 1.0 && b[5] != "" && (best == "" || b[5] + 0 < bestv)) { best = b[1]; bestv = b[5] + 0; bestx = b[3] }
      }
      for (i = 1; i <= nsb; i++) {
        split(sb[i], b, "\t")
        name = b[1] ((b[8] == "yes") ? " (shipped)" : "")
        if (b[1] == best) name = "**" name "**"
        if (b[4] + 0 == 0) {
          printf "| %s | %s | %s | 0 | **failed** (no echo; see the journal in the run log) | | | |\n", name, b[2], b[3]
          continue
        }
        printf "| %s | %s | %s | %s | %.1f | %s | %.1f | %.1f |\n", name, b[2], b[3], b[4], b[5] / 1000, ratio(b[5], full), b[6] / 1000, b[7] / 1000
      }
      print ""
      if (best != "") printf "Lowest cold start with exposure ≤ 1.0: **%s** (%.1f ms, exposure %s). The shipped unit is %s.\n", best, bestv / 1000, bestx, (shipped_name == "") ? "none of these profiles" : "`" shipped_name "`"
      if (nlegend > 0) {
        print ""
        print "| option group | options removed together |"
        print "| --- | --- |"
        for (i = 1; i <= nlegend; i++) {
          split(legend[i], b, "\t"); gsub(/ /, "=, ", b[2])
          printf "| %s | %s= |\n", b[1], b[2]
        }
      }
    }
    print ""
    print "### Targets (issue 4)"
    print ""
    print "| target | measured | verdict |"
    print "| --- | --- | --- |"
    printf "| throughput at 100 × 64 B ≥ 0.95× baseline | %s paired (%s as a ratio of medians) | %s |\n", pratio(t100), pratio(t100m), verdict(t100, 0.95, 1)
    printf "| throughput at 10 × 64 KiB ≥ 0.95× baseline | %s paired (%s as a ratio of medians) | %s |\n", pratio(tbig), pratio(tbigm), verdict(tbig, 0.95, 1)
    printf "| cold start ≤ 1.15× baseline | %s | %s |\n", (tcold == "") ? "n/a" : sprintf("%.2f×", tcold), verdict(tcold, 1.15, 0)
    printf "| RSS after start ≤ 2 MiB | %s KiB | %s |\n", grouped(mstart["foobard"]), verdict(mstart["foobard"], 2048, 0)
    printf "| ≤ 1 KiB per idle connection | %s KiB | %s |\n", mper["foobard"], verdict(mper["foobard"], 1.0, 0)
  }
' "${results}/load.tsv" "${results}/cold.tsv" "${results}/mem.tsv" \
  "${results}/bin.tsv" "${sandbox_files[@]}" \
  >"${work}/tables.md"

{
  echo "<!-- bench:begin -->"
  echo "<!-- Generated by tests/bench/report.sh from a tools/bench run; edit around it. -->"
  echo ""
  echo "Measured $(machine date) on $(machine cores) cores ($(machine cpu)),"
  echo "kernel $(machine kernel), $(machine memory_mib) MiB RAM, systemd $(machine systemd),"
  echo "socat $(machine socat); load average at the start $(machine loadavg) (the machine is shared)."
  echo "Command: \`${command}\`."
  echo ""
  cat "${work}/tables.md"
  echo ""
  echo "![throughput and p99 latency against connections](bench_throughput.png)"
  echo ""
  echo "<!-- bench:end -->"
} >"${work}/generated.md"

if ! splice_section "${markdown}" bench "${work}/generated.md"; then
  {
    echo "# Benchmarks"
    echo ""
    cat "${work}/generated.md"
  } >"${markdown}"
fi

# ---- plot --------------------------------------------------------------------
plots=()
for s in baseline foobard socat inetd; do
  [[ -s "${work}/${s}.dat" ]] || continue
  case "${s}" in
    baseline) title="baseline (ref\\_echo)" ;;
    foobard) title="foobard" ;;
    socat) title="socat fork" ;;
    inetd) title="Accept=yes (a foobard per client)" ;;
  esac
  plots+=("${s}:${title}")
done
{
  echo "set terminal pngcairo size 1000,820 font 'sans,10'"
  echo "set output '${png}'"
  echo "set multiplot layout 2,1 title 'Echo servers, 64 B closed-loop round trips ($(machine cores) cores, $(machine date))'"
  echo "set logscale x"
  echo "set xlabel 'concurrent connections'"
  echo "set grid"
  echo "set key below horizontal samplen 2"
  echo "set xrange [0.7:15000]"
  echo "set format y '%.0s%c'"
  echo "set title 'throughput (higher is better)'"
  echo "set ylabel 'round trips per second'"
  echo "set yrange [0:*]"
  printf 'plot '
  sep=""
  for p in "${plots[@]}"; do
    printf "%s'%s/%s.dat' using 1:2 with linespoints lw 2 title '%s'" "${sep}" "${work}" "${p%%:*}" "${p#*:}"
    sep=", "
  done
  echo ""
  echo "set title 'p99 latency (lower is better)'"
  echo "set ylabel 'p99 round trip (µs)'"
  echo "set logscale y"
  echo "set yrange [*:*]"
  echo "set format y '%.0s%c'"

  printf 'plot '
  sep=""
  for p in "${plots[@]}"; do
    printf "%s'%s/%s.dat' using 1:3 with linespoints lw 2 title '%s'" "${sep}" "${work}" "${p%%:*}" "${p#*:}"
    sep=", "
  done
  echo ""
  echo "unset multiplot"
} >"${work}/plot.gp"
gnuplot "${work}/plot.gp"
echo "report: wrote ${markdown} and ${png}" >&2
