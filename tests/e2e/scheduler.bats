#!/usr/bin/env bats
# The scheduler end to end in one process (tests/tools/sched_bench.c, sanitizer build):
# a real store on disk, Nodes and pending Pods written through it, the scheduler started
# on a libuv loop, and every pod bound by durable writes — with no leaks at exit.

load helpers

SCHED_BENCH="$(dirname "$MINIK_BIN")/tools/sched_bench"

setup() {
    DATA=$(make_tmpdir sched)
}

val() { sed -n "s/^$1=//p" <<<"$output"; }

@test "scheduler binds every pod over a real store (spread)" {
    run "$SCHED_BENCH" "$DATA" 20 300 spread
    [ "$status" -eq 0 ]
    [ "$(val bound)" = 300 ]
    [ "$(val unschedulable)" = 0 ]
    [ "$(val policy)" = spread ]
}

@test "scheduler binds every pod over a real store (binpack)" {
    run "$SCHED_BENCH" "$DATA" 20 300 binpack
    [ "$status" -eq 0 ]
    [ "$(val bound)" = 300 ]
    [ "$(val policy)" = binpack ]
}

@test "scheduler handles inter-pod preferences and soft spread constraints at scale" {
    run "$SCHED_BENCH" "$DATA" 30 200 spread affinity
    [ "$status" -eq 0 ]
    [ "$(val bound)" = 200 ]
    [ "$(val workload)" = affinity ]
}

@test "scheduler policy names are checked" {
    run "$SCHED_BENCH" "$DATA" 1 1 random
    [ "$status" -eq 2 ]
    [[ "$output" == *'--scheduler-policy: unknown policy "random" (spread or binpack)'* ]]
}
