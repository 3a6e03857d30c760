#!/usr/bin/env bats
# Pods removed on the API always have their containers stopped: pods evicted by the node
# lifecycle controller while their agent was frozen, and many pods deleted at once.

load helpers
load apiserver_helpers
load images_lib
load agent_lib

teardown() {
    # A frozen agent (SIGSTOP in these tests) must run again to stop.
    [ -f "$BATS_TEST_TMPDIR/agent.pid" ] && kill -CONT "$(cat "$BATS_TEST_TMPDIR/agent.pid")" 2>/dev/null || true
    agent_suite_teardown
}

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    start_registry
    build_image "$BATS_TEST_TMPDIR/oci" t1
    push "$BATS_TEST_TMPDIR/oci" t1 "$REG/test/busybox:1"
    IMG="$REG/test/busybox:1"
    # A node that misses heartbeats for 2 s is NotReady; its pods are evicted 2 s later.
    start_server --no-agent --insecure-http --node-grace-period 2s --pod-eviction-timeout 2s
    export MINIK_CONFIG="$DATA/admin.conf"
    ADIR=$(make_tmpdir agentdata)
    on_teardown "agent_cleanup $ADIR"
    start_agent
}

# The container pids of every container the agent runs now.
container_pids() {
    local st
    for st in "$ADIR"/oci/*/state.json; do
        [ -f "$st" ] && jq -r .pid "$st"
    done
}

# The containers' processes, runtime state, pod directories and mounts: all gone.
all_gone() { # PIDS...
    local p
    for p in "$@"; do [ -d "/proc/$p" ] && return 1; done
    [ -z "$(ls -A "$ADIR/oci")" ] && [ -z "$(ls -A "$ADIR/pods")" ] && [ "$(leftovers)" -eq 0 ]
}

@test "agent: pods evicted while their agent was frozen have their containers stopped when it wakes" {
    local i
    for i in 1 2 3; do pod_yaml "ev-$i" "exec /bin/busybox sleep 1000"; done |
        jq -s '{apiVersion: "v1", kind: "List", items: .}' | kc apply -f -
    for i in 1 2 3; do wait_for 30 pod_phase_is "ev-$i" Running; done
    local pids
    pids=$(container_pids)
    [ "$(wc -w <<<"$pids")" -eq 3 ]
    kill -STOP "$AGENT_PID"
    # NotReady, then every pod of the node deleted by the node lifecycle controller.
    wait_for 30 bash -c "[ \"\$('$MINIK_BIN' get pods -o json | jq '.items | length')\" = 0 ]"
    # The containers ran on while the agent was frozen: nothing else stops them.
    for i in $pids; do [ -d "/proc/$i" ]; done
    kill -CONT "$AGENT_PID"
    wait_for 30 all_gone $pids || {
        ls "$ADIR/oci" >&2
        daemon_log agent | tail -n 20 >&2
        return 1
    }
}

@test "agent: twelve pods deleted at once all have their containers stopped and removed" {
    local i
    for i in $(seq 1 12); do pod_yaml "del-$i" "exec /bin/busybox sleep 1000"; done |
        jq -s '{apiVersion: "v1", kind: "List", items: .}' | kc apply -f -
    wait_for 60 bash -c "[ \"\$('$MINIK_BIN' get pods -o json | jq '[.items[] | select(.status.phase == \"Running\")] | length')\" = 12 ]"
    local pids
    pids=$(container_pids)
    [ "$(wc -w <<<"$pids")" -eq 12 ]
    kc delete pods --all
    # Grace period 2 s (pod_yaml); SIGTERM ends sleep at once.
    wait_for 30 all_gone $pids || {
        ls "$ADIR/oci" "$ADIR/pods" >&2
        return 1
    }
}
