#!/usr/bin/env bats
# Pod networking and Services through the real server: address allocation (pod CIDRs,
# ClusterIPs, NodePorts) as a user sees it through the API and the CLI.
# Runs alone: bats tests/e2e/network.bats

load helpers
load apiserver_helpers

svc_json() { # NAME [SPEC_JSON]
    jq -nc --arg n "$1" --argjson s "${2:-{\}}" \
        '{apiVersion: "v1", kind: "Service", metadata: {name: $n},
          spec: ({selector: {app: $n}, ports: [{port: 80}]} * $s)}'
}

node_json() { jq -nc --arg n "$1" '{apiVersion: "v1", kind: "Node", metadata: {name: $n}}'; }

@test "services get ClusterIPs from --service-cidr; an explicit one is honoured, a taken one is 422" {
    start_server --insecure-http --service-cidr 10.96.0.0/24
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json a)")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .spec.clusterIP)" = 10.96.0.2 ] # .0 and .1 are reserved
    [ "$(jqr "$out" '.spec.clusterIPs[0]')" = 10.96.0.2 ]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json b '{"clusterIP":"10.96.0.77"}')")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .spec.clusterIP)" = 10.96.0.77 ]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json c '{"clusterIP":"10.96.0.77"}')")
    [ "$(code_of "$out")" = 422 ]
    [[ "$(jqr "$out" .message)" == *'spec.clusterIP: Invalid value: "10.96.0.77": provided IP is already allocated'* ]]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json d '{"clusterIP":"10.1.2.3"}')")
    [ "$(code_of "$out")" = 422 ]
    # Headless: no address.
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json h '{"clusterIP":"None"}')")
    [ "$(jqr "$out" .spec.clusterIP)" = None ]
    # Deleting the Service releases its address.
    out=$(api DELETE /api/v1/namespaces/default/services/b)
    [ "$(code_of "$out")" = 200 ]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json c '{"clusterIP":"10.96.0.77"}')")
    [ "$(code_of "$out")" = 201 ]
    # The ClusterIP cannot change on update.
    out=$(api PATCH /api/v1/namespaces/default/services/c '{"spec":{"clusterIP":"10.96.0.9"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 422 ]
    [[ "$(jqr "$out" .message)" == *"field is immutable"* ]]
}

@test "NodePorts are allocated in 30000-32767, explicit ones honoured, conflicts 422, kept on update" {
    start_server --insecure-http
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json a '{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}')")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" '.spec.ports[0].nodePort')" = 30080 ]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json b '{"type":"NodePort"}')")
    np=$(jqr "$out" '.spec.ports[0].nodePort')
    [ "$np" -ge 30000 ] && [ "$np" -le 32767 ] && [ "$np" != 30080 ]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json c '{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}')")
    [ "$(code_of "$out")" = 422 ]
    [[ "$(jqr "$out" .message)" == *"spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"* ]]
    # An update that does not name the port keeps it.
    out=$(api PATCH /api/v1/namespaces/default/services/b '{"metadata":{"labels":{"x":"y"}}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" '.spec.ports[0].nodePort')" = "$np" ]
}

@test "a registering Node gets a /24 pod CIDR from --cluster-cidr, kept across re-registration, released on delete" {
    start_server --insecure-http --cluster-cidr 10.244.0.0/22
    out=$(api POST /api/v1/nodes "$(node_json n1)")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .spec.podCIDR)" = 10.244.0.0/24 ]
    out=$(api POST /api/v1/nodes "$(node_json n2)")
    [ "$(jqr "$out" .spec.podCIDR)" = 10.244.1.0/24 ]
    # An agent replacing its Node without spec.podCIDR keeps the CIDR.
    out=$(api PUT /api/v1/nodes/n1 "$(node_json n1)")
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .spec.podCIDR)" = 10.244.0.0/24 ]
    # 4 /24s in a /22: two more, then full.
    api POST /api/v1/nodes "$(node_json n3)" >/dev/null
    api POST /api/v1/nodes "$(node_json n4)" >/dev/null
    out=$(api POST /api/v1/nodes "$(node_json n5)")
    [ "$(code_of "$out")" = 422 ]
    [[ "$(jqr "$out" .message)" == *"no free /24 left"* ]]
    api DELETE /api/v1/nodes/n2 >/dev/null
    out=$(api POST /api/v1/nodes "$(node_json n5)")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .spec.podCIDR)" = 10.244.1.0/24 ]
}

@test "allocations survive a server restart (replayed from the store)" {
    start_server --insecure-http
    api POST /api/v1/nodes "$(node_json n1)" >/dev/null
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json a '{"type":"NodePort"}')")
    ip=$(jqr "$out" .spec.clusterIP)
    np=$(jqr "$out" '.spec.ports[0].nodePort')
    stop_daemon server
    start_daemon server "$MINIK_BIN" server --data-dir "$DATA" --listen "127.0.0.1:$PORT" --no-agent --insecure-http
    wait_for 20 curl -sf "$URL/healthz"
    out=$(api POST /api/v1/nodes "$(node_json n2)")
    [ "$(jqr "$out" .spec.podCIDR)" = 10.42.1.0/24 ]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json b "{\"clusterIP\":\"$ip\"}")")
    [ "$(code_of "$out")" = 422 ]
    out=$(api POST /api/v1/namespaces/default/services "$(svc_json c "{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":$np}]}")")
    [ "$(code_of "$out")" = 422 ]
}

@test "bad --cluster-cidr and --service-cidr are refused at start with the flag named" {
    d=$(make_tmpdir bad)
    run "$MINIK_BIN" server --data-dir "$d" --listen 127.0.0.1:0 --no-agent --insecure-http --cluster-cidr 10.42.0.1/16
    [ "$status" -ne 0 ]
    [[ "$output" == *'--cluster-cidr "10.42.0.1/16": not an IPv4 CIDR'* ]]
    run "$MINIK_BIN" server --data-dir "$d" --listen 127.0.0.1:0 --no-agent --insecure-http --service-cidr nope
    [ "$status" -ne 0 ]
    [[ "$output" == *'--service-cidr "nope"'* ]]
}
