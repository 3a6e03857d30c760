#!/usr/bin/env bats
# The node agent with many pods at once and with a pod whose set-up hangs: every pod
# reaches Running (the sandbox helpers of concurrent pods once waited for each other
# forever, leaving pods Pending with no events), and a pod whose job is stuck says so.

load helpers
load apiserver_helpers
load images_lib
load agent_lib

teardown() {
    agent_suite_teardown
}

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    agent_setup
}

running_count() {
    kc get pods -o json | jq '[.items[] | select(.status.phase == "Running")] | length'
}

@test "agent: twelve pods applied at once all reach Running, each with its Started event" {
    local i
    for i in $(seq 1 12); do
        pod_yaml "many-$i" "exec /bin/busybox sleep 1000"
    done | jq -s '{apiVersion: "v1", kind: "List", items: .}' | kc apply -f -
    wait_for 90 bash -c "[ \"\$('$MINIK_BIN' get pods -o json | jq '[.items[] | select(.status.phase == \"Running\")] | length')\" = 12 ]" || {
        kc get pods >&2
        daemon_log agent | tail -n 30 >&2
        return 1
    }
    run kc get events -o json
    [ "$status" -eq 0 ]
    for i in $(seq 1 12); do
        jq -e --arg n "many-$i" '.items[] | select(.involvedObject.name == $n and .reason == "Started")' <<<"$output" >/dev/null
    done
    # The short-lived helpers that create pod sandboxes are all gone (a stuck one stays a
    # child of the agent).
    run ps -o pid=,cmd= --ppid "$AGENT_PID"
    [ -z "$output" ]
    # Pod jobs have a thread pool big enough that slow pods cannot hold everything back.
    [ "$(ls "/proc/$AGENT_PID/task" | wc -l)" -gt 32 ]
}

@test "agent: a pod whose image pull hangs gets a Stalled event naming the image; other pods still start" {
    # A "registry" that accepts connections and never answers: the pull hangs.
    local port_file="$BATS_TEST_TMPDIR/blackhole.port"
    start_daemon blackhole python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    held.append(s.accept())
' "$port_file"
    wait_for 10 test -s "$port_file"
    local port
    port=$(cat "$port_file")
    pod_yaml hang "exec /bin/busybox sleep 1000" | jq --arg img "127.0.0.1:$port/test/hang:1" \
        '.spec.containers[0].image = $img' | kc apply -f -
    local ev='.items[] | select(.involvedObject.name == "hang" and .reason == "Stalled") | .message'
    wait_for 45 bash -c "'$MINIK_BIN' get events -o json | jq -e '$ev' | grep -q '127.0.0.1:$port/test/hang:1'" || {
        kc get events >&2
        return 1
    }
    run pod_phase_is hang Running
    [ "$status" -ne 0 ]
    # Not silently Pending: its container waits in ContainerCreating, saying on what.
    wait_for 5 bash -c "'$MINIK_BIN' get pod hang -o json | jq -e '.status.containerStatuses[0].state.waiting | .reason == \"ContainerCreating\" and (.message | contains(\"127.0.0.1:$port/test/hang:1\"))'"
    # The hung pull holds back no other pod: this one pulls and starts meanwhile.
    pod_yaml other "exec /bin/busybox sleep 1000" | kc apply -f -
    wait_for 25 pod_phase_is other Running
    run pod_phase_is hang Running
    [ "$status" -ne 0 ]
    # A stop does not wait for the hung pull (stop_daemon would SIGKILL after 10 s: 137).
    stop_daemon agent
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    grep -q "pod jobs still running abandoned" "$BATS_TEST_TMPDIR/agent.log"
}

@test "agent: with eighteen pods running, SIGTERM stops it at once; the containers run on and are re-adopted" {
    local i
    for i in $(seq 1 18); do
        pod_yaml "stop-$i" "exec /bin/busybox sleep 1000" |
            jq '.spec.containers[0].readinessProbe = {exec: {command: ["/bin/busybox", "true"]}, periodSeconds: 1}'
    done | jq -s '{apiVersion: "v1", kind: "List", items: .}' | kc apply -f -
    wait_for 90 bash -c "[ \"\$('$MINIK_BIN' get pods -o json | jq '[.items[] | select(.status.phase == \"Running\")] | length')\" = 18 ]"
    local before
    before=$(jq -r .pid "$ADIR"/oci/*/state.json | sort)
    [ "$(wc -l <<<"$before")" -eq 18 ]
    # docs/agent.md: a stop leaves the containers running. It must not wait on them, nor on
    # the probes in flight: stop_daemon gives it 10 s before SIGKILL (status 137).
    stop_daemon agent
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    local p
    for p in $before; do [ -d "/proc/$p" ]; done
    start_agent
    wait_for 30 bash -c "[ \"\$('$MINIK_BIN' get pods -o json | jq '[.items[] | select(.status.phase == \"Running\")] | length')\" = 18 ]"
    sleep 2
    [ "$(jq -r .pid "$ADIR"/oci/*/state.json | sort)" = "$before" ]
}
