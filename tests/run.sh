#!/usr/bin/env bash
# Run the cmocka unit runners and the bats end-to-end suites, then print one closing line
# that CI reads: "N passed, N failed".
#   tests/run.sh all|unit|e2e
# Environment: MINIK_BIN (binary under test), UNIT_DIR (built unit runners),
#              BATS_FILTER (optional: only run e2e files matching this glob).
set -uo pipefail
what=${1:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
: "${MINIK_BIN:=$root/build/asan/minik}"
: "${UNIT_DIR:=$root/build/asan/tests}"
export MINIK_BIN
# Fail loudly on leaks and on any UBSan report in the binaries under test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failures=()

if [ "$what" = all ] || [ "$what" = unit ]; then
    echo "== unit tests (cmocka) =="
    for t in "$UNIT_DIR"/test_*; do
        [ -x "$t" ] || continue
        out=$(mktemp)
        "$t" >"$out" 2>&1
        rc=$?
        cat "$out"
        # cmocka's own summary lines: "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s), ..."
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | head -n1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | head -n1)
        p=${p:-0}
        f=${f:-0}
        # A runner that crashed (sanitizer abort) may not print per-test lines.
        if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
            f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        [ "$f" -eq 0 ] || failures+=("$(basename "$t")")
        rm -f "$out"
    done
fi

if [ "$what" = all ] || [ "$what" = e2e ]; then
    echo "== end-to-end tests (bats) =="
    files=()
    for f in "$root"/tests/e2e/*.bats; do
        [ -e "$f" ] || continue
        if [ -n "${BATS_FILTER:-}" ]; then
            # shellcheck disable=SC2053
            [[ $(basename "$f") == $BATS_FILTER ]] || continue
        fi
        files+=("$f")
    done
    if [ ${#files[@]} -gt 0 ]; then
        out=$(mktemp)
        bats --tap "${files[@]}" 2>&1 | tee "$out"
        p=$(grep -cE '^ok [0-9]+' "$out")
        f=$(grep -cE '^not ok [0-9]+' "$out")
        planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -n1)
        # Tests that never reported (bats itself died) count as failures.
        if [ -n "$planned" ] && [ $((p + f)) -lt "$planned" ]; then
            f=$((planned - p))
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        [ "$f" -eq 0 ] || failures+=("bats: $(grep -E '^not ok' "$out" | tr '\n' ';')")
        rm -f "$out"
    fi
fi

if [ ${#failures[@]} -gt 0 ]; then
    printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
