# Helpers for the agent suites: a minik server (no embedded agent) on a free loopback port,
# a separate `minik agent` joined with the admin kubeconfig, and a busybox image in a real
# docker-registry. Load after helpers, apiserver_helpers and images_lib.

# The apiserver suites' teardown (stop the server, check its log), kept under a new name
# so that an agent suite's teardown can stop its agent first.
eval "server_teardown() $(declare -f teardown | tail -n +2)"

# Stop the agent started by start_agent: it must exit 0 with no sanitizer report, and the
# pods of this test that it no longer has (deleted, evicted) must have no pod cgroup left
# in any hierarchy (the pods it still has are agent_cleanup's). Sets SUITE_POD_UIDS.
agent_teardown_check() {
    local st=0 rc=0 uid left gone=()
    if [ -f "$BATS_TEST_TMPDIR/agent.pid" ]; then
        stop_daemon agent
        st=${DAEMON_STATUS:-0}
    fi
    if grep -q "Sanitizer\|runtime error" "$BATS_TEST_TMPDIR/agent.log" 2>/dev/null || [ "$st" -ne 0 ]; then
        echo "agent exited with status $st" >&2
        cat "$BATS_TEST_TMPDIR/agent.log" >&2
        rc=1
    fi
    SUITE_POD_UIDS=$(suite_pod_uids)
    [ -n "${ADIR:-}" ] || return $rc
    for uid in $SUITE_POD_UIDS; do
        [ -d "$ADIR/pods/$uid" ] || gone+=("$uid")
    done
    left=$(pod_cgroup_dirs "${gone[@]}")
    if [ -n "$left" ]; then
        printf 'pod cgroups left by the agent for pods it no longer has:\n%s\n' "$left" >&2
        rc=1
    fi
    return $rc
}

# The uids of this test's pods: those the server has, and those it had (the agent's events
# name them). Empty when the server does not answer.
suite_pod_uids() {
    {
        minik get pods -A -o json 2>/dev/null | jq -r '.items[].metadata.uid // empty'
        minik get events -A -o json 2>/dev/null |
            jq -r '.items[] | select(.involvedObject.kind == "Pod") | .involvedObject.uid // empty'
    } | sort -u
}

# The agent suites' teardown: the agent, then the server (whose cleanup runs agent_cleanup);
# fails if either did, or if any cgroup of this test's pods is left after all that.
agent_suite_teardown() {
    local rc=0 left
    agent_teardown_check || rc=1
    server_teardown || rc=1
    # shellcheck disable=SC2086 # uids, one word each
    left=$(pod_cgroup_dirs $SUITE_POD_UIDS)
    if [ -n "$left" ]; then
        printf 'pod cgroups left after the test cleaned up:\n%s\n' "$left" >&2
        rmdir $left 2>/dev/null
        rc=1
    fi
    return $rc
}

# agent_setup [USER PASS] : registry (with htpasswd auth when USER/PASS are given) + image,
# server, agent "n1". Sets IMG, ADIR, AGENT_PID.
agent_setup() {
    start_registry "$@"
    build_image "$BATS_TEST_TMPDIR/oci" t1
    if [ $# -eq 2 ]; then
        push "$BATS_TEST_TMPDIR/oci" t1 "$REG/test/busybox:1" --dest-creds "$1:$2"
    else
        push "$BATS_TEST_TMPDIR/oci" t1 "$REG/test/busybox:1"
    fi
    IMG="$REG/test/busybox:1"
    start_server --no-agent --insecure-http
    export MINIK_CONFIG="$DATA/admin.conf"
    ADIR=$(make_tmpdir agentdata)
    on_teardown "agent_cleanup $ADIR"
    start_agent
}

start_agent() {
    # --pod-network none: this agent runs in the host's namespace, which tests must not
    # touch (no minik0 bridge there); tests/e2e/network.bats runs agents in namespaces.
    start_daemon agent "$MINIK_BIN" agent --kubeconfig "$DATA/admin.conf" --node-name n1 --pod-network none \
        --data-dir "$ADIR" --port 0 --crash-backoff 1s --sync-period 300ms "$@"
    AGENT_PID=$DAEMON_PID
    wait_for 20 node_ready n1 || { daemon_log agent >&2; return 1; }
}

# crash_agent : kill -9 the agent of start_agent, as a crash would; its containers run on.
crash_agent() {
    kill -KILL "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    rm -f "$BATS_TEST_TMPDIR/agent.pid"
}

node_ready() {
    minik get node "$1" -o json 2>/dev/null |
        jq -e '.status.conditions[] | select(.type=="Ready" and .status=="True")'
}

kc() { minik "$@"; }

# pod_yaml NAME COMMAND [EXTRA_SPEC_JSON] : a one-container pod on n1 as JSON.
pod_yaml() {
    local name=$1 cmd=$2 extra=${3:-'{}'}
    jq -n --arg n "$name" --arg img "$IMG" --arg cmd "$cmd" --argjson extra "$extra" '{
      apiVersion: "v1", kind: "Pod", metadata: {name: $n, namespace: "default"},
      spec: ({nodeName: "n1", terminationGracePeriodSeconds: 2,
             containers: [{name: "c", image: $img, command: ["/bin/busybox", "sh", "-c", $cmd]}]}
             * $extra)}'
}

pod_field() { # NAME JQ
    kc get pod "$1" -o json 2>/dev/null | jq -r "$2"
}

pod_phase_is() { [ "$(pod_field "$1" .status.phase)" = "$2" ]; }

# Containers (by shim pid), mounts and cgroups the agent made under ADIR: all removed.
agent_cleanup() {
    local dir=$1 st pid id
    for st in "$dir"/oci/*/state.json; do
        [ -f "$st" ] || continue
        id=$(basename "$(dirname "$st")")
        pid=$(jq -r .pid "$st")
        [ "$pid" -gt 0 ] 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        pid=$(jq -r .shimPid "$st")
        [ "$pid" -gt 0 ] 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        sleep 0.2
        "$MINIK_BIN" oci --root "$dir/oci" delete --force "$id" 2>/dev/null
    done
    grep -o " $dir[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    # Pod-level cgroups (their container groups were removed by the deletes above).
    for pd in "$dir"/pods/*/; do
        [ -d "$pd" ] || continue
        find /sys/fs/cgroup -maxdepth 4 -depth -type d -name "pod-$(basename "$pd")" -exec rmdir {} + 2>/dev/null
    done
    rm -rf "$dir"
}

# pod_cgroups_like_container UID ID : the pod's cgroup (minik/pod-UID) is in every hierarchy
# its container ID's cgroup is in (all the runtime uses: v1 controllers, name=systemd, the
# hybrid unified tree or the v2 root) and in no other; cgroup2 among them when mounted.
pod_cgroups_like_container() {
    local uid=$1 id=$2 pod ctr v2
    pod=$(pod_cgroup_dirs "$uid" | sed "s|/minik/pod-$uid\$||" | sort)
    ctr=$(find /sys/fs/cgroup -maxdepth 5 -type d -path "*/minik/pod-$uid/$id" | sed "s|/minik/pod-$uid/$id\$||" | sort)
    v2=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
    if [ -z "$pod" ] || [ "$pod" != "$ctr" ] || { [ -n "$v2" ] && ! grep -qx "$v2" <<<"$pod"; }; then
        printf 'pod cgroup in:\n%s\ncontainer cgroup in:\n%s\n' "$pod" "$ctr" >&2
        return 1
    fi
}

# Leftovers of the agent under ADIR: mounts, OCI state dirs, cgroups named for pod uids.
leftovers() {
    grep -c " $ADIR" /proc/self/mounts || true
}
