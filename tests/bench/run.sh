#!/usr/bin/env bash
# `make bench`: run every tests/bench/bench_*.sh and print their result tables.
# Each bench script measures minik side by side with its peer in the same run and prints
# markdown rows; docs/benchmarks.md records the figures with the machine they ran on.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${MINIK_BIN:=$root/build/minik}"
export MINIK_BIN
echo "# minik benchmarks — $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
for b in "$root"/tests/bench/bench_*.sh; do
    [ -e "$b" ] || continue
    if [ -n "${BENCH_FILTER:-}" ] && [[ $(basename "$b") != $BENCH_FILTER ]]; then
        continue
    fi
    echo
    bash "$b"
done
