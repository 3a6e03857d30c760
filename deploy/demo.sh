#!/usr/bin/env bash
# The README's first command: a one-machine minik cluster with the hello app deployed.
#   deploy/demo.sh start   (make demo)       deps, server + embedded agent under .demo/,
#                                            demo image, deploy/examples/hello/, wait until
#                                            Ready, fetch the Service once
#   deploy/demo.sh stop    (make demo-stop)  remove everything start created
#   deploy/demo.sh status                    is a demo running, and where
# Environment: MINIK_BIN (default build/minik), MINIK_DEMO_DIR (default .demo in the repo),
# MINIK_DEMO_SKIP_DEPS=1 (do not run deploy/deps.sh), MINIK_DEMO_TIMEOUT (seconds to wait
# for the rollout, default 120).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
minik=${MINIK_BIN:-$repo/build/minik}
demo=${MINIK_DEMO_DIR:-$repo/.demo}
timeout=${MINIK_DEMO_TIMEOUT:-120}
data=$demo/data
kubeconfig=$data/admin.conf
pidfile=$demo/server.pid
log=$demo/server.log
app_dir=$repo/deploy/examples/hello

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf 'demo: %s\n' "$*" >&2; }
die() {
    warn "$*"
    exit 1
}
k() { MINIK_CONFIG=$kubeconfig "$minik" "$@"; }
now_ms() { date +%s%3N; }

# A pid we recorded is ours only while it still runs the binary we started (pids recycle).
server_running() {
    [ -f "$pidfile" ] || return 1
    local pid
    pid=$(cat "$pidfile")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q "server" "/proc/$pid/cmdline" 2>/dev/null
}

start() {
    local t0
    t0=$(now_ms)
    [ "$(id -u)" -eq 0 ] || die "run as root: minik's agent needs namespaces, cgroups and mounts"
    if server_running; then
        die "a demo is already running (pid $(cat "$pidfile"), $demo); 'make demo-stop' first"
    fi
    if [ "${MINIK_DEMO_SKIP_DEPS:-0}" != 1 ]; then
        say "Installing missing Debian packages (deploy/deps.sh)"
        bash "$repo/deploy/deps.sh"
    fi
    [ -x "$minik" ] || die "$minik not built (run: make)"
    mkdir -p "$demo"

    local i
    say "Starting minik server with its embedded agent (data in $data)"
    # --listen on loopback with port 0: the demo never exposes an API on the network and
    # never clashes with another server on 6443.
    # The pid is written by the process itself (setsid may fork, so $! could be setsid's),
    # and inherited descriptors are closed so no caller waits on the server's pipes.
    setsid sh -c 'echo $$ >"$1"; shift; exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; exec "$@"' sh \
        "$pidfile" "$minik" server --data-dir "$data" --listen 127.0.0.1:0 >"$log" 2>&1 </dev/null &
    for i in $(seq 1 50); do
        [ -s "$pidfile" ] && break
        sleep 0.05
    done
    for i in $(seq 1 100); do
        [ -f "$kubeconfig" ] && k get nodes >/dev/null 2>&1 && break
        server_running || { cat "$log" >&2; die "minik server exited (log above: $log)"; }
        sleep 0.1
    done
    k get nodes >/dev/null 2>&1 || die "the API server did not answer within 10s (log: $log)"
    # The embedded agent registers its Node a moment after the API comes up.
    for i in $(seq 1 100); do
        [ -n "$(k get nodes -o name 2>/dev/null)" ] && break
        sleep 0.1
    done
    [ -n "$(k get nodes -o name 2>/dev/null)" ] ||
        die "the embedded agent registered no node (log: $log)"

    say "Building the demo image offline (busybox httpd) and importing it"
    bash "$repo/deploy/demo-image.sh" "$demo/image" 1
    "$minik" image import "$demo/image" --name minik-demo/hello:1 --data-dir "$data/agent"

    say "Applying $app_dir"
    k apply -f "$app_dir"

    say "Waiting until the Deployment is Ready (minik rollout status, up to ${timeout}s)"
    if ! k rollout status deploy/hello --timeout "${timeout}s"; then
        k get pods -o wide || true
        k describe pods -l app=hello 2>/dev/null | sed -n '/^Events:/,/^$/p' >&2 || true
        warn "last lines of the server log ($log):"
        tail -n 40 "$log" >&2 || true
        die "the hello Deployment did not become Ready (log: $log)"
    fi
    k get pods -o wide

    say "Fetching the hello Service"
    local node_port cluster_ip answer=""
    node_port=$(k get svc hello -o json | jq -r '.spec.ports[0].nodePort // empty')
    cluster_ip=$(k get svc hello -o json | jq -r '.spec.clusterIP // empty')
    for i in $(seq 1 50); do
        if [ -n "$node_port" ] && answer=$(curl -fsS --max-time 2 "http://127.0.0.1:$node_port/" 2>/dev/null); then
            echo "curl http://127.0.0.1:$node_port/  (NodePort)"
            break
        fi
        # The ClusterIP only while this node routes the service range to its pod bridge:
        # before the agent has programmed it, a request would head for the default route,
        # off this machine.
        if [ -n "$cluster_ip" ] && [ "$cluster_ip" != None ] &&
            ip route get "$cluster_ip" 2>/dev/null | grep -q ' dev minik0 ' &&
            answer=$(curl -fsS --max-time 2 "http://$cluster_ip/" 2>/dev/null); then
            echo "curl http://$cluster_ip/  (ClusterIP)"
            break
        fi
        answer=""
        sleep 0.2
    done
    if [ -z "$answer" ]; then
        warn "the Service did not answer: neither NodePort ${node_port:-?} on 127.0.0.1 nor the"
        warn "ClusterIP (${cluster_ip:-none}) through this node's pod bridge. The server log"
        warn "($log) says what the agent's network set-up did."
        local ns
        ns=$(find "$data/agent/pods" -path '*/ns/net' 2>/dev/null | head -n 1)
        if [ -n "$ns" ]; then
            warn "What one pod answers on its own port 8080 (inside its network namespace,"
            warn "NOT through the Service):"
            nsenter --net="$ns" curl -fsS --max-time 2 http://127.0.0.1:8080/ >&2 || true
        fi
        hints
        exit 1
    fi
    echo "$answer"
    local t1
    t1=$(now_ms)
    echo "$(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))s from start to the app answering" >"$demo/timing"
    say "The hello app answered ($(cat "$demo/timing"))"
    hints
}

hints() {
    cat <<EOF

Look around (the demo's kubeconfig is $kubeconfig):
  export MINIK_CONFIG=$kubeconfig
  $minik get pods -o wide
  $minik get deploy,rs,svc,cm
  $minik describe deploy hello
  $minik logs POD                    (a name from get pods)
  $minik scale deploy hello --replicas 5
  kubectl --kubeconfig $kubeconfig get pods   (stock kubectl works too)
Server log: $log
Stop and remove everything: make demo-stop
EOF
}

# Kill a container process and its shim recorded in a runtime state.json, checking the
# recorded start time so a recycled pid is never hit.
kill_recorded() {
    local pid=$1 start=$2
    [ -n "$pid" ] && [ "$pid" != null ] && [ -r "/proc/$pid/stat" ] || return 0
    local now_start
    now_start=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$pid/stat")
    [ "$now_start" = "$start" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
}

# A minik process (server, agent, shim) other than ours in this network namespace.
other_minik_here() {
    local self p
    self=$(readlink /proc/self/ns/net)
    for p in $(pgrep -x minik 2>/dev/null); do
        [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$self" ] && return 0
    done
    return 1
}

stop() {
    [ -d "$demo" ] || {
        echo "demo: nothing to stop ($demo does not exist)"
        return 0
    }
    if server_running; then
        say "Deleting the hello app (so the agent stops its containers)"
        k delete -f "$app_dir" --ignore-not-found >/dev/null 2>&1 || true
        local i
        for i in $(seq 1 100); do
            [ -z "$(k get pods -o name 2>/dev/null)" ] && break
            sleep 0.2
        done
        local pid
        pid=$(cat "$pidfile")
        say "Stopping minik server (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            [ -d "/proc/$pid" ] || break
            sleep 0.1
        done
        [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    fi
    # Helpers the server forked for pod sandboxes (they hold the pods' namespaces) carry the
    # server's command line with this demo's data dir: end exactly those.
    local p
    for p in /proc/[0-9]*; do
        [ "$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" = "$minik server --data-dir $data --listen 127.0.0.1:0 " ] &&
            kill -KILL "${p#/proc/}" 2>/dev/null || true
    done
    # Containers outlive the agent by design; whatever is left is ended by its recorded pid.
    local st
    for st in "$data"/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        kill_recorded "$(jq -r .pid "$st")" "$(jq -r .pidStart "$st")"
        kill_recorded "$(jq -r .shimPid "$st")" "$(jq -r .shimStart "$st")"
    done
    sleep 0.2
    # Their cgroups, in every hierarchy (v1 controllers, the hybrid unified tree, pure v2).
    for st in "$data"/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        local cg
        cg=$(jq -r '.cgroupPath // empty' "$st")
        [ -n "$cg" ] || continue
        find /sys/fs/cgroup -depth -type d -path "*$cg" -exec rmdir {} + 2>/dev/null || true
    done
    # And the pods' own cgroups, their parents (minik/pod-<uid>): the pods leave the API at
    # once, but the server stopped before its agent had removed their sandboxes.
    local pd
    for pd in "$data"/agent/pods/*/; do
        [ -d "$pd" ] || continue
        find /sys/fs/cgroup -maxdepth 4 -depth -type d -path "*/minik/pod-$(basename "$pd")" -exec rmdir {} + 2>/dev/null || true
    done
    # Mounts under the demo dir (overlay roots, namespace bind mounts), deepest first.
    local m
    awk -v d="$demo/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    # The node's pod network: the minik0 bridge (its routes go with it) and the Services'
    # nftables table. They belong to whichever minik runs here, so they stay when another
    # minik server or agent still runs in this network namespace.
    if other_minik_here; then
        warn "another minik process runs here: leaving the minik0 bridge and nftables table"
    else
        nft delete table ip minik 2>/dev/null || true
        ip link delete minik0 2>/dev/null || true
    fi
    rm -rf "$demo"
    say "Demo removed ($demo)"
}

status() {
    if server_running; then
        echo "demo running: server pid $(cat "$pidfile"), data $data, kubeconfig $kubeconfig"
        k get pods -o wide || true
    else
        echo "no demo running"
        return 1
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: deploy/demo.sh start|stop|status" >&2
    exit 2
    ;;
esac
