#!/usr/bin/env bats
# minik server: the Kubernetes-style REST API over TLS with bearer tokens.

load helpers
load apiserver_helpers

deploy_has_updated() {
    [ "$(jqr "$(api GET "/apis/apps/v1/namespaces/default/deployments/$1")" '.status.updatedReplicas // 0')" = "$2" ]
}

@test "server: --help tells about the embedded agent; insecure HTTP only on loopback" {
    run minik server --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"runs a node agent"* ]]
    run minik server --data-dir "$BATS_TEST_TMPDIR/d" --listen 0.0.0.0:0 --insecure-http
    [ "$status" -eq 2 ]
    [[ "$output" == *"only allowed on a loopback address"* ]]
}

@test "server: first start makes TLS material, admin.conf (0600) and the default namespace" {
    start_server --tls-san minik.example --tls-san 10.9.8.7
    [ "$(stat -c %a "$DATA/admin.conf")" = 600 ]
    [ "$(stat -c %a "$DATA/tls/ca.key")" = 600 ]
    [ "$(stat -c %a "$DATA/tls/server.key")" = 600 ]
    san=$(openssl x509 -in "$DATA/tls/server.crt" -noout -ext subjectAltName)
    [[ "$san" == *"DNS:localhost"* ]]
    [[ "$san" == *"IP Address:127.0.0.1"* ]]
    [[ "$san" == *"DNS:minik.example"* ]]
    [[ "$san" == *"IP Address:10.9.8.7"* ]]
    [[ "$san" == *"DNS:$(hostname)"* ]]
    openssl verify -CAfile "$DATA/tls/ca.crt" "$DATA/tls/server.crt"
    out=$(api GET /api/v1/namespaces/default)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .status.phase)" = Active ]
    grep -q "embedded agent not started (--no-agent)" "$BATS_TEST_TMPDIR/server.log"
    # Plain HTTP against the TLS port is refused (no request gets through).
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz"
    [ "$output" != 200 ]
}

@test "server: a restart keeps the CA, the admin token and the objects" {
    start_server
    api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"},"data":{"a":"1"}}' >/dev/null
    ca_before=$(sha256sum <"$DATA/tls/ca.crt")
    stop_daemon server
    [ "$DAEMON_STATUS" -eq 0 ]
    local old_token=$TOKEN
    restart_server --new-port
    [ "$(sha256sum <"$DATA/tls/ca.crt")" = "$ca_before" ]
    grep -q "server: https://127.0.0.1:$PORT" "$DATA/admin.conf"
    [ "$(sed -n 's/^    token: //p' "$DATA/admin.conf")" = "$old_token" ]
    out=$(api GET /api/v1/namespaces/default/configmaps/keep)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .data.a)" = 1 ]
}

@test "auth: health and version are open; everything else needs a valid bearer token" {
    start_server
    run curl -sf --cacert "$CACERT" "$URL/readyz"
    [ "$output" = ok ]
    run curl -sf --cacert "$CACERT" "$URL/version"
    [ "$(jq -r .gitVersion <<<"$output")" = "v$(minik version --short)" ]
    [ "$(jq -r .platform <<<"$output")" = "linux/amd64" ] || [ "$(uname -m)" != x86_64 ]
    out=$(AUTH_TOKEN=none api GET /api/v1/pods)
    [ "$(code_of "$out")" = 401 ]
    [ "$(jqr "$out" .kind)" = Status ]
    [ "$(jqr "$out" .reason)" = Unauthorized ]
    # Right shape, wrong secret.
    bad="${TOKEN%%.*}.00000000000000000000000000000000"
    out=$(AUTH_TOKEN=$bad api GET /api/v1/pods)
    [ "$(code_of "$out")" = 401 ]
    out=$(AUTH_TOKEN=garbage api GET /api/v1/pods)
    [ "$(code_of "$out")" = 401 ]
    out=$(api GET /api/v1/pods)
    [ "$(code_of "$out")" = 200 ]
}

@test "stock kubectl: get nodes,pods,deployments with admin.conf" {
    command -v kubectl || skip "kubectl is not installed on this machine"
    start_server
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 2)" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(pod_json web-1)" >/dev/null
    # The Deployment controller in the server creates its 2 pods.
    wait_for 20 deploy_has_updated web 2
    run kubectl --kubeconfig "$DATA/admin.conf" get nodes,pods,deployments
    echo "$output"
    [ "$status" -eq 0 ]
    # Server-side Tables: the columns kubectl users know.
    [[ "$output" =~ NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE ]]
    [[ "$output" =~ pod/web-1\ +0/1\ +Pending\ +0\  ]]
    [[ "$output" =~ deployment.apps/web\ +0/2\ +2\ +0\  ]]
    [ "$(echo "$output" | grep -c '^pod/web-')" -eq 3 ]
    run kubectl --kubeconfig "$DATA/admin.conf" get pods -o wide --show-labels
    [ "$status" -eq 0 ]
    [[ "$output" =~ web-1.*\<none\>.*app=web ]]
    run kubectl --kubeconfig "$DATA/admin.conf" get deployment web -o jsonpath='{.spec.replicas}'
    [ "$status" -eq 0 ]
    [ "$output" = 2 ]
    run kubectl --kubeconfig "$DATA/admin.conf" api-resources
    [ "$status" -eq 0 ]
    [[ "$output" == *"deployments"*"deploy"*"apps/v1"*"Deployment"* ]]
}

@test "stock kubectl: apply, re-apply, change an image, patch, scale, delete" {
    command -v kubectl || skip "kubectl is not installed on this machine"
    start_server
    cat >"$BATS_TEST_TMPDIR/app.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}]
      - name: side
        image: busybox
YAML
    k() { kubectl --kubeconfig "$DATA/admin.conf" "$@"; }
    # No --validate=false: kubectl finds fieldValidation in /openapi/v3 and lets the
    # server validate.
    run k apply -f "$BATS_TEST_TMPDIR/app.yaml"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"deployment.apps/web created"* ]]
    run k apply -f "$BATS_TEST_TMPDIR/app.yaml"
    [[ "$output" == *"deployment.apps/web unchanged"* ]]
    # kubectl sends a strategic merge patch with only the changed container field: the
    # container's ports and env and the other container must survive.
    sed -i '0,/image: busybox/s//image: nginx/' "$BATS_TEST_TMPDIR/app.yaml"
    run k apply -f "$BATS_TEST_TMPDIR/app.yaml"
    [[ "$output" == *"deployment.apps/web configured"* ]]
    out=$(api GET /apis/apps/v1/namespaces/default/deployments/web)
    [ "$(jqr "$out" '.spec.template.spec.containers[0].image')" = nginx ]
    [ "$(jqr "$out" '.spec.template.spec.containers[0].env[0].value')" = 1 ]
    [ "$(jqr "$out" '.spec.template.spec.containers[0].ports[0].containerPort')" = 80 ]
    [ "$(jqr "$out" '.spec.template.spec.containers[1].name')" = side ]
    # Unknown fields are refused by the server's validation.
    sed -i 's/image: nginx/image: nginx\n        imagePullPolicyy: Always/' "$BATS_TEST_TMPDIR/app.yaml"
    run k apply -f "$BATS_TEST_TMPDIR/app.yaml"
    [ "$status" -ne 0 ]
    [[ "$output" == *"imagePullPolicyy: unknown field"* ]]
    run k patch deployment web -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}'
    [ "$status" -eq 0 ]
    run k scale deployment web --replicas=5
    [ "$status" -eq 0 ]
    out=$(api GET /apis/apps/v1/namespaces/default/deployments/web)
    [ "$(jqr "$out" '[.spec.template.spec.containers[].name] | join(",")')" = c ]
    [ "$(jqr "$out" .spec.replicas)" = 5 ]
    run k delete deployment web
    [ "$status" -eq 0 ]
    out=$(api GET /apis/apps/v1/namespaces/default/deployments/web)
    [ "$(code_of "$out")" = 404 ]
}

@test "discovery: /api, /apis, /api/v1 and /apis/apps/v1" {
    start_server
    out=$(api GET /api)
    [ "$(jqr "$out" '.versions[0]')" = v1 ]
    out=$(api GET /apis)
    [ "$(jqr "$out" '[.groups[].name] | index("apps") != null')" = true ]
    out=$(api GET /api/v1)
    [ "$(jqr "$out" '.resources[] | select(.name=="pods") | .namespaced')" = true ]
    [ "$(jqr "$out" '.resources[] | select(.name=="nodes") | .namespaced')" = false ]
    [ "$(jqr "$out" '.resources[] | select(.name=="pods/binding") | .verbs[0]')" = create ]
    out=$(api GET /apis/apps/v1)
    [ "$(jqr "$out" '.resources[] | select(.name=="deployments/scale") | .kind')" = Scale ]
    out=$(api GET /apis/nope/v1)
    [ "$(code_of "$out")" = 404 ]
}
