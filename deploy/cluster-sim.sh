#!/usr/bin/env bash
# A homelab in a box: a three-node minik cluster on one machine, each node in a network
# namespace of its own (and its own UTS namespace, so each has its own host name), joined
# by a bridge that lives in a fourth namespace. Nothing is routed to the host's network.
#
#   deploy/cluster-sim.sh up                  node1 = minik server (+ embedded agent),
#                                             node2, node3 = minik agent, joined with a token
#   deploy/cluster-sim.sh status              processes and `minik get nodes -o wide`
#   deploy/cluster-sim.sh minik ARGS...       run a minik client command against the cluster
#                                             (inside node1's namespace, admin kubeconfig)
#   deploy/cluster-sim.sh import DIR NAME     import an OCI layout into every node's store
#   deploy/cluster-sim.sh kill NODE           the node dies: its agent and containers get
#                                             SIGKILL (node2/node3; node1 is the server)
#   deploy/cluster-sim.sh start NODE          bring a killed agent node back
#   deploy/cluster-sim.sh down                stop everything and remove all it created
# Environment: MINIK_BIN (default build/minik), CLUSTER_SIM_DIR (default .cluster-sim in
# the repo), CLUSTER_SIM_SUBNET (first three octets, default 10.213.0).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
minik=${MINIK_BIN:-$repo/build/minik}
dir=${CLUSTER_SIM_DIR:-$repo/.cluster-sim}
net=${CLUSTER_SIM_SUBNET:-10.213.0}
# Namespace names carry a short hash of the state dir, so two simulations (or a test and a
# person) never touch each other's namespaces.
tag=$(printf '%s' "$dir" | sha256sum | cut -c1-6)
hub=msim-$tag-hub
nodes=(node1 node2 node3)

die() {
    echo "cluster-sim: $*" >&2
    exit 1
}
ns_of() { echo "msim-$tag-$1"; }
ip_of() { echo "$net.$((${1#node} + 0))"; }
pidfile() { echo "$dir/$1.pid"; }
alive() {
    local f
    f=$(pidfile "$1")
    [ -f "$f" ] && [ -d "/proc/$(cat "$f")" ]
}
in_ns() { # in_ns NODE CMD... : run CMD in NODE's network namespace
    local n=$1
    shift
    nsenter --net="/run/netns/$(ns_of "$n")" "$@"
}
kc() { in_ns node1 env MINIK_CONFIG="$dir/node1/admin.conf" "$minik" "$@"; }

# A node's process, started in its own network and UTS namespaces, in its own session.
# nsenter rather than `ip netns exec`, which mounts a fresh /sys and so hides the cgroup
# hierarchies the runtime needs.
spawn() { # spawn NODE CMD...
    local n=$1
    shift
    local pf
    pf=$(pidfile "$n")
    rm -f "$pf"
    # The process writes its own pid (setsid may fork) and drops inherited descriptors.
    setsid nsenter --net="/run/netns/$(ns_of "$n")" unshare --uts \
        sh -c 'echo $$ >"$1"; hostname "$0"; shift; exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; exec "$@"' \
        "$n" "$pf" "$@" >"$dir/$n.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 50); do
        [ -s "$pf" ] && break
        sleep 0.05
    done
}

up() {
    [ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, mounts, cgroups)"
    [ -x "$minik" ] || die "$minik not built (run: make)"
    alive node1 && die "already up ($dir); 'cluster-sim.sh down' first"
    mkdir -p "$dir"
    ip netns add "$hub"
    ip -n "$hub" link add br0 type bridge
    ip -n "$hub" link set br0 up
    local n
    for n in "${nodes[@]}"; do
        ip netns add "$(ns_of "$n")"
        ip -n "$(ns_of "$n")" link set lo up
        ip link add "eth0" netns "$(ns_of "$n")" type veth peer name "$n" netns "$hub"
        ip -n "$hub" link set "$n" master br0 up
        ip -n "$(ns_of "$n")" addr add "$(ip_of "$n")/24" dev eth0
        ip -n "$(ns_of "$n")" link set eth0 up
        mkdir -p "$dir/$n"
    done

    echo "cluster-sim: node1: minik server at https://$(ip_of node1):6443"
    spawn node1 "$minik" server --data-dir "$dir/node1" --listen "$(ip_of node1):6443" \
        --tls-san "$(ip_of node1)"
    local i
    for i in $(seq 1 100); do
        [ -s "$dir/node1/admin.conf" ] && kc get nodes >/dev/null 2>&1 && break
        alive node1 || { cat "$dir/node1.log" >&2; die "the server exited"; }
        sleep 0.1
    done
    for n in node2 node3; do
        start_agent "$n"
    done
    for i in $(seq 1 150); do
        [ "$(kc get nodes -o json 2>/dev/null | jq '[.items[] | select(.status.conditions[]? | .type == "Ready" and .status == "True")] | length')" = 3 ] && break
        sleep 0.2
    done
    kc get nodes -o wide
    cat <<EOF

Three nodes are up. Try:
  deploy/cluster-sim.sh import DIR NAME        (e.g. the demo image: deploy/demo-image.sh /tmp/img)
  deploy/cluster-sim.sh minik apply -f deploy/examples/hello/
  deploy/cluster-sim.sh minik get pods -o wide (spread over the nodes)
  deploy/cluster-sim.sh kill node2             (its pods move after the eviction timeout)
  deploy/cluster-sim.sh down
EOF
}

start_agent() {
    local n=$1
    alive "$n" && die "$n is already running"
    # One join token per node: the agent exchanges it for the node's credential (kept in its
    # data dir, so a restarted node comes back on that) and the join token is spent.
    if [ ! -s "$dir/$n.token" ]; then
        local token
        token=$(kc token create --kubeconfig "$dir/node1/admin.conf" --description "cluster-sim $n" | tail -n 1)
        (umask 077 && echo "$token" >"$dir/$n.token")
    fi
    echo "cluster-sim: $n: minik agent joining https://$(ip_of node1):6443"
    spawn "$n" "$minik" agent --server "https://$(ip_of node1):6443" --token-file "$dir/$n.token" \
        --node-name "$n" --node-ip "$(ip_of "$n")" --data-dir "$dir/$n/agent" --port 10250
}

# End a recorded container process only if it is still the one recorded (start time).
kill_recorded() {
    local pid=$1 start=$2
    [ -n "$pid" ] && [ "$pid" != null ] && [ -r "/proc/$pid/stat" ] || return 0
    [ "$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$pid/stat")" = "$start" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
}

kill_containers() { # kill_containers NODE
    local st
    for st in "$dir/$1"/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        kill_recorded "$(jq -r .pid "$st")" "$(jq -r .pidStart "$st")"
        kill_recorded "$(jq -r .shimPid "$st")" "$(jq -r .shimStart "$st")"
    done
}

kill_node() {
    local n=${1:?usage: cluster-sim.sh kill NODE}
    [ "$n" = node1 ] && die "node1 runs the control plane; kill node2 or node3"
    [[ " ${nodes[*]} " == *" $n "* ]] || die "no node $n (nodes: ${nodes[*]})"
    alive "$n" || die "$n is not running"
    kill -KILL "$(cat "$(pidfile "$n")")"
    kill_containers "$n"
    echo "cluster-sim: $n killed (agent and containers). The server marks it NotReady after"
    echo "the node grace period and moves its pods after the pod eviction timeout."
}

down() {
    local n
    for n in node3 node2 node1; do
        if alive "$n"; then
            kill -TERM "$(cat "$(pidfile "$n")")" 2>/dev/null || true
        fi
    done
    sleep 0.5
    for n in "${nodes[@]}"; do
        alive "$n" && kill -KILL "$(cat "$(pidfile "$n")")" 2>/dev/null || true
        kill_containers "$n"
    done
    # Helpers the server and agents forked (pod sandbox holders) carry their command line,
    # with this simulation's data dirs in it: end exactly those.
    local p
    for p in /proc/[0-9]*; do
        case "$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" in
        "$minik "*"--data-dir $dir/"*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;;
        esac
    done
    sleep 0.2
    local st cg m
    for st in "$dir"/*/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        cg=$(jq -r '.cgroupPath // empty' "$st")
        [ -n "$cg" ] && find /sys/fs/cgroup -depth -type d -path "*$cg" -exec rmdir {} + 2>/dev/null || true
    done
    # The pods' own cgroups (minik/pod-<uid>, the parents of those): the nodes were killed
    # with their pods still running, so no agent removed them.
    local pd
    for pd in "$dir"/*/agent/pods/*/; do
        [ -d "$pd" ] || continue
        find /sys/fs/cgroup -maxdepth 4 -depth -type d -path "*/minik/pod-$(basename "$pd")" -exec rmdir {} + 2>/dev/null || true
    done
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    for n in "${nodes[@]}"; do
        ip netns delete "$(ns_of "$n")" 2>/dev/null || true
    done
    ip netns delete "$hub" 2>/dev/null || true
    rm -rf "$dir"
    echo "cluster-sim: down ($dir removed)"
}

status() {
    local n up=0
    for n in "${nodes[@]}"; do
        if alive "$n"; then
            echo "$n: running (pid $(cat "$(pidfile "$n")"), $(ip_of "$n"))"
            up=1
        else
            echo "$n: stopped"
        fi
    done
    [ "$up" = 1 ] || return 1
    alive node1 && kc get nodes -o wide
}

import() {
    local layout=${1:?usage: cluster-sim.sh import DIR NAME} name=${2:?usage: cluster-sim.sh import DIR NAME}
    local n
    for n in "${nodes[@]}"; do
        "$minik" image import "$layout" --name "$name" --data-dir "$dir/$n/agent"
    done
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
kill) kill_node "${2:-}" ;;
start) start_agent "${2:?usage: cluster-sim.sh start NODE}" ;;
import) import "${2:-}" "${3:-}" ;;
minik)
    shift
    kc "$@"
    ;;
*)
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
