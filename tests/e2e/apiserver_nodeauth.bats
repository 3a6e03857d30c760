#!/usr/bin/env bats
# minik token create and what a node token may do.

load helpers
load apiserver_helpers

setup() {
    start_server
    api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"}}' >/dev/null
    api POST /api/v1/namespaces/default/pods "$(pod_json mine n1)" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(pod_json theirs n2)" >/dev/null
}

@test "token: minik token create prints a new node token on its last line" {
    run minik token create --data-dir "$DATA"
    [ "$status" -eq 0 ]
    tok=$(tail -n1 <<<"$output")
    [[ "$tok" =~ ^K10[0-9a-f]{64}::[0-9a-f]{8}\.[0-9a-f]{32}$ ]]
    # Only its hash is stored.
    ! grep -qa "${tok#*.}" "$DATA"/state.db*
    run minik token create --kubeconfig "$DATA/admin.conf"
    [ "$status" -eq 0 ]
    [ "$(tail -n1 <<<"$output")" != "$tok" ]
    # A node token cannot make tokens.
    out=$(AUTH_TOKEN=$tok api POST /apis/minik.io/v1/tokens '{}')
    [ "$(code_of "$out")" = 403 ]
    run minik token create --kubeconfig /nonexistent
    [ "$status" -eq 1 ]
}

@test "node token: bound by its Node, limited to its own pods, their status and events" {
    NODE=$(minik token create --data-dir "$DATA" | tail -n1)
    # Unbound: nothing but its Node.
    out=$(AUTH_TOKEN=$NODE api GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')
    [ "$(code_of "$out")" = 403 ]
    [ "$(jqr "$out" .reason)" = Forbidden ]
    out=$(AUTH_TOKEN=$NODE api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}')
    [ "$(code_of "$out")" = 201 ]
    # Bound to n1 now.
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/nodes/n1)
    [ "$(code_of "$out")" = 200 ]
    out=$(AUTH_TOKEN=$NODE api PATCH /api/v1/nodes/n1/status '{"status":{"phase":"Running"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    # Other Nodes, Services and Endpoints: read, never written.
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/nodes/n2)
    [ "$(code_of "$out")" = 200 ]
    out=$(AUTH_TOKEN=$NODE api PATCH /api/v1/nodes/n2/status '{"status":{"phase":"Running"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/nodes)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" '[.items[].metadata.name] | sort | join(",")')" = n1,n2 ]
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/services)
    [ "$(code_of "$out")" = 200 ]
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/endpoints)
    [ "$(code_of "$out")" = 200 ]
    out=$(AUTH_TOKEN=$NODE api POST /api/v1/namespaces/default/services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"},"spec":{"ports":[{"port":80}]}}')
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api POST /api/v1/namespaces/default/endpoints '{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"x"}}')
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" '[.items[].metadata.name] | join(",")')" = mine ]
    out=$(AUTH_TOKEN=$NODE api GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2')
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/pods)
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/namespaces/default/pods/mine)
    [ "$(code_of "$out")" = 200 ]
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/namespaces/default/pods/theirs)
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api PATCH /api/v1/namespaces/default/pods/mine/status '{"status":{"phase":"Running"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    out=$(AUTH_TOKEN=$NODE api PATCH /api/v1/namespaces/default/pods/theirs/status '{"status":{"phase":"Failed"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 403 ]
    out=$(api GET /api/v1/namespaces/default/pods/theirs)
    [ "$(jqr "$out" .status.phase)" = null ]
    out=$(AUTH_TOKEN=$NODE api PATCH /api/v1/namespaces/default/pods/mine '{"spec":{"nodeName":"n2"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api DELETE /api/v1/namespaces/default/pods/mine)
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api GET /api/v1/namespaces/default/secrets)
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api POST /api/v1/namespaces/default/events '{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},"involvedObject":{"kind":"Pod","namespace":"default","name":"mine"},"reason":"Started","message":"started"}')
    [ "$(code_of "$out")" = 201 ]
    out=$(AUTH_TOKEN=$NODE api GET /metrics)
    [ "$(code_of "$out")" = 403 ]
    # Watching its pods works; others' are refused.
    run curl -s -m 3 --cacert "$CACERT" -H "Authorization: Bearer $NODE" "$URL/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1&timeoutSeconds=1"
    [ "$(jq -r .object.metadata.name <<<"$output")" = mine ]
}

@test "node token: a second Node name is refused once bound" {
    NODE=$(minik token create --data-dir "$DATA" | tail -n1)
    out=$(AUTH_TOKEN=$NODE api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}')
    [ "$(code_of "$out")" = 201 ]
    out=$(AUTH_TOKEN=$NODE api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n3"}}')
    [ "$(code_of "$out")" = 403 ]
    # The binding survives a restart (it is stored).
    stop_daemon server
    PORT=$(free_port)
    start_daemon server "$MINIK_BIN" server --no-agent --data-dir "$DATA" --listen "127.0.0.1:$PORT"
    URL="https://127.0.0.1:$PORT"
    wait_for 20 curl -sf --cacert "$CACERT" "$URL/healthz"
    out=$(AUTH_TOKEN=$NODE api PATCH /api/v1/nodes/n2/status '{"status":{"phase":"Running"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 403 ]
    out=$(AUTH_TOKEN=$NODE api PATCH /api/v1/nodes/n1/status '{"status":{"phase":"Running"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
}
