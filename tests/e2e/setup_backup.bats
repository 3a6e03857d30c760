#!/usr/bin/env bats
# Day 2 (issue 9): minik backup -> wipe -> minik restore keeps every object, through a
# real server; a newer schema is refused with a clear message (upgrades).

load helpers
load apiserver_helpers

# snapshot : every object the server serves, as "kind ns/name uid rv" lines plus the data
# of ConfigMaps and Secrets, sorted (status fields that controllers rewrite are left out).
snapshot() {
    local kinds="namespaces configmaps secrets services deployments.apps replicasets.apps pods"
    for k in $kinds; do
        MINIK_CONFIG=$DATA/admin.conf "$MINIK_BIN" get "$k" -A -o json |
            jq -r --arg k "$k" '.items[] | "\($k) \(.metadata.namespace // "-")/\(.metadata.name) \(.metadata.uid) \(.data // {} | tojson)"'
    done | sort
}

@test "backup: backup while serving, wipe the data dir, restore, restart: every object is back" {
    start_server
    export MINIK_CONFIG=$DATA/admin.conf
    cat >"$BATS_TEST_TMPDIR/app.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: blue, size: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
stringData: {password: hunter2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
YAML
    minik apply -f "$BATS_TEST_TMPDIR/app.yaml" >/dev/null
    # The controllers make the ReplicaSet and the pods (Pending: no node here).
    wait_for 20 bash -c "MINIK_CONFIG='$DATA/admin.conf' '$MINIK_BIN' get pods -n shop -o json | jq -e '.items | length == 2'"
    tok=$(minik token create --data-dir "$DATA")
    before=$(snapshot)
    [ "$(grep -c . <<<"$before")" -ge 8 ]

    run minik backup --data-dir "$DATA" "$BATS_TEST_TMPDIR/state.backup"
    [ "$status" -eq 0 ]
    # The summary names what was copied; restore must report the same count and version.
    [[ "$output" =~ ^backed\ up\ ([0-9]+)\ objects\ \(resourceVersion\ ([0-9]+)\)\ from\ $DATA/state.db\ to\ $BATS_TEST_TMPDIR/state.backup$ ]]
    copied="${BASH_REMATCH[1]} objects (resourceVersion ${BASH_REMATCH[2]})"
    [ "${BASH_REMATCH[1]}" -ge 8 ]
    stop_daemon server
    cp -a "$DATA/tls" "$BATS_TEST_TMPDIR/tls.backup"
    # The machine is lost: nothing of the data dir is left.
    rm -rf "$DATA"
    mkdir -p "$DATA"
    cp -a "$BATS_TEST_TMPDIR/tls.backup" "$DATA/tls"
    run minik restore --data-dir "$DATA" "$BATS_TEST_TMPDIR/state.backup"
    [ "$status" -eq 0 ]
    [ "$output" = "restored $copied from $BATS_TEST_TMPDIR/state.backup into $DATA/state.db" ]

    restart_server
    after=$(snapshot)
    diff <(echo "$before") <(echo "$after")
    # A join token made before the backup still joins (same CA, same token table).
    out=$(AUTH_TOKEN=${tok#*::} TOKEN=x api GET /api)
    [ "$(code_of "$out")" = 200 ]
}

@test "backup: restore refuses a backup from a newer minik and a damaged one, and keeps the current state" {
    start_server
    export MINIK_CONFIG=$DATA/admin.conf
    minik apply -f - >/dev/null <<<'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"},"data":{"a":"1"}}'
    minik backup --data-dir "$DATA" "$BATS_TEST_TMPDIR/b.db"
    stop_daemon server
    cp "$BATS_TEST_TMPDIR/b.db" "$BATS_TEST_TMPDIR/newer.db"
    sqlite3 "$BATS_TEST_TMPDIR/newer.db" 'PRAGMA user_version = 99'
    run minik restore --data-dir "$DATA" "$BATS_TEST_TMPDIR/newer.db"
    [ "$status" -eq 1 ]
    [[ "$output" == *"newer than this minik supports"* ]]
    head -c 5000 "$BATS_TEST_TMPDIR/b.db" >"$BATS_TEST_TMPDIR/cut.db"
    run minik restore --data-dir "$DATA" "$BATS_TEST_TMPDIR/cut.db"
    [ "$status" -eq 1 ]
    # The server starts on the untouched state, and an upgrade gone backwards is refused
    # with the same message at start.
    restart_server
    run minik get cm keep -o json
    [ "$(jq -r .data.a <<<"$output")" = 1 ]
    stop_daemon server
    sqlite3 "$DATA/state.db" 'PRAGMA user_version = 99'
    run "$MINIK_BIN" server --no-agent --data-dir "$DATA" --listen "127.0.0.1:$PORT"
    [ "$status" -eq 1 ]
    [[ "$output" == *"database schema version 99 is newer than this minik supports"*"upgrade minik"* ]]
}
