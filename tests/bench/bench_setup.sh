#!/usr/bin/env bash
# Idle footprint of `minik server` (with its embedded agent) and of `minik agent`, with 0
# and with 20 running pods: RSS, CPU and bytes written to disk over an idle window; and the
# time `make demo` takes from start to a Ready app (after the build). k3s's figures are
# quoted from its documentation (no k3s on this machine): marked "reference, not measured".
#   BENCH_IDLE_SECONDS  idle window per row (default 60; the issue asks for 300)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
minik=${MINIK_BIN:-$root/build/minik}
window=${BENCH_IDLE_SECONDS:-60}
[ "$(id -u)" -eq 0 ] || { echo "bench_setup: needs root"; exit 0; }
# The server's embedded agent, the joined agent and the demo run pods on the pod network
# (minik0 bridge, nftables Service table, routes): in a network namespace of this run's, so
# the host's network is never changed. Everything measured is the same there.
if [ -z "${BENCH_SETUP_NETNS:-}" ]; then
    ns=minik-bench-setup-$$
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    rc=0
    BENCH_SETUP_NETNS=$ns nsenter --net="/run/netns/$ns" bash "$0" "$@" || rc=$?
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns delete "$ns"
    exit "$rc"
fi
work=$(mktemp -d /var/tmp/minik-bench-setup.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    local st cg pd
    for st in "$work"/*/oci/*/state.json "$work"/*/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        kill -KILL "$(jq -r .pid "$st")" "$(jq -r .shimPid "$st")" 2>/dev/null || true
    done
    sleep 0.3
    awk -v d="$work/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    # The pods' cgroups (their containers' first, then the pod's own): the agents were
    # stopped with their pods still running.
    for st in "$work"/*/oci/*/state.json "$work"/*/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        cg=$(jq -r '.cgroupPath // empty' "$st")
        [ -n "$cg" ] && find /sys/fs/cgroup -depth -type d -path "*$cg" -exec rmdir {} + 2>/dev/null || true
    done
    for pd in "$work"/*/pods/*/ "$work"/*/agent/pods/*/; do
        [ -d "$pd" ] || continue
        find /sys/fs/cgroup -maxdepth 4 -depth -type d -path "*/minik/pod-$(basename "$pd")" -exec rmdir {} + 2>/dev/null || true
    done
    MINIK_DEMO_DIR=$work/demo bash "$root/deploy/demo.sh" stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
wbytes() { awk '/^write_bytes/ { print $2 }' "/proc/$1/io"; }
# shims_rss_kb DIR : total RSS of the per-container shims recorded under DIR/oci.
shims_rss_kb() {
    local t=0 st p
    for st in "$1"/oci/*/state.json; do
        [ -f "$st" ] || continue
        p=$(jq -r .shimPid "$st")
        [ -r "/proc/$p/status" ] && t=$((t + $(rss_kb "$p")))
    done
    echo "$t"
}

# measure LABEL PID AGENT_DIR : idle for $window s; print one table row.
measure() {
    local label=$1 pid=$2 adir=$3
    local c0 w0 c1 w1 rss_max=0 r i
    sleep 5 # let start-up work settle
    c0=$(cpu_ticks "$pid")
    w0=$(wbytes "$pid")
    for i in $(seq 1 "$window"); do
        r=$(rss_kb "$pid")
        [ "$r" -gt "$rss_max" ] && rss_max=$r
        sleep 1
    done
    c1=$(cpu_ticks "$pid")
    w1=$(wbytes "$pid")
    local cpu_pct wph
    cpu_pct=$(awk -v d=$((c1 - c0)) -v t="$ticks" -v w="$window" 'BEGIN { printf "%.2f", 100 * d / t / w }')
    wph=$(awk -v b=$((w1 - w0)) -v w="$window" 'BEGIN { printf "%.1f", b * 3600 / w / 1024 }')
    printf '| %s | %.1f | %s | %s | %.1f |\n' "$label" "$(awk -v r="$rss_max" 'BEGIN { print r / 1024 }')" \
        "$cpu_pct" "$wph" "$(awk -v r="$(shims_rss_kb "$adir")" 'BEGIN { print r / 1024 }')"
}

# wait_ready KUBECONFIG N : wait (up to 150 s) for N ready replicas; prints how many are
# ready in the end, so a row says what it measured when the machine could not start all.
wait_ready() {
    local i n=0
    for i in $(seq 1 300); do
        n=$(MINIK_CONFIG=$1 "$minik" get deploy idle -o json 2>/dev/null | jq '.status.readyReplicas // 0')
        [ "$n" = "$2" ] && break
        sleep 0.5
    done
    echo "$n"
}

deploy_idle() { # deploy_idle KUBECONFIG REPLICAS
    MINIK_CONFIG=$1 "$minik" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: idle}
spec:
  replicas: $2
  selector: {matchLabels: {app: idle}}
  template:
    metadata: {labels: {app: idle}}
    spec:
      containers:
        - name: web
          image: minik-demo/hello:1
          command: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]
EOF
}

bash "$root/deploy/demo-image.sh" "$work/img" 1 2>/dev/null

echo "## Idle footprint (window ${window}s per row; bytes written extrapolated to an hour)"
echo
echo "| process | peak RSS MB | CPU % of one core | KiB written / idle hour | shims' RSS MB (all pods) |"
echo "|---|---|---|---|---|"

# 1. minik server with its embedded agent.
"$minik" server --data-dir "$work/srv" --listen 127.0.0.1:0 >"$work/srv.log" 2>&1 &
spid=$!
pids+=("$spid")
for i in $(seq 1 100); do [ -s "$work/srv/admin.conf" ] && break; sleep 0.1; done
"$minik" image import "$work/img" --name minik-demo/hello:1 --data-dir "$work/srv/agent" >/dev/null
measure "minik server + embedded agent, 0 pods" "$spid" "$work/srv/agent"
deploy_idle "$work/srv/admin.conf" 20
n=$(wait_ready "$work/srv/admin.conf" 20)
measure "minik server + embedded agent, $n pods ready (20 asked)" "$spid" "$work/srv/agent"
MINIK_CONFIG=$work/srv/admin.conf "$minik" delete deploy idle >/dev/null
sleep 5
kill -TERM "$spid"
wait "$spid" 2>/dev/null || true

# 2. A separate agent, joined to a server without an embedded agent.
"$minik" server --no-agent --data-dir "$work/cp" --listen 127.0.0.1:0 >"$work/cp.log" 2>&1 &
pids+=("$!")
for i in $(seq 1 100); do [ -s "$work/cp/admin.conf" ] && break; sleep 0.1; done
url=$(grep -o 'url=[^ ]*' "$work/cp.log" | head -n 1 | cut -d= -f2)
tok=$("$minik" token create --data-dir "$work/cp" | tail -n 1)
"$minik" image import "$work/img" --name minik-demo/hello:1 --data-dir "$work/ag" >/dev/null
"$minik" agent --server "$url" --token "$tok" --node-name bench --data-dir "$work/ag" --port 0 >"$work/ag.log" 2>&1 &
apid=$!
pids+=("$apid")
measure "minik agent, 0 pods" "$apid" "$work/ag"
deploy_idle "$work/cp/admin.conf" 20
n=$(wait_ready "$work/cp/admin.conf" 20)
measure "minik agent, $n pods ready (20 asked)" "$apid" "$work/ag"
# docs.k3s.io/reference/resource-profiling (K3s v1.26.5, SQLite, Intel 8375C): minimum RAM
# and CPU set aside, measured by the k3s project with a workload running.
echo "| k3s server with a workload (reference, not measured: k3s docs) | 1596 | 6 | – | – |"
echo "| k3s agent (reference, not measured: k3s docs) | 275 | 3 | – | – |"

# 3. make demo from start to a Ready app (the build is done already).
echo
echo "## make demo: start to Ready (after the build)"
echo
t0=$(date +%s%N)
MINIK_BIN=$minik MINIK_DEMO_DIR=$work/demo MINIK_DEMO_SKIP_DEPS=1 bash "$root/deploy/demo.sh" start 2>&1 |
    while IFS= read -r line; do echo "$(date +%s%N) $line"; done >"$work/demo.out" || true
ready=$(awk '/successfully rolled out/ { print $1; exit }' "$work/demo.out")
answered=$(awk '/The hello app answered/ { print $1; exit }' "$work/demo.out")
echo "| step | ms from start |"
echo "|---|---|"
if [ -n "$ready" ]; then
    echo "| hello Deployment 3/3 Ready (server start, image build + import, apply, rollout) | $(((ready - t0) / 1000000)) |"
else
    echo "| hello Deployment 3/3 Ready | did not finish |"
fi
if [ -n "$answered" ]; then
    echo "| the app answered through its Service | $(((answered - t0) / 1000000)) |"
else
    echo "| the app answered through its Service | no answer: Service networking is not in this build |"
fi
