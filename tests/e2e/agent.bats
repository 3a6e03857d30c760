#!/usr/bin/env bats
# The node agent against a real server, registry and runtime.

load helpers
load apiserver_helpers
load images_lib
load agent_lib

teardown() {
    agent_suite_teardown
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
    crash_agent
    kill -0 "$before"
    start_agent
    sleep 2
    [ "$(ls -d "$ADIR"/oci/*/ | wc -l)" -eq 1 ]
    [ "$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)" = "$before" ]
    kill -0 "$before"
    [ "$(pod_field keep '.status.containerStatuses[0].restartCount')" = 0 ]
    pod_phase_is keep Running
}

@test "agent: a pod deleted while the agent was down is stopped when it returns, its pod cgroup removed" {
    pod_yaml gone 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is gone Running
    local pid uid id
    pid=$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)
    id=$(jq -r .id "$ADIR"/oci/*-c-0/state.json)
    uid=$(pod_field gone .metadata.uid)
    pod_cgroups_like_container "$uid" "$id"
    crash_agent
    kc delete pod gone
    kill -0 "$pid"
    start_agent
    wait_for 15 bash -c "! kill -0 $pid"
    wait_for 10 bash -c "[ -z \"\$(ls -A '$ADIR/oci')\" ]"
    # The restarted agent removes the sandbox of the pod it no longer has: its cgroup in
    # every hierarchy, and its directory.
    wait_for 5 test ! -e "$ADIR/pods/$uid"
    [ -z "$(pod_cgroup_dirs "$uid")" ]
}

@test "agent: deleting a pod stops its containers within the grace period and leaves nothing behind" {
    pod_yaml del 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is del Running
    local st id pid shim uid
    st=$(ls "$ADIR"/oci/*-c-0/state.json)
    id=$(jq -r .id "$st")
    pid=$(jq -r .pid "$st")
    shim=$(jq -r .shimPid "$st")
    uid=$(pod_field del .metadata.uid)
    # Before: a live shim, the pod's namespace mounts and the container's cgroup exist.
    kill -0 "$shim"
    [ "$(grep -c " $ADIR/pods/$uid" /proc/self/mounts)" -ge 1 ]
    run bash -c "find /sys/fs/cgroup -maxdepth 5 -type d -name '*$id*'"
    [ -n "$output" ]
    pod_cgroups_like_container "$uid" "$id"
    kc delete pod del
    # sleep as pid 1 ignores SIGTERM: SIGKILL follows after the 2 s grace period.
    wait_for 8 bash -c "! kill -0 $pid 2>/dev/null"
    wait_for 5 bash -c "! kill -0 $shim 2>/dev/null"
    wait_for 5 test ! -e "$ADIR/oci/$id"
    wait_for 5 test ! -e "$ADIR/pods/$uid"
    [ "$(grep -c " $ADIR" /proc/self/mounts)" -eq 0 ]
    [ ! -e "$ADIR/images/rootfs/$id" ]
    run bash -c "find /sys/fs/cgroup -maxdepth 5 -type d -name '*$id*'"
    [ -z "$output" ]
    [ -z "$(pod_cgroup_dirs "$uid")" ]
}

@test "agent: a pod cgroup that cannot go yet keeps the pod's directory, and the agent's next start removes both" {
    local v1 uid dir holder
    v1=$(findmnt -rn -t cgroup -o TARGET | head -n1)
    [ -n "$v1" ] || skip "no cgroup v1 hierarchy: a process cannot sit in a pod group that has children"
    pod_yaml stuck 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is stuck Running
    uid=$(pod_field stuck .metadata.uid)
    dir="$v1/minik/pod-$uid"
    [ -d "$dir" ]
    # A process of this test's in the pod's own group (not a container's) keeps it busy.
    sleep 1000 3>&- &
    holder=$!
    on_teardown "kill -KILL $holder"
    echo "$holder" >"$dir/cgroup.procs"
    kc delete pod stuck
    wait_for 15 grep -q "pod cgroup not removed.*pod-$uid" "$BATS_TEST_TMPDIR/agent.log"
    [ -d "$ADIR/pods/$uid" ]
    [ -d "$dir" ]
    kill -KILL "$holder"
    wait "$holder" 2>/dev/null || true
    stop_daemon agent
    [ "$DAEMON_STATUS" -eq 0 ]
    start_agent
    wait_for 15 test ! -e "$ADIR/pods/$uid"
    [ -z "$(pod_cgroup_dirs "$uid")" ]
}

@test "agent: a failing liveness probe restarts the container" {
    # Healthy for about 2 s, then the probe's file disappears.
    pod_yaml live 'touch /tmp/ok; /bin/busybox sleep 2; rm /tmp/ok; exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].livenessProbe={"exec":{"command":["/bin/busybox","cat","/tmp/ok"]},"periodSeconds":1,"failureThreshold":2}' |
        kc apply -f -
    wait_for 30 pod_phase_is live Running
    wait_for 30 bash -c "[ \$('$MINIK_BIN' get pod live -o json | jq .status.containerStatuses[0].restartCount) -ge 1 ]"
    run kc get events -o json
    # The probe ran and cat itself failed (exit 1), not the probe machinery (126/127).
    jq -e '.items[] | select(.reason=="Unhealthy" and .involvedObject.name=="live" and .message == "Liveness probe failed: command exited with 1")' <<<"$output"
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

@test "agent: exec returns the command's output and exit code, inside the container" {
    pod_yaml ex 'exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].securityContext={"runAsUser":1234,"allowPrivilegeEscalation":false}' |
        kc apply -f -
    wait_for 30 pod_phase_is ex Running
    run kc exec ex -- /bin/busybox sh -c 'cat /hello.txt; id -u; echo err >&2; exit 5'
    [ "$status" -eq 5 ]
    [ "${lines[0]}" = "hello from t1" ]
    [ "${lines[1]}" = 1234 ]
    [[ "$output" == *err* ]]
    # Same namespaces as the container (its pid 1 is sleep), its no_new_privs and seccomp.
    run kc exec ex -- /bin/busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "/bin/busybox sleep 1000"* ]]
    [[ "$output" == *"NoNewPrivs:	1"* ]]
    [[ "$output" == *"Seccomp:	2"* ]]
    # And the container's capability sets (Docker's 14 in the bounding set), as its init has.
    run kc exec ex -- /bin/busybox sh -c 'for p in 1 self; do grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/$p/status; done'
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 10 ]
    [ "${lines[3]}" = "CapBnd:	00000000a80425fb" ]
    [ "${lines[*]:0:5}" = "${lines[*]:5:5}" ]
    run bash -c "printf 'a\nb\n' | '$MINIK_BIN' exec ex -i -- /bin/busybox wc -l"
    [ "$status" -eq 0 ]
    [ "$(echo $output)" = 2 ]
    run kc exec ex -c nope -- true
    [ "$status" -eq 1 ]
    [[ "$output" == *"container nope is not valid for pod ex"* ]]
}

@test "agent: exec to a busy pod waits for it, and answers 503 \"the pod is busy\" when it stays busy" {
    # The postStart hook holds the pod's job (the agent runs one at a time per pod) until
    # the test creates /tmp/go inside the container.
    pod_yaml busy 'exec /bin/busybox sleep 1000' |
        jq '.spec.containers[0].lifecycle={"postStart":{"exec":{"command":["/bin/busybox","sh","-c","while [ ! -e /tmp/go ]; do /bin/busybox sleep 0.1; done"]}}}' |
        kc apply -f -
    wait_for 30 bash -c "jq -e '.pid > 0' '$ADIR'/oci/*-c-0/state.json"
    local pid
    pid=$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)
    # Busy for longer than an exec waits: the answer is 503 with the reason.
    run --separate-stderr kc exec busy -- /bin/busybox echo too-early
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"the pod is busy"* ]] || { echo "$stderr"; return 1; }
    [[ "$output" != *too-early* ]]
    # An exec that comes while the pod is busy waits, and runs once the job is done.
    kc exec busy -- /bin/busybox echo answered >"$BATS_TEST_TMPDIR/exec.out" 2>&1 3>&- &
    local ex=$!
    sleep 1
    nsenter -t "$pid" -m /bin/busybox touch /tmp/go
    wait "$ex"
    [ "$(cat "$BATS_TEST_TMPDIR/exec.out")" = answered ]
}

@test "agent: top pods and nodes show cgroup CPU and memory" {
    pod_yaml burn 'while :; do :; done' | kc apply -f -
    pod_yaml mem '/bin/busybox head -c 41943040 /dev/zero > /dev/shm/fill; exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is burn Running
    wait_for 30 pod_phase_is mem Running
    sleep 1
    run kc top pods
    [ "$status" -eq 0 ]
    [ "$(awk '$1=="burn" {sub("m","",$2); print ($2 + 0 >= 50)}' <<<"$output")" = 1 ]
    [ "$(awk '$1=="mem" {sub("Mi","",$3); print ($3 + 0 >= 35)}' <<<"$output")" = 1 ]
    run kc top nodes
    [ "$status" -eq 0 ]
    [[ "$output" == *"n1 "* ]]
    [ "$(awk '$1=="n1" {sub("Mi","",$4); print ($4 + 0 > 0)}' <<<"$output")" = 1 ]
}

@test "agent: a preStop exec hook runs in the container before it is stopped" {
    local out="$BATS_TEST_TMPDIR/hostout"
    mkdir -p "$out"
    pod_yaml hook 'exec /bin/busybox sleep 1000' "{\"volumes\":[{\"name\":\"o\",\"hostPath\":{\"path\":\"$out\"}}]}" |
        jq '.spec.containers[0].volumeMounts=[{"name":"o","mountPath":"/out"}]
            | .spec.containers[0].lifecycle={"preStop":{"exec":{"command":["/bin/busybox","sh","-c","echo bye from $HOSTNAME > /out/prestop"]}}}' |
        kc apply -f -
    wait_for 30 pod_phase_is hook Running
    [ ! -e "$out/prestop" ]
    kc delete pod hook
    wait_for 15 test -s "$out/prestop"
    [ "$(cat "$out/prestop")" = "bye from hook" ]
    wait_for 10 bash -c "[ -z \"\$(ls -A '$ADIR/oci')\" ]"
}

@test "agent: logs -f streams new lines; heartbeats only for the token's own node" {
    pod_yaml tick 'i=0; while [ $i -lt 200 ]; do echo tick-$i; i=$((i+1)); /bin/busybox sleep 0.2; done; exec /bin/busybox sleep 1000' |
        kc apply -f -
    wait_for 30 pod_phase_is tick Running
    local start
    start=$(kc logs tick | grep -c '^tick-')
    run timeout 3 "$MINIK_BIN" logs tick -f
    # timeout ends the stream; lines written during those 3 s arrived through it.
    local last
    last=$(grep '^tick-' <<<"$output" | tail -1 | cut -d- -f2)
    [ "$last" -ge $((start + 5)) ]
    # A node token may heartbeat only as the node it is bound to.
    local ntok
    ntok=$(body_of "$(api POST /apis/minik.io/v1/tokens '{}')" | jq -r .token)
    [ -n "$ntok" ]
    [ "$(code_of "$(AUTH_TOKEN=$ntok api POST /apis/minik.io/v1/nodes/n1/heartbeat)")" = 403 ]
    [ "$(code_of "$(api POST /apis/minik.io/v1/nodes/n1/heartbeat)")" = 200 ]
    [ "$(code_of "$(api GET /apis/minik.io/v1/nodes/n1/heartbeat)")" = 405 ]
}

@test "agent: with the server away containers keep running and the status converges when it returns" {
    pod_yaml away 'exec /bin/busybox sleep 6' '{"restartPolicy":"Never"}' | kc apply -f -
    wait_for 30 pod_phase_is away Running
    local pid
    pid=$(jq -r .pid "$ADIR"/oci/*-c-0/state.json)
    stop_daemon server
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    kill -0 "$pid" # still running without a server
    # The container exits while the server is away.
    wait_for 15 bash -c "! kill -0 $pid 2>/dev/null"
    restart_server
    wait_for 20 pod_phase_is away Succeeded || { daemon_log agent >&2; false; }
    [ "$(pod_field away '.status.containerStatuses[0].state.terminated.reason')" = Completed ]
    kill -0 "$AGENT_PID"
}
