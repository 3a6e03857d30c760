#!/usr/bin/env bats
# `minik server` runs the node agent in the same process unless --no-agent.

load helpers
load apiserver_helpers
load images_lib

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
}

embedded_cleanup() {
    local dir=$1 st pid
    for st in "$dir"/oci/*/state.json; do
        [ -f "$st" ] || continue
        pid=$(jq -r .pid "$st"); [ "$pid" -gt 0 ] 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        pid=$(jq -r .shim_pid "$st"); [ "$pid" -gt 0 ] 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        sleep 0.2
        "$MINIK_BIN" oci --root "$dir/oci" delete --force "$(basename "$(dirname "$st")")" 2>/dev/null
    done
    grep -o " $dir[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
}

@test "server: the embedded agent registers this host and runs a pod; --no-agent runs none" {
    start_registry
    build_image "$BATS_TEST_TMPDIR/oci" t1
    push "$BATS_TEST_TMPDIR/oci" t1 "$REG/test/busybox:1"
    WITH_AGENT=1 start_server --insecure-http
    on_teardown "embedded_cleanup $DATA/agent"
    export MINIK_CONFIG="$DATA/admin.conf"
    local node
    node=$(hostname | tr 'A-Z' 'a-z')
    wait_for 20 minik get node "$node"
    jq -n --arg img "$REG/test/busybox:1" --arg n "$node" '{apiVersion:"v1",kind:"Pod",
        metadata:{name:"emb"},spec:{nodeName:$n,terminationGracePeriodSeconds:1,
        containers:[{name:"c",image:$img,command:["/bin/busybox","sh","-c","echo embedded-ok; exec /bin/busybox sleep 1000"]}]}}' |
        minik apply -f -
    wait_for 30 bash -c "'$MINIK_BIN' get pod emb -o json | jq -e '.status.phase==\"Running\"'"
    wait_for 10 bash -c "'$MINIK_BIN' logs emb | grep -qx embedded-ok"
    minik delete pod emb
    wait_for 15 bash -c "[ -z \"\$(ls -A '$DATA/agent/oci')\" ]"
    stop_daemon server
    [ "${DAEMON_STATUS:-0}" -eq 0 ]

    WITH_AGENT=1 start_server --insecure-http --no-agent
    export MINIK_CONFIG="$DATA/admin.conf"
    sleep 1.5
    run minik get nodes -o json
    [ "$status" -eq 0 ]
    [ "$(jq '.items | length' <<<"$output")" -eq 0 ]
    grep -q "minik_node_heartbeats_total 0" <(api GET /metrics)
}
