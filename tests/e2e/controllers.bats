#!/usr/bin/env bats
# Controllers inside the real `minik server`: Deployments (spread, scale, rolling updates
# checked through a watch, rollout status/history/undo/restart), DaemonSets, Jobs, garbage
# collection through the API, node lifecycle (heartbeat loss, tolerationSeconds, the node's
# return) and `minik node drain`. Nodes are hollow: `minik agent --hollow N` registers N
# nodes that heartbeat and report their pods Running+Ready without running anything; a
# container whose command ends in `exit N` exits with N; a file named after a node in the
# --hollow-control directory cuts that node off.

load helpers
load apiserver_helpers

# The suite's own teardown also fails a test whose hollow agents reported leaks or UB.
eval "$(declare -f teardown | sed '1s/^teardown/api_teardown/')"
teardown() {
    local st=0 f
    api_teardown || st=1
    for f in "$BATS_TEST_TMPDIR"/hollow-*.log; do
        [ -f "$f" ] || continue
        if grep -q "Sanitizer\|runtime error" "$f"; then
            cat "$f" >&2
            st=1
        fi
    done
    return $st
}

setup() {
    # The tolerationSeconds test needs an eviction timeout far longer than its toleration.
    local evict=3s
    [[ "$BATS_TEST_DESCRIPTION" == *tolerationSeconds* ]] && evict=60s
    start_server --insecure-http --node-grace-period 2s --pod-eviction-timeout "$evict"
    KUBECONFIG_FILE="$DATA/admin.conf"
    CTL=$(make_tmpdir hollow-ctl)
}

mk() { minik "$@" --kubeconfig "$KUBECONFIG_FILE"; }

nodes_ready() { # PREFIX N : N nodes PREFIX-* registered and not tainted unreachable
    [ "$(count /api/v1/nodes "(.metadata.name | startswith(\"$1-\")) and ([.spec.taints[]? | select(.key==\"node.kubernetes.io/unreachable\")] | length == 0)")" = "$2" ]
}

add_nodes() { # PREFIX N [AGENT_FLAGS...] : hollow nodes PREFIX-0..PREFIX-(N-1), one agent
    local prefix=$1 n=$2
    shift 2
    start_daemon "hollow-$prefix" "$MINIK_BIN" agent --kubeconfig "$KUBECONFIG_FILE" \
        --hollow "$n" --node-name "$prefix" --data-dir "$(make_tmpdir "hollow-$prefix")" \
        --hollow-control "$CTL" "$@"
    wait_for 20 nodes_ready "$prefix" "$n"
}

silence() { touch "$CTL/$1"; }  # NODE : cut it off (no heartbeats, watch or status)
unsilence() { rm -f "$CTL/$1"; }

count() { # PATH JQ_FILTER → number of items matching
    api GET "$1" | sed '$d' | jq "[.items[] | select($2)] | length"
}

pods_ready() { # N
    [ "$(count /api/v1/namespaces/default/pods '.status.conditions[]? | select(.type=="Ready") | .status == "True"')" = "$1" ] &&
        [ "$(count /api/v1/namespaces/default/pods 'true')" = "$1" ]
}

pod_count_is() { [ "$(count /api/v1/namespaces/default/pods 'true')" = "$1" ]; }
pods_on() { count /api/v1/namespaces/default/pods ".spec.nodeName == \"$1\""; }
pods_on_is() { [ "$(pods_on "$1")" = "$2" ]; }
pod_uids() { api GET /api/v1/namespaces/default/pods | sed '$d' | jq -r '[.items[].metadata.uid] | sort | join(",")'; }

deployment_field() { api GET /apis/apps/v1/namespaces/default/deployments/web | sed '$d' | jq -r "$1"; }
deployment_field_is() { [ "$(deployment_field "$1")" = "$2" ]; }

@test "controllers: a Deployment rolls out, rolls forward, shows history, undoes and restarts" {
    add_nodes n 1
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

    # Paused: a template change waits; resume rolls it out.
    run mk rollout pause deploy/web
    [ "$status" -eq 0 ]
    [ "$output" = "deployment.apps/web paused" ]
    run mk rollout pause deploy/web
    [ "$status" -eq 1 ]
    [[ "$output" == *"already paused"* ]]
    api PATCH /apis/apps/v1/namespaces/default/deployments/web '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:3"}]}}}}' application/merge-patch+json >/dev/null
    sleep 1
    [ "$(count /apis/apps/v1/namespaces/default/replicasets 'true')" = 2 ]
    [ "$(count /api/v1/namespaces/default/pods ".metadata.labels[\"pod-template-hash\"] == \"$hash1\"")" = 3 ]
    run mk rollout resume deploy/web
    [ "$status" -eq 0 ]
    [ "$output" = "deployment.apps/web resumed" ]
    run mk rollout status deploy/web --timeout 30s
    [ "$status" -eq 0 ]
    wait_for 20 pods_ready 3
    [ "$(count /apis/apps/v1/namespaces/default/replicasets 'true')" = 3 ]

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

per_node() { # → "count count count" of pods per node n-0, n-1, n-2
    local out=() i
    for i in 0 1 2; do out+=("$(pods_on "n-$i")"); done
    echo "${out[*]}"
}

@test "controllers: a Deployment spreads across hollow nodes and scales up and down" {
    add_nodes n 3
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 6)" >/dev/null
    wait_for 30 pods_ready 6
    [ "$(per_node)" = "2 2 2" ]
    run mk scale deploy/web --replicas 9
    [ "$status" -eq 0 ]
    wait_for 30 pods_ready 9
    [ "$(per_node)" = "3 3 3" ]
    [ "$(deployment_field .status.readyReplicas)" = 9 ]
    run mk scale deploy/web --replicas 2
    [ "$status" -eq 0 ]
    wait_for 30 pods_ready 2
    sleep 1
    pod_count_is 2
    wait_for 10 deployment_field_is .status.replicas 2
}

# ready_trace LIST_FILE WATCH_FILE : replay the watch over the list's state and print, after
# each event, "READY TOTAL" for the pods it describes.
ready_trace() {
    jq -n -r --slurpfile l "$1" '
        def ready: [.status.conditions[]? | select(.type=="Ready") | .status][0] == "True";
        foreach (inputs | select(.type != "BOOKMARK")) as $e
            ($l[0].items | map({key: .metadata.name, value: ready}) | from_entries;
             if $e.type == "DELETED" then del(.[$e.object.metadata.name])
             else .[$e.object.metadata.name] = ($e.object | ready) end;
             "\([.[] | select(.)] | length) \(length)")' "$2"
}

@test "controllers: a rolling update never drops below replicas - maxUnavailable ready pods (watched)" {
    add_nodes n 3
    body=$(deploy_json web 6 | jq -c '.spec.strategy={type:"RollingUpdate",rollingUpdate:{maxSurge:1,maxUnavailable:1}}')
    api POST /apis/apps/v1/namespaces/default/deployments "$body" >/dev/null
    run mk rollout status deploy/web --timeout 30s
    [ "$status" -eq 0 ]
    wait_for 20 pods_ready 6
    # Every pod event from here on, through one watch that starts where the list ended.
    api GET '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb' | sed '$d' >"$BATS_TEST_TMPDIR/list.json"
    rv=$(jq -r .metadata.resourceVersion "$BATS_TEST_TMPDIR/list.json")
    start_daemon watch curl -sN -H "Authorization: Bearer $TOKEN" \
        "$URL/api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Dweb&resourceVersion=$rv"
    for image in busybox:2 busybox:3; do
        api PATCH /apis/apps/v1/namespaces/default/deployments/web "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"$image\"}]}}}}" application/merge-patch+json >/dev/null
        run mk rollout status deploy/web --timeout 60s
        [ "$status" -eq 0 ]
        wait_for 20 pods_ready 6
    done
    sleep 1
    stop_daemon watch
    ready_trace "$BATS_TEST_TMPDIR/list.json" "$BATS_TEST_TMPDIR/watch.log" >"$BATS_TEST_TMPDIR/trace"
    # Two rollouts of 6 pods: at least 12 creations and 12 deletions were seen.
    [ "$(wc -l <"$BATS_TEST_TMPDIR/trace")" -ge 36 ]
    min_ready=$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/trace" | sort -n | head -n1)
    max_total=$(cut -d' ' -f2 "$BATS_TEST_TMPDIR/trace" | sort -n | tail -n1)
    echo "min ready $min_ready, max pods $max_total" >&3
    [ "$min_ready" -ge 5 ]  # replicas 6 - maxUnavailable 1
    [ "$max_total" -le 7 ]  # replicas 6 + maxSurge 1
    [ "$(tail -n1 "$BATS_TEST_TMPDIR/trace")" = "6 6" ]
    [ "$(count /api/v1/namespaces/default/pods '.spec.containers[0].image == "busybox:3"')" = 6 ]
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

@test "controllers: deleting a Deployment removes its ReplicaSets and pods; Orphan keeps them for adoption" {
    add_nodes n 1
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
    # Applying the Deployment again adopts them: same pods, no new ones.
    names=$(api GET /api/v1/namespaces/default/pods | sed '$d' | jq -r '[.items[].metadata.name] | sort | join(",")')
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 2)" >/dev/null
    rs_adopted() { [ "$(count /apis/apps/v1/namespaces/default/replicasets '.metadata.ownerReferences[0].kind == "Deployment"')" = 1 ]; }
    wait_for 20 rs_adopted
    run mk rollout status deploy/web --timeout 20s
    [ "$status" -eq 0 ]
    [ "$(api GET /api/v1/namespaces/default/pods | sed '$d' | jq -r '[.items[].metadata.name] | sort | join(",")')" = "$names" ]
    [ "$(count /apis/apps/v1/namespaces/default/replicasets 'true')" = 1 ]
}

node_taints() { # NODE → how many unreachable taints it has
    api GET "/api/v1/nodes/$1" | sed '$d' | jq '[.spec.taints[]? | select(.key=="node.kubernetes.io/unreachable")] | length'
}
node_tainted() { [ "$(node_taints "$1")" = 2 ]; }
node_clean() { [ "$(node_taints "$1")" = 0 ]; }
node_ready_status() { api GET "/api/v1/nodes/$1" | sed '$d' | jq -r '.status.conditions[] | select(.type=="Ready") | .status'; }

@test "controllers: a node that stops heartbeating is tainted, its pods move, it comes back without duplicates" {
    add_nodes a 2
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 4)" >/dev/null
    wait_for 30 pods_ready 4
    [ "$(pods_on a-0)" = 2 ]
    [ "$(pods_on a-1)" = 2 ]
    # a-1 is cut off: after the grace period it is NotReady (Unknown) and tainted; its
    # pods stay until the eviction timeout (3 s), then are replaced on a-0.
    silence a-1
    wait_for 20 node_tainted a-1
    [ "$(node_ready_status a-1)" = Unknown ]
    [ "$(pods_on a-1)" = 2 ]
    [ "$(node_ready_status a-0)" = True ]
    wait_for 30 pods_on_is a-1 0
    wait_for 30 pods_on_is a-0 4
    wait_for 20 pods_ready 4
    uids=$(pod_uids)
    # It heartbeats again: taints removed, Ready again; its agent lists its pods, finds the
    # two it ran replaced, and drops them - nothing is duplicated or written back.
    unsilence a-1
    wait_for 20 node_clean a-1
    [ "$(node_ready_status a-1)" = True ]
    wait_for 20 grep -q "hollow node back" "$BATS_TEST_TMPDIR/hollow-a.log"
    sleep 2
    [ "$(pod_uids)" = "$uids" ]
    pods_ready 4
    [ "$(grep -c 'pod removed' "$BATS_TEST_TMPDIR/hollow-a.log")" -ge 2 ]
    # A pending pod now goes to the returned node again (the one with room).
    api PATCH /apis/apps/v1/namespaces/default/deployments/web '{"spec":{"replicas":5}}' application/merge-patch+json >/dev/null
    wait_for 20 pods_on_is a-1 1
    wait_for 20 pods_ready 5
}

tol_pod() { # NAME NODE TOLERATIONS_JSON
    printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"nodeName":"%s","tolerations":%s,"containers":[{"name":"c","image":"busybox"}]}}' "$1" "$2" "$3"
}
pod_exists() { [ "$(code_of "$(api GET "/api/v1/namespaces/default/pods/$1")")" = 200 ]; }
pod_gone() { [ "$(code_of "$(api GET "/api/v1/namespaces/default/pods/$1")")" = 404 ]; }

@test "controllers: tolerationSeconds delays eviction from an unreachable node by exactly that toleration" {
    # The server's default eviction timeout here is 60 s.
    add_nodes a 1
    api POST /api/v1/namespaces/default/pods "$(tol_pod short a-0 '[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":2}]')" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(tol_pod forever a-0 '[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute"}]')" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(tol_pod other a-0 '[{"key":"gpu","operator":"Exists","effect":"NoExecute","tolerationSeconds":1}]')" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(tol_pod plain a-0 '[]')" >/dev/null
    wait_for 20 pods_ready 4
    silence a-0
    wait_for 20 node_tainted a-0
    # "short" goes after its 2 s; the others wait for the 60 s default ("other" tolerates
    # a different taint, "plain" nothing) or for ever ("forever").
    wait_for 20 pod_gone short
    pod_exists plain
    pod_exists other
    pod_exists forever
    grep -q 'evicting pod from unreachable node.*pod=short' "$BATS_TEST_TMPDIR/server.log"
    ! grep -q 'evicting pod from unreachable node.*pod=plain' "$BATS_TEST_TMPDIR/server.log"
    unsilence a-0
    wait_for 20 node_clean a-0
    sleep 1
    pod_exists plain
    pod_exists forever
}

@test "controllers: node cordon, uncordon and drain" {
    add_nodes n 1
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 2)" >/dev/null
    wait_for 20 pods_ready 2
    run mk node cordon n-0
    [ "$status" -eq 0 ]
    [ "$output" = "node/n-0 cordoned" ]
    [ "$(api GET /api/v1/nodes/n-0 | sed '$d' | jq -r .spec.unschedulable)" = true ]
    run mk node cordon n-0
    [ "$output" = "node/n-0 already cordoned" ]
    run mk node uncordon n-0
    [ "$status" -eq 0 ]
    [ "$(api GET /api/v1/nodes/n-0 | sed '$d' | jq -r .spec.unschedulable)" = null ]
    # A pod without a controller blocks the drain unless --force.
    api POST /api/v1/namespaces/default/pods "$(pod_json bare n-0)" >/dev/null
    # A DaemonSet pod is left where it is.
    api POST /apis/apps/v1/namespaces/default/daemonsets '{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"agent","image":"busybox"}]}}}}' >/dev/null
    wait_for 20 pod_count_is 4
    run mk node drain n-0
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot delete pod not managed by a controller: default/bare"* ]]
    [ "$(count /api/v1/namespaces/default/pods 'true')" = 4 ]
    names=$(api GET /api/v1/namespaces/default/pods | sed '$d' | jq -r '.items[].metadata.name' | sort | tr '\n' ' ')
    run mk node drain n-0 --force
    [ "$status" -eq 0 ]
    [[ "$output" == *"evicting pod default/bare"* ]]
    [[ "$output" == *"ignoring DaemonSet-managed pod default/agent-"* ]]
    [[ "$output" == *"node/n-0 drained" ]]
    [ "$(api GET /api/v1/nodes/n-0 | sed '$d' | jq -r .spec.unschedulable)" = true ]
    # The Deployment's pods come back (new names); the bare one does not.
    wait_for 20 pod_count_is 3
    api GET /api/v1/namespaces/default/pods/bare | tail -n1 | grep -qx 404
    for n in $(api GET /api/v1/namespaces/default/pods | sed '$d' | jq -r '.items[] | select(.metadata.ownerReferences[0].kind == "ReplicaSet") | .metadata.name'); do
        [[ " $names " != *" $n "* ]]
    done
    [ "$(count /api/v1/namespaces/default/pods '.metadata.ownerReferences[0].kind == "DaemonSet"')" = 1 ]
}

job_cond() { # TYPE → the Job's condition status
    [ "$(api GET /apis/batch/v1/namespaces/default/jobs/batch | sed '$d' | jq -r ".status.conditions[]? | select(.type==\"$1\") | .status")" = True ]
}

job_json() { # COMPLETIONS EXIT_CODE [BACKOFF] [RESTART] : hollow containers exit with EXIT_CODE
    printf '{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"batch"},"spec":{"completions":%s,"parallelism":2,%s"template":{"spec":{"restartPolicy":"%s","containers":[{"name":"work","image":"busybox","command":["sh","-c","exit %s"]}]}}}}' \
        "$1" "${3:+\"backoffLimit\":$3,}" "${4:-Never}" "$2"
}

@test "controllers: Jobs complete, or fail at their backoffLimit; bad ones are refused" {
    add_nodes n 2
    out=$(api POST /apis/batch/v1/namespaces/default/jobs "$(job_json 3 0)")
    [ "$(code_of "$out")" = 201 ]
    wait_for 30 job_cond Complete
    job=$(api GET /apis/batch/v1/namespaces/default/jobs/batch | sed '$d')
    [ "$(jq -r .status.succeeded <<<"$job")" = 3 ]
    [ "$(jq -r .status.active <<<"$job")" = 0 ]
    [ "$(jq -r .status.completionTime <<<"$job")" != null ]
    # Each pod ran to completion on a hollow node, exit code 0.
    [ "$(count /api/v1/namespaces/default/pods '.status.phase == "Succeeded" and .status.containerStatuses[0].state.terminated.exitCode == 0')" = 3 ]

    api DELETE /apis/batch/v1/namespaces/default/jobs/batch >/dev/null
    wait_for 20 pod_count_is 0
    out=$(api POST /apis/batch/v1/namespaces/default/jobs "$(job_json 1 3 1)")
    [ "$(code_of "$out")" = 201 ]
    wait_for 30 job_cond Failed
    job=$(api GET /apis/batch/v1/namespaces/default/jobs/batch | sed '$d')
    [ "$(jq -r '.status.conditions[] | select(.type=="Failed") | .reason' <<<"$job")" = BackoffLimitExceeded ]
    [ "$(jq -r .status.failed <<<"$job")" = 2 ]
    # backoffLimit 1: two pods failed (exit 3), and no third was started.
    sleep 1
    [ "$(count /api/v1/namespaces/default/pods '.status.phase == "Failed" and .status.containerStatuses[0].state.terminated.exitCode == 3')" = 2 ]
    pod_count_is 2

    # A Job whose pods would restart for ever is refused with the field named (client-side
    # validation by proto's Job table).
    dir=$(make_tmpdir job)
    job_json 1 0 "" Always >"$dir/job.json"
    run minik apply --dry-run=client -f "$dir/job.json"
    [ "$status" -eq 1 ]
    [[ "$output" == *'spec.template.spec.restartPolicy: unsupported value "Always"'* ]]
}

ds_pods_is() { [ "$(count /api/v1/namespaces/default/pods '.metadata.ownerReferences[0].kind == "DaemonSet"')" = "$1" ]; }
ds_ready() { [ "$(api GET /apis/apps/v1/namespaces/default/daemonsets/agent | sed '$d' | jq -r .status.numberReady)" = "$1" ]; }

@test "controllers: a DaemonSet runs one pod per eligible node as nodes join and leave" {
    add_nodes n 2
    out=$(api POST /apis/apps/v1/namespaces/default/daemonsets '{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"agent","image":"busybox"}]}}}}')
    [ "$(code_of "$out")" = 201 ]
    wait_for 20 ds_pods_is 2
    [ "$(pods_on n-0)" = 1 ]
    [ "$(pods_on n-1)" = 1 ]
    wait_for 20 ds_ready 2
    # Two nodes join from another agent: one tainted, which the daemon does not tolerate.
    add_nodes m 2 --taints 'dedicated={i}:NoSchedule'
    [ "$(api GET /api/v1/nodes/m-1 | sed '$d' | jq -c .spec.taints)" = '[{"key":"dedicated","value":"1","effect":"NoSchedule"}]' ]
    api PATCH /api/v1/nodes/m-0 '{"spec":{"taints":null}}' application/merge-patch+json >/dev/null
    wait_for 20 ds_pods_is 3
    [ "$(pods_on m-0)" = 1 ]
    [ "$(pods_on m-1)" = 0 ]
    wait_for 20 ds_ready 3
    # Those nodes leave: their agent stops and they are deleted.
    stop_daemon hollow-m
    api DELETE /api/v1/nodes/m-0 >/dev/null
    api DELETE /api/v1/nodes/m-1 >/dev/null
    wait_for 20 ds_pods_is 2
    [ "$(pods_on m-0)" = 0 ]
}
