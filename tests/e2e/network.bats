#!/usr/bin/env bats
# Pod networking and Services through the real server: address allocation (pod CIDRs,
# ClusterIPs, NodePorts) as a user sees it through the API and the CLI.
# Runs alone: bats tests/e2e/network.bats

load helpers
load apiserver_helpers
load images_lib
load agent_lib

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
    restart_server
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

# pod_status NAME IP READY : what an agent writes for a running pod.
pod_status() {
    local cur
    cur=$(api GET "/api/v1/namespaces/default/pods/$1")
    body_of "$cur" | jq -c --arg ip "$2" --arg r "$3" '.status = {phase: "Running", podIP: $ip,
        podIPs: [{ip: $ip}], conditions: [{type: "Ready", status: $r}]}' |
        { read -r b; api PUT "/api/v1/namespaces/default/pods/$1/status" "$b"; } >/dev/null
}

ep_pod() { # NAME : a web pod with a named port
    jq -nc --arg n "$1" '{apiVersion: "v1", kind: "Pod", metadata: {name: $n, labels: {app: "web"}},
      spec: {nodeName: "n1", containers: [{name: "c", image: "busybox",
             ports: [{name: "http", containerPort: 8080}]}]}}'
}

@test "the Endpoints controller keeps an Endpoints object per Service: ready vs not ready, named ports, targetRef" {
    start_server
    export MINIK_CONFIG="$DATA/admin.conf"
    api POST /api/v1/namespaces/default/pods "$(ep_pod a)" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(ep_pod b)" >/dev/null
    pod_status a 10.42.0.5 True
    pod_status b 10.42.0.6 False
    api POST /api/v1/namespaces/default/services "$(svc_json web '{"ports":[{"name":"web","port":80,"targetPort":"http"}]}')" >/dev/null
    wait_for 10 bash -c "'$MINIK_BIN' get endpoints web -o json | jq -e '.subsets[0].notReadyAddresses'" >/dev/null
    out=$(minik get endpoints web -o json)
    [ "$(jq -r '.subsets[0].addresses | map(.ip + "/" + .targetRef.name) | join(",")' <<<"$out")" = 10.42.0.5/a ]
    [ "$(jq -r '.subsets[0].notReadyAddresses | map(.ip + "/" + .targetRef.name) | join(",")' <<<"$out")" = 10.42.0.6/b ]
    [ "$(jq -c '.subsets[0].ports' <<<"$out")" = '[{"name":"web","port":8080,"protocol":"TCP"}]' ]
    # kubectl's columns: ready addresses only.
    run minik get endpoints
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "NAME"*"ENDPOINTS"*"AGE" ]]
    [[ "${lines[1]}" == "web "*"10.42.0.5:8080 "* ]]
    run minik get ep web
    [[ "${lines[1]}" == "web "*"10.42.0.5:8080 "* ]]
    run minik describe svc web
    [ "$status" -eq 0 ]
    [[ "$output" == *$'TargetPort:        http/TCP\nEndpoints:         10.42.0.5:8080\n'* ]]
    # b becomes ready: both listed; then a leaves the selector.
    pod_status b 10.42.0.6 True
    wait_for 10 bash -c "'$MINIK_BIN' get endpoints web | grep -q '10.42.0.5:8080,10.42.0.6:8080'"
    api PATCH /api/v1/namespaces/default/pods/a '{"metadata":{"labels":{"app":"other"}}}' application/merge-patch+json >/dev/null
    wait_for 10 bash -c "'$MINIK_BIN' get endpoints web | grep -q ' 10.42.0.6:8080 '"
    # Written only on change: a status write that changes nothing leaves the rv alone.
    rv=$(minik get endpoints web -o json | jq -r .metadata.resourceVersion)
    pod_status b 10.42.0.6 True
    api PATCH /api/v1/namespaces/default/pods/b '{"metadata":{"annotations":{"x":"y"}}}' application/merge-patch+json >/dev/null
    sleep 0.5
    [ "$(minik get endpoints web -o json | jq -r .metadata.resourceVersion)" = "$rv" ]
    # The Service goes: so do its Endpoints.
    api DELETE /api/v1/namespaces/default/services/web >/dev/null
    wait_for 10 bash -c "! '$MINIK_BIN' get endpoints web 2>/dev/null"
    run minik get endpoints web
    [ "$status" -eq 1 ]
    [[ "$output" == *'not found'* ]]
}

@test "stock kubectl: get endpoints shows the controller's Endpoints" {
    command -v kubectl || skip "kubectl is not installed on this machine"
    start_server
    api POST /api/v1/namespaces/default/pods "$(ep_pod a)" >/dev/null
    pod_status a 10.42.0.5 True
    api POST /api/v1/namespaces/default/services "$(svc_json web '{"ports":[{"name":"web","port":80,"targetPort":"http"}]}')" >/dev/null
    wait_for 10 bash -c "kubectl --kubeconfig '$DATA/admin.conf' get endpoints web | grep -q '10.42.0.5:8080'"
    run kubectl --kubeconfig "$DATA/admin.conf" get endpoints
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "NAME"*"ENDPOINTS"*"AGE" ]]
    [[ "${lines[1]}" == "web "*"10.42.0.5:8080 "* ]]
    run kubectl --kubeconfig "$DATA/admin.conf" get endpoints web -o jsonpath='{.subsets[0].addresses[0].targetRef.name}'
    [ "$output" = a ]
}

# ---- a three-node cluster on one machine ---------------------------------------------------
#
#   lan namespace: bridge br0 ── veths ── srv (192.168.77.10, minik server)
#                                      ├─ n1, n2, n3 (192.168.77.1-3, minik agent each)
#                                      └─ cli (192.168.77.100, a client outside the cluster)
# Every address lives inside namespaces this test made; nothing is routed to the host.

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
kc_cli() { in_ns "$CLI" "$MINIK_BIN" "$@"; }

cluster_up() {
    LAN=$(netns_create lan)
    ip -n "$LAN" link add br0 type bridge
    ip -n "$LAN" link set br0 up
    local host addr
    for host in srv:10 n1:1 n2:2 n3:3 cli:100; do
        addr=${host#*:}
        host=${host%%:*}
        local ns
        ns=$(netns_create "$host")
        eval "$(echo "$host" | tr a-z A-Z)=$ns"
        ip link add "v-$host-$$" type veth peer name "p-$host-$$"
        ip link set "v-$host-$$" netns "$ns" name eth0
        ip link set "p-$host-$$" netns "$LAN"
        ip -n "$LAN" link set "p-$host-$$" master br0 up
        ip -n "$ns" addr add "192.168.77.$addr/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
    SRVDATA=$(make_tmpdir srv)
    start_daemon server ip netns exec "$SRV" "$MINIK_BIN" server --data-dir "$SRVDATA" \
        --listen 192.168.77.10:6443 --tls-san 192.168.77.10 --no-agent
    wait_for 30 in_ns "$SRV" curl -sf --cacert "$SRVDATA/tls/ca.crt" https://192.168.77.10:6443/healthz ||
        { daemon_log server >&2; return 1; }
    wait_for 5 test -s "$SRVDATA/admin.conf"
    export MINIK_CONFIG="$SRVDATA/admin.conf"
    BB="$BATS_TEST_TMPDIR/bb"
    build_image "$BB" bb
    # n1 and n2 run with the admin kubeconfig; n3 joins as a worker does, with a node token
    # (which may read Nodes, Services and Endpoints, and nothing else of other nodes).
    local n auth
    local node_token
    node_token=$(in_ns "$CLI" "$MINIK_BIN" token create --kubeconfig "$SRVDATA/admin.conf" | tail -n1)
    for n in 1 2 3; do
        local ns dir
        ns=$(eval echo "\$N$n")
        dir=$(make_tmpdir "agent$n")
        on_teardown "agent_cleanup $dir"
        "$MINIK_BIN" image import --data-dir "$dir" "$BB" --name busybox:net >/dev/null
        auth=(--kubeconfig "$SRVDATA/admin.conf")
        [ "$n" = 3 ] && auth=(--server https://192.168.77.10:6443 --token "$node_token")
        # nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup hierarchy.
        start_daemon "agent$n" nsenter --net="/run/netns/$ns" "$MINIK_BIN" agent "${auth[@]}" \
            --node-name "n$n" --node-ip "192.168.77.$n" --data-dir "$dir" --port 0 \
            --sync-period 300ms --dns-upstream none
        eval "ADIR$n=$dir"
    done
    for n in 1 2 3; do
        wait_for 30 bash -c "ip netns exec $CLI '$MINIK_BIN' get node n$n -o json | jq -e '.status.conditions[] | select(.type==\"Ready\" and .status==\"True\")'" >/dev/null ||
            { daemon_log "agent$n" >&2; return 1; }
    done
}

web_pod() { # NAME NODE
    jq -nc --arg n "$1" --arg node "$2" '{apiVersion: "v1", kind: "Pod",
      metadata: {name: $n, labels: {app: "web"}},
      spec: {nodeName: $node, terminationGracePeriodSeconds: 1,
        containers: [{name: "web", image: "busybox:net", imagePullPolicy: "Never",
          command: ["/bin/busybox", "sh", "-c",
            "mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec /bin/busybox httpd -f -p 8080 -h /www"],
          ports: [{name: "http", containerPort: 8080}],
          readinessProbe: {exec: {command: ["/bin/busybox", "cat", "/tmp/ready"]},
                           periodSeconds: 1, failureThreshold: 1}}]}}'
}

pod_ip() { kc_cli get pod "$1" -o json | jq -r '.status.podIP // empty'; }
pod_ready() { kc_cli get pod "$1" -o json | jq -e '.status.conditions[] | select(.type=="Ready" and .status=="True")' >/dev/null; }

# answers NS URL N : the distinct bodies of N requests from namespace NS.
answers() { local i; for ((i = 0; i < $3; i++)); do in_ns "$1" curl -s -m 2 "$2"; done | sort -u | tr '\n' ' '; }

@test "three nodes: pods across nodes, ClusterIP over three replicas, NodePort from outside, DNS, readiness, clean removal" {
    cluster_up
    for n in 1 2 3; do web_pod "web-$n" "n$n" | kc_cli apply -f - >/dev/null; done
    jq -nc '{apiVersion: "v1", kind: "Service", metadata: {name: "web"},
      spec: {type: "NodePort", selector: {app: "web"},
             ports: [{name: "http", port: 80, targetPort: "http", nodePort: 30080}]}}' | kc_cli apply -f -
    for n in 1 2 3; do wait_for 60 pod_ready "web-$n" || { daemon_log "agent$n" >&2; false; }; done
    ip1=$(pod_ip web-1) ip2=$(pod_ip web-2) ip3=$(pod_ip web-3)
    # Every node's pods come from its own /24.
    [[ $ip1 == 10.42.* && $ip2 == 10.42.* && $ip3 == 10.42.* ]]
    [ "${ip1%.*}" != "${ip2%.*}" ] && [ "${ip2%.*}" != "${ip3%.*}" ]

    # Pod to pod across nodes (host-gw routes), from inside a pod.
    wait_for 20 bash -c "ip netns exec $CLI '$MINIK_BIN' exec web-1 -- /bin/busybox wget -q -O - http://$ip2:8080/ | grep -qx web-2"
    run kc_cli exec web-3 -- /bin/busybox wget -q -O - "http://$ip1:8080/"
    [ "$status" -eq 0 ] && [ "$output" = web-1 ]

    # The ClusterIP answers from all three replicas (from a node).
    cip=$(kc_cli get svc web -o json | jq -r .spec.clusterIP)
    wait_for 20 bash -c "[ \"\$(ip netns exec $N1 curl -s -m 2 http://$cip/)\" != '' ]"
    got=$(answers "$N1" "http://$cip/" 30)
    [ "$got" = "web-1 web-2 web-3 " ]
    # ... and from n3, the worker joined with a node token: it programs the same rules.
    got=$(answers "$N3" "http://$cip/" 30)
    [ "$got" = "web-1 web-2 web-3 " ]
    # The Endpoints object behind them, as kubectl shows it.
    run kc_cli get endpoints web
    [[ "${lines[1]}" == "web "*"$ip1:8080"* ]]
    [ "$(kc_cli get endpoints web -o json | jq '.subsets[0].addresses | length')" = 3 ]

    # NodePort from a client outside the cluster, on any node's address.
    got=$(answers "$CLI" "http://192.168.77.2:30080/" 30)
    [ "$got" = "web-1 web-2 web-3 " ]
    # ... and on the node itself at localhost, as a homelab user tries first: the local pod
    # through the bridge and the others through the LAN link (route_localnet on both).
    got=$(answers "$N2" "http://127.0.0.1:30080/" 30)
    [ "$got" = "web-1 web-2 web-3 " ]
    [ "$(ip netns exec "$N2" sysctl -n net.ipv4.conf.all.route_localnet)" = 0 ] # only those two

    # DNS inside a pod: the full name and the short one through the search list.
    run kc_cli exec web-2 -- /bin/busybox nslookup web.default.svc.cluster.local
    [ "$status" -eq 0 ] && [[ "$output" == *"$cip"* ]]
    run kc_cli exec web-2 -- /bin/busybox wget -q -O - http://web/
    [ "$status" -eq 0 ] && [[ "$output" == web-? ]]
    # ... and over TCP, as a client does after a truncated UDP answer (from node n2, to the
    # responder on its bridge address).
    run in_ns "$N2" python3 "$BATS_TEST_DIRNAME/dns_tcp_query.py" "${ip2%.*}.1" web.default.svc.cluster.local
    [ "$status" -eq 0 ] && [ "$output" = "$cip" ]
    run kc_cli exec web-2 -- /bin/busybox cat /etc/resolv.conf
    [[ "$output" == *"search default.svc.cluster.local svc.cluster.local cluster.local"* ]]

    # A pod failing readiness leaves the Service; back when it passes again.
    kc_cli exec web-3 -- /bin/busybox rm /tmp/ready
    wait_for 20 bash -c "! ip netns exec $CLI '$MINIK_BIN' get pod web-3 -o json | jq -e '.status.conditions[] | select(.type==\"Ready\" and .status==\"True\")'"
    # The Endpoints controller moves it to notReadyAddresses; every node's watch sees that.
    wait_for 10 bash -c "ip netns exec $CLI '$MINIK_BIN' get endpoints web -o json | jq -e '.subsets[0].notReadyAddresses[0].targetRef.name == \"web-3\"'" >/dev/null
    for ns in "$N1" "$N3"; do
        wait_for 10 bash -c "! ip netns exec $ns nft list table ip minik | grep -q 'dnat to $ip3:'"
    done
    got=$(answers "$N1" "http://$cip/" 30)
    [ "$got" = "web-1 web-2 " ]
    got=$(answers "$N3" "http://$cip/" 30)
    [ "$got" = "web-1 web-2 " ]

    # The agents watch: each listed Services and Endpoints once (then followed the
    # stream), where a poll would have listed them every --sync-period (300ms here).
    local tok
    tok=$(sed -n 's/^    token: //p' "$SRVDATA/admin.conf")
    metrics=$(in_ns "$CLI" curl -sf --cacert "$SRVDATA/tls/ca.crt" -H "Authorization: Bearer $tok" https://192.168.77.10:6443/metrics)
    count() { grep "^minik_apiserver_requests_total{verb=\"$1\",resource=\"$2\"" <<<"$metrics" | awk '{s += $2} END {print s + 0}'; }
    [ "$(count list services)" -eq 3 ] && [ "$(count list endpoints)" -eq 3 ]
    [ "$(count watch services)" -ge 3 ] && [ "$(count watch endpoints)" -ge 3 ]

    # Deleting everything leaves no veth, IP allocation or Service rule behind.
    kc_cli delete svc web
    for n in 1 2 3; do kc_cli delete pod "web-$n" >/dev/null; done
    for n in 1 2 3; do
        ns=$(eval echo "\$N$n")
        dir=$(eval echo "\$ADIR$n")
        # eth0 is the node's own link to the LAN; every other veth belonged to a pod.
        wait_for 30 bash -c "[ -z \"\$(ip -n $ns -o link show type veth | grep -v ' eth0@')\" ]"
        wait_for 10 bash -c "! ls $dir/cni/ipam/minik | grep -q '^10\\.'"
        wait_for 10 bash -c "! ip netns exec $ns nft list table ip minik | grep -q 'chain svc_'"
        # The record goes last, after every plugin's DEL (loopback's after the veth's).
        wait_for 10 bash -c "[ -z \"\$(ls $dir/cni/records)\" ]"
    done

    # The agents stop cleanly (their watches, debounce timer and DNS responder closed):
    # exit 0, nothing from the sanitizers.
    for n in 1 2 3; do
        stop_daemon "agent$n" 20
        [ "$DAEMON_STATUS" = 0 ] || { daemon_log "agent$n" | tail -20 >&2; false; }
        ! daemon_log "agent$n" | grep -q "Sanitizer\|runtime error"
    done
}
