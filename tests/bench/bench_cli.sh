#!/usr/bin/env bash
# Client start-up: how long a no-op client command takes, minik against kubectl.
# Every `minik get` in a shell loop pays this cost, so it matters on a Raspberry Pi.
set -euo pipefail
: "${MINIK_BIN:?}"
echo "## CLI start-up (hyperfine, median of >= 30 runs)"
echo
echo "| command | median ms | peer | peer median ms | ratio peer/minik |"
echo "|---|---|---|---|---|"
json=$(mktemp)
peer="kubectl version --client"
command -v kubectl >/dev/null || peer="true"
hyperfine -N --warmup 3 --min-runs 30 --export-json "$json" "$MINIK_BIN version" "$peer" >/dev/null 2>&1
read -r m p < <(jq -r '[.results[0].median, .results[1].median] | map(. * 1000) | @tsv' "$json")
awk -v m="$m" -v p="$p" -v peer="$peer" 'BEGIN {printf "| minik version | %.2f | %s | %.2f | %.1fx |\n", m, peer, p, p / m}'
rm -f "$json"
