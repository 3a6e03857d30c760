#!/usr/bin/env bats
# The scheduler end to end in one process (tests/tools/sched_bench.c, sanitizer build),
# and inside `minik server` with hollow nodes (last test). In one process:
# a real store on disk, Nodes and pending Pods written through it, the scheduler started
# on a libuv loop, and every pod bound by durable writes — with no leaks at exit.

load helpers

SCHED_BENCH="$(dirname "$MINIK_BIN")/tools/sched_bench"

setup() {
    DATA=$(make_tmpdir sched)
}

val() { sed -n "s/^$1=//p" <<<"$output"; }

@test "scheduler binds every pod over a real store (spread)" {
    run "$SCHED_BENCH" "$DATA" 20 300 spread
    [ "$status" -eq 0 ]
    [ "$(val bound)" = 300 ]
    [ "$(val unschedulable)" = 0 ]
    [ "$(val policy)" = spread ]
}

@test "scheduler binds every pod over a real store (binpack)" {
    run "$SCHED_BENCH" "$DATA" 20 300 binpack
    [ "$status" -eq 0 ]
    [ "$(val bound)" = 300 ]
    [ "$(val policy)" = binpack ]
}

@test "scheduler handles inter-pod preferences and soft spread constraints at scale" {
    run "$SCHED_BENCH" "$DATA" 30 200 spread affinity
    [ "$status" -eq 0 ]
    [ "$(val bound)" = 200 ]
    [ "$(val workload)" = affinity ]
}

@test "scheduler policy names are checked" {
    run "$SCHED_BENCH" "$DATA" 1 1 random
    [ "$status" -eq 2 ]
    [[ "$output" == *'--scheduler-policy: unknown policy "random" (spread or binpack)'* ]]
}

# The scheduler inside the real `minik server`, placing pods on hollow nodes
# (`minik agent --hollow`) that carry per-node labels and taints.
@test "scheduler in minik server: nodeSelector, taints and an actionable Pending message on hollow nodes" {
    load apiserver_helpers
    start_server --insecure-http
    export MINIK_CONFIG="$DATA/admin.conf"
    start_daemon hollow "$MINIK_BIN" agent --kubeconfig "$DATA/admin.conf" --hollow 4 \
        --node-name h --data-dir "$(make_tmpdir hollow)" --labels 'zone=z{i%2}' --taints 'gpu={i%4}:NoSchedule'
    nodes4() { [ "$(minik get nodes -o json | jq '[.items[] | select(.metadata.name | startswith("h-"))] | length')" = 4 ]; }
    wait_for 20 nodes4
    # Node i is tainted gpu=i%4: only h-0's taint (gpu=0) is tolerated below.
    for n in 1 2 3; do
        api PATCH /api/v1/nodes/h-$n '{"spec":{"taints":null}}' application/merge-patch+json >/dev/null
    done
    # zone=z1 -> h-1 or h-3 only.
    jq -n '{apiVersion:"apps/v1",kind:"Deployment",metadata:{name:"z1"},spec:{replicas:4,
        selector:{matchLabels:{app:"z1"}},template:{metadata:{labels:{app:"z1"}},
        spec:{nodeSelector:{zone:"z1"},containers:[{name:"c",image:"busybox"}]}}}}' | minik apply -f -
    z1_ready() { [ "$(minik get pods -l app=z1 -o json | jq '[.items[] | select(.status.phase=="Running")] | length')" = 4 ]; }
    wait_for 30 z1_ready
    run minik get pods -l app=z1 -o json
    [ "$(jq -r '[.items[].spec.nodeName] | unique | join(",")' <<<"$output")" = "h-1,h-3" ]
    # A pod for zone z0 that does not tolerate gpu: only h-2 fits.
    jq -n '{apiVersion:"v1",kind:"Pod",metadata:{name:"z0"},spec:{nodeSelector:{zone:"z0"},
        containers:[{name:"c",image:"busybox"}]}}' | minik apply -f -
    wait_for 20 bash -c "'$MINIK_BIN' get pod z0 -o json | jq -e '.spec.nodeName==\"h-2\" and .status.phase==\"Running\"'"
    # Nothing fits: the condition says why, per node.
    jq -n '{apiVersion:"v1",kind:"Pod",metadata:{name:"nowhere"},spec:{nodeSelector:{zone:"z9"},
        containers:[{name:"c",image:"busybox"}]}}' | minik apply -f -
    msg() { minik get pod nowhere -o json | jq -r '.status.conditions[]? | select(.type=="PodScheduled") | .message'; }
    wait_for 20 bash -c "'$MINIK_BIN' get pod nowhere -o json | jq -e '.status.conditions[]? | select(.type==\"PodScheduled\" and .status==\"False\")'"
    [[ "$(msg)" == "0/4 nodes are available: "* ]]
    [[ "$(msg)" == *"node(s) didn't match Pod's node affinity/selector"* ]]
    # A matching node appears (relabelled): the parked pod is placed.
    api PATCH /api/v1/nodes/h-3 '{"metadata":{"labels":{"zone":"z9"}}}' application/merge-patch+json >/dev/null
    wait_for 20 bash -c "'$MINIK_BIN' get pod nowhere -o json | jq -e '.spec.nodeName==\"h-3\"'"
    stop_daemon hollow
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    ! grep -q "Sanitizer\|runtime error" "$BATS_TEST_TMPDIR/hollow.log"
}

# topologySpreadConstraints through the whole path: accepted by the API's field table,
# honoured by the scheduler in `minik server`. Five hollow nodes in two racks of unequal
# size (r0: h-0, h-2, h-4; r1: h-1, h-3): spreading per node alone would put 6 of 10 pods
# in r0; the hard rack spread keeps the skew at most 1.
@test "scheduler in minik server: a hard topology spread balances a Deployment over racks; an unsatisfiable one stays Pending" {
    load apiserver_helpers
    start_server --insecure-http
    export MINIK_CONFIG="$DATA/admin.conf"
    start_daemon hollow "$MINIK_BIN" agent --kubeconfig "$DATA/admin.conf" --hollow 5 \
        --node-name h --data-dir "$(make_tmpdir hollow)" --labels 'rack=r{i%2}'
    nodes5() { [ "$(minik get nodes -o json | jq '[.items[] | select(.metadata.name | startswith("h-"))] | length')" = 5 ]; }
    wait_for 20 nodes5
    # A bad constraint is refused with where and what.
    run bash -c "jq -n '{apiVersion:\"v1\",kind:\"Pod\",metadata:{name:\"bad\"},spec:{
        topologySpreadConstraints:[{maxSkew:0,topologyKey:\"rack\",whenUnsatisfiable:\"ScheduleAnyway\",minDomains:2}],
        containers:[{name:\"c\",image:\"busybox\"}]}}' | '$MINIK_BIN' apply -f -"
    [ "$status" -eq 1 ]
    [[ "$output" == *"spec.topologySpreadConstraints[0].maxSkew: must be between 1 and 2147483647, got 0"* ]]
    [[ "$output" == *"spec.topologySpreadConstraints[0].minDomains: can only be used when \`whenUnsatisfiable\` is 'DoNotSchedule'"* ]]
    jq -n '{apiVersion:"apps/v1",kind:"Deployment",metadata:{name:"spread"},spec:{replicas:10,
        selector:{matchLabels:{app:"spread"}},template:{metadata:{labels:{app:"spread"}},
        spec:{topologySpreadConstraints:[{maxSkew:1,topologyKey:"rack",whenUnsatisfiable:"DoNotSchedule",
        labelSelector:{matchLabels:{app:"spread"}}}],containers:[{name:"c",image:"busybox"}]}}}}' | minik apply -f -
    running10() { [ "$(minik get pods -l app=spread -o json | jq '[.items[] | select(.status.phase=="Running")] | length')" = 10 ]; }
    wait_for 60 running10
    run minik get pods -l app=spread -o json
    r0=$(jq '[.items[].spec.nodeName | select(. == "h-0" or . == "h-2" or . == "h-4")] | length' <<<"$output")
    r1=$(jq '[.items[].spec.nodeName | select(. == "h-1" or . == "h-3")] | length' <<<"$output")
    [ "$r0" -eq 5 ]
    [ "$r1" -eq 5 ]
    # minDomains 3 with only two racks: the global minimum counts as 0, so any rack would
    # be 6 above it - nowhere fits, and the pod says so.
    jq -n '{apiVersion:"v1",kind:"Pod",metadata:{name:"lone",labels:{app:"spread"}},spec:{
        topologySpreadConstraints:[{maxSkew:1,topologyKey:"rack",whenUnsatisfiable:"DoNotSchedule",
        minDomains:3,labelSelector:{matchLabels:{app:"spread"}}}],containers:[{name:"c",image:"busybox"}]}}' | minik apply -f -
    wait_for 20 bash -c "'$MINIK_BIN' get pod lone -o json | jq -e '.status.conditions[]? | select(.type==\"PodScheduled\" and .status==\"False\")'"
    run minik get pod lone -o json
    [ "$(jq -r '.status.phase' <<<"$output")" = Pending ]
    [ "$(jq -r '.spec.nodeName // ""' <<<"$output")" = "" ]
    [ "$(jq -r '.status.conditions[] | select(.type=="PodScheduled") | .message' <<<"$output")" = \
        "0/5 nodes are available: 5 node(s) didn't match pod topology spread constraints." ]
    stop_daemon hollow
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    ! grep -q "Sanitizer\|runtime error" "$BATS_TEST_TMPDIR/hollow.log"
}

# More hollow nodes than one request driver serves (250 each): nodes on both drivers
# register and stay Ready (heartbeats), pods bound to the first and the last node run,
# and the agent stops cleanly on SIGTERM, closing every driver.
@test "scheduler in minik server: 260 hollow nodes over two request drivers run their pods and stop cleanly" {
    load apiserver_helpers
    # A /15 holds 512 node /24s (the default /16 only 256).
    start_server --insecure-http --cluster-cidr 100.64.0.0/15
    export MINIK_CONFIG="$DATA/admin.conf"
    start_daemon hollow "$MINIK_BIN" agent --kubeconfig "$DATA/admin.conf" --hollow 260 \
        --node-name h --data-dir "$(make_tmpdir hollow)" --cluster-cidr 100.64.0.0/15
    ready260() {
        [ "$(minik get nodes -o json | jq '[.items[] | select(.metadata.name | startswith("h-"))
            | select(any(.status.conditions[]?; .type=="Ready" and .status=="True"))] | length')" = 260 ]
    }
    wait_for 90 ready260
    for n in h-0 h-259; do
        jq -n --arg n "$n" '{apiVersion:"v1",kind:"Pod",metadata:{name:("on-"+$n)},
            spec:{nodeName:$n,containers:[{name:"c",image:"busybox"}]}}' | minik apply -f -
    done
    running() { minik get pod "on-$1" -o json | jq -e '.status.phase=="Running"' >/dev/null; }
    wait_for 30 running h-0
    wait_for 30 running h-259
    stop_daemon hollow
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
    ! grep -q "Sanitizer\|runtime error" "$BATS_TEST_TMPDIR/hollow.log"
}
