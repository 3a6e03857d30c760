#!/usr/bin/env bats
# A graceful stop (SIGTERM) of `minik server` with its embedded agent and many pods running
# ends promptly with status 0; the containers keep running (docs/agent.md) and the next
# start re-adopts them.

load helpers
load apiserver_helpers
load images_lib
load agent_lib

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
}

running() { # EXPECTED
    [ "$("$MINIK_BIN" get pods -o json | jq '[.items[] | select(.status.phase == "Running")] | length')" = "$1" ]
}

@test "server: SIGTERM with eighteen probed pods stops within seconds; the pods' containers run on and are re-adopted" {
    start_registry
    build_image "$BATS_TEST_TMPDIR/oci" t1
    push "$BATS_TEST_TMPDIR/oci" t1 "$REG/test/busybox:1"
    IMG="$REG/test/busybox:1"
    WITH_AGENT=1 start_server --insecure-http --pod-network none
    local data=$DATA
    on_teardown "agent_cleanup $data/agent"
    export MINIK_CONFIG="$DATA/admin.conf"
    local node i
    node=$(hostname | tr 'A-Z' 'a-z')
    wait_for 20 minik get node "$node"
    for i in $(seq 1 18); do
        pod_yaml "s-$i" "exec /bin/busybox sleep 1000" |
            jq --arg n "$node" '.spec.nodeName = $n
                | .spec.containers[0].readinessProbe = {exec: {command: ["/bin/busybox", "true"]}, periodSeconds: 1}'
    done | jq -s '{apiVersion: "v1", kind: "List", items: .}' | minik apply -f -
    wait_for 90 running 18
    local before
    before=$(jq -r .pid "$DATA"/agent/oci/*/state.json | sort)
    [ "$(wc -l <<<"$before")" -eq 18 ]
    # stop_daemon sends SIGTERM and SIGKILLs after 10 s (status 137).
    stop_daemon server
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    grep -q "server stopped" "$BATS_TEST_TMPDIR/server.log"
    local p
    for p in $before; do [ -d "/proc/$p" ]; done

    # The same data dir again: the same containers, Running, none started twice.
    start_daemon server "$MINIK_BIN" server --data-dir "$data" --listen "127.0.0.1:$PORT" --insecure-http --pod-network none
    wait_for 20 curl -sf "http://127.0.0.1:$PORT/healthz"
    wait_for 30 running 18
    sleep 2
    [ "$(jq -r .pid "$data"/agent/oci/*/state.json | sort)" = "$before" ]
    minik delete pods --all
    wait_for 30 bash -c "[ -z \"\$(ls -A '$data/agent/oci')\" ]"
}
