#!/usr/bin/env bats
# The node agent against a real server, registry and runtime.

load helpers
load apiserver_helpers
load images_lib
load agent_lib

# The apiserver suites' teardown (stop the server, check its log), kept under a new name.
eval "server_teardown() $(declare -f teardown | tail -n +2)"

# Stop the agent first (it must exit 0 with no sanitizer report), then the server.
agent_teardown_check() {
    local st=0
    if [ -f "$BATS_TEST_TMPDIR/agent.pid" ]; then
        stop_daemon agent
        st=${DAEMON_STATUS:-0}
    fi
    if grep -q "Sanitizer\|runtime error" "$BATS_TEST_TMPDIR/agent.log" 2>/dev/null || [ "$st" -ne 0 ]; then
        echo "agent exited with status $st" >&2
        cat "$BATS_TEST_TMPDIR/agent.log" >&2
        return 1
    fi
}

teardown() {
    local rc=0
    agent_teardown_check || rc=1
    server_teardown || rc=1
    return $rc
}

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    agent_setup
}

@test "agent: node registers with capacity, labels and heartbeats reach the server" {
    run kc get node n1 -o json
    [ "$status" -eq 0 ]
    [ "$(jq -r '.metadata.labels["kubernetes.io/hostname"]' <<<"$output")" = n1 ]
    [ "$(jq -r '.metadata.labels["kubernetes.io/os"]' <<<"$output")" = linux ]
    [ "$(jq -r '.status.capacity.pods' <<<"$output")" = 110 ]
    [ "$(jq -r '.status.allocatable.cpu' <<<"$output")" = "$(nproc)" ]
    [ "$(jq -r '.status.addresses[0].type' <<<"$output")" = InternalIP ]
    hb() { api GET /metrics | sed -n 's/^minik_node_heartbeats_total //p'; }
    local first
    first=$(hb)
    sleep 2.2
    [ "$(hb)" -ge $((first + 2)) ]
}

@test "agent: a pod reaches Running and its logs show its output" {
    pod_yaml p1 'echo hello-from-pod; echo line2; exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is p1 Running || { daemon_log agent >&2; false; }
    [ "$(pod_field p1 '.status.containerStatuses[0].ready')" = true ]
    [ "$(pod_field p1 '.status.conditions[] | select(.type=="Ready") | .status')" = True ]
    wait_for 10 bash -c "'$MINIK_BIN' logs p1 | grep -q line2"
    run kc logs p1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = hello-from-pod ]
    [ "${lines[1]}" = line2 ]
    run kc logs p1 --tail 1
    [ "$output" = line2 ]
    run kc logs p1 --timestamps --tail 1
    [[ "$output" =~ ^20[0-9-]+T[0-9:.]+Z\ line2$ ]]
    run kc get events -o json
    for r in Pulling Pulled Created Started; do
        jq -e --arg r "$r" '.items[] | select(.reason==$r and .involvedObject.name=="p1")' <<<"$output"
    done
}

@test "agent: a crashing container restarts with growing back-off and reports CrashLoopBackOff" {
    pod_yaml crash 'echo boom; exit 3' | kc apply -f -
    wait_for 30 bash -c "[ \$('$MINIK_BIN' get pod crash -o json | jq .status.containerStatuses[0].restartCount) -ge 3 ]"
    run pod_field crash '.status.containerStatuses[0].lastState.terminated.exitCode'
    [ "$output" = 3 ]
    wait_for 10 bash -c "'$MINIK_BIN' get pod crash -o json | jq -e '.status.containerStatuses[0].state.waiting.reason==\"CrashLoopBackOff\"'"
    run kc get events -o json
    # Back-off doubles: 1s, 2s, 4s ...
    local delays
    delays=$(jq -r '[.items[] | select(.reason=="BackOff" and .involvedObject.name=="crash") | .message] | join(";")' <<<"$output")
    [[ "$delays" == *"Back-off 1.0s"* ]]
    [[ "$delays" == *"Back-off 2.0s"* ]]
    [[ "$delays" == *"Back-off 4.0s"* ]]
    run kc logs crash --previous
    [ "$output" = boom ]
}

@test "agent: restartPolicy Never leaves a failed pod Failed with its exit code" {
    pod_yaml never 'exit 7' '{"restartPolicy":"Never"}' | kc apply -f -
    wait_for 30 pod_phase_is never Failed
    [ "$(pod_field never '.status.containerStatuses[0].state.terminated.exitCode')" = 7 ]
    [ "$(pod_field never '.status.containerStatuses[0].restartCount')" = 0 ]
}

@test "agent: env and volumes from ConfigMaps and Secrets are visible inside" {
    kc apply -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {color: blue, "app.conf": "port=80"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: s3cret}
YAML
    local extra
    extra='{"volumes":[{"name":"cv","configMap":{"name":"cfg"}},{"name":"sv","secret":{"secretName":"sec"}}]}'
    pod_yaml envpod 'echo "C=$COLOR P=$PASS N=$NODE"; cat /etc/cfg/app.conf; echo; cat /etc/sec/password; echo; exec /bin/busybox sleep 1000' "$extra" |
        jq '.spec.containers[0].env=[{"name":"COLOR","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"color"}}},
              {"name":"PASS","valueFrom":{"secretKeyRef":{"name":"sec","key":"password"}}},
              {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}]
            | .spec.containers[0].volumeMounts=[{"name":"cv","mountPath":"/etc/cfg"},{"name":"sv","mountPath":"/etc/sec"}]' |
        kc apply -f -
    wait_for 30 pod_phase_is envpod Running || { daemon_log agent >&2; false; }
    wait_for 10 bash -c "'$MINIK_BIN' logs envpod | grep -q s3cret"
    run kc logs envpod
    [ "${lines[0]}" = "C=blue P=s3cret N=n1" ]
    [ "${lines[1]}" = "port=80" ]
    [ "${lines[2]}" = "s3cret" ]
}

@test "agent: kill -9 of the agent keeps the same container pids and restarts with no duplicates" {
    pod_yaml keep 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is keep Running
    local before
    before=$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    rm -f "$BATS_TEST_TMPDIR/agent.pid"
    kill -0 "$before"
    start_agent
    sleep 2
    [ "$(ls -d "$ADIR"/oci/*/ | wc -l)" -eq 1 ]
    [ "$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)" = "$before" ]
    kill -0 "$before"
    [ "$(pod_field keep '.status.containerStatuses[0].restartCount')" = 0 ]
    pod_phase_is keep Running
}

@test "agent: a pod deleted while the agent was down is stopped when it returns" {
    pod_yaml gone 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is gone Running
    local pid
    pid=$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    rm -f "$BATS_TEST_TMPDIR/agent.pid"
    kc delete pod gone
    kill -0 "$pid"
    start_agent
    wait_for 15 bash -c "! kill -0 $pid"
    wait_for 10 bash -c "[ -z \"\$(ls -A '$ADIR/oci')\" ]"
}

@test "agent: deleting a pod stops its containers within the grace period and leaves nothing behind" {
    pod_yaml del 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is del Running
    local st id pid shim uid
    st=$(ls "$ADIR"/oci/*-c-0/state.json)
    id=$(jq -r .id "$st")
    pid=$(jq -r .pid "$st")
    shim=$(jq -r .shim_pid "$st")
    uid=$(pod_field del .metadata.uid)
    local cg
    cg=$(jq -r .cgroup_path "$st" 2>/dev/null || true)
    [ "$(grep -c " $ADIR/pods/$uid" /proc/self/mounts)" -ge 1 ]
    kc delete pod del
    # sleep as pid 1 ignores SIGTERM: SIGKILL follows after the 2 s grace period.
    wait_for 8 bash -c "! kill -0 $pid 2>/dev/null"
    wait_for 5 bash -c "! kill -0 $shim 2>/dev/null"
    wait_for 5 test ! -e "$ADIR/oci/$id"
    wait_for 5 test ! -e "$ADIR/pods/$uid"
    [ "$(grep -c " $ADIR" /proc/self/mounts)" -eq 0 ]
    [ ! -e "$ADIR/images/rootfs/$id" ]
    run bash -c "find /sys/fs/cgroup -maxdepth 4 -type d -name '*$id*'"
    [ -z "$output" ]
}

@test "agent: a failing liveness probe restarts the container" {
    # Healthy for about 2 s, then the probe's file disappears.
    pod_yaml live 'touch /tmp/ok; /bin/busybox sleep 2; rm /tmp/ok; exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].livenessProbe={"exec":{"command":["/bin/busybox","cat","/tmp/ok"]},"periodSeconds":1,"failureThreshold":2}' |
        kc apply -f -
    wait_for 30 pod_phase_is live Running
    wait_for 30 bash -c "[ \$('$MINIK_BIN' get pod live -o json | jq .status.containerStatuses[0].restartCount) -ge 1 ]"
    run kc get events -o json
    jq -e '.items[] | select(.reason=="Unhealthy" and .involvedObject.name=="live" and (.message | startswith("Liveness probe failed")))' <<<"$output"
    jq -e '.items[] | select(.reason=="Killing" and .involvedObject.name=="live")' <<<"$output"
}

@test "agent: a failing readiness probe flips Ready without restarting" {
    pod_yaml ready 'touch /tmp/ready; exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].readinessProbe={"exec":{"command":["/bin/busybox","cat","/tmp/ready"]},"periodSeconds":1,"failureThreshold":1}' |
        kc apply -f -
    wait_for 30 bash -c "[ \"\$('$MINIK_BIN' get pod ready -o json | jq -r '.status.conditions[] | select(.type==\"Ready\") | .status')\" = True ]"
    # Take readiness away from inside the container's namespaces.
    local pid
    pid=$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)
    nsenter -t "$pid" -m /bin/busybox rm /tmp/ready
    wait_for 15 bash -c "[ \"\$('$MINIK_BIN' get pod ready -o json | jq -r '.status.conditions[] | select(.type==\"Ready\") | .status')\" = False ]"
    [ "$(pod_field ready '.status.containerStatuses[0].ready')" = false ]
    [ "$(pod_field ready '.status.containerStatuses[0].restartCount')" = 0 ]
    pod_phase_is ready Running
    nsenter -t "$pid" -m /bin/busybox touch /tmp/ready
    wait_for 15 bash -c "[ \"\$('$MINIK_BIN' get pod ready -o json | jq -r '.status.conditions[] | select(.type==\"Ready\") | .status')\" = True ]"
}

@test "agent: a container over its memory limit is reported OOMKilled" {
    # tail /dev/zero buffers one endless line: memory grows until the limit kills it.
    pod_yaml oom 'exec /bin/busybox tail /dev/zero' '{"restartPolicy":"Never"}' |
        jq '.spec.containers[0].resources={"limits":{"memory":"32Mi"}}' | kc apply -f -
    wait_for 60 pod_phase_is oom Failed
    [ "$(pod_field oom '.status.containerStatuses[0].state.terminated.reason')" = OOMKilled ]
    [ "$(pod_field oom '.status.containerStatuses[0].state.terminated.exitCode')" = 137 ]
    run kc get events -o json
    jq -e '.items[] | select(.reason=="OOMKilled" and .involvedObject.name=="oom")' <<<"$output"
}
