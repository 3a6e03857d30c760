#!/usr/bin/env bats
# `make demo` / `make demo-stop` (deploy/demo.sh) end to end: a real server with its
# embedded agent, the demo image built with umoci and imported, deploy/examples/hello/
# applied and Ready, the Service fetched through its ClusterIP, and a stop that leaves no
# process, mount, cgroup, directory, bridge, route or nftables rule behind.
#
# Once kept out of `make test`: late in the full suite two of the three hello pods stayed
# Pending with no events. That was the agent's sandbox helpers waiting for each other
# (agent/sandbox.c); tests/unit/test_agent_sandbox.c and tests/e2e/agent_concurrency.bats
# guard the fix.
#
# demo.sh runs inside a network namespace the test makes: its bridge, routes and nftables
# table are then the test's own, whatever other minik runs on this machine meanwhile.

: "${MINIK_BIN:=$BATS_TEST_DIRNAME/../../build/asan/minik}"
load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    export MINIK_DEMO_DIR="$BATS_TEST_TMPDIR/demo"
    export MINIK_DEMO_TIMEOUT=90
    NS=$(netns_create demo)
    on_teardown "nsenter --net=/run/netns/$NS bash '$REPO/deploy/demo.sh' stop"
}

in_net() { nsenter --net="/run/netns/$NS" "$@"; }

@test "demo: hello runs 3 Ready replicas serving the ConfigMap, answers through its Service; demo-stop removes everything" {
    run --separate-stderr in_net bash "$REPO/deploy/demo.sh" start
    local demo_out=$output demo_err=$stderr demo_status=$status
    echo "$demo_out" "$demo_err"
    export MINIK_CONFIG="$MINIK_DEMO_DIR/data/admin.conf"
    # Whatever the network can do, the Deployment must be rolled out: 3 of 3 ready.
    [[ "$demo_out" == *'deployment "hello" successfully rolled out'* ]]
    run in_net "$MINIK_BIN" get deploy hello -o json
    [ "$(jq -r '.status.readyReplicas' <<<"$output")" = 3 ]
    run in_net "$MINIK_BIN" get pods -l app=hello -o json
    [ "$(jq '[.items[] | select(.status.phase == "Running")] | length' <<<"$output")" = 3 ]
    # Each pod serves the page and the ConfigMap mounted into it.
    local ns n=0
    for ns in $(find "$MINIK_DEMO_DIR/data/agent/pods" -path '*/ns/net'); do
        run nsenter --net="$ns" curl -fsS --max-time 3 http://127.0.0.1:8080/config/message.txt
        [ "$status" -eq 0 ]
        [ "$output" = "Hello from a ConfigMap, served by minik." ]
        n=$((n + 1))
    done
    [ "$n" -eq 3 ]

    # The Service answered, and the demo printed that answer.
    [ "$demo_status" -eq 0 ] || { echo "$demo_err"; return 1; }
    [[ "$demo_out" == *"Hello from minik!"* ]]
    [ -f "$MINIK_DEMO_DIR/timing" ]
    run in_net bash "$REPO/deploy/demo.sh" status
    [ "$status" -eq 0 ]

    # A second start while one runs is refused, and changes nothing.
    run --separate-stderr in_net bash "$REPO/deploy/demo.sh" start
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"already running"* ]]

    # Stop: record what exists, then check that all of it is gone.
    local server_pid pids cgs uids
    server_pid=$(cat "$MINIK_DEMO_DIR/server.pid")
    pids=$(jq -r '.pid, .shimPid' "$MINIK_DEMO_DIR"/data/agent/oci/*/state.json)
    cgs=$(jq -r '.cgroupPath' "$MINIK_DEMO_DIR"/data/agent/oci/*/state.json)
    uids=$(ls "$MINIK_DEMO_DIR"/data/agent/pods)
    [ -n "$pids" ]
    [ -n "$(pod_cgroup_dirs $uids)" ]
    run in_net bash "$REPO/deploy/demo.sh" stop
    [ "$status" -eq 0 ]
    local stop_out=$output
    [ ! -e "$MINIK_DEMO_DIR" ]
    [ ! -d "/proc/$server_pid" ]
    local p
    for p in $pids; do
        # Gone, or a recycled pid that is not a container of ours.
        if [ -d "/proc/$p" ]; then
            run grep -q "httpd" "/proc/$p/cmdline"
            [ "$status" -ne 0 ]
        fi
    done
    # Nothing the server forked (pod sandbox holders) survives either.
    run bash -c "grep -l -- '--data-di[r]' /proc/[0-9]*/cmdline 2>/dev/null | xargs -r grep -l '$MINIK_DEMO_DIR/data' 2>/dev/null"
    [ -z "$output" ]
    run grep -c " $MINIK_DEMO_DIR" /proc/self/mounts
    [ "$output" = 0 ]
    local cg
    for cg in $cgs; do
        run find /sys/fs/cgroup -type d -path "*$cg"
        [ -z "$output" ]
    done
    # The pods' own cgroups (their parents) too.
    [ -z "$(pod_cgroup_dirs $uids)" ]
    # The pod network: no bridge, no Service rules, no routes to the pod or service ranges.
    [[ "$stop_out" != *"another minik process runs here"* ]]
    run in_net ip link show minik0
    [ "$status" -ne 0 ]
    run in_net nft list table ip minik
    [ "$status" -ne 0 ]
    [ -z "$(in_net ip route | grep -E '^10\.4[23]\.')" ]
}

@test "demo: stop with nothing running is a no-op; an unknown action is a usage error" {
    run in_net bash "$REPO/deploy/demo.sh" stop
    [ "$status" -eq 0 ]
    [[ "$output" == *"nothing to stop"* ]]
    run in_net bash "$REPO/deploy/demo.sh" status
    [ "$status" -eq 1 ]
    [[ "$output" == *"no demo running"* ]]
    run in_net bash "$REPO/deploy/demo.sh" bogus
    [ "$status" -eq 2 ]
    [[ "$output" == *"usage: deploy/demo.sh start|stop|status"* ]]
}
