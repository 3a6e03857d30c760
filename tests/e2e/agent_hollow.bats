#!/usr/bin/env bats
# `minik agent --hollow N`: N simulated nodes from one process (as kubemark's hollow nodes).

load helpers
load apiserver_helpers

@test "agent --hollow: nodes register and heartbeat, their pods report Running and Ready" {
    start_server --no-agent --insecure-http
    export MINIK_CONFIG="$DATA/admin.conf"
    local hdir
    hdir=$(make_tmpdir hollow)
    start_daemon agent "$MINIK_BIN" agent --kubeconfig "$DATA/admin.conf" --hollow 3 \
        --node-name h --data-dir "$hdir"
    wait_for 20 bash -c "[ \$('$MINIK_BIN' get nodes -o json | jq '[.items[].metadata.name | select(startswith(\"h-\"))] | length') -eq 3 ]"
    hb() { api GET /metrics | sed -n 's/^minik_node_heartbeats_total //p'; }
    local first
    first=$(hb)
    sleep 2.5
    # Three nodes at one heartbeat a second each.
    [ "$(hb)" -ge $((first + 6)) ]
    jq -n '{apiVersion:"v1",kind:"Pod",metadata:{name:"hp"},spec:{nodeName:"h-1",
        initContainers:[{name:"i",image:"none:1"}],containers:[{name:"a",image:"none:1"},{name:"b",image:"none:1"}]}}' |
        minik apply -f -
    wait_for 20 bash -c "'$MINIK_BIN' get pod hp -o json | jq -e '.status.phase==\"Running\" and ([.status.conditions[] | select(.type==\"Ready\") | .status][0]==\"True\")'"
    run minik get pod hp -o json
    [ "$(jq '[.status.containerStatuses[] | select(.ready)] | length' <<<"$output")" -eq 2 ]
    # Nothing ran: no shims, no state.
    [ -z "$(ls -A "$hdir")" ]
    minik delete pod hp
    stop_daemon agent
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    ! grep -q "Sanitizer\|runtime error" "$BATS_TEST_TMPDIR/agent.log"
}

@test "agent joins over TLS with a node token (--server --token --ca-file) and writes pod status" {
    start_server --no-agent
    export MINIK_CONFIG="$DATA/admin.conf"
    local ntok hdir
    ntok=$(body_of "$(api POST /apis/minik.io/v1/tokens '{}')" | jq -r .token)
    hdir=$(make_tmpdir hollow)
    run "$MINIK_BIN" agent --server "$URL" --token "$ntok" --hollow 1 --node-name bad --data-dir "$hdir" --taints "x:Sometimes"
    [ "$status" -eq 1 ]
    [[ "$output" == *"effect must be NoSchedule, PreferNoSchedule or NoExecute"* ]]
    start_daemon agent "$MINIK_BIN" agent --server "$URL" --token "$ntok" --ca-file "$CACERT" \
        --hollow 1 --node-name tok --data-dir "$hdir" --labels zone=a,disk=ssd --taints gpu=yes:NoSchedule
    wait_for 20 minik get node tok-0
    run minik get node tok-0 -o json
    [ "$(jq -r '.metadata.labels.zone + "/" + .metadata.labels.disk' <<<"$output")" = a/ssd ]
    [ "$(jq -c '.spec.taints' <<<"$output")" = '[{"key":"gpu","value":"yes","effect":"NoSchedule"}]' ]
    jq -n '{apiVersion:"v1",kind:"Pod",metadata:{name:"tp"},spec:{nodeName:"tok-0",containers:[{name:"a",image:"none:1"}]}}' |
        minik apply -f -
    wait_for 20 bash -c "'$MINIK_BIN' get pod tp -o json | jq -e '.status.phase==\"Running\"'"
    stop_daemon agent
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
}

@test "agent --hollow: --hollow-control needs --hollow; labels and taints take the node's index" {
    run "$MINIK_BIN" agent --server http://127.0.0.1:1 --hollow-control /tmp
    [ "$status" -eq 2 ]
    [[ "$output" == *"--hollow-control needs --hollow N"* ]]
    start_server --no-agent --insecure-http
    export MINIK_CONFIG="$DATA/admin.conf"
    local hdir
    hdir=$(make_tmpdir hollow)
    start_daemon agent "$MINIK_BIN" agent --kubeconfig "$DATA/admin.conf" --hollow 3 \
        --node-name z --data-dir "$hdir" --labels 'zone=zone-{i%2},rack=r{i}' --taints 'slot={i%3}:PreferNoSchedule'
    wait_for 20 bash -c "[ \$('$MINIK_BIN' get nodes -o json | jq '[.items[].metadata.name | select(startswith(\"z-\"))] | length') -eq 3 ]"
    run minik get nodes -o json
    [ "$(jq -r '[.items[] | .metadata.name + ":" + .metadata.labels.zone + "/" + .metadata.labels.rack + "/" + .spec.taints[0].value] | sort | join(" ")' <<<"$output")" = "z-0:zone-0/r0/0 z-1:zone-1/r1/1 z-2:zone-0/r2/2" ]
    stop_daemon agent
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
}
