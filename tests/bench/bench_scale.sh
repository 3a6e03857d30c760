#!/usr/bin/env bash
# Whole control plane at scale: a real `minik server` (API server, store, controllers,
# scheduler on one loop) and `minik agent --hollow N` (N simulated nodes in one process,
# kubemark-style). For each row, tests/tools/scale_watch creates one Deployment of PODS
# replicas and follows its pods through a watch: time until every pod exists, is bound and
# is reported Running by its hollow node, placements/s (pods / time to all-bound), and the
# server's RSS at the end (and its peak). No kube-scheduler runs here: its scheduler_perf
# CI floor (about 700 pods/s) and Nomad's C1M (1,000,000 containers on 5,000 hosts in
# under 5 minutes with 5 servers: about 3,300 placements/s) are printed as references.
#
# Env: ROWS (default "100:plain 1000:plain 5000:plain 1000:affinity": NODES:WORKLOAD),
# PODS (default 5000) for the node-count rows; C1M_PODS (default 0: skipped) for the
# C1M-style row, e.g. C1M_PODS=100000 (5,000 hollow nodes); BENCH_DIR (default /var/tmp).
# Nodes heartbeat every 10 s (a kubelet renews its Lease every 10 s) and the grace period is
# 40 s (Kubernetes' default), so a loaded
# server does not mark nodes NotReady mid-run; the cluster CIDR is a /10 so that 5,000
# nodes each get their /24. SCALE_PROGRESS=1 logs counts every second to $BENCH_DIR/...
# (kept with the run's logs when a run fails).
set -euo pipefail
: "${MINIK_BIN:?}"
tool="$(dirname "$MINIK_BIN")/tools/scale_watch"
pods=${PODS:-5000}
c1m=${C1M_PODS:-0}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
base=$(mktemp -d "${BENCH_DIR:-/var/tmp}/minik-bench-scale-XXXXXX")
server_pid= agent_pid=
cleanup() {
    [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf --one-file-system "$base"
}
trap cleanup EXIT

val() { sed -n "s/^$1=//p" <<<"$2"; }
rss_mb() { awk -v k="$2:" '$1 == k {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

free_port() {
    local p
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 30000))
        ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }
    done
    return 1
}

# run NODES PODS WORKLOAD → one table row
run() {
    local nodes=$1 n=$2 workload=$3 d port url tok out t_nodes
    d=$(mktemp -d "$base/run-XXXXXX")
    port=$(free_port)
    url="http://127.0.0.1:$port"
    "$MINIK_BIN" server --data-dir "$d/server" --listen "127.0.0.1:$port" --no-agent \
        --insecure-http --node-grace-period 40s --pod-eviction-timeout 5m \
        --cluster-cidr 100.64.0.0/10 >"$d/server.log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 200; i++)); do
        curl -sf "$url/healthz" >/dev/null 2>&1 && [ -s "$d/server/admin.conf" ] && break
        sleep 0.1
    done
    tok=$(sed -n 's/^    token: //p' "$d/server/admin.conf")
    local t0=$SECONDS
    MINIK_LOG_LEVEL=warn "$MINIK_BIN" agent --kubeconfig "$d/server/admin.conf" --hollow "$nodes" \
        --node-name h --data-dir "$d/agent" --heartbeat 10s --sync-period 5s \
        --cluster-cidr 100.64.0.0/10 \
        --labels 'topology.kubernetes.io/zone=zone-{i%10}' >"$d/agent.log" 2>&1 &
    agent_pid=$!
    local have=0
    for ((i = 0; i < 600; i++)); do
        have=$(curl -sf -H "Authorization: Bearer $tok" "$url/api/v1/nodes" | jq '.items | length')
        [ "$have" -ge "$nodes" ] && break
        sleep 1
    done
    # Up means every node's agent has listed its pods and watches them (one watch each).
    local w=0
    for ((i = 0; i < 600; i++)); do
        w=$(curl -sf -H "Authorization: Bearer $tok" "$url/metrics" | sed -n 's/^minik_apiserver_watches //p')
        [ "${w:-0}" -ge "$nodes" ] && break
        sleep 1
    done
    t_nodes=$((SECONDS - t0))
    sleep 3 # every node's first heartbeat has reached the scheduler
    if ! out=$("$tool" "$url" "$tok" "scale" "$n" "$workload" "${SCALE_TIMEOUT:-1800}" 2>"$d/progress.log"); then
        echo "| $nodes | $n | $workload | failed: $(tail -n1 "$d/progress.log") | | | | | | | |"
        cp -r "$d" "${BENCH_DIR:-/var/tmp}/minik-bench-scale-failed-$nodes" 2>/dev/null || true
        kill -TERM "$agent_pid" "$server_pid" 2>/dev/null
        wait "$agent_pid" "$server_pid" 2>/dev/null || true
        agent_pid= server_pid=
        return
    fi
    local rss hwm arss
    rss=$(rss_mb "$server_pid" VmRSS)
    hwm=$(rss_mb "$server_pid" VmHWM)
    arss=$(rss_mb "$agent_pid" VmRSS)
    kill -TERM "$agent_pid"
    wait "$agent_pid" 2>/dev/null || true
    agent_pid=
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    rm -rf --one-file-system "$d"
    awk -v N="$nodes" -v n="$n" -v w="$workload" -v tn="$t_nodes" -v c="$(val created_s "$out")" \
        -v b="$(val bound_s "$out")" -v r="$(val running_s "$out")" -v rss="$rss" -v hwm="$hwm" \
        -v a="$arss" 'BEGIN {printf "| %d | %d | %s | %d | %.1f | %.1f | %.1f | %.0f | %.2fx | %d (%d) | %d |\n",
            N, n, w, tn, c, b, r, n / b, n / b / 700, rss, hwm, a}'
}

echo "## Whole cluster with hollow nodes (minik server + minik agent --hollow, one Deployment)"
echo
echo "| hollow nodes | pods | workload | nodes up s | all created s | all bound s | all Running s | placements/s | vs kube-scheduler floor 700/s | server RSS MB (peak) | hollow agent RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for spec in ${ROWS:-100:plain 1000:plain 5000:plain 1000:affinity}; do
    IFS=: read -r nodes workload <<<"$spec"
    run "$nodes" "$pods" "$workload"
done
if [ "$c1m" -gt 0 ]; then
    run 5000 "$c1m" plain
fi
echo
echo "References (not measured here): kube-scheduler scheduler_perf CI floor ~700 pods/s;"
echo "Nomad C1M: 1,000,000 containers on 5,000 hosts in < 5 min with 5 servers (~3,300/s)."
