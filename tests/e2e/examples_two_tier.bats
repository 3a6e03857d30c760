#!/usr/bin/env bats
# deploy/examples/two-tier/ running for real: a "database" (busybox httpd serving records
# seeded from a ConfigMap) behind the Service "db", and a web front end whose CGI asks
# http://db:5432 — by DNS name, through cluster DNS and the Service's rules — and renders
# the answer. `minik server` with its embedded agent and the real pod network (bridge,
# CNI, nftables, cluster DNS), inside a network namespace this test makes, so the node's
# bridge and rules are its own; the image is the demo's busybox image (deploy/demo-image.sh).

load helpers
load apiserver_helpers
load agent_lib

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
}

# Everything network-facing runs in the test's namespace (nsenter keeps /sys as it is).
in_net() { nsenter --net="/run/netns/$NS" "$@"; }
k() { in_net "$MINIK_BIN" "$@"; }

# The front end's page, asked inside a web pod's network namespace.
web_page() {
    local uid
    uid=$(k get pods -l tier=web -o json | jq -r '.items[0].metadata.uid')
    nsenter --net="$DATA/agent/pods/$uid/ns/net" curl -fsS --max-time 5 http://127.0.0.1:8080/cgi-bin/index.cgi
}

@test "examples: two-tier — the web front end answers with the db tier's data, found by DNS name" {
    NS=$(netns_create twotier)
    DATA=$(make_tmpdir twotier)
    on_teardown "agent_cleanup $DATA/agent"
    PORT=$(free_port)
    start_daemon server nsenter --net="/run/netns/$NS" "$MINIK_BIN" server --data-dir "$DATA" \
        --listen "127.0.0.1:$PORT" --insecure-http
    export MINIK_CONFIG="$DATA/admin.conf"
    wait_for 20 in_net curl -sf "http://127.0.0.1:$PORT/healthz"
    wait_for 20 bash -c "[ -n \"\$(nsenter --net=/run/netns/$NS '$MINIK_BIN' get nodes -o name)\" ]"
    bash "$REPO/deploy/demo-image.sh" "$BATS_TEST_TMPDIR/img" 1
    "$MINIK_BIN" image import "$BATS_TEST_TMPDIR/img" --name minik-demo/hello:1 --data-dir "$DATA/agent"

    k apply -f "$REPO/deploy/examples/two-tier/"
    run k rollout status deploy/db --timeout 60s
    [ "$status" -eq 0 ] || { echo "$output"; k describe pods -l tier=db; daemon_log server | tail -20; return 1; }
    run k rollout status deploy/web --timeout 60s
    [ "$status" -eq 0 ] || { echo "$output"; k describe pods -l tier=web; return 1; }

    # The db tier serves its seeded records.
    local db_uid
    db_uid=$(k get pods -l tier=db -o json | jq -r '.items[0].metadata.uid')
    run nsenter --net="$DATA/agent/pods/$db_uid/ns/net" curl -fsS --max-time 3 http://127.0.0.1:5432/greeting
    [ "$output" = "hello from the db tier" ]

    # The front end's answer carries the db's data, fetched through the name "db".
    wait_for 30 bash -c "$(declare -f web_page k in_net); NS=$NS DATA=$DATA MINIK_BIN=$MINIK_BIN; web_page | grep -q 'db says: hello from the db tier'" || {
        web_page || true
        k logs "$(k get pods -l tier=web -o json | jq -r '.items[0].metadata.name')" || true
        return 1
    }
    run web_page
    echo "$output"
    [[ "$output" == *"web tier on web-"* ]]
    [[ "$output" == *"db says: hello from the db tier"* ]]

    # And through the web Service, from the node (its ClusterIP, routed to the pod bridge).
    local ip
    ip=$(k get svc web -o json | jq -r .spec.clusterIP)
    wait_for 20 bash -c "nsenter --net=/run/netns/$NS curl -fsS --max-time 3 http://$ip/cgi-bin/index.cgi | grep -q 'db says: hello from the db tier'"

    # Removing the app stops its containers and leaves nothing of them behind.
    k delete -f "$REPO/deploy/examples/two-tier/"
    # (busybox httpd is PID 1 and ignores SIGTERM: SIGKILL after the default 30 s grace.)
    wait_for 45 bash -c "[ -z \"\$(ls -A '$DATA/agent/oci')\" ]"
}
