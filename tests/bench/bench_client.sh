#!/usr/bin/env bash
# The kubectl-like client against a real `minik server` on loopback, minik's client side by
# side with stock kubectl talking to the SAME server in the same run: listing 100 objects
# (table and -o json), fetching one, and re-applying an unchanged 100-document manifest.
# Both clients pay their own start-up, TLS handshake and request costs.
set -euo pipefail
: "${MINIK_BIN:?}"
command -v kubectl >/dev/null || { echo "bench_client: kubectl not installed; skipped"; exit 0; }
N=${BENCH_CLIENT_OBJECTS:-100}
work=$(mktemp -d /tmp/minik-bench-client-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

"$MINIK_BIN" server --no-agent --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    [ -s "$work/data/admin.conf" ] && grep -q "listening" "$work/server.log" && break
    sleep 0.1
done
conf="$work/data/admin.conf"
export MINIK_CONFIG="$conf" KUBECONFIG="$conf"

{
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n'
    for i in $(seq "$N"); do
        printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: bench\n  labels:\n    app: bench\ndata:\n  key: value-%d\n' "$i" "$i"
    done
} >"$work/many.yaml"
"$MINIK_BIN" apply -f "$work/many.yaml" >/dev/null
# kubectl records its own last-applied text once; after that both re-applies are no-ops.
kubectl apply --validate=false -f "$work/many.yaml" >/dev/null
"$MINIK_BIN" apply -f "$work/many.yaml" >/dev/null

echo "## Client against a minik server ($N ConfigMaps, hyperfine medians)"
echo
echo "| operation | minik ms | kubectl ms | ratio kubectl/minik |"
echo "|---|---|---|---|"
row() { # row LABEL MINIK_CMD KUBECTL_CMD
    local json
    json=$(mktemp)
    hyperfine -N --warmup 2 --min-runs "${BENCH_RUNS:-15}" --export-json "$json" "$2" "$3" >/dev/null 2>&1
    read -r m k < <(jq -r '[.results[0].median, .results[1].median] | map(. * 1000) | @tsv' "$json")
    awk -v l="$1" -v m="$m" -v k="$k" 'BEGIN {printf "| %s | %.1f | %.1f | %.1fx |\n", l, m, k, k / m}'
    rm -f "$json"
}
row "get cm -n bench (table)" "$MINIK_BIN get cm -n bench" "kubectl get cm -n bench"
row "get cm -n bench -o json" "$MINIK_BIN get cm -n bench -o json" "kubectl get cm -n bench -o json"
row "get cm cm-1 -o yaml" "$MINIK_BIN get cm cm-1 -n bench -o yaml" "kubectl get cm cm-1 -n bench -o yaml"
row "apply -f (${N}+1 docs, unchanged)" "$MINIK_BIN apply -f $work/many.yaml" \
    "kubectl apply --validate=false -f $work/many.yaml"
