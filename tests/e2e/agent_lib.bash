# Helpers for the agent suites: a minik server (no embedded agent) on a free loopback port,
# a separate `minik agent` joined with the admin kubeconfig, and a busybox image in a real
# docker-registry. Load after helpers, apiserver_helpers and images_lib.

# The apiserver suites' teardown (stop the server, check its log), kept under a new name
# so that an agent suite's teardown can stop its agent first.
eval "server_teardown() $(declare -f teardown | tail -n +2)"

# Stop the agent started by start_agent: it must exit 0 with no sanitizer report.
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

# The agent suites' teardown: the agent, then the server; fails if either did.
agent_suite_teardown() {
    local rc=0
    agent_teardown_check || rc=1
    server_teardown || rc=1
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

# Leftovers of the agent under ADIR: mounts, OCI state dirs, cgroups named for pod uids.
leftovers() {
    grep -c " $ADIR" /proc/self/mounts || true
}
