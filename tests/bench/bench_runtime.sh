#!/usr/bin/env bash
# Container start: `minik oci run` against `runc run` on the same busybox bundle running
# /bin/true with pid, network, ipc, uts and mount namespaces (hyperfine, medians of one
# run), with a bare `unshare` of those namespaces as the floor; then the shim's memory per
# running container and the size of the sealed binary copy it runs from.
set -euo pipefail
: "${MINIK_BIN:?}"
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../e2e/runtime_bundle.bash
source "$root/tests/e2e/runtime_bundle.bash"
command -v runc >/dev/null || { echo "bench_runtime: runc not installed"; exit 1; }

work=$(mktemp -d /tmp/minik-bench-runtime-XXXXXX)
ids=()
cleanup() {
    for id in "${ids[@]}"; do "$MINIK_BIN" oci --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true; done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

make_bundle "$work/b" /bin/true
BUNDLE_JQ='.linux.seccomp={defaultAction:"SCMP_ACT_ALLOW"}' make_bundle "$work/b-noop" /bin/true
runs=${BENCH_RUNS:-30}

median_ms() { jq -r ".results[$1].median * 1000" "$2"; }

echo "## Container start (hyperfine, median of $runs runs, /bin/true in pid+net+ipc+uts+mount namespaces)"
echo
echo "| case | minik ms | runc ms | ratio runc/minik | floor: unshare ms |"
echo "|---|---|---|---|---|"
for case in default noop; do
    b="$work/b"
    label="bundle as is (minik: default seccomp profile; runc: no filter)"
    if [ "$case" = noop ]; then
        b="$work/b-noop"
        label="same allow-all seccomp filter for both"
    fi
    json="$work/$case.json"
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$json" \
        "$MINIK_BIN oci --root $work/state run -b $b bench-$case" \
        "runc --root $work/runc run -b $b bench-$case" \
        "unshare --pid --fork --net --ipc --uts --mount /bin/true" >/dev/null 2>&1
    m=$(median_ms 0 "$json")
    r=$(median_ms 1 "$json")
    u=$(median_ms 2 "$json")
    awk -v l="$label" -v m="$m" -v r="$r" -v u="$u" \
        'BEGIN {printf "| %s | %.1f | %.1f | %.2fx | %.1f |\n", l, m, r, r / m, u}'
done

echo
echo "## Shim memory per running container (5 containers running sleep)"
echo
make_bundle "$work/b-sleep" sleep 1000
rss=0
pss=0
n=5
for i in $(seq 1 $n); do
    ids+=("rss-$i")
    "$MINIK_BIN" oci --root "$work/state" create -b "$work/b-sleep" "rss-$i" </dev/null >/dev/null 2>&1
    "$MINIK_BIN" oci --root "$work/state" start "rss-$i"
done
sleep 0.5
for i in $(seq 1 $n); do
    shim=$(jq -r .shimPid "$work/state/rss-$i/state.json")
    rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$shim/status")))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$shim/smaps_rollup")))
    copy=$(stat -L -c %s "/proc/$shim/exe")
done
echo "| figure | per shim |"
echo "|---|---|"
echo "| VmRSS | $((rss / n)) KiB |"
echo "| PSS (shared pages split between shims) | $((pss / n)) KiB |"
echo "| sealed copy of the binary the shim runs from (shmem; one per \`oci create\`, one per agent for all its pods) | $((copy / 1024)) KiB |"
