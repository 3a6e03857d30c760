#!/usr/bin/env bats
# minik apply --dry-run=client: decode, validate and default manifests without a server.

load helpers

setup() {
    dir=$BATS_TEST_TMPDIR
    cat >"$dir/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
YAML
}

@test "a good multi-document file: one line per object, exit 0" {
    run --separate-stderr minik apply --dry-run=client -f "$dir/app.yaml"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "deployment.apps/web created (dry run)" ]
    [ "${lines[1]}" = "service/web created (dry run)" ]
    [ -z "$stderr" ]
}

@test "-o yaml prints the defaulted objects as a multi-document stream" {
    run --separate-stderr minik apply --dry-run=client -f "$dir/app.yaml" -o yaml
    [ "$status" -eq 0 ]
    [[ "$output" == *"  namespace: default"* ]]
    [[ "$output" == *"        imagePullPolicy: IfNotPresent"* ]]
    [[ "$output" == *"      maxSurge: 25%"* ]]
    [[ "$output" == *$'\n---\napiVersion: v1\nkind: Service\n'* ]]
    [[ "$output" == *"    targetPort: 80"* ]]
    # the output is itself a valid manifest that defaults to the same thing
    printf '%s\n' "$output" >"$dir/out.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$dir/out.yaml" -o yaml
    [ "$status" -eq 0 ]
    [ "$output" = "$(cat "$dir/out.yaml")" ]
}

@test "-o name prints kubectl-style names only" {
    run --separate-stderr minik apply --dry-run=client -f "$dir/app.yaml" -o name
    [ "$status" -eq 0 ]
    [ "$output" = $'deployment.apps/web\nservice/web' ]
}

@test "-o json prints one object, or a List for several" {
    run --separate-stderr minik apply --dry-run=client -f "$dir/app.yaml" -o json
    [ "$status" -eq 0 ]
    [ "$(printf '%s' "$output" | jq -r '.kind')" = "List" ]
    [ "$(printf '%s' "$output" | jq -r '.items[1].spec.sessionAffinity')" = "None" ]
    [ "$(printf '%s' "$output" | jq -r '.items[0].spec.template.spec.restartPolicy')" = "Always" ]
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}\n' >"$dir/cm.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$dir/cm.yaml" -o json
    [ "$status" -eq 0 ]
    [ "$(printf '%s' "$output" | jq -r '.kind + "/" + .metadata.namespace + "/" + .data.a')" = "ConfigMap/default/1" ]
}

@test "a directory: *.yaml, *.yml and *.json in name order, other files ignored" {
    d=$dir/manifests
    mkdir -p "$d/sub"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n' >"$d/20-b.yml"
    printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}' >"$d/10-a.json"
    printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: c}\n' >"$d/30-c.yaml"
    printf 'not: a manifest: at all\n' >"$d/README.md"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nested}\n' >"$d/sub/x.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$d"
    [ "$status" -eq 0 ]
    [ "$output" = $'configmap/a created (dry run)\nconfigmap/b created (dry run)\nnamespace/c created (dry run)' ]
}

@test "stdin with -f -, and several -f flags" {
    run --separate-stderr bash -c "printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {p: x}\n' | '$MINIK_BIN' apply --dry-run=client -f - -f '$dir/app.yaml'"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "secret/s created (dry run)" ]
    [ "${lines[2]}" = "service/web created (dry run)" ]
}

@test "a file with three errors: all three reported with file:line:col, exit 1" {
    cat >"$dir/bad.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: Web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolicyy: Always
        ports:
        - containerPort: 0
YAML
    run --separate-stderr minik apply --dry-run=client -f "$dir/bad.yaml"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == *"$dir/bad.yaml:4:9: metadata.name: invalid name \"Web\""* ]]
    [[ "$stderr" == *"$dir/bad.yaml:15:9: spec.template.spec.containers[0].imagePullPolicyy: unknown field"* ]]
    [[ "$stderr" == *"$dir/bad.yaml:17:26: spec.template.spec.containers[0].ports[0].containerPort: must be between 1 and 65535, got 0"* ]]
    [[ "$stderr" == *"error: 3 errors in the manifests; nothing was applied"* ]]
    # nothing is printed for the valid documents of a failing run either
    run --separate-stderr minik apply --dry-run=client -f "$dir/app.yaml" -f "$dir/bad.yaml" -o yaml
    [ "$status" -eq 1 ]
    [ -z "$output" ]
}

@test "--validate=warn turns unknown fields into warnings (exit 0), other errors stay" {
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  colour: red\n' >"$dir/w.yaml"
    run --separate-stderr minik apply --dry-run=client --validate=warn -f "$dir/w.yaml"
    [ "$status" -eq 0 ]
    [ "$output" = "configmap/c created (dry run)" ]
    [ "$stderr" = "$dir/w.yaml:5:3: warning: metadata.colour: unknown field" ]
    run --separate-stderr minik apply --dry-run=client --validate=strict -f "$dir/w.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "$dir/w.yaml:5:3: metadata.colour: unknown field"* ]]
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: C\n  colour: red\n' >"$dir/w2.yaml"
    run --separate-stderr minik apply --dry-run=client --validate=warn -f "$dir/w2.yaml"
    [ "$status" -eq 1 ]
}

@test "YAML syntax errors, duplicate keys and unreadable inputs are located errors" {
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n' >"$dir/dup.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$dir/dup.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "$dir/dup.yaml:5:3: metadata.name: duplicate key (first defined at line 4)"* ]]
    printf 'a: [\n' >"$dir/syn.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$dir/syn.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "$dir/syn.yaml:2:1: invalid YAML: "* ]]
    run --separate-stderr minik apply --dry-run=client -f "$dir/nope.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"open \"$dir/nope.yaml\": No such file or directory"* ]]
    printf '# nothing here\n---\n' >"$dir/empty.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$dir/empty.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"no objects passed to apply"* ]]
}

@test "an oversized input is refused with a clear error" {
    head -c 3145729 /dev/zero | tr '\0' 'a' >"$dir/big.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$dir/big.yaml"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "$dir/big.yaml: input is larger than 3145728 bytes (3 MiB)"* ]]
    run --separate-stderr bash -c "'$MINIK_BIN' apply --dry-run=client -f - <'$dir/big.yaml'"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "<stdin>: input is larger than 3145728 bytes (3 MiB)"* ]]
}

@test "without --dry-run=client apply talks to a server, and names one it cannot reach (exit 1)" {
    port=$(free_port)
    run --separate-stderr minik apply -f "$dir/app.yaml" --server "http://127.0.0.1:$port"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"cannot reach the minik server at http://127.0.0.1:$port"* ]]
}

@test "usage errors exit 2" {
    run --separate-stderr minik apply --dry-run=client
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"must specify at least one -f"* ]]
    run --separate-stderr minik apply --dry-run=client -f "$dir/app.yaml" -o wide
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"-o wide: use yaml, json or name"* ]]
    run --separate-stderr minik apply --dry-run=client -f "$dir/app.yaml" --validate=maybe
    [ "$status" -eq 2 ]
    run --separate-stderr minik apply --dry-run=sideways -f "$dir/app.yaml"
    [ "$status" -eq 2 ]
}

@test "manifests generated by stock kubectl (YAML and JSON) apply unchanged" {
    command -v kubectl >/dev/null || { echo "kubectl is missing: run deploy/deps.sh"; return 1; }
    kubectl create deployment web --image=nginx --replicas=2 --port=80 --dry-run=client -o yaml >"$dir/k-deploy.yaml"
    kubectl create service nodeport web --tcp=80:8080 --dry-run=client -o yaml >"$dir/k-svc.yaml"
    kubectl create configmap c --from-literal=a=1 --dry-run=client -o json >"$dir/k-cm.json"
    kubectl create secret generic s --from-literal=p=x --dry-run=client -o yaml >"$dir/k-secret.yaml"
    run --separate-stderr minik apply --dry-run=client -f "$dir/k-deploy.yaml" -f "$dir/k-svc.yaml" \
        -f "$dir/k-cm.json" -f "$dir/k-secret.yaml" -o json
    [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
    [ -z "$stderr" ]
    [ "$(printf '%s' "$output" | jq -r '.items | length')" = 4 ]
    # kubectl leaves strategy: {}; defaulting fills it as the API server would
    [ "$(printf '%s' "$output" | jq -r '.items[0].spec.strategy.rollingUpdate.maxSurge')" = "25%" ]
    [ "$(printf '%s' "$output" | jq -r '.items[0].metadata.creationTimestamp')" = "null" ]
    [ "$(printf '%s' "$output" | jq -r '.items[1].spec.externalTrafficPolicy')" = "Cluster" ]
    [ "$(printf '%s' "$output" | jq -r '.items[3].type')" = "Opaque" ]
}
