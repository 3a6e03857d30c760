#!/usr/bin/env bats
# minik server: object verbs, subresources, cascading delete and watch streams.

load helpers
load apiserver_helpers

setup() {
    start_server --insecure-http --event-retention 5 --disable-scheduler
}

@test "objects: create, get, list, duplicate, delete" {
    out=$(api POST /api/v1/namespaces/default/pods "$(pod_json web-1 n1)")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .metadata.namespace)" = default ]
    [ "$(jqr "$out" .metadata.generation)" = 1 ]
    [[ "$(jqr "$out" .metadata.uid)" =~ ^[0-9a-f-]{36}$ ]]
    rv=$(jqr "$out" .metadata.resourceVersion)
    out=$(api GET /api/v1/namespaces/default/pods/web-1)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .metadata.resourceVersion)" = "$rv" ]
    out=$(api POST /api/v1/namespaces/default/pods "$(pod_json web-1 n1)")
    [ "$(code_of "$out")" = 409 ]
    [ "$(jqr "$out" .reason)" = AlreadyExists ]
    out=$(api GET /api/v1/namespaces/default/pods)
    [ "$(jqr "$out" .kind)" = PodList ]
    [ "$(jqr "$out" '.items | length')" = 1 ]
    [ "$(jqr "$out" .metadata.resourceVersion)" -ge "$rv" ]
    out=$(api DELETE /api/v1/namespaces/default/pods/web-1)
    [ "$(code_of "$out")" = 200 ]
    out=$(api GET /api/v1/namespaces/default/pods/web-1)
    [ "$(code_of "$out")" = 404 ]
    [ "$(jqr "$out" .reason)" = NotFound ]
    [ "$(jqr "$out" .kind)" = Status ]
    out=$(api DELETE /api/v1/namespaces/default/pods/web-1)
    [ "$(code_of "$out")" = 404 ]
}

@test "objects: namespaces must exist and match; generateName; cluster-scoped nodes" {
    out=$(api POST /api/v1/namespaces/nope/pods "$(pod_json a)")
    [ "$(code_of "$out")" = 404 ]
    [[ "$(jqr "$out" .message)" == *'namespaces "nope" not found'* ]]
    body=$(pod_json a | jq -c '.metadata.namespace="other"')
    out=$(api POST /api/v1/namespaces/default/pods "$body")
    [ "$(code_of "$out")" = 400 ]
    [[ "$(jqr "$out" .message)" == *"does not match the namespace"* ]]
    out=$(api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}')
    [ "$(code_of "$out")" = 201 ]
    body=$(pod_json x | jq -c 'del(.metadata.name) | .metadata.generateName="web-"')
    out=$(api POST /api/v1/namespaces/team/pods "$body")
    [ "$(code_of "$out")" = 201 ]
    [[ "$(jqr "$out" .metadata.name)" =~ ^web-[a-z0-9]{5}$ ]]
    out=$(api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}')
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .metadata.namespace)" = null ]
    # All-namespaces list.
    api POST /api/v1/namespaces/default/pods "$(pod_json b)" >/dev/null
    out=$(api GET /api/v1/pods)
    [ "$(jqr "$out" '[.items[].metadata.namespace] | sort | join(",")')" = "default,team" ]
    # Kind mismatch with the URL.
    out=$(api POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}')
    [ "$(code_of "$out")" = 400 ]
    # Invalid names are 422 with causes.
    out=$(api POST /api/v1/namespaces/default/pods "$(pod_json Bad_Name)")
    [ "$(code_of "$out")" = 422 ]
    [ "$(jqr "$out" .reason)" = Invalid ]
    [ "$(jqr "$out" '.details.causes[0].field')" = metadata.name ]
}

@test "objects: label and field selectors" {
    api POST /api/v1/namespaces/default/pods "$(pod_json a n1 web)" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(pod_json b n2 web)" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(pod_json c n1 db)" >/dev/null
    out=$(api GET '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')
    [ "$(jqr "$out" '[.items[].metadata.name] | join(",")')" = "a,b" ]
    out=$(api GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')
    [ "$(jqr "$out" '[.items[].metadata.name] | join(",")')" = "a,c" ]
    out=$(api GET '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&labelSelector=app+in+(db)')
    [ "$(jqr "$out" '[.items[].metadata.name] | join(",")')" = "c" ]
    out=$(api GET '/api/v1/pods?labelSelector=app+in+(')
    [ "$(code_of "$out")" = 400 ]
}

@test "update: PUT is compare-and-swap on resourceVersion; generation follows spec" {
    # A Service: nothing else writes it (the controllers write a Deployment's status as soon
    # as it exists, which would make this test's own resourceVersions stale).
    out=$(api POST /api/v1/namespaces/default/services '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}')
    rv=$(jqr "$out" .metadata.resourceVersion)
    obj=$(body_of "$out")
    # A label change keeps the generation.
    out=$(api PUT /api/v1/namespaces/default/services/web "$(jq -c '.metadata.labels={"x":"y"}' <<<"$obj")")
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .metadata.generation)" = 1 ]
    rv2=$(jqr "$out" .metadata.resourceVersion)
    [ "$rv2" -gt "$rv" ]
    # The old resourceVersion is stale now.
    out=$(api PUT /api/v1/namespaces/default/services/web "$(jq -c '.spec.ports[0].port=8080' <<<"$obj")")
    [ "$(code_of "$out")" = 409 ]
    [ "$(jqr "$out" .reason)" = Conflict ]
    obj2=$(api GET /api/v1/namespaces/default/services/web | sed '$d')
    out=$(api PUT /api/v1/namespaces/default/services/web "$(jq -c '.spec.ports[0].port=8080' <<<"$obj2")")
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .metadata.generation)" = 2 ]
    [ "$(jqr "$out" .spec.ports[0].port)" = 8080 ]
    # Name on the URL and in the body must agree.
    out=$(api PUT /api/v1/namespaces/default/services/web "$(jq -c '.metadata.name="other" | del(.metadata.resourceVersion)' <<<"$obj2")")
    [ "$(code_of "$out")" = 400 ]
    out=$(api PUT /apis/apps/v1/namespaces/default/deployments/nope "$(deploy_json nope 1)")
    [ "$(code_of "$out")" = 404 ]
}

@test "update: two concurrent PUTs with the same resourceVersion: exactly one wins" {
    out=$(api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"data":{"v":"0"}}')
    obj=$(body_of "$out")
    pids=()
    for i in 1 2 3 4 5 6; do
        (api PUT /api/v1/namespaces/default/configmaps/cm "$(jq -c ".data.v=\"$i\"" <<<"$obj")" | tail -n1 >"$BATS_TEST_TMPDIR/put.$i"; echo >>"$BATS_TEST_TMPDIR/put.$i") &
        pids+=($!)
    done
    wait "${pids[@]}"
    codes=$(cat "$BATS_TEST_TMPDIR"/put.* | sort | uniq -c | awk '{print $2":"$1}' | paste -sd' ')
    echo "codes: $codes"
    [ "$codes" = "200:1 409:5" ]
}

@test "patch: concurrent patches without a resourceVersion all apply (server retries)" {
    api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}' >/dev/null
    pids=()
    for i in 1 2 3 4 5 6; do
        (api PATCH /api/v1/namespaces/default/configmaps/cm "{\"data\":{\"k$i\":\"$i\"}}" application/merge-patch+json | tail -n1 >"$BATS_TEST_TMPDIR/patch.$i"; echo >>"$BATS_TEST_TMPDIR/patch.$i") &
        pids+=($!)
    done
    wait "${pids[@]}"
    [ "$(cat "$BATS_TEST_TMPDIR"/patch.* | grep -c '^200$')" = 6 ]
    out=$(api GET /api/v1/namespaces/default/configmaps/cm)
    [ "$(jqr "$out" '.data | keys | length')" = 6 ]
}

@test "patch: merge, strategic (as merge) and JSON patch; unsupported types" {
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 1)" >/dev/null
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '{"spec":{"replicas":3},"metadata":{"labels":{"a":"b"}}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .spec.replicas)" = 3 ]
    [ "$(jqr "$out" .metadata.labels.a)" = b ]
    [ "$(jqr "$out" .metadata.generation)" = 2 ]
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '{"metadata":{"labels":{"a":null}}}' application/strategic-merge-patch+json)
    [ "$(jqr "$out" '.metadata.labels.a')" = null ]
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '[{"op":"test","path":"/spec/replicas","value":3},{"op":"replace","path":"/spec/replicas","value":4},{"op":"add","path":"/metadata/annotations","value":{"k":"v"}}]' application/json-patch+json)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .spec.replicas)" = 4 ]
    [ "$(jqr "$out" .metadata.annotations.k)" = v ]
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '[{"op":"test","path":"/spec/replicas","value":99}]' application/json-patch+json)
    [ "$(code_of "$out")" = 422 ]
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '[{"op":"remove","path":"/nope"}]' application/json-patch+json)
    [ "$(code_of "$out")" = 422 ]
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '{}' application/apply-patch+yaml)
    [ "$(code_of "$out")" = 415 ]
    # A stale resourceVersion in a patch is a precondition.
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web '{"metadata":{"resourceVersion":"1"},"spec":{"replicas":1}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 409 ]
}

@test "status subresource: only /status writes status; the main resource keeps it" {
    out=$(api POST /api/v1/namespaces/default/pods "$(pod_json p n1)")
    obj=$(body_of "$out")
    out=$(api PUT /api/v1/namespaces/default/pods/p/status "$(jq -c '.status={"phase":"Running"} | .spec.nodeName="sneaky"' <<<"$obj")")
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .status.phase)" = Running ]
    [ "$(jqr "$out" .spec.nodeName)" = n1 ]
    [ "$(jqr "$out" .metadata.generation)" = 1 ]
    out=$(api PATCH /api/v1/namespaces/default/pods/p/status '{"status":{"podIP":"10.0.0.5"}}' application/merge-patch+json)
    [ "$(jqr "$out" .status.podIP)" = 10.0.0.5 ]
    [ "$(jqr "$out" .status.phase)" = Running ]
    # A PUT on the object itself cannot change status.
    cur=$(api GET /api/v1/namespaces/default/pods/p | sed '$d')
    out=$(api PUT /api/v1/namespaces/default/pods/p "$(jq -c '.status={"phase":"Failed"} | .metadata.labels.x="1"' <<<"$cur")")
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .status.phase)" = Running ]
    [ "$(jqr "$out" .metadata.labels.x)" = 1 ]
}

@test "scale subresource and pods/binding" {
    api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 2)" >/dev/null
    out=$(api GET /apis/apps/v1/namespaces/default/deployments/web/scale)
    [ "$(jqr "$out" .kind)" = Scale ]
    [ "$(jqr "$out" .apiVersion)" = autoscaling/v1 ]
    [ "$(jqr "$out" .spec.replicas)" = 2 ]
    [ "$(jqr "$out" .status.selector)" = app=web ]
    out=$(api PUT /apis/apps/v1/namespaces/default/deployments/web/scale '{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":7}}')
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .spec.replicas)" = 7 ]
    out=$(api PATCH /apis/apps/v1/namespaces/default/deployments/web/scale '{"spec":{"replicas":4}}' application/merge-patch+json)
    [ "$(jqr "$out" .spec.replicas)" = 4 ]
    out=$(api GET /apis/apps/v1/namespaces/default/deployments/web)
    [ "$(jqr "$out" .spec.replicas)" = 4 ]
    [ "$(jqr "$out" .metadata.generation)" = 3 ]
    out=$(api PUT /apis/apps/v1/namespaces/default/deployments/web/scale '{"spec":{"replicas":-1}}')
    [ "$(code_of "$out")" = 422 ]

    api POST /api/v1/namespaces/default/pods "$(pod_json p)" >/dev/null
    out=$(api POST /api/v1/namespaces/default/pods/p/binding '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"apiVersion":"v1","kind":"Node","name":"n1"}}')
    [ "$(code_of "$out")" = 201 ]
    out=$(api GET /api/v1/namespaces/default/pods/p)
    [ "$(jqr "$out" .spec.nodeName)" = n1 ]
    out=$(api POST /api/v1/namespaces/default/pods/p/binding '{"target":{"kind":"Node","name":"n2"}}')
    [ "$(code_of "$out")" = 409 ]
}

owned_rs() { # NAME OWNER_UID
    printf '{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"%s","ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"%s","controller":true}]},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' "$1" "$2"
}
owned_pod() { # NAME OWNER_UID
    pod_json "$1" | jq -c --arg u "$2" '.metadata.ownerReferences=[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":$u}]'
}

@test "delete: cascades through ownerReferences; Orphan keeps dependents" {
    duid=$(api POST /apis/apps/v1/namespaces/default/deployments "$(deploy_json web 1)" | jqr "$(cat)" .metadata.uid 2>/dev/null || true)
    duid=$(api GET /apis/apps/v1/namespaces/default/deployments/web | sed '$d' | jq -r .metadata.uid)
    rsuid=$(api POST /apis/apps/v1/namespaces/default/replicasets "$(owned_rs rs "$duid")" | sed '$d' | jq -r .metadata.uid)
    api POST /api/v1/namespaces/default/pods "$(owned_pod p1 "$rsuid")" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(pod_json free)" >/dev/null
    out=$(api DELETE /apis/apps/v1/namespaces/default/deployments/web)
    [ "$(code_of "$out")" = 200 ]
    wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $TOKEN' $URL/api/v1/namespaces/default/pods/p1)\" = 404 ]"
    out=$(api GET /apis/apps/v1/namespaces/default/replicasets/rs)
    [ "$(code_of "$out")" = 404 ]
    out=$(api GET /api/v1/namespaces/default/pods/free)
    [ "$(code_of "$out")" = 200 ]

    # Orphan: the dependent stays and loses its reference. ConfigMaps, so that no
    # controller (the Deployment controller adopts and prunes ReplicaSets) races the check.
    ouid=$(api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owner"}}' | sed '$d' | jq -r .metadata.uid)
    api POST /api/v1/namespaces/default/configmaps "$(jq -nc --arg u "$ouid" '{apiVersion:"v1",kind:"ConfigMap",metadata:{name:"dep",ownerReferences:[{apiVersion:"v1",kind:"ConfigMap",name:"owner",uid:$u}]}}')" >/dev/null
    out=$(api DELETE '/api/v1/namespaces/default/configmaps/owner?propagationPolicy=Orphan')
    [ "$(code_of "$out")" = 200 ]
    wait_for 10 bash -c "curl -s -H 'Authorization: Bearer $TOKEN' $URL/api/v1/namespaces/default/configmaps/dep | jq -e '.metadata.ownerReferences == null'"
    out=$(api DELETE /api/v1/namespaces/default/configmaps/dep '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"1"}}')
    [ "$(code_of "$out")" = 409 ]
}

@test "delete: a namespace takes its objects with it" {
    api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"tmp"}}' >/dev/null
    api POST /api/v1/namespaces/tmp/pods "$(pod_json p)" >/dev/null
    api POST /api/v1/namespaces/tmp/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}' >/dev/null
    out=$(api DELETE /api/v1/namespaces/tmp)
    [ "$(code_of "$out")" = 200 ]
    wait_for 10 bash -c "curl -s -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/pods' | jq -e '.items | length == 0'"
    out=$(api GET /api/v1/namespaces/tmp/configmaps/c)
    [ "$(code_of "$out")" = 404 ]
}

@test "watch: initial state, then ADDED/MODIFIED/DELETED in order, filtered by selector" {
    api POST /api/v1/namespaces/default/pods "$(pod_json before n1)" >/dev/null
    curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dweb&timeoutSeconds=5" >"$BATS_TEST_TMPDIR/w1" &
    wpid=$!
    wait_for 5 grep -q before "$BATS_TEST_TMPDIR/w1"
    api POST /api/v1/namespaces/default/pods "$(pod_json p1 n1)" >/dev/null
    api POST /api/v1/namespaces/default/pods "$(pod_json other x other)" >/dev/null
    api PATCH /api/v1/namespaces/default/pods/p1 '{"metadata":{"labels":{"v":"2"}}}' application/merge-patch+json >/dev/null
    api DELETE /api/v1/namespaces/default/pods/p1 >/dev/null
    wait_for 5 grep -q DELETED "$BATS_TEST_TMPDIR/w1"
    wait "$wpid" # timeoutSeconds ends the stream
    run jq -r '.type + ":" + .object.metadata.name' "$BATS_TEST_TMPDIR/w1"
    echo "$output"
    [ "$output" = "$(printf 'ADDED:before\nADDED:p1\nMODIFIED:p1\nDELETED:p1')" ]
}

@test "watch: resume from a resourceVersion; 410 Gone as an ERROR event when too old" {
    out=$(api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c0"}}')
    rv=$(jqr "$out" .metadata.resourceVersion)
    api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"}}' >/dev/null
    run curl -s -m 5 -H "Authorization: Bearer $TOKEN" "$URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=1"
    [ "$(jq -r '.type + ":" + .object.metadata.name' <<<"$output")" = "ADDED:c1" ]
    # The feed keeps 5 events (--event-retention 5): push rv far past it.
    for i in 2 3 4 5 6 7 8 9; do
        api POST /api/v1/namespaces/default/configmaps "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c$i\"}}" >/dev/null
    done
    run curl -s -m 5 -H "Authorization: Bearer $TOKEN" "$URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv"
    echo "$output"
    [ "$(jq -r .type <<<"$output")" = ERROR ]
    [ "$(jq -r .object.code <<<"$output")" = 410 ]
    [ "$(jq -r .object.reason <<<"$output")" = Gone ]
}

@test "shutdown: SIGTERM during writes exits 0 and every acknowledged create survives" {
    pids=()
    for i in $(seq 1 40); do
        (api POST /api/v1/namespaces/default/configmaps "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c$i\"}}" | tail -n1 >"$BATS_TEST_TMPDIR/post.$i") &
        pids+=($!)
    done
    sleep 0.05
    curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/pods?watch=1" >/dev/null &
    pids+=($!)
    stop_daemon server
    wait "${pids[@]}" || true
    [ "$DAEMON_STATUS" -eq 0 ]
    acked=$(grep -l '^201$' "$BATS_TEST_TMPDIR"/post.* | wc -l)
    echo "acknowledged: $acked"
    restart_server --new-port
    for f in $(grep -l '^201$' "$BATS_TEST_TMPDIR"/post.*); do
        i=${f##*.}
        out=$(api GET "/api/v1/namespaces/default/configmaps/c$i")
        [ "$(code_of "$out")" = 200 ]
    done
}

@test "metrics: requests by verb/resource/code, latency histogram, objects, watches" {
    api POST /api/v1/namespaces/default/pods "$(pod_json p)" >/dev/null
    api GET /api/v1/namespaces/default/pods/nope >/dev/null
    curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/pods?watch=1&timeoutSeconds=3" >/dev/null &
    wpid=$!
    sleep 0.5
    out=$(api GET /metrics)
    [ "$(code_of "$out")" = 200 ]
    m=$(body_of "$out")
    grep -q 'minik_apiserver_requests_total{verb="create",resource="pods",code="201"} 1' <<<"$m"
    grep -q 'minik_apiserver_requests_total{verb="get",resource="pods",code="404"} 1' <<<"$m"
    grep -q 'minik_apiserver_request_duration_seconds_bucket{verb="create",le="+Inf"} 1' <<<"$m"
    grep -q 'minik_apiserver_objects{kind="Pod"} 1' <<<"$m"
    grep -q 'minik_apiserver_objects{kind="Namespace"} 1' <<<"$m"
    grep -q '^minik_apiserver_watches 1$' <<<"$m"
    wait "$wpid"
}

@test "admission: proto validation (422 with causes) and defaulting on create and update" {
    body=$(deploy_json web 1 | jq -c '.spec.template.spec.containers[0].imagePullPolicyy="Always" | .spec.replicas=-3')
    out=$(api POST /apis/apps/v1/namespaces/default/deployments "$body")
    [ "$(code_of "$out")" = 422 ]
    [ "$(jqr "$out" .reason)" = Invalid ]
    fields=$(jqr "$out" '[.details.causes[].field] | sort | join(",")')
    echo "$fields"
    [[ "$fields" == *"spec.replicas"* ]]
    [[ "$fields" == *"spec.template.spec.containers[0].imagePullPolicyy"* ]]
    # Unknown fields only warn when the client asks for it; defaults are filled in.
    body=$(deploy_json web 1 | jq -c '.spec.template.spec.containers[0].imagePullPolicyy="Always"')
    out=$(api POST '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Warn' "$body")
    [ "$(code_of "$out")" = 201 ]
    out=$(api POST /api/v1/namespaces/default/pods "$(pod_json p)")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .spec.restartPolicy)" = Always ]
    # Updates are validated too.
    out=$(api PATCH /api/v1/namespaces/default/pods/p '{"spec":{"restartPolicy":"Sometimes"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 422 ]
    [ "$(jqr "$out" '.details.causes[0].field')" = spec.restartPolicy ]
}

@test "update: a write that changes nothing keeps the resourceVersion and sends no event" {
    out=$(api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"same"},"data":{"a":"1"}}')
    rv=$(jqr "$out" .metadata.resourceVersion)
    curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=2" >"$BATS_TEST_TMPDIR/w" &
    wpid=$!
    out=$(api PATCH /api/v1/namespaces/default/configmaps/same '{"data":{"a":"1"}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .metadata.resourceVersion)" = "$rv" ]
    out=$(api PUT /api/v1/namespaces/default/configmaps/same "$(api GET /api/v1/namespaces/default/configmaps/same | sed '$d')")
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .metadata.resourceVersion)" = "$rv" ]
    out=$(api PATCH /api/v1/namespaces/default/configmaps/same '{"data":{"a":"2"}}' application/merge-patch+json)
    [ "$(jqr "$out" .metadata.resourceVersion)" -gt "$rv" ]
    wait "$wpid"
    run jq -r '.type + ":" + .object.data.a' "$BATS_TEST_TMPDIR/w"
    [ "$output" = "MODIFIED:2" ]
}

@test "dry run: ?dryRun=All admits and answers but stores nothing" {
    out=$(api POST '/api/v1/namespaces/default/pods?dryRun=All' "$(pod_json dry n1)")
    [ "$(code_of "$out")" = 201 ]
    [ "$(jqr "$out" .spec.restartPolicy)" = Always ]
    out=$(api GET /api/v1/namespaces/default/pods/dry)
    [ "$(code_of "$out")" = 404 ]
    out=$(api POST '/api/v1/namespaces/default/pods?dryRun=All' "$(pod_json Bad_Name)")
    [ "$(code_of "$out")" = 422 ]
    out=$(api POST /api/v1/namespaces/default/pods "$(pod_json real n1)")
    rv=$(jqr "$out" .metadata.resourceVersion)
    out=$(api POST '/api/v1/namespaces/default/pods?dryRun=All' "$(pod_json real n1)")
    [ "$(code_of "$out")" = 409 ]
    out=$(api PATCH '/api/v1/namespaces/default/pods/real?dryRun=All' '{"metadata":{"labels":{"x":"y"}}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .metadata.labels.x)" = y ]
    out=$(api DELETE '/api/v1/namespaces/default/pods/real?dryRun=All')
    [ "$(code_of "$out")" = 200 ]
    out=$(api GET /api/v1/namespaces/default/pods/real)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" .metadata.resourceVersion)" = "$rv" ]
    [ "$(jqr "$out" .metadata.labels.x)" = null ]
    out=$(api DELETE '/api/v1/namespaces/default/pods/real?dryRun=Some')
    [ "$(code_of "$out")" = 400 ]
}
