#!/usr/bin/env bash
# The node agent: apply -> Running (seen through a watch) for 1 pod and for 100 pods on
# one node, the agent's idle RSS and CPU, and memory per running pod beyond the container
# (its shim, and what the agent keeps per pod). Server (no embedded agent) + `minik agent`
# + a docker-registry on 127.0.0.1; everything is removed at the end. No kubelet runs on
# this machine, so there is no side-by-side peer for these figures.
set -euo pipefail
: "${MINIK_BIN:?}"
. "$(dirname "$0")/lib.sh"
N=${BENCH_AGENT_PODS:-100}
work=$(mktemp -d /tmp/minik-bench-agent-XXXXXX)
pids=()
cleanup() {
    [ -n "${apid:-}" ] && kill -KILL "$apid" 2>/dev/null || true
    for st in "$work"/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        kill -KILL "$(jq -r .pid "$st")" "$(jq -r .shimPid "$st")" 2>/dev/null || true
    done
    sleep 0.3
    for st in "$work"/agent/oci/*/state.json; do
        [ -f "$st" ] || continue
        "$MINIK_BIN" oci --root "$work/agent/oci" delete --force "$(jq -r .id "$st")" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    for m in $(findmnt -rn -o TARGET | grep "^$work/" | sort -r || true); do umount -l "$m" || true; done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

start_registry "$work/reg"
pids+=("$REG_PID")
L="$work/oci"
umoci init --layout "$L" >/dev/null
umoci new --image "$L:b" >/dev/null
umoci unpack --image "$L:b" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
umoci repack --image "$L:b" "$work/bundle" >/dev/null
IMG="127.0.0.1:$REG_PORT/bench/busybox:1"
skopeo copy -q --dest-tls-verify=false "oci:$L:b" "docker://$IMG"

sport=$(free_port)
"$MINIK_BIN" server --no-agent --insecure-http --data-dir "$work/server" --listen "127.0.0.1:$sport" \
    >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/server/admin.conf" ] && curl -sf "http://127.0.0.1:$sport/healthz" >/dev/null && break; sleep 0.1; done
export MINIK_CONFIG="$work/server/admin.conf"
TOKEN=$(sed -n 's/^    token: //p' "$MINIK_CONFIG")
# --pod-network none: this agent runs in the host's namespace (no minik0 bridge there).
"$MINIK_BIN" agent --node-name bench --pod-network none --data-dir "$work/agent" --port 0 >"$work/agent.log" 2>&1 &
apid=$!
pids+=($apid)
for _ in $(seq 100); do "$MINIK_BIN" get node bench >/dev/null 2>&1 && break; sleep 0.1; done
# Pull once so the runs measure starting pods, not the first download.
"$MINIK_BIN" image pull -q --data-dir "$work/agent" "$IMG" >/dev/null

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Proportional set size: shared pages (libraries) divided among the processes sharing them.
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
idle_cpu() { # PID SECONDS -> percent of one core
    local t0 t1
    t0=$(cpu_ticks "$1")
    sleep "$2"
    t1=$(cpu_ticks "$1")
    awk -v d=$((t1 - t0)) -v s="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", 100 * d / hz / s}'
}
rss0=$(rss_kb $apid)
cpu0=$(idle_cpu $apid 10)

# watch_run PREFIX COUNT : apply COUNT pods in one file; print each pod's apply -> Running
# time in ms, as observed on a watch stream opened before the apply.
watch_run() {
    local prefix=$1 count=$2 f="$work/$1.json"
    jq -n --arg p "$prefix" --arg img "$IMG" --argjson n "$count" '{apiVersion:"v1",kind:"List",
      items:[range($n) | {apiVersion:"v1",kind:"Pod",metadata:{name:"\($p)-\(.)"},
      spec:{nodeName:"bench",terminationGracePeriodSeconds:0,containers:[{name:"c",image:$img,
      command:["/bin/busybox","sleep","100000"]}]}}]}' >"$f"
    python3 - "$sport" "$TOKEN" "$prefix" "$count" "$MINIK_BIN" "$f" <<'PY'
import http.client, json, subprocess, sys, time, os
port, token, prefix, count, minik, f = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
c = http.client.HTTPConnection("127.0.0.1", int(port))
c.request("GET", "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dbench", headers={"Authorization": "Bearer " + token})
r = c.getresponse()
t0 = time.monotonic()
subprocess.run([minik, "apply", "-f", f], check=True, stdout=subprocess.DEVNULL)
done = {}
while len(done) < count:
    line = r.readline()
    if not line:
        break
    ev = json.loads(line)
    o = ev["object"]
    n = o["metadata"]["name"]
    if n.startswith(prefix + "-") and n not in done and o.get("status", {}).get("phase") == "Running":
        done[n] = (time.monotonic() - t0) * 1000
for v in done.values():
    print("%.1f" % v)
PY
}
pctl() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.0f", a[i]}'; }

# One pod, five times (deleted between runs).
: >"$work/one.txt"
for i in 1 2 3 4 5; do
    watch_run "one$i" 1 >>"$work/one.txt"
    "$MINIK_BIN" delete pod "one$i-0" >/dev/null
done
one50=$(pctl 50 <"$work/one.txt")
one99=$(pctl 99 <"$work/one.txt")
sleep 2
watch_run many "$N" >"$work/many.txt"
many50=$(pctl 50 <"$work/many.txt")
many99=$(pctl 99 <"$work/many.txt")
manyall=$(sort -n "$work/many.txt" | tail -1)
got=$(wc -l <"$work/many.txt")
sleep 5
rss1=$(rss_kb $apid)
cpu1=$(idle_cpu $apid 10)
shim_kb=0
nshim=0
for st in "$work"/agent/oci/*/state.json; do
    s=$(jq -r .shimPid "$st")
    [ -e "/proc/$s/status" ] || continue
    shim_kb=$((shim_kb + $(pss_kb "$s")))
    nshim=$((nshim + 1))
done
ctr_kb=0
for st in "$work"/agent/oci/*/state.json; do
    s=$(jq -r .pid "$st")
    [ -e "/proc/$s/status" ] && ctr_kb=$((ctr_kb + $(pss_kb "$s")))
done

echo "## Node agent (one node; server with --no-agent and \`minik agent\` on 127.0.0.1; busybox pods)"
echo
echo "| measure | minik | note |"
echo "|---|---|---|"
echo "| apply -> Running, 1 pod (p50 / p99 of 5) | $one50 ms / $one99 ms | seen on a pod watch opened before the apply |"
echo "| apply -> Running, $N pods in one apply (p50 / p99 / last) | $many50 / $many99 / $manyall ms | $got of $N Running |"
echo "| agent idle, no pods: RSS / CPU | $((rss0 / 1024)) MiB / $cpu0 % | 10 s sample, 1 s heartbeat, 1 s sync |"
echo "| agent idle, $N pods running: RSS / CPU | $((rss1 / 1024)) MiB / $cpu1 % | 10 s sample |"
awk -v a="$rss0" -v b="$rss1" -v s="$shim_kb" -v n="$nshim" -v c="$ctr_kb" -v N="$N" 'BEGIN {
  printf "| memory per running pod beyond the container | %.0f KiB | shim PSS %.0f KiB + agent RSS growth %.0f KiB (container itself: %.0f KiB PSS) |\n",
    s/n + (b-a)/N, s/n, (b-a)/N, c/n }'
echo
echo "Peer: no kubelet/containerd runs here, so there is no side-by-side figure."
