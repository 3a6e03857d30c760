#!/usr/bin/env bats
# Controllers inside the real `minik server`: Deployments (rollout status/history/undo/
# restart), garbage collection through the API, node lifecycle and `minik node drain`.
# Nodes are hollow (tests/e2e/hollow_kubelet.sh): they heartbeat, bind pods and report
# them Running+Ready, but run nothing. `minik agent --hollow` itself is not built.

load helpers
load apiserver_helpers

setup() {
    start_server --insecure-http --node-grace-period 2s --pod-eviction-timeout 2s
    KUBECONFIG_FILE="$DATA/admin.conf"
}

mk() { minik "$@" --kubeconfig "$KUBECONFIG_FILE"; }

add_node() { # NAME : a Node object plus its hollow kubelet
    api POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$1\"}}" >/dev/null
    start_daemon "hollow-$1" bash "$BATS_TEST_DIRNAME/hollow_kubelet.sh" "$URL" "$TOKEN" "$1"
}

count() { # PATH JQ_FILTER → number of items matching
    api GET "$1" | sed '$d' | jq "[.items[] | select($2)] | length"
}

pods_ready() { # N
    [ "$(count /api/v1/namespaces/default/pods '.status.conditions[]?.status == "True"')" = "$1" ] &&
        [ "$(count /api/v1/namespaces/default/pods 'true')" = "$1" ]
}

pod_count_is() { [ "$(count /api/v1/namespaces/default/pods 'true')" = "$1" ]; }
pods_on_is() { [ "$(pods_on "$1")" = "$2" ]; }

deployment_field() { api GET /apis/apps/v1/namespaces/default/deployments/web | sed '$d' | jq -r "$1"; }

@test "controllers: a Deployment rolls out, rolls forward, shows history, undoes and restarts" {
    add_node n1
    out=$(api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 3)")
    [ "$(code_of "$out")" = 201 ]
    run mk rollout status deploy/web --timeout 30s
    [ "$status" -eq 0 ]
    [[ "$output" == *'deployment "web" successfully rolled out'* ]]
    pods_ready 3
    [ "$(count /apis/apps/v1/namespaces/default/replicasets 'true')" = 1 ]
    hash1=$(api GET /apis/apps/v1/namespaces/default/replicasets | sed '$d' | jq -r '.items[0].metadata.labels["pod-template-hash"]')
    [ "$(count /api/v1/namespaces/default/pods ".metadata.labels[\"pod-template-hash\"] == \"$hash1\"")" = 3 ]
    [ "$(deployment_field '.status.availableReplicas')" = 3 ]
    [ "$(deployment_field '.status.conditions[] | select(.type=="Available") | .status')" = True ]

    # A new image: a second revision replaces every pod.
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    run mk rollout status deploy/web --timeout 30s
    [ "$status" -eq 0 ]
    wait_for 20 pods_ready 3
    [ "$(count /api/v1/namespaces/default/pods ".metadata.labels[\"pod-template-hash\"] == \"$hash1\"")" = 0 ]
    [ "$(deployment_field '.metadata.annotations["deployment.kubernetes.io/revision"]')" = 2 ]
    run mk rollout history deploy/web
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "deployment.apps/web" ]]
    [[ "${lines[1]}" == "REVISION  CHANGE-CAUSE" ]]
    [[ "${lines[2]}" == "1"*"<none>" ]]
    [[ "${lines[3]}" == "2"*"<none>" ]]

    # Undo: back to busybox, on the first ReplicaSet (now revision 3).
    run mk rollout undo deploy/web
    [ "$status" -eq 0 ]
    [ "$output" = "deployment.apps/web rolled back" ]
    [ "$(deployment_field '.spec.template.spec.containers[0].image')" = busybox ]
    run mk rollout status deploy/web --timeout 30s
    [ "$status" -eq 0 ]
    wait_for 20 pods_ready 3
    [ "$(count /api/v1/namespaces/default/pods ".metadata.labels[\"pod-template-hash\"] == \"$hash1\"")" = 3 ]
    [ "$(count /apis/apps/v1/namespaces/default/replicasets 'true')" = 2 ]
    [ "$(deployment_field '.metadata.annotations["deployment.kubernetes.io/revision"]')" = 3 ]
    run mk rollout undo deploy/web --to-revision 7
    [ "$status" -eq 1 ]
    [[ "$output" == *"unable to find specified revision 7 in history"* ]]

    # Restart: every pod replaced through a new revision.
    run mk rollout restart deploy/web
    [ "$status" -eq 0 ]
    [ "$output" = "deployment.apps/web restarted" ]
    [ "$(deployment_field '.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]')" != null ]
    run mk rollout status deploy/web --timeout 30s
    [ "$status" -eq 0 ]
    wait_for 20 pods_ready 3
    [ "$(count /api/v1/namespaces/default/pods ".metadata.labels[\"pod-template-hash\"] == \"$hash1\"")" = 0 ]
}

@test "controllers: rollout status fails on an exceeded progress deadline; bad usage exits 2" {
    # No node: the pods never become ready.
    body=$(deploy_json web 2 | jq -c '.spec.progressDeadlineSeconds=1')
    api POST /apis/apps/v1/namespaces/default/deployments "$body" >/dev/null
    run mk rollout status deploy/web --timeout 30s
    [ "$status" -eq 1 ]
    [[ "$output" == *'deployment "web" exceeded its progress deadline'* ]]
    run mk rollout frobnicate deploy/web
    [ "$status" -eq 2 ]
    run mk rollout status svc/web
    [ "$status" -eq 1 ]
    [[ "$output" == *"rollout supports Deployments only"* ]]
    run mk rollout status deploy/nope --no-watch
    [ "$status" -eq 1 ]
    [[ "$output" == *"not found"* ]]
}

@test "controllers: deleting a Deployment removes its ReplicaSets and pods; Orphan keeps them" {
    add_node n1
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 2)" >/dev/null
    wait_for 20 pods_ready 2
    out=$(api DELETE /apis/apps/v1/namespaces/default/deployments/web)
    [ "$(code_of "$out")" = 200 ]
    wait_for 20 pod_count_is 0
    [ "$(count /apis/apps/v1/namespaces/default/replicasets 'true')" = 0 ]

    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 2)" >/dev/null
    wait_for 20 pods_ready 2
    out=$(api DELETE '/apis/apps/v1/namespaces/default/deployments/web?propagationPolicy=Orphan')
    [ "$(code_of "$out")" = 200 ]
    sleep 1
    [ "$(count /apis/apps/v1/namespaces/default/replicasets 'true')" = 1 ]
    [ "$(count /api/v1/namespaces/default/pods 'true')" = 2 ]
    [ "$(count /apis/apps/v1/namespaces/default/replicasets '.metadata.ownerReferences == null')" = 1 ]
}

node_tainted() {
    [ "$(api GET /api/v1/nodes/n2 | sed '$d' | jq '[.spec.taints[]? | select(.key=="node.kubernetes.io/unreachable")] | length')" = 2 ]
}

node_clean() {
    [ "$(api GET /api/v1/nodes/n2 | sed '$d' | jq '[.spec.taints[]? | select(.key=="node.kubernetes.io/unreachable")] | length')" = 0 ]
}

pods_on() { count /api/v1/namespaces/default/pods ".spec.nodeName == \"$1\""; }

@test "controllers: a node that stops heartbeating is tainted, its pods move, it comes back clean" {
    # Every pod starts on n2 (the only node), then n1 joins.
    add_node n2
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 4)" >/dev/null
    wait_for 30 pods_ready 4
    [ "$(pods_on n2)" = 4 ]
    add_node n1
    wait_for 10 node_clean
    # n2's kubelet stops: NotReady + unreachable taints, then its pods are evicted and
    # replaced on n1.
    stop_daemon hollow-n2
    wait_for 20 node_tainted
    [ "$(api GET /api/v1/nodes/n2 | sed '$d' | jq -r '.status.conditions[] | select(.type=="Ready") | .status')" = Unknown ]
    wait_for 30 pods_on_is n2 0
    wait_for 30 pods_on_is n1 4
    wait_for 20 pods_ready 4
    # It heartbeats again: taints removed, no pod duplicated.
    start_daemon hollow-n2 bash "$BATS_TEST_DIRNAME/hollow_kubelet.sh" "$URL" "$TOKEN" n2
    wait_for 20 node_clean
    sleep 1
    [ "$(count /api/v1/namespaces/default/pods 'true')" = 4 ]
}

@test "controllers: node cordon, uncordon and drain" {
    add_node n1
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 2)" >/dev/null
    wait_for 20 pods_ready 2
    run mk node cordon n1
    [ "$status" -eq 0 ]
    [ "$output" = "node/n1 cordoned" ]
    [ "$(api GET /api/v1/nodes/n1 | sed '$d' | jq -r .spec.unschedulable)" = true ]
    run mk node cordon n1
    [ "$output" = "node/n1 already cordoned" ]
    run mk node uncordon n1
    [ "$status" -eq 0 ]
    [ "$(api GET /api/v1/nodes/n1 | sed '$d' | jq -r .spec.unschedulable)" = null ]
    # A pod without a controller blocks the drain unless --force.
    api POST /api/v1/namespaces/default/pods "$(pod_json bare n1)" >/dev/null
    run mk node drain n1
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot delete pod not managed by a controller: default/bare"* ]]
    [ "$(count /api/v1/namespaces/default/pods 'true')" = 3 ]
    names=$(api GET /api/v1/namespaces/default/pods | sed '$d' | jq -r '.items[].metadata.name' | sort | tr '\n' ' ')
    run mk node drain n1 --force
    [ "$status" -eq 0 ]
    [[ "$output" == *"evicting pod default/bare"* ]]
    [[ "$output" == *"node/n1 drained" ]]
    [ "$(api GET /api/v1/nodes/n1 | sed '$d' | jq -r .spec.unschedulable)" = true ]
    # The Deployment's pods come back (new names); the bare one does not.
    wait_for 20 pod_count_is 2
    api GET /api/v1/namespaces/default/pods/bare | tail -n1 | grep -qx 404
    for n in $(api GET /api/v1/namespaces/default/pods | sed '$d' | jq -r '.items[].metadata.name'); do
        [[ " $names " != *" $n "* ]]
    done
}

job_cond() { # TYPE → the Job's condition status
    [ "$(api GET /apis/batch/v1/namespaces/default/jobs/batch | sed '$d' | jq -r ".status.conditions[]? | select(.type==\"$1\") | .status")" = True ]
}

job_json() { # COMPLETIONS PHASE BACKOFF RESTART
    printf '{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"batch"},"spec":{"completions":%s,"parallelism":2,%s"template":{"metadata":{"annotations":{"hollow.minik.io/phase":"%s"}},"spec":{"restartPolicy":"%s","containers":[{"name":"work","image":"busybox"}]}}}}' \
        "$1" "${3:+\"backoffLimit\":$3,}" "$2" "${4:-Never}"
}

@test "controllers: Jobs complete, or fail at their backoffLimit; bad ones are refused" {
    add_node n1
    out=$(api POST /apis/batch/v1/namespaces/default/jobs "$(job_json 3 Succeeded)")
    [ "$(code_of "$out")" = 201 ]
    wait_for 30 job_cond Complete
    job=$(api GET /apis/batch/v1/namespaces/default/jobs/batch | sed '$d')
    [ "$(jq -r .status.succeeded <<<"$job")" = 3 ]
    [ "$(jq -r .status.active <<<"$job")" = 0 ]
    [ "$(jq -r .status.completionTime <<<"$job")" != null ]

    api DELETE /apis/batch/v1/namespaces/default/jobs/batch >/dev/null
    wait_for 20 pod_count_is 0
    out=$(api POST /apis/batch/v1/namespaces/default/jobs "$(job_json 1 Failed 1)")
    [ "$(code_of "$out")" = 201 ]
    wait_for 30 job_cond Failed
    job=$(api GET /apis/batch/v1/namespaces/default/jobs/batch | sed '$d')
    [ "$(jq -r '.status.conditions[] | select(.type=="Failed") | .reason' <<<"$job")" = BackoffLimitExceeded ]
    [ "$(jq -r .status.failed <<<"$job")" = 2 ]

    # A Job whose pods would restart for ever is refused with the field named (client-side
    # validation by proto's Job table).
    dir=$(make_tmpdir job)
    job_json 1 Succeeded "" Always >"$dir/job.json"
    run minik apply --dry-run=client -f "$dir/job.json"
    [ "$status" -eq 1 ]
    [[ "$output" == *'spec.template.spec.restartPolicy: unsupported value "Always"'* ]]
}

ds_pods_is() { [ "$(count /api/v1/namespaces/default/pods '.metadata.ownerReferences[0].kind == "DaemonSet"')" = "$1" ]; }
ds_ready() { [ "$(api GET /apis/apps/v1/namespaces/default/daemonsets/agent | sed '$d' | jq -r .status.numberReady)" = "$1" ]; }

@test "controllers: a DaemonSet runs one pod per node as nodes join and leave" {
    add_node n1
    add_node n2
    out=$(api POST /apis/apps/v1/namespaces/default/daemonsets '{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"agent","image":"busybox"}]}}}}')
    [ "$(code_of "$out")" = 201 ]
    wait_for 20 ds_pods_is 2
    [ "$(pods_on n1)" = 1 ]
    [ "$(pods_on n2)" = 1 ]
    wait_for 20 ds_ready 2
    add_node n3
    wait_for 20 ds_pods_is 3
    [ "$(pods_on n3)" = 1 ]
    api DELETE /api/v1/nodes/n3 >/dev/null
    wait_for 20 ds_pods_is 2
    [ "$(pods_on n3)" = 0 ]
}
