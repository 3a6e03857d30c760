#!/usr/bin/env bash
# Manifest throughput: decode + validate + default + encode of a 1,000-document file.
# Peer: stock kubectl decoding and re-encoding the same file offline
# (`kubectl label --local ... -o json`: decode, convert, encode; no validation or
# defaulting, which `kubectl apply --dry-run=client` cannot do without a server).
set -euo pipefail
: "${MINIK_BIN:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
f=$work/manifests.yaml
printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n---\n' >"$f"
for i in $(seq 1 333); do
    cat >>"$f" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-$i
  labels: {app: web-$i, tier: frontend}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web-$i}
  template:
    metadata:
      labels: {app: web-$i, tier: frontend}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        args: ["--port", "8080"]
        ports: [{containerPort: 8080, name: http}]
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 500m, memory: 128Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
        env:
        - {name: MODE, value: production}
---
apiVersion: v1
kind: Service
metadata:
  name: web-$i
spec:
  selector: {app: web-$i}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-$i
data:
  app.properties: |
    color=blue
    size=$i
---
YAML
done
docs=$(grep -c '^kind:' "$f")
size=$(du -k "$f" | cut -f1)
echo "## Manifest decode + validate + default ($docs documents, ${size} KiB; hyperfine, median)"
echo
echo "| command | median ms | docs/s | peer | peer median ms | ratio peer/minik |"
echo "|---|---|---|---|---|---|"
json=$work/h.json
mcmd="$MINIK_BIN apply --dry-run=client -f $f -o json"
peer="kubectl label --local -f $f bench=1 -o json"
$mcmd >/dev/null # must succeed: every document valid
if command -v kubectl >/dev/null && kubectl label --local -f "$f" bench=1 -o json >/dev/null 2>&1; then
    hyperfine -N --warmup 1 --min-runs 10 --export-json "$json" "$mcmd" "$peer" >/dev/null 2>&1
    read -r m p < <(jq -r '[.results[0].median, .results[1].median] | map(. * 1000) | @tsv' "$json")
else
    hyperfine -N --warmup 1 --min-runs 10 --export-json "$json" "$mcmd" >/dev/null 2>&1
    m=$(jq -r '.results[0].median * 1000' "$json")
    p=0
    peer="(kubectl unavailable)"
fi
awk -v m="$m" -v p="$p" -v n="$docs" -v peer="kubectl label --local -o json" \
    'BEGIN {printf "| minik apply --dry-run=client -o json | %.1f | %.0f | %s | %.1f | %.1fx |\n", m, n / (m / 1000), peer, p, (m > 0 ? p / m : 0)}'
if command -v /usr/bin/time >/dev/null; then
    mr=$(/usr/bin/time -f %M $mcmd 2>&1 >/dev/null | tail -n1)
    pr=$(/usr/bin/time -f %M $peer 2>&1 >/dev/null | tail -n1)
    echo
    echo "Peak RSS: minik ${mr} KiB, kubectl ${pr} KiB."
fi
