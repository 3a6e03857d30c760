#!/usr/bin/env bash
# Deployment reconcile: time from creating a Deployment of N replicas to every pod durably
# created (tests/tools/ctl_bench.c, in process over a real store), side by side with the
# floor measured in the same run: the same N pods submitted straight to the store's
# group-committed API. No kube-controller-manager runs on this machine.
# Then the DaemonSet reconcile in steady state with 100 and 1,000 nodes (ds_bench.c).
#   BENCH_DIR (default /var/tmp: a real disk), ROUNDS (default 3: medians)
set -euo pipefail
: "${MINIK_BIN:?}"
. "$(dirname "$0")/lib.sh"
bench="$(dirname "$MINIK_BIN")/tools/ctl_bench"
rounds=${ROUNDS:-3}
base=$(mktemp -d "${BENCH_DIR:-/var/tmp}/minik-bench-ctl-XXXXXX")
trap 'rm -rf --one-file-system "$base"' EXIT


echo "## Deployment reconcile (in process, real store, median of $rounds)"
echo
echo "| replicas | controllers: time to all pods created s | pods/s | peak RSS MB | floor: same pods written directly s | ratio controllers/floor |"
echo "|---|---|---|---|---|---|"
for n in 100 1000 5000; do
    cs=() cr=() cm=() ds=()
    for ((i = 0; i < rounds; i++)); do
        # Alternate the two in each round so a noisy disk hurts both alike.
        d=$(mktemp -d "$base/run-XXXXXX")
        out=$("$bench" "$d" "$n" controller)
        rm -rf "$d"
        cs+=("$(val seconds <<<"$out")")
        cr+=("$(val pods_per_s <<<"$out")")
        cm+=("$(val max_rss_mb <<<"$out")")
        d=$(mktemp -d "$base/run-XXXXXX")
        out=$("$bench" "$d" "$n" direct)
        rm -rf "$d"
        ds+=("$(val seconds <<<"$out")")
    done
    s=$(printf '%s\n' "${cs[@]}" | median)
    r=$(printf '%s\n' "${cr[@]}" | median)
    m=$(printf '%s\n' "${cm[@]}" | median)
    f=$(printf '%s\n' "${ds[@]}" | median)
    awk -v n="$n" -v s="$s" -v r="$r" -v m="$m" -v f="$f" \
        'BEGIN {printf "| %d | %.3f | %.0f | %.0f | %.3f | %.2fx |\n", n, s, r, m, f, s / f}'
done

# DaemonSet reconcile in steady state (tests/tools/ds_bench.c): every Node event queues
# every DaemonSet, so this is the controllers' cost of one node change per DaemonSet.
# No peer: the figure to compare is this row before and after a change (docs/benchmarks.md).
dsbench="$(dirname "$MINIK_BIN")/tools/ds_bench"
echo
echo "## DaemonSet reconcile in steady state (in process, real store, median of $rounds)"
echo
echo "| nodes | time to all daemon pods created s | one reconcile ms | peak RSS MB |"
echo "|---|---|---|---|"
for n in 100 1000; do
    ss=() rs=() ms=()
    for ((i = 0; i < rounds; i++)); do
        d=$(mktemp -d "$base/run-XXXXXX")
        out=$("$dsbench" "$d" "$n" 20)
        rm -rf "$d"
        ss+=("$(val setup_s <<<"$out")")
        rs+=("$(val reconcile_ms <<<"$out")")
        ms+=("$(val max_rss_mb <<<"$out")")
    done
    s=$(printf '%s\n' "${ss[@]}" | median)
    r=$(printf '%s\n' "${rs[@]}" | median)
    m=$(printf '%s\n' "${ms[@]}" | median)
    awk -v n="$n" -v s="$s" -v r="$r" -v m="$m" \
        'BEGIN {printf "| %d | %.3f | %.2f | %.0f |\n", n, s, r, m}'
done
