#!/usr/bin/env bash
# Run every built libFuzzer target for FUZZ_SECONDS, starting from its seed corpus in
# tests/fuzz/corpus/<target>/ (new inputs go to a scratch dir, not into the repo).
# A crash leaves its reproducer in build/fuzz/crashes/ and fails the run.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${FUZZ_DIR:=$root/build/fuzz/fuzz}"
: "${FUZZ_SECONDS:=30}"
crashes="$root/build/fuzz/crashes"
# Leaks inside third-party libraries we cannot fix are listed, with the reason, here.
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
mkdir -p "$crashes"

shopt -s nullglob
targets=("$FUZZ_DIR"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no targets built"
    exit 0
fi
rc=0
for t in "${targets[@]}"; do
    name=$(basename "$t")
    seeds="$root/tests/fuzz/corpus/$name"
    work=$(mktemp -d)
    args=(-max_total_time="$FUZZ_SECONDS" -artifact_prefix="$crashes/$name-" -print_final_stats=0)
    [ -f "$root/tests/fuzz/$name.dict" ] && args+=(-dict="$root/tests/fuzz/$name.dict")
    echo "fuzz: $name for ${FUZZ_SECONDS}s"
    if ! "$t" "${args[@]}" "$work" ${seeds:+$( [ -d "$seeds" ] && echo "$seeds")} >"$work.log" 2>&1; then
        echo "fuzz: $name FAILED; last lines:"
        tail -n 40 "$work.log"
        rc=1
    else
        grep -E '^#[0-9]+.*DONE|Done [0-9]+ runs' "$work.log" | tail -n 1
    fi
    rm -rf "$work" "$work.log"
done
exit $rc
