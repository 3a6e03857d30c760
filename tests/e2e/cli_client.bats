#!/usr/bin/env bats
# The kubectl-like client against a REAL `minik server` on 127.0.0.1: apply a multi-document
# manifest, read it back in every output format, re-apply unchanged, remove a field, diff,
# scale, describe, watch, delete with cascade, and the errors users see.

load helpers
load apiserver_helpers

# deploy_updated NS NAME N: the Deployment controller has created N up-to-date pods. The
# controllers run in the server, so tests that read a Deployment's columns wait for them.
deploy_updated() {
    [ "$(minik get deploy "$2" -n "$1" -o json | jq -r '.status.updatedReplicas // 0')" = "$3" ]
}

# owned_cm NAME UID : a ConfigMap in shop owned by the Deployment web of that uid.
owned_cm() {
    minik apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  namespace: shop
  ownerReferences:
  - apiVersion: apps/v1
    kind: Deployment
    name: web
    uid: $2
data: {}
EOF
}

rs_current() {
    [ "$(minik get rs "$1" -o json | jq -r '.status.replicas // 0')" = "$2" ]
}

setup() {
    start_server
    export MINIK_CONFIG="$DATA/admin.conf"
    # Keep a user's own ~/.minik/config out of the lookup.
    export HOME="$BATS_TEST_TMPDIR/home"
    mkdir -p "$HOME"
    APP="$BATS_TEST_TMPDIR/app.yaml"
    cat >"$APP" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
data:
  greeting: hello
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 2
  minReadySeconds: 5
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: busybox:1.36
        command: ["httpd", "-f", "-p", "8080"]
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
EOF
}

rv() { # rv KIND NAME: the object's resourceVersion
    minik get "$1" "$2" -n shop -o json | jq -r .metadata.resourceVersion
}

@test "apply creates every object of a multi-document manifest" {
    run --separate-stderr minik apply -f "$APP"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "namespace/shop created" ]
    [ "${lines[1]}" = "configmap/web-config created" ]
    [ "${lines[2]}" = "deployment.apps/web created" ]
    [ "${lines[3]}" = "service/web created" ]
    # What the server stored is what the file said, plus the last-applied annotation.
    run minik get deploy web -n shop -o json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .spec.replicas)" = 2 ]
    [ "$(echo "$output" | jq -r '.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]' | jq -r .spec.minReadySeconds)" = 5 ]
}

@test "get prints kubectl tables, wide, json, yaml and name" {
    minik apply -f "$APP" >/dev/null
    wait_for 20 deploy_updated shop web 2
    run --separate-stderr minik get deployments -n shop
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^NAME\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +AGE$ ]]
    # No node runs the pods in this suite: 2 up to date, none ready or available.
    [[ "${lines[1]}" =~ ^web\ +0/2\ +2\ +0\ +[0-9]+s$ ]]
    run minik get deploy -n shop -o wide
    [[ "${lines[0]}" =~ CONTAINERS\ +IMAGES\ +SELECTOR$ ]]
    [[ "${lines[1]}" =~ web\ +busybox:1.36\ +app=web$ ]]
    run minik get svc web -n shop
    [[ "${lines[0]}" =~ ^NAME\ +TYPE\ +CLUSTER-IP\ +EXTERNAL-IP\ +PORT\(S\)\ +AGE$ ]]
    [[ "${lines[1]}" =~ ^web\ +ClusterIP\ +.*80/TCP ]]
    run minik get cm -n shop
    [[ "${lines[1]}" =~ ^web-config\ +2\ +[0-9]+s$ ]]
    run minik get ns
    [[ "$output" =~ shop\ +Active ]]
    # -o json of one object is the object; of a list, a List.
    run minik get cm web-config -n shop -o json
    [ "$(echo "$output" | jq -r .kind)" = ConfigMap ]
    [ "$(echo "$output" | jq -r .data.greeting)" = hello ]
    run minik get cm -n shop -o json
    [ "$(echo "$output" | jq -r .kind)" = List ]
    [ "$(echo "$output" | jq -r '.items[0].metadata.name')" = web-config ]
    # -o yaml is valid YAML with the same content (checked by re-applying it as a manifest).
    run minik get cm web-config -n shop -o yaml
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "apiVersion: v1" ]
    [ "${lines[1]}" = "kind: ConfigMap" ]
    [[ "$output" == *"  greeting: hello"* ]]
    run minik get deploy,svc,cm -n shop -o name
    [ "$output" = "$(printf 'deployment.apps/web\nservice/web\nconfigmap/web-config')" ]
    # Several kinds: one table each, names prefixed with the kind.
    run minik get deployments,services -n shop
    [[ "$output" == *"deployment.apps/web"*"service/web"* ]]
    run minik get deploy/web svc/web -n shop -o name
    [ "$output" = "$(printf 'deployment.apps/web\nservice/web')" ]
    # Short names and -A with a NAMESPACE column.
    run minik get cm -A
    [[ "${lines[0]}" =~ ^NAMESPACE\ +NAME\ +DATA\ +AGE$ ]]
    [[ "$output" =~ shop\ +web-config\ +2 ]]
    # Label selectors reach the server.
    run minik get deploy -n shop -l app=web -o name
    [ "$output" = deployment.apps/web ]
    run --separate-stderr minik get deploy -n shop -l app=other
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$stderr" = "No resources found in shop namespace." ]
}

@test "get of an empty namespace and of a missing object" {
    run --separate-stderr minik get pods
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$stderr" = "No resources found in default namespace." ]
    run --separate-stderr minik get deploy nope
    [ "$status" -eq 1 ]
    [ "$stderr" = 'Error from server (NotFound): deployments.apps "nope" not found' ]
    run --separate-stderr minik get frobs
    [ "$status" -eq 1 ]
    [ "$stderr" = 'error: the server doesn'"'"'t have a resource type "frobs"' ]
}

@test "re-applying an unchanged manifest changes nothing" {
    minik apply -f "$APP" >/dev/null
    before="$(rv deploy web) $(rv cm web-config) $(rv svc web)"
    run minik apply -f "$APP"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'namespace/shop unchanged\nconfigmap/web-config unchanged\ndeployment.apps/web unchanged\nservice/web unchanged')" ]
    [ "$(rv deploy web) $(rv cm web-config) $(rv svc web)" = "$before" ]
    run minik diff -f "$APP"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "a field removed from the file is removed from the object" {
    minik apply -f "$APP" >/dev/null
    sed -e '/minReadySeconds/d' -e '/color: blue/d' "$APP" >"$BATS_TEST_TMPDIR/app2.yaml"
    # diff previews it: exit 1 and the removed lines.
    run minik diff -f "$BATS_TEST_TMPDIR/app2.yaml"
    [ "$status" -eq 1 ]
    [[ "$output" == *"diff -u -N LIVE/apps.v1.Deployment.shop.web MERGED/apps.v1.Deployment.shop.web"* ]]
    [[ "$output" == *"-  minReadySeconds: 5"* ]]
    [[ "$output" == *"-  color: blue"* ]]
    svc_rv=$(rv svc web)
    run minik apply -f "$BATS_TEST_TMPDIR/app2.yaml"
    [ "$status" -eq 0 ]
    [[ "$output" == *"configmap/web-config configured"* ]]
    [[ "$output" == *"deployment.apps/web configured"* ]]
    [[ "$output" == *"service/web unchanged"* ]]
    [ "$(minik get deploy web -n shop -o json | jq -r '.spec | has("minReadySeconds")')" = false ]
    [ "$(minik get deploy web -n shop -o json | jq -r .spec.replicas)" = 2 ]
    [ "$(minik get cm web-config -n shop -o json | jq -c .data)" = '{"greeting":"hello"}' ]
    [ "$(rv svc web)" = "$svc_rv" ]
    run minik diff -f "$BATS_TEST_TMPDIR/app2.yaml"
    [ "$status" -eq 0 ]
}

@test "apply puts back a field someone changed by hand, and takes -o name" {
    minik apply -f "$APP" >/dev/null
    run minik scale deploy/web -n shop --replicas=5
    [ "$status" -eq 0 ]
    [ "$output" = "deployment.apps/web scaled" ]
    [ "$(minik get deploy web -n shop -o json | jq -r .spec.replicas)" = 5 ]
    run minik apply -f "$APP" -o name
    [ "$status" -eq 0 ]
    [[ "$output" == *"deployment.apps/web"* ]]
    [ "$(minik get deploy web -n shop -o json | jq -r .spec.replicas)" = 2 ]
}

@test "apply reports manifest errors with their location and sends nothing" {
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  labelz: {}\n' >"$BATS_TEST_TMPDIR/bad.yaml"
    run --separate-stderr minik apply -f "$BATS_TEST_TMPDIR/bad.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"bad.yaml:10:3: metadata.labelz: unknown field"* ]]
    [[ "$stderr" == *"nothing was applied"* ]]
    run --separate-stderr minik get cm ok
    [ "$status" -eq 1 ]
}

@test "scale with a precondition, and scale of something without replicas" {
    minik apply -f "$APP" >/dev/null
    run --separate-stderr minik scale deploy web -n shop --replicas=3 --current-replicas=7
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"expected 7 current replicas, found 2"* ]]
    run minik scale deploy web -n shop --replicas=3 --current-replicas=2
    [ "$status" -eq 0 ]
    [ "$(minik get deploy web -n shop -o json | jq -r .spec.replicas)" = 3 ]
    run --separate-stderr minik scale cm/web-config -n shop --replicas=3
    [ "$status" -eq 1 ]
    run --separate-stderr minik scale deploy/web -n shop
    [ "$status" -eq 2 ]
}

@test "describe shows kubectl-like sections" {
    minik apply -f "$APP" >/dev/null
    run minik describe deploy web -n shop
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^Name:\ +web$ ]]
    [[ "${lines[1]}" =~ ^Namespace:\ +shop$ ]]
    [[ "$output" =~ Replicas:\ +2\ desired ]]
    [[ "$output" == *"Pod Template:"* ]]
    [[ "$output" =~ Image:\ +busybox:1.36 ]]
    [[ "$output" == *"Events:"* ]]
    # The last-applied annotation is not repeated in describe.
    [[ "$output" != *"last-applied-configuration"* ]]
    run minik describe cm/web-config -n shop
    [[ "$output" == *$'greeting:\n----\nhello'* ]]
    run --separate-stderr minik describe svc nope -n shop
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'services "nope" not found'* ]]
}

@test "get -w streams changes as rows" {
    minik apply -f "$APP" >/dev/null
    out="$BATS_TEST_TMPDIR/watch.out"
    start_daemon watch "$MINIK_BIN" get cm -n shop -w
    wait_for 10 grep -q web-config "$BATS_TEST_TMPDIR/watch.log"
    kubectl_free_patch='{"data":{"extra":"1"}}'
    minik apply -f - <<'EOF' >/dev/null
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  namespace: shop
data:
  a: "1"
EOF
    wait_for 10 grep -q '^second ' "$BATS_TEST_TMPDIR/watch.log"
    head -n1 "$BATS_TEST_TMPDIR/watch.log" | grep -Eq '^NAME +DATA +AGE$'
    grep -Eq '^second +1 +[0-9]+s$' "$BATS_TEST_TMPDIR/watch.log"
}

@test "delete by name and by manifest, with cascade" {
    minik apply -f "$APP" >/dev/null
    uid=$(minik get deploy web -n shop -o json | jq -r .metadata.uid)
    # Two dependents of the Deployment through ownerReferences.
    for n in dep-a dep-b; do owned_cm "$n" "$uid"; done
    run minik delete deploy web -n shop --cascade=orphan --wait
    [ "$status" -eq 0 ]
    [ "$output" = 'deployments.apps "web" deleted' ]
    run minik get cm dep-a -n shop -o name
    [ "$output" = configmap/dep-a ]
    # Background cascade removes the dependents.
    minik apply -f "$APP" >/dev/null
    uid=$(minik get deploy web -n shop -o json | jq -r .metadata.uid)
    owned_cm dep-c "$uid"
    run minik delete deployment/web -n shop --wait
    [ "$status" -eq 0 ]
    wait_for 10 bash -c "! '$MINIK_BIN' get cm dep-c -n shop -o name"
    # By manifest: contents first, the namespace last, all reported deleted.
    run --separate-stderr minik delete -f "$APP" --ignore-not-found
    [ "$status" -eq 0 ]
    [[ "$output" == *'configmaps "web-config" deleted'* ]]
    [[ "$output" == *'services "web" deleted'* ]]
    [ "${lines[-1]}" = 'namespaces "shop" deleted' ]
    run --separate-stderr minik get ns shop
    [ "$status" -eq 1 ]
    run --separate-stderr minik delete cm nothing-here
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'configmaps "nothing-here" not found'* ]]
}

@test "api-resources lists the kinds with short names" {
    run minik api-resources
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^NAME\ +SHORTNAMES\ +APIVERSION\ +NAMESPACED\ +KIND$ ]]
    [[ "$output" =~ deployments\ +deploy\ +apps/v1\ +true\ +Deployment ]]
    [[ "$output" =~ pods\ +po\ +v1\ +true\ +Pod ]]
    [[ "$output" =~ nodes\ +no\ +v1\ +false\ +Node ]]
}

@test "an unreachable server is named with its URL" {
    port=$(free_port)
    run --separate-stderr minik get pods --server "https://127.0.0.1:$port"
    [ "$status" -eq 1 ]
    [ "$stderr" = "error: cannot reach the minik server at https://127.0.0.1:$port: Connection refused" ]
    run --separate-stderr minik apply -f "$APP" --server "http://127.0.0.1:$port"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"cannot reach the minik server at http://127.0.0.1:$port: Connection refused"* ]]
}

@test "a bad token gets the server's 401 message" {
    run --separate-stderr minik get pods --token not-a-real-token
    [ "$status" -eq 1 ]
    [[ "$stderr" == "error: You must be logged in to the server (Unauthorized): "* ]]
    [[ "$stderr" == *"invalid bearer token"* ]]
}

@test "the server is verified against the kubeconfig's CA" {
    # A kubeconfig whose CA is some other CA: verification fails, nothing is sent.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=other-ca -keyout "$BATS_TEST_TMPDIR/k.pem" -out "$BATS_TEST_TMPDIR/ca.pem" 2>/dev/null
    other=$(base64 -w0 "$BATS_TEST_TMPDIR/ca.pem")
    sed "s|certificate-authority-data: .*|certificate-authority-data: $other|" "$DATA/admin.conf" >"$BATS_TEST_TMPDIR/wrong-ca.conf"
    run --separate-stderr minik get ns --kubeconfig "$BATS_TEST_TMPDIR/wrong-ca.conf"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "error: cannot verify the minik server at https://127.0.0.1:$PORT against the configured CA"* ]]
    # --insecure-skip-tls-verify is explicit and works.
    run minik get ns --kubeconfig "$BATS_TEST_TMPDIR/wrong-ca.conf" --insecure-skip-tls-verify
    [ "$status" -eq 0 ]
    [[ "$output" == *default* ]]
}

@test "kubeconfig lookup: --kubeconfig, MINIK_CONFIG, ~/.minik/config" {
    # ~/.minik/config is used when nothing else is given.
    mkdir -p "$HOME/.minik"
    cp "$DATA/admin.conf" "$HOME/.minik/config"
    run env -u MINIK_CONFIG "$MINIK_BIN" get ns -o name
    [ "$status" -eq 0 ]
    [[ "$output" == *namespace/default* ]]
    # $MINIK_CONFIG wins over ~/.minik/config.
    run --separate-stderr env MINIK_CONFIG=/nonexistent/conf "$MINIK_BIN" get ns
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'open "/nonexistent/conf"'* ]]
    # --kubeconfig wins over $MINIK_CONFIG.
    run env MINIK_CONFIG=/nonexistent/conf "$MINIK_BIN" get ns -o name --kubeconfig "$DATA/admin.conf"
    [ "$status" -eq 0 ]
    # The context's namespace is the default; -n overrides it.
    minik apply -f "$APP" >/dev/null
    sed 's/namespace: default/namespace: shop/' "$DATA/admin.conf" >"$BATS_TEST_TMPDIR/shop.conf"
    run minik get cm -o name --kubeconfig "$BATS_TEST_TMPDIR/shop.conf"
    [ "$output" = configmap/web-config ]
    run --separate-stderr minik get cm -o name --kubeconfig "$BATS_TEST_TMPDIR/shop.conf" -n default
    [ -z "$output" ]
    # --context picks another context of the file.
    run --separate-stderr minik get ns --context nope
    [ "$status" -eq 1 ]
    [ "$stderr" = "error: $DATA/admin.conf: context \"nope\" not found" ]
    run minik get ns -o name --context minik
    [ "$status" -eq 0 ]
}

@test "apply from stdin and a directory, and a namespace mismatch" {
    mkdir -p "$BATS_TEST_TMPDIR/dir"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n' >"$BATS_TEST_TMPDIR/dir/a.yaml"
    printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}' >"$BATS_TEST_TMPDIR/dir/b.json"
    run minik apply -f "$BATS_TEST_TMPDIR/dir"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'configmap/a created\nconfigmap/b created')" ]
    run minik apply -f - <"$BATS_TEST_TMPDIR/dir/a.yaml"
    [ "$output" = "configmap/a unchanged" ]
    minik apply -f "$APP" >/dev/null
    run --separate-stderr minik apply -f "$APP" -n default
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'the namespace from the provided object "shop" does not match the namespace "default"'* ]]
}

@test "a manifest applied by stock kubectl re-applies as unchanged with minik" {
    command -v kubectl >/dev/null || skip "kubectl is not installed"
    # kubectl's client-side validation needs OpenAPI, which minik does not serve.
    run kubectl --kubeconfig "$DATA/admin.conf" apply --validate=false -f "$APP"
    [ "$status" -eq 0 ]
    [[ "$output" == *"deployment.apps/web created"* ]]
    before=$(rv deploy web)
    run minik apply -f "$APP"
    [ "$status" -eq 0 ]
    [[ "$output" == *"deployment.apps/web unchanged"* ]]
    [[ "$output" == *"configmap/web-config unchanged"* ]]
    [ "$(rv deploy web)" = "$before" ]
    # And minik's three-way merge uses kubectl's record to remove a field.
    sed -e '/minReadySeconds/d' "$APP" >"$BATS_TEST_TMPDIR/app2.yaml"
    run minik apply -f "$BATS_TEST_TMPDIR/app2.yaml"
    [[ "$output" == *"deployment.apps/web configured"* ]]
    [ "$(minik get deploy web -n shop -o json | jq -r '.spec | has("minReadySeconds")')" = false ]
}

@test "--dry-run=server validates on the server and writes nothing" {
    # As with kubectl, objects can only be dry-run into a namespace that exists.
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n' | minik apply -f - >/dev/null
    run --separate-stderr minik apply -f "$APP" --dry-run=server
    [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
    [[ "$output" == *"deployment.apps/web created (server dry run)"* ]] || { echo "$output"; return 1; }
    run --separate-stderr minik get deploy web -n shop
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"not found"* ]]
    # The server still validates: an object it refuses fails the dry run.
    sed -e 's/replicas: .*/replicas: -1/' "$APP" >"$BATS_TEST_TMPDIR/bad.yaml"
    run --separate-stderr minik apply -f "$BATS_TEST_TMPDIR/bad.yaml" --dry-run=server
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"replicas"* ]]
    run --separate-stderr minik get deploy web -n shop
    [ "$status" -eq 1 ]
}

@test "get -w on an object older than the server's change feed re-lists instead of failing" {
    # A server that keeps only 2 change events: watching from an old object's
    # resourceVersion gets 410 Gone.
    data2=$(make_tmpdir client-data2)
    port2=$(free_port)
    start_daemon server2 "$MINIK_BIN" server --no-agent --data-dir "$data2" --listen "127.0.0.1:$port2" --event-retention 2
    wait_for 30 curl -sfk "https://127.0.0.1:$port2/healthz"
    export MINIK_CONFIG="$data2/admin.conf"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\ndata:\n  k: v\n' | minik apply -f - >/dev/null
    for i in 1 2 3 4 5; do
        printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x%d\n' "$i" | minik apply -f - >/dev/null
    done
    start_daemon watch "$MINIK_BIN" get cm old -w
    wait_for 10 grep -q '^old ' "$BATS_TEST_TMPDIR/watch.log"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\ndata:\n  k: v\n  k2: w\n' | minik apply -f - >/dev/null
    wait_for 10 grep -Eq '^old +2 ' "$BATS_TEST_TMPDIR/watch.log"
    ! grep -q error "$BATS_TEST_TMPDIR/watch.log"
}

@test "describe lists the events about the object; get events; diff errors exit 2" {
    minik apply -f "$APP" >/dev/null
    uid=$(minik get deploy web -n shop -o json | jq -r .metadata.uid)
    minik apply -f - >/dev/null <<EOF2
apiVersion: v1
kind: Event
metadata:
  name: web.1
  namespace: shop
involvedObject:
  apiVersion: apps/v1
  kind: Deployment
  name: web
  namespace: shop
  uid: $uid
reason: ScalingReplicaSet
message: Scaled up replica set web-1 to 2
type: Normal
count: 3
firstTimestamp: "2026-11-26T10:00:00Z"
lastTimestamp: "2026-11-26T10:05:00Z"
source:
  component: deployment-controller
---
apiVersion: v1
kind: Event
metadata:
  name: other.1
  namespace: shop
involvedObject:
  kind: Service
  name: web
  namespace: shop
reason: Other
message: about the service
type: Warning
EOF2
    run minik describe deploy web -n shop
    [ "$status" -eq 0 ]
    [[ "$output" =~ Events:$'\n'\ +Type\ +Reason\ +Age\ +From\ +Message ]]
    [[ "$output" =~ Normal\ +ScalingReplicaSet\ +[0-9a-z]+\ \(x3\ over\ [0-9a-z]+\)\ +deployment-controller\ +Scaled\ up\ replica\ set\ web-1\ to\ 2 ]]
    [[ "$output" != *"about the service"* ]]
    run minik describe svc web -n shop
    [[ "$output" =~ Warning\ +Other ]]
    run minik get ev -n shop
    [[ "${lines[0]}" =~ ^LAST\ SEEN\ +TYPE\ +REASON\ +OBJECT\ +MESSAGE$ ]]
    [[ "$output" =~ Normal\ +ScalingReplicaSet\ +deployment/web\ +Scaled ]]
    port=$(free_port)
    run --separate-stderr minik diff -f "$APP" --server "http://127.0.0.1:$port"
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"cannot reach the minik server"* ]]
}

@test "get all; describe and delete a whole kind or by label selector" {
    minik apply -f "$APP" >/dev/null
    for n in a b c; do
        printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: shop\n  labels:\n    tier: %s\n' "$n" "$([ $n = c ] && echo db || echo fe)" | minik apply -f - >/dev/null
    done
    wait_for 20 deploy_updated shop web 2
    run minik get all -n shop -o name
    # kubectl's order: pods, services, deployments, replicasets.
    [ "$(echo "$output" | grep -c '^pod/web-')" -eq 2 ]
    [[ "$output" == *"service/web"*"deployment.apps/web"*"replicaset.apps/web-"* ]] || { echo "$output"; return 1; }
    run minik describe cm -n shop -l tier=fe
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | grep -c '^Name:')" -eq 2 ]
    [[ "$output" =~ Name:\ +a ]]
    [[ "$output" =~ Name:\ +b ]]
    run --separate-stderr minik delete cm -n shop
    [ "$status" -eq 2 ]
    run minik delete cm -n shop -l tier=fe
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'configmaps "a" deleted\nconfigmaps "b" deleted')" ]
    run minik get cm -n shop -o name
    [ "$output" = "$(printf 'configmap/c\nconfigmap/web-config')" ]
    run minik delete cm -n shop --all
    [ "$status" -eq 0 ]
    run --separate-stderr minik get cm -n shop
    [ "$stderr" = "No resources found in shop namespace." ]
}

@test "get --field-selector, --no-headers and kind.group names" {
    minik apply -f "$APP" >/dev/null
    run minik get cm -n shop --field-selector metadata.name=web-config -o name
    [ "$status" -eq 0 ]
    [ "$output" = configmap/web-config ]
    run --separate-stderr minik get cm -n shop --field-selector metadata.name!=web-config -o name
    [ -z "$output" ]
    [ "$stderr" = "No resources found in shop namespace." ]
    wait_for 20 deploy_updated shop web 2
    run minik get deployments.apps -n shop --no-headers
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^web\ +0/2\ +2\ +0\ +[0-9]+s$ ]]
    [ "${#lines[@]}" -eq 1 ]
    run minik get Deployment/web -n shop -o name
    [ "$output" = deployment.apps/web ]
}

@test "--validate=warn: unknown fields are warned about locally and accepted by the server" {
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w\n  colour: red\ndata:\n  k: v\n' >"$BATS_TEST_TMPDIR/w.yaml"
    run --separate-stderr minik apply -f "$BATS_TEST_TMPDIR/w.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"w.yaml:5:3: metadata.colour: unknown field"* ]]
    run --separate-stderr minik apply -f "$BATS_TEST_TMPDIR/w.yaml" --validate=warn
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"metadata.colour"* ]]
    [ "$output" = "configmap/w created" ]
    [ "$(minik get cm w -o json | jq -r .data.k)" = v ]
}

@test "get -w -o yaml prints the listed and the changed objects as separate documents" {
    minik apply -f "$APP" >/dev/null
    start_daemon watch "$MINIK_BIN" get cm -n shop -w -o yaml
    wait_for 10 grep -q 'name: web-config' "$BATS_TEST_TMPDIR/watch.log"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: later\n  namespace: shop\n' | minik apply -f - >/dev/null
    wait_for 10 grep -q 'name: later' "$BATS_TEST_TMPDIR/watch.log"
    # Two documents, not a List: a separator between them and no items: key.
    [ "$(grep -c '^---$' "$BATS_TEST_TMPDIR/watch.log")" -eq 1 ]
    ! grep -q '^items:' "$BATS_TEST_TMPDIR/watch.log"
    [ "$(grep -c '^kind: ConfigMap$' "$BATS_TEST_TMPDIR/watch.log")" -eq 2 ]
}

@test "plain http:// works against an --insecure-http server on loopback" {
    data3=$(make_tmpdir client-data3)
    port3=$(free_port)
    # --no-agent: an embedded agent would run the Deployment's pods in the host's own
    # network namespace (bridge, nft table, mounts), which tests must not touch.
    start_daemon server3 "$MINIK_BIN" server --data-dir "$data3" --listen "127.0.0.1:$port3" --insecure-http --no-agent
    wait_for 30 curl -sf "http://127.0.0.1:$port3/healthz"
    grep -q "server: http://127.0.0.1:$port3" "$data3/admin.conf"
    run minik apply -f "$APP" --kubeconfig "$data3/admin.conf"
    [ "$status" -eq 0 ]
    [[ "$output" == *"deployment.apps/web created"* ]]
    run minik get deploy -n shop -o name --kubeconfig "$data3/admin.conf"
    [ "$output" = deployment.apps/web ]
}

@test "a node token touching deployments gets kubectl's Forbidden message" {
    minik apply -f "$APP" >/dev/null
    token=$(minik token create --data-dir "$DATA" | tail -n1)
    [ -n "$token" ]
    run --separate-stderr minik get deploy -n shop --token "$token"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "Error from server (Forbidden): "*"forbidden"* ]]
    run --separate-stderr minik apply -f "$APP" --token "$token"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"Error from server (Forbidden): $APP:14: deployment.apps/web: "* ]]
}

@test "kinds the server serves beyond proto's table are found through discovery" {
    # A ReplicaSet, made directly through the API rather than from a manifest.
    token=$(awk '/token:/ {print $2}' "$DATA/admin.conf")
    body='{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-7d","labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"busybox"}]}}}}'
    curl -sfk -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "$body" "https://127.0.0.1:$PORT/apis/apps/v1/namespaces/default/replicasets" >/dev/null
    # The ReplicaSet controller creates its two pods.
    wait_for 20 rs_current web-7d 2
    run minik get rs
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^NAME\ +DESIRED\ +CURRENT\ +READY\ +AGE$ ]]
    [[ "${lines[1]}" =~ ^web-7d\ +2\ +2\ +0\ +[0-9]+s$ ]]
    run minik get replicasets.apps web-7d -o name
    [ "$output" = replicaset.apps/web-7d ]
    run minik scale rs/web-7d --replicas=4
    [ "$status" -eq 0 ]
    [ "$output" = "replicaset.apps/web-7d scaled" ]
    [ "$(minik get rs web-7d -o json | jq -r .spec.replicas)" = 4 ]
    run minik describe rs web-7d
    [[ "${lines[0]}" =~ ^Name:\ +web-7d$ ]]
    run minik delete replicaset web-7d
    [ "$output" = 'replicasets.apps "web-7d" deleted' ]
    run --separate-stderr minik get frobnicators
    [ "$status" -eq 1 ]
    [ "$stderr" = 'error: the server doesn'"'"'t have a resource type "frobnicators"' ]
}

@test "a large manifest is read with one LIST per kind, not one GET per object" {
    {
        for i in $(seq 10); do
            printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: shop\ndata:\n  k: v%d\n' "$i" "$i"
        done
        # The same object twice: the second finds the first (created in this run) and
        # leaves it unchanged instead of failing with AlreadyExists.
        printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-1\n  namespace: shop\ndata:\n  k: v1\n'
    } >"$BATS_TEST_TMPDIR/many.yaml"
    minik apply -f "$APP" >/dev/null
    run minik apply -f "$BATS_TEST_TMPDIR/many.yaml"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | grep -c ' created$')" -eq 10 ]
    [ "${lines[10]}" = "configmap/cm-1 unchanged" ]
    run minik apply -f "$BATS_TEST_TMPDIR/many.yaml"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | grep -c ' unchanged$')" -eq 11 ]
    sed -i 's/k: v5/k: changed/' "$BATS_TEST_TMPDIR/many.yaml"
    run minik apply -f "$BATS_TEST_TMPDIR/many.yaml"
    [ "${lines[4]}" = "configmap/cm-5 configured" ]
    [ "$(minik get cm cm-5 -n shop -o json | jq -r .data.k)" = changed ]
    run minik diff -f "$BATS_TEST_TMPDIR/many.yaml"
    [ "$status" -eq 0 ]
    # The server's request counters: configmaps were listed, never fetched one by one
    # (the single GETs above are from `get cm cm-5`).
    token=$(awk '/token:/ {print $2}' "$DATA/admin.conf")
    metrics=$(curl -sfk -H "Authorization: Bearer $token" "https://127.0.0.1:$PORT/metrics")
    gets=$(echo "$metrics" | awk -F'} ' '/requests_total\{verb="get",resource="configmaps",code="200"\}/ {print $2}')
    [ "${gets:-0}" -le 2 ]
    lists=$(echo "$metrics" | awk -F'} ' '/requests_total\{verb="list",resource="configmaps",code="200"\}/ {print $2}')
    [ "$lists" -ge 4 ]
}
