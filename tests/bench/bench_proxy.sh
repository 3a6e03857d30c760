#!/usr/bin/env bash
# logs and exec through the API server's relay to the node agent, side by side with the
# floor of doing the same on the node without any HTTP: `minik nsexec` run directly (what
# the agent runs per exec) and reading the container's log file. Server (no embedded
# agent) + `minik agent` + a docker-registry on 127.0.0.1; everything is removed at the end.
set -euo pipefail
: "${MINIK_BIN:?}"
: "${MINIK_BIN:?}"
N=${BENCH_AGENT_PODS:-100}
work=$(mktemp -d /tmp/minik-bench-proxy-XXXXXX)
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
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

rport=$(freeport)
mkdir -p "$work/reg"
cat >"$work/reg/config.yml" <<EOC
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/reg/data}}
http: {addr: 127.0.0.1:$rport}
EOC
docker-registry serve "$work/reg/config.yml" >"$work/reg/log" 2>&1 &
pids+=($!)
L="$work/oci"
umoci init --layout "$L" >/dev/null
umoci new --image "$L:b" >/dev/null
umoci unpack --image "$L:b" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
umoci repack --image "$L:b" "$work/bundle" >/dev/null
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$rport/v2/" >/dev/null && break; sleep 0.1; done
IMG="127.0.0.1:$rport/bench/busybox:1"
skopeo copy -q --dest-tls-verify=false "oci:$L:b" "docker://$IMG"

sport=$(freeport)
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

LOG_MB=${BENCH_PROXY_LOG_MB:-20}
IN_MB=${BENCH_PROXY_STDIN_MB:-64}
jq -n --arg img "$IMG" --argjson mb "$LOG_MB" '{apiVersion:"v1",kind:"List",items:[
  {apiVersion:"v1",kind:"Pod",metadata:{name:"px"},spec:{nodeName:"bench",terminationGracePeriodSeconds:0,
   containers:[{name:"c",image:$img,command:["/bin/busybox","sleep","100000"]}]}},
  {apiVersion:"v1",kind:"Pod",metadata:{name:"logger"},spec:{nodeName:"bench",terminationGracePeriodSeconds:0,
   containers:[{name:"c",image:$img,command:["/bin/busybox","sh","-c",
     "/bin/busybox head -c \($mb * 1048576 * 3 / 4) /dev/zero | /bin/busybox base64 -w 99; exec /bin/busybox sleep 100000"]}]}}]}' |
    "$MINIK_BIN" apply -f - >/dev/null
for _ in $(seq 300); do
    [ "$("$MINIK_BIN" get pod px -o json | jq -r .status.phase)" = Running ] &&
        [ "$("$MINIK_BIN" get pod logger -o json | jq -r .status.phase)" = Running ] && break
    sleep 0.1
done
uid=$("$MINIK_BIN" get pod px -o json | jq -r .metadata.uid)
id="$uid-c-0"
st="$work/agent/oci/$id/state.json"
cpid=$(jq -r .pid "$st")
cg=$(jq -r .cgroupPath "$st")
bundle="$work/agent/pods/$uid/bundles/$id"
logfile="$work/agent/pods/$("$MINIK_BIN" get pod logger -o json | jq -r .metadata.uid)/logs/c/0.log"
# Wait for the logger to have written everything (base64 of 3/4 of LOG_MB: LOG_MB).
for _ in $(seq 600); do
    [ -f "$logfile" ] && [ "$(stat -c %s "$logfile")" -ge $((LOG_MB * 1048576)) ] && break
    sleep 0.1
done

now_ms() { date +%s%3N; }
# time_n N CMD... : mean ms of N runs.
time_n() {
    local n=$1 t0 t1
    shift
    t0=$(now_ms)
    for _ in $(seq "$n"); do "$@" >/dev/null; done
    t1=$(now_ms)
    awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN {printf "%.1f", d / n}'
}
nsexec() { "$MINIK_BIN" nsexec --pid "$cpid" --bundle "$bundle" --cgroup "$cg" -- "$@"; }
exec_relay=$(time_n 20 "$MINIK_BIN" exec px -- /bin/busybox true)
exec_floor=$(time_n 20 nsexec /bin/busybox true)
logs_relay=$(time_n 3 "$MINIK_BIN" logs logger)
logs_floor=$(time_n 3 cat "$logfile")
lines=$("$MINIK_BIN" logs logger | wc -l)
in_relay_t0=$(now_ms)
got=$(head -c $((IN_MB * 1048576)) /dev/zero | "$MINIK_BIN" exec -i px -- /bin/busybox wc -c)
in_relay=$(($(now_ms) - in_relay_t0))
in_floor_t0=$(now_ms)
head -c $((IN_MB * 1048576)) /dev/zero | nsexec /bin/busybox wc -c >/dev/null
in_floor=$(($(now_ms) - in_floor_t0))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}'; }
echo "## logs and exec through the API server (relay to the agent over TLS; floor: the same on the node without HTTP)"
echo
echo "| measure | minik (CLI -> server -> agent) | floor on the node | ratio |"
echo "|---|---|---|---|"
echo "| exec \`true\`, mean of 20 | $exec_relay ms | $exec_floor ms (\`minik nsexec\`) | $(ratio "$exec_relay" "$exec_floor") |"
echo "| logs of ${LOG_MB} MiB ($lines lines), mean of 3 | $logs_relay ms | $logs_floor ms (\`cat\` of the CRI file) | $(ratio "$logs_relay" "$logs_floor") |"
echo "| exec -i stdin ${IN_MB} MiB into \`wc -c\` ($got bytes counted) | $in_relay ms | $in_floor ms (\`minik nsexec\`) | $(ratio "$in_relay" "$in_floor") |"
echo
echo "Peer: no kubelet runs here; the floor is what the agent itself does for each request."
