#!/usr/bin/env bash
# The store: durable creates/s (1 writer; 100 concurrent through group commit) side by side
# with the etcd-style peer (a plain SQLite insert + fsync per write, WAL, synchronous=FULL,
# same payload, same process), list of 10k objects, watch delivery latency to 1,000
# watchers, and bytes an idle open store writes (measured from /proc/<pid>/io over
# IDLE_SECONDS, extrapolated to an hour).
#   BENCH_DIR (default /var/tmp: a real disk, fsync must cost what it costs)
#   ROUNDS (default 5: medians of interleaved runs), IDLE_SECONDS (default 30)
set -euo pipefail
: "${MINIK_BIN:?}"
. "$(dirname "$0")/lib.sh"
tools="$(dirname "$MINIK_BIN")/tools"
bench="$tools/store_bench"
writer="$tools/store_writer"
rounds=${ROUNDS:-5}
idle_s=${IDLE_SECONDS:-30}
base=$(mktemp -d "${BENCH_DIR:-/var/tmp}/minik-bench-store-XXXXXX")
holder=""
cleanup() {
    if [ -n "$holder" ]; then kill -TERM "$holder" 2>/dev/null || true; fi
    rm -rf --one-file-system "$base"
}
trap cleanup EXIT

# run MODE ARGS... : run store_bench in a fresh directory, print its key=value output.
run() {
    local mode=$1 d
    shift
    d=$(mktemp -d "$base/run-XXXXXX")
    "$bench" "$mode" "$d" "$@"
    rm -rf "$d"
}

sync_n=1000
async_n=20000
s=() r=() a=() a_batch=()
for ((i = 0; i < rounds; i++)); do
    out=$(run pair $sync_n)
    s+=("$(echo "$out" | val creates_per_s)")
    r+=("$(echo "$out" | val raw_creates_per_s)")
    out=$(run async $async_n 100)
    a+=("$(echo "$out" | val creates_per_s)")
    a_batch+=("$(echo "$out" | val writes_per_transaction)")
done
sync_med=$(printf '%s\n' "${s[@]}" | median)
raw_med=$(printf '%s\n' "${r[@]}" | median)
async_med=$(printf '%s\n' "${a[@]}" | median)
batch_med=$(printf '%s\n' "${a_batch[@]}" | median)
list_ms=$(run list 10000 | val list_ms)
watch=$(run watch 1000 200)
p50=$(echo "$watch" | val p50_us)
p99=$(echo "$watch" | val p99_us)

# Idle: a store opened read-write, loop attached, one watch, after 1,000 writes.
idle_dir=$(mktemp -d "$base/idle-XXXXXX")
"$writer" write "$idle_dir/state.db" async 1000 >/dev/null
"$writer" hold "$idle_dir/state.db" >"$idle_dir/hold.log" 2>&1 &
holder=$!
for _ in $(seq 100); do grep -q ready "$idle_dir/hold.log" && break; sleep 0.1; done
sleep 1
io() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$holder/io"; }
wb0=$(io write_bytes) wc0=$(io wchar)
sleep "$idle_s"
wb1=$(io write_bytes) wc1=$(io wchar)
kill -TERM "$holder"
wait "$holder" || true
holder=""
wb_h=$(((wb1 - wb0) * 3600 / idle_s))
wc_h=$(((wc1 - wc0) * 3600 / idle_s))

echo "## Store (SQLite WAL, synchronous=FULL; medians of $rounds interleaved rounds)"
echo
echo "| measurement | minik | peer | peer figure | ratio minik/peer |"
echo "|---|---|---|---|---|"
awk -v m="$sync_med" -v p="$raw_med" -v n="$sync_n" 'BEGIN {printf "| durable creates/s, 1 writer (%d sync creates, alternating with the peer in blocks of 25) | %d | plain SQLite insert+fsync per write | %d | %.2fx |\n", n, m, p, m / p}'
awk -v m="$async_med" -v p="$raw_med" -v n="$async_n" -v b="$batch_med" 'BEGIN {printf "| durable creates/s, 100 concurrent writers (group commit, %d creates, %.1f writes/transaction) | %d | plain SQLite insert+fsync per write | %d | %.1fx |\n", n, b, m, p, m / p}'
echo "| list 10,000 objects (ms, median of 5) | $list_ms | — | — | — |"
echo "| watch delivery, 1,000 watchers x 200 writes, commit to callback p50 / p99 (µs) | $p50 / $p99 | — | — | — |"
echo "| bytes written by an idle open store per hour (write_bytes / wchar, extrapolated from ${idle_s}s) | $wb_h / $wc_h | — | — | — |"
