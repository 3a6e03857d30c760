#!/usr/bin/env bats
# deploy/cluster-sim.sh: three nodes in network namespaces on one machine; pods spread over
# them; a killed node's pods move; down removes every process, namespace, mount and dir.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    export CLUSTER_SIM_DIR="$BATS_TEST_TMPDIR/sim" CLUSTER_SIM_SUBNET=10.214.$((RANDOM % 200)).0
    CLUSTER_SIM_SUBNET=${CLUSTER_SIM_SUBNET%.0}
    on_teardown "bash '$REPO/deploy/cluster-sim.sh' down"
}

sim() { bash "$REPO/deploy/cluster-sim.sh" "$@"; }

@test "cluster-sim: up joins 3 nodes; pods spread; kill node2 moves its pod; start brings it back; down cleans up" {
    run sim up
    echo "$output"
    [ "$status" -eq 0 ]
    run sim minik get nodes -o json
    [ "$(jq -r '[.items[] | select(.status.conditions[] | .type == "Ready" and .status == "True") | .metadata.name] | sort | join(",")' <<<"$output")" = node1,node2,node3 ]
    # Each node runs in its own network namespace, with its own address.
    [ "$(jq -r '.items[] | select(.metadata.name == "node2") | .status.addresses[] | select(.type == "InternalIP") | .address' <<<"$output")" = "$CLUSTER_SIM_SUBNET.2" ]

    bash "$REPO/deploy/demo-image.sh" "$BATS_TEST_TMPDIR/img" 1
    sim import "$BATS_TEST_TMPDIR/img" minik-demo/hello:1
    sim minik apply -f "$REPO/deploy/examples/hello/"
    wait_for 60 bash -c "bash '$REPO/deploy/cluster-sim.sh' minik get deploy hello -o json | jq -e '.status.readyReplicas == 3'"
    run sim minik get pods -l app=hello -o json
    [ "$(jq -r '[.items[].spec.nodeName] | unique | length' <<<"$output")" = 3 ]

    # The machine node2 dies: agent and containers gone.
    pids=$(jq -r '.pid' "$CLUSTER_SIM_DIR"/node2/agent/oci/*/state.json)
    local uids2
    uids2=$(ls "$CLUSTER_SIM_DIR"/node2/agent/pods)
    [ -n "$uids2" ] && [ -n "$(pod_cgroup_dirs $uids2)" ]
    run sim kill node2
    [ "$status" -eq 0 ]
    for p in $pids; do
        run grep -qs httpd "/proc/$p/cmdline"
        [ "$status" -ne 0 ]
    done
    wait_for 60 bash -c "bash '$REPO/deploy/cluster-sim.sh' minik get pods -l app=hello -o json | jq -e '[.items[] | select(.status.phase == \"Running\" and .spec.nodeName != \"node2\")] | length == 3'"
    run sim minik get node node2 -o json
    [ "$(jq -r '.status.conditions[] | select(.type == "Ready") | .status' <<<"$output")" != True ]
    run sim kill node1
    [ "$status" -eq 1 ]
    [[ "$output" == *"node1 runs the control plane"* ]]

    sim start node2
    wait_for 30 bash -c "bash '$REPO/deploy/cluster-sim.sh' minik get node node2 -o json | jq -e '.status.conditions[] | select(.type == \"Ready\") | .status == \"True\"'"
    # Back, node2's agent removes what is left of the pods it no longer has (they moved):
    # their directories and their pod cgroups, in every hierarchy.
    for u in $uids2; do
        wait_for 30 test ! -e "$CLUSTER_SIM_DIR/node2/agent/pods/$u"
    done
    [ -z "$(pod_cgroup_dirs $uids2)" ]
    local uids
    uids=$(ls "$CLUSTER_SIM_DIR"/*/agent/pods)
    [ -n "$uids" ] && [ -n "$(pod_cgroup_dirs $uids)" ]

    local ns_tag
    ns_tag=$(printf '%s' "$CLUSTER_SIM_DIR" | sha256sum | cut -c1-6)
    run sim down
    [ "$status" -eq 0 ]
    [ ! -e "$CLUSTER_SIM_DIR" ]
    run bash -c "ip netns list | grep -c msim-$ns_tag"
    [ "$output" = 0 ]
    run bash -c "grep -l -- '--data-di[r]' /proc/[0-9]*/cmdline 2>/dev/null | xargs -r grep -l '$CLUSTER_SIM_DIR/' 2>/dev/null"
    [ -z "$output" ]
    run grep -c " $CLUSTER_SIM_DIR" /proc/self/mounts
    [ "$output" = 0 ]
    # The pods ran on when their nodes went down: down removes their cgroups too.
    [ -z "$(pod_cgroup_dirs $uids)" ]
    run sim status
    [ "$status" -eq 1 ]
}
