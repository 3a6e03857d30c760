#!/usr/bin/env bats
# deploy/examples/: the manifests validate, and the two-tier app runs on a real server
# (its web tier renders through CGI and asks the db tier by DNS name).

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

@test "examples: hello and two-tier validate strictly (no unknown fields)" {
    run minik apply --dry-run=client -f "$REPO/deploy/examples/hello/"
    [ "$status" -eq 0 ]
    [ "$(grep -c 'created (dry run)' <<<"$output")" -eq 3 ]
    run minik apply --dry-run=client -f "$REPO/deploy/examples/two-tier/" -o json
    [ "$status" -eq 0 ]
    # The web tier finds the db by its Service name.
    [ "$(jq -r 'select(.kind == "Deployment" and .metadata.name == "web") | .spec.template.spec.containers[0].env[] | select(.name == "DB_HOST") | .value' <<<"$output")" = db ]
    [ "$(jq -r 'select(.kind == "Service") | .metadata.name' <<<"$output" | sort | tr '\n' ' ')" = "db web " ]
}

@test "examples: two-tier runs; web renders via CGI, db serves its seeded records; through DNS when Service networking exists" {
    [ "$(id -u)" = 0 ] || skip "needs root"
    export MINIK_DEMO_DIR="$BATS_TEST_TMPDIR/demo" MINIK_DEMO_SKIP_DEPS=1
    on_teardown "bash '$REPO/deploy/demo.sh' stop"
    # The demo brings up a server, the image and the hello app; its Service step may fail.
    bash "$REPO/deploy/demo.sh" start >/dev/null 2>&1 || true
    export MINIK_CONFIG=$MINIK_DEMO_DIR/data/admin.conf
    minik apply -f "$REPO/deploy/examples/two-tier/"
    run minik rollout status deploy/db --timeout 60s
    [ "$status" -eq 0 ]
    run minik rollout status deploy/web --timeout 60s
    [ "$status" -eq 0 ]
    local dbpod webpod
    dbpod=$(minik get pods -l tier=db -o json | jq -r '.items[0].metadata.uid')
    webpod=$(minik get pods -l tier=web -o json | jq -r '.items[0].metadata.uid')
    run nsenter --net="$MINIK_DEMO_DIR/data/agent/pods/$dbpod/ns/net" curl -fsS http://127.0.0.1:5432/greeting
    [ "$output" = "hello from the db tier" ]
    run nsenter --net="$MINIK_DEMO_DIR/data/agent/pods/$webpod/ns/net" curl -fsS http://127.0.0.1:8080/cgi-bin/index.cgi
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "web tier on web-"* ]]
    if [ "$(minik get svc db -o json | jq -r '.spec.clusterIP // "None"')" != None ] &&
        curl -fsS -m 2 "http://$(minik get svc db -o json | jq -r .spec.clusterIP):5432/greeting" >/dev/null 2>&1; then
        [ "${lines[1]}" = "db says: hello from the db tier" ]
    else
        [ "${lines[1]}" = "db says: (db unreachable at db:5432)" ]
    fi
}
