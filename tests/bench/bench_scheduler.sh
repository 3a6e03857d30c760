#!/usr/bin/env bash
# Scheduler placements/s with 100, 1,000 and 5,000 nodes, in process over a real store
# (tests/tools/sched_bench.c): NODES Nodes and PODS pending Pods are created first, then
# the time from scheduler start to every pod bound (each bind a durable CAS write) is
# measured; the "affinity" workload adds, on every pod, a preferred pod anti-affinity on
# the hostname and a soft zone topology spread constraint (what Helm charts put on
# replicas), which makes each placement look at every placed pod. There is no
# kube-scheduler on this machine to run side by side: its CI throughput floor (about 700
# pods/s in scheduler_perf) is printed as a reference only.
#   BENCH_DIR (default /var/tmp: a real disk), ROUNDS (default 3: medians), PODS (5000)
set -euo pipefail
: "${MINIK_BIN:?}"
bench="$(dirname "$MINIK_BIN")/tools/sched_bench"
rounds=${ROUNDS:-3}
pods=${PODS:-5000}
floor=700
base=$(mktemp -d "${BENCH_DIR:-/var/tmp}/minik-bench-sched-XXXXXX")
trap 'rm -rf --one-file-system "$base"' EXIT

val() { sed -n "s/^$1=//p"; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

echo "## Scheduler placements (in process, real store, $pods pods, median of $rounds)"
echo
echo "| nodes | policy | workload | time to all-bound s | placements/s | peak RSS MB | kube-scheduler CI floor pods/s (reference, not measured) | ratio minik/floor |"
echo "|---|---|---|---|---|---|---|---|"
for spec in 100:spread:plain 1000:spread:plain 5000:spread:plain 1000:binpack:plain \
    1000:spread:affinity; do
    IFS=: read -r nodes policy workload <<<"$spec"
    secs=() rates=() rss=()
    for ((i = 0; i < rounds; i++)); do
        d=$(mktemp -d "$base/run-XXXXXX")
        out=$("$bench" "$d" "$nodes" "$pods" "$policy" "$workload")
        rm -rf "$d"
        secs+=("$(val seconds <<<"$out")")
        rates+=("$(val pods_per_s <<<"$out")")
        rss+=("$(val max_rss_mb <<<"$out")")
    done
    s=$(printf '%s\n' "${secs[@]}" | median)
    r=$(printf '%s\n' "${rates[@]}" | median)
    m=$(printf '%s\n' "${rss[@]}" | median)
    awk -v n="$nodes" -v p="$policy" -v w="$workload" -v s="$s" -v r="$r" -v m="$m" -v f="$floor" \
        'BEGIN {printf "| %d | %s | %s | %.3f | %.0f | %.0f | %d | %.2fx |\n", n, p, w, s, r, m, f, r / f}'
done
