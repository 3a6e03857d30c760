#!/usr/bin/env bats
# cgroup drivers on this host's real hierarchies (agent/runtime/cgroup*), driven through
# tests/tools/cgtool. Every group is named minik-test-<pid>-<test> and is removed at
# teardown, processes and all, even when the test fails.

load helpers

CGROOT=/sys/fs/cgroup

setup() {
    CGTOOL="$(dirname "$MINIK_BIN")/tools/cgtool"
    [ -x "$CGTOOL" ] || {
        echo "cgtool not built: $CGTOOL" >&2
        return 1
    }
    CG="/minik-test-$$-$BATS_TEST_NUMBER"
    on_teardown "cg_purge $CG"
}

cgtool() {
    "$CGTOOL" "$@"
}

# cg_purge PATH: kill what is left in PATH in every hierarchy (only our own processes can
# be there: the name is unique to this test) and remove the directories.
cg_purge() {
    local path=$1 d pid i
    for d in "$CGROOT"/*"$path" "$CGROOT$path"; do
        [ -d "$d" ] || continue
        [ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
        for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        for ((i = 0; i < 50; i++)); do
            rmdir "$d" 2>/dev/null && break
            sleep 0.1
        done
    done
}

host_mode() {
    if [ -f "$CGROOT/cgroup.controllers" ]; then
        echo v2
    elif [ -f "$CGROOT/unified/cgroup.controllers" ]; then
        echo hybrid
    else
        echo v1
    fi
}

# The file holding a limit, per layout: cgfile V1CONTROLLER V1FILE V2FILE
cgfile() {
    if [ "$(host_mode)" = v2 ]; then
        echo "$CGROOT$CG/$3"
    else
        echo "$CGROOT/$1$CG/$2"
    fi
}

# pid_count_is OP N [cgtool flags...]: the group holds OP N processes right now. A function,
# so that wait_for re-evaluates it on every try.
pid_count_is() {
    local op=$1 n=$2
    shift 2
    [ "$(cgtool "$@" pids "$CG" | wc -l)" "$op" "$n" ]
}

procs_empty() {
    [ -z "$(cat "$1")" ]
}

leftovers() {
    local d
    for d in "$CGROOT"/*"$CG" "$CGROOT$CG"; do
        [ -e "$d" ] && echo "$d"
    done
    return 0
}

@test "cgroup: detects this host's layout" {
    run cgtool mode
    [ "$status" -eq 0 ]
    [ "$output" = "$(host_mode)" ]
}

@test "cgroup: create applies the limits, readable back from /sys/fs/cgroup" {
    run cgtool create "$CG" '{"memory":{"limit":67108864,"swap":67108864},
        "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0"},"pids":{"limit":42}}'
    [ "$status" -eq 0 ]
    [ "$output" = "$CG" ]
    if [ "$(host_mode)" = v2 ]; then
        [ "$(cat "$CGROOT$CG/memory.max")" = 67108864 ]
        [ "$(cat "$CGROOT$CG/memory.swap.max")" = 0 ]
        [ "$(cat "$CGROOT$CG/cpu.weight")" = 59 ]
        [ "$(cat "$CGROOT$CG/cpu.max")" = "50000 100000" ]
    else
        [ "$(cat "$CGROOT/memory$CG/memory.limit_in_bytes")" = 67108864 ]
        [ "$(cat "$CGROOT/cpu$CG/cpu.shares")" = 512 ]
        [ "$(cat "$CGROOT/cpu$CG/cpu.cfs_quota_us")" = 50000 ]
        [ "$(cat "$CGROOT/cpu$CG/cpu.cfs_period_us")" = 100000 ]
        # The default allow-list replaced "a *:* rwm".
        grep -qx 'c 1:3 rwm' "$CGROOT/devices$CG/devices.list"
        grep -qx 'c 136:\* rwm' "$CGROOT/devices$CG/devices.list"
        ! grep -q '^a ' "$CGROOT/devices$CG/devices.list"
    fi
    [ "$(cat "$(cgfile pids pids.max pids.max)")" = 42 ]
    [ "$(cat "$(cgfile cpuset cpuset.cpus cpuset.cpus)")" = 0 ]
    if [ "$(host_mode)" = hybrid ]; then
        # Tracked in the unified hierarchy too, as runc does on hybrid hosts.
        [ -d "$CGROOT/unified$CG" ]
    fi
}

@test "cgroup: update changes limits in place" {
    cgtool create "$CG" '{"memory":{"limit":67108864,"swap":67108864},"pids":{"limit":10}}'
    # Growing memory+swap must raise memsw before the limit, shrinking the other way round:
    # the kernel refuses limit > memsw at every step.
    run cgtool update "$CG" '{"memory":{"limit":134217728,"swap":134217728},"pids":{"limit":-1}}'
    [ "$status" -eq 0 ]
    [ "$(cat "$(cgfile memory memory.limit_in_bytes memory.max)")" = 134217728 ]
    [ "$(cat "$(cgfile pids pids.max pids.max)")" = max ]
    run cgtool update "$CG" '{"memory":{"limit":33554432,"swap":33554432}}'
    [ "$status" -eq 0 ]
    [ "$(cat "$(cgfile memory memory.limit_in_bytes memory.max)")" = 33554432 ]
    if [ -f "$CGROOT/memory$CG/memory.memsw.limit_in_bytes" ]; then
        [ "$(cat "$CGROOT/memory$CG/memory.memsw.limit_in_bytes")" = 33554432 ]
    fi
    run cgtool update "$CG" '{"memory":{"limit":"lots"}}'
    [ "$status" -eq 1 ]
    [[ "$output" == *"resources.memory.limit: expected an integer"* ]]
}

@test "cgroup: a process entered into the group is in it in every hierarchy" {
    cgtool create "$CG"
    run cgtool run "$CG" -- cat /proc/self/cgroup
    [ "$status" -eq 0 ]
    echo "$output"
    # Every hierarchy line (v1 controllers, name=systemd, the unified 0:: line) ends in $CG.
    [ "$(echo "$output" | grep -c ":$CG\$")" -eq "$(echo "$output" | grep -c '^[0-9]*:')" ]
    echo "$output" | grep -q "^0::$CG\$" || [ "$(host_mode)" = v1 ]
}

@test "cgroup: a memory hog is OOM-killed and the OOM is reported" {
    cgtool create "$CG" '{"memory":{"limit":33554432,"swap":33554432}}'
    run cgtool oom-run "$CG" 5 -- "$CGTOOL" hog 256
    echo "$output"
    [ "$status" -eq 137 ]
    [[ "$output" == *"signal=9"* ]]
    [[ "$output" == *"oom_event=1"* ]]
    [[ "$output" =~ oom_kills=([0-9]+) ]]
    [ "${BASH_REMATCH[1]}" -ge 1 ]
    # A hog that fits is not killed and no OOM is counted.
    cgtool destroy "$CG"
    cgtool create "$CG" '{"memory":{"limit":134217728,"swap":134217728}}'
    run cgtool oom-run "$CG" 1 -- "$CGTOOL" hog 16
    [ "$status" -eq 0 ]
    [[ "$output" == *"oom_event=0 oom_kills=0"* ]]
}

@test "cgroup: the pids limit stops forks" {
    cgtool create "$CG" '{"pids":{"limit":5}}'
    run cgtool run "$CG" -- "$CGTOOL" forks 20
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" =~ forked=([0-9]+)\ error=EAGAIN ]]
    # The forking process itself is one of the 5.
    [ "${BASH_REMATCH[1]}" -ge 1 ]
    [ "${BASH_REMATCH[1]}" -le 4 ]
}

@test "cgroup: stats of a running group are non-zero" {
    cgtool create "$CG" '{"memory":{"limit":67108864},"pids":{"limit":10}}'
    cgtool run "$CG" -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
    pid=$(cgtool spawn "$CG" -- sleep 30)
    on_teardown "kill -KILL $pid"
    run cgtool stats "$CG"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" =~ cpu_usage_ns=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
    [[ "$output" =~ memory_usage_bytes=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
    [[ "$output" == *"memory_limit_bytes=67108864"* ]]
    [[ "$output" == *"pids_current=1"* ]]
    [[ "$output" == *"pids_limit=10"* ]]
    [[ "$output" == *"oom_kills=0"* ]]
    run cgtool pids "$CG"
    [ "$output" = "$pid" ]
}

@test "cgroup: kill (freeze, signal, thaw) and destroy leave nothing behind" {
    cgtool create "$CG"
    pid=$(cgtool spawn "$CG" -- sh -c 'sleep 100 & sleep 100 & wait')
    on_teardown "kill -KILL $pid"
    wait_for 10 pid_count_is -eq 3
    run cgtool kill "$CG" 15
    [ "$status" -eq 0 ]
    wait_for 10 pid_count_is -eq 0
    [ -n "$(leftovers)" ] # the directories stay until destroy
    run cgtool destroy "$CG"
    [ "$status" -eq 0 ]
    [ -z "$(leftovers)" ]
    run cgtool pids "$CG"
    [ "$status" -eq 1 ]
    [[ "$output" == *"does not exist"* ]]
}

@test "cgroup: SIGKILL reaches every process, forks included" {
    cgtool create "$CG"
    pid=$(cgtool spawn "$CG" -- sh -c 'while :; do sleep 100 & sleep 0.01; done')
    on_teardown "kill -KILL $pid"
    wait_for 10 pid_count_is -ge 4
    run cgtool kill "$CG" 9
    [ "$status" -eq 0 ]
    wait_for 10 pid_count_is -eq 0
    cgtool destroy "$CG"
    [ -z "$(leftovers)" ]
}

@test "cgroup: the device allow-list refuses devices outside it" {
    [ -c /dev/kmsg ] # the probe device; every Debian host has it
    # Control: outside any minik group the device opens.
    sh -c ': < /dev/kmsg'
    cgtool create "$CG"
    run cgtool run "$CG" -- sh -c ': < /dev/kmsg'
    [ "$status" -ne 0 ]
    [[ "$output" == *"Operation not permitted"* ]]
    run cgtool run "$CG" -- sh -c ': < /dev/null && head -c 4 /dev/zero | wc -c'
    [ "$status" -eq 0 ]
    [[ "$output" == *4* ]]
    # A rule in the spec opens it up (read only).
    cgtool update "$CG" '{"devices":[{"allow":true,"type":"c","major":1,"minor":11,"access":"r"}]}'
    run cgtool run "$CG" -- sh -c ': < /dev/kmsg'
    [ "$status" -eq 0 ]
    run cgtool run "$CG" -- sh -c ': >> /dev/kmsg'
    [ "$status" -ne 0 ]
}

# cgroup v2 as far as this host allows: on a hybrid host the unified mount is a cgroup2
# tree without controllers, so minik is pointed at it as if it were a pure v2 host.
v2_root() {
    case "$(host_mode)" in
    v2) echo "$CGROOT" ;;
    hybrid) echo "$CGROOT/unified" ;;
    *) return 1 ;;
    esac
}

@test "cgroup v2: eBPF device filter attached to the group, replaced on update" {
    root=$(v2_root) # hybrid and pure v2 hosts both have one
    [ -c /dev/kmsg ] # the probe device; every Debian host has it
    run cgtool --root "$root" mode
    [ "$output" = v2 ]
    cgtool --root "$root" create "$CG" '{"devices":[{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]}'
    # Read is not in the rule: refused by the BPF program; write is allowed.
    run cgtool --root "$root" run "$CG" -- sh -c ': < /dev/kmsg'
    [[ "$output" == *"Operation not permitted"* ]]
    run cgtool --root "$root" run "$CG" -- sh -c 'echo minik-cgroup-test >> /dev/kmsg && : < /dev/null'
    [ "$status" -eq 0 ]
    # Update: the old program is replaced, not stacked (stacked, both must allow).
    cgtool --root "$root" update "$CG" '{"devices":[{"allow":true,"type":"c","major":1,"minor":11,"access":"r"}]}'
    run cgtool --root "$root" run "$CG" -- sh -c ': < /dev/kmsg'
    [ "$status" -eq 0 ]
    run cgtool --root "$root" run "$CG" -- sh -c ': >> /dev/kmsg'
    [ "$status" -ne 0 ]
    # The zero/null/urandom defaults still work.
    run cgtool --root "$root" run "$CG" -- sh -c 'head -c 3 /dev/urandom | wc -c'
    [ "$status" -eq 0 ]
    [[ "$output" == 3* ]]
}

@test "cgroup v2: cgroup.kill, cpu.stat usage and rmdir on the unified tree" {
    root=$(v2_root) # hybrid and pure v2 hosts both have one
    cgtool --root "$root" create "$CG"
    pid=$(cgtool --root "$root" spawn "$CG" -- sh -c 'sleep 100 & i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; wait')
    on_teardown "kill -KILL $pid"
    wait_for 10 pid_count_is -eq 2 --root "$root"
    run cgtool --root "$root" stats "$CG"
    [[ "$output" =~ cpu_usage_ns=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
    run cgtool --root "$root" kill "$CG" 9
    [ "$status" -eq 0 ]
    wait_for 10 procs_empty "$root$CG/cgroup.procs"
    cgtool --root "$root" destroy "$CG"
    [ ! -e "$root$CG" ]
}

@test "cgroup v2: a limit whose controller is not enabled fails clearly and leaves nothing" {
    root=$(v2_root) # hybrid and pure v2 hosts both have one
    [ "$(host_mode)" = hybrid ] || skip "needs a cgroup2 tree without the memory controller"
    run cgtool --root "$root" create "$CG" '{"memory":{"limit":67108864}}'
    [ "$status" -eq 1 ]
    [[ "$output" == *"cgroup $CG"*"memory.max"* ]]
    [ ! -e "$root$CG" ]
}
