#!/usr/bin/env bats
# Container lifecycle pieces of the agent: postStart hooks, named probe ports, pod-level
# cgroups, and images pulled with a pod's imagePullSecrets from a registry that needs a
# login (docker-registry with htpasswd).

load helpers
load apiserver_helpers
load images_lib
load agent_lib

teardown() {
    agent_suite_teardown
}

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    # Every pod here pulls with the "regcred" Secret made below, or fails to.
    agent_setup alice s3cret
    local auth
    auth=$(printf alice:s3cret | base64)
    jq -n --arg reg "$REG" --arg auth "$auth" '{auths: {($reg): {auth: $auth}}}' \
        >"$BATS_TEST_TMPDIR/dockerconfig.json"
    jq -n --arg cfg "$(base64 -w0 "$BATS_TEST_TMPDIR/dockerconfig.json")" '{apiVersion: "v1",
        kind: "Secret", metadata: {name: "regcred"}, type: "kubernetes.io/dockerconfigjson",
        data: {".dockerconfigjson": $cfg}}' | kc apply -f - >/dev/null
}

# lpod NAME COMMAND [EXTRA_SPEC_JSON] : pod_yaml with the registry's pull secret.
lpod() { pod_yaml "$@" | jq '.spec.imagePullSecrets=[{"name":"regcred"}]'; }

event_reasons() { # POD
    kc get events -o json | jq -r --arg p "$1" '.items[] | select(.involvedObject.name==$p) | .reason'
}

@test "agent lifecycle: imagePullSecrets log in to the registry; without them the pull is refused" {
    pod_yaml nosecret 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 bash -c "[ \"\$('$MINIK_BIN' get pod nosecret -o json | jq -r '.status.containerStatuses[0].state.waiting.reason')\" = ErrImagePull ]"
    [[ "$(pod_field nosecret '.status.containerStatuses[0].state.waiting.message')" == *"requires a login"* ]]
    lpod withsecret 'echo pulled-with-secret; exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is withsecret Running
    wait_for 10 bash -c "'$MINIK_BIN' logs withsecret | grep -qx pulled-with-secret"
}

@test "agent lifecycle: a postStart hook runs in the container; a failing one kills it" {
    # The main process waits for what the hook writes inside the container.
    lpod post 'while [ ! -e /tmp/hooked ]; do /bin/busybox sleep 0.1; done; cat /tmp/hooked; exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].lifecycle={"postStart":{"exec":{"command":["/bin/busybox","sh","-c","echo hooked-by-$HOSTNAME > /tmp/hooked"]}}}' |
        kc apply -f -
    wait_for 30 pod_phase_is post Running
    wait_for 10 bash -c "'$MINIK_BIN' logs post | grep -qx hooked-by-post"
    lpod badpost 'exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].lifecycle={"postStart":{"exec":{"command":["/bin/busybox","sh","-c","exit 3"]}}}' |
        kc apply -f -
    wait_for 30 bash -c "[ \"\$('$MINIK_BIN' get pod badpost -o json | jq -r '.status.containerStatuses[0].restartCount')\" -ge 1 ]"
    event_reasons badpost | grep -qx FailedPostStartHook
    [[ "$(kc get events -o json | jq -r '.items[] | select(.reason=="FailedPostStartHook") | .message' | head -1)" == *"exited with 3"* ]]
}

@test "agent lifecycle: probes may name a container port" {
    # busybox httpd answers on the port the container calls "web".
    lpod named 'mkdir -p /tmp/www; echo ok > /tmp/www/index.html; exec /bin/busybox httpd -f -p 8080 -h /tmp/www' |
        jq '.spec.containers[0].ports=[{"name":"web","containerPort":8080}]
            | .spec.containers[0].readinessProbe={"httpGet":{"path":"/","port":"web"},"periodSeconds":1}
            | .spec.containers[0].livenessProbe={"tcpSocket":{"port":"web"},"periodSeconds":1,"failureThreshold":2}' |
        kc apply -f -
    wait_for 30 bash -c "[ \"\$('$MINIK_BIN' get pod named -o json | jq -r '.status.containerStatuses[0].ready')\" = true ]"
    sleep 3
    [ "$(pod_field named '.status.containerStatuses[0].restartCount')" = 0 ]
    # A name no port has: the probe fails and says why.
    lpod unnamed 'exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].readinessProbe={"tcpSocket":{"port":"nope"},"periodSeconds":1}' |
        kc apply -f -
    wait_for 30 bash -c "'$MINIK_BIN' get events -o json | jq -r '.items[] | select(.involvedObject.name==\"unnamed\" and .reason==\"Unhealthy\") | .message' | grep -q 'names no port of container c'"
    [ "$(pod_field unnamed '.status.containerStatuses[0].ready')" = false ]
}

# cgroup_dir PATH : where a cgroup path lives for memory (v1/hybrid or v2).
mem_cgroup_dir() {
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup$1"; else echo "/sys/fs/cgroup/memory$1"; fi
}

@test "agent lifecycle: a pod has its own cgroup with the pod's limits, parent of its containers'" {
    lpod pcg 'exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].resources={"limits":{"memory":"32Mi","cpu":"200m"}}
            | .spec.containers += [{"name":"d","image":.spec.containers[0].image,"command":["/bin/busybox","sleep","1000"],
                                     "resources":{"limits":{"memory":"48Mi","cpu":"300m"}}}]' |
        kc apply -f -
    wait_for 30 pod_phase_is pcg Running
    local uid dir pid
    uid=$(pod_field pcg .metadata.uid)
    dir=$(mem_cgroup_dir "/minik/pod-$uid")
    [ -d "$dir" ]
    # 32Mi + 48Mi.
    if [ -f "$dir/memory.max" ]; then
        [ "$(cat "$dir/memory.max")" = $((80 * 1048576)) ]
    else
        [ "$(cat "$dir/memory.limit_in_bytes")" = $((80 * 1048576)) ]
    fi
    # Each container's group is inside the pod's.
    for c in c d; do
        pid=$(jq -r .pid "$ADIR"/oci/*-$c-0/state.json)
        grep -q "/minik/pod-$uid/$uid-$c-0\$" "/proc/$pid/cgroup"
    done
    # The node's stats report the pod's own group.
    local out
    out=$(api GET /api/v1/nodes/n1/proxy/stats/summary)
    [ "$(jqr "$out" '.pods[] | select(.name=="pcg") | .memoryLimitBytes')" = $((80 * 1048576)) ]
    [ "$(jqr "$out" '.pods[] | select(.name=="pcg") | .cpuUsageNanoSeconds > 0')" = true ]
    kc delete pod pcg
    wait_for 15 test ! -e "$dir"
}
