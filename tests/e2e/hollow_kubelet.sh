#!/usr/bin/env bash
# A hollow kubelet for end-to-end tests (what kubemark's hollow node does): it heartbeats
# node NODE by posting its status every second, binds unscheduled pods to it, and reports
# the pods bound to it Running and Ready - or, for a pod annotated
# hollow.minik.io/phase=Succeeded|Failed, finished that way (Job tests). No containers run. Driven by a watch stream, not
# by polling. Stops (with its children, by pid) on SIGTERM.
#
# usage: hollow_kubelet.sh URL TOKEN NODE
set -u
URL=$1 TOKEN=$2 NODE=$3

api() { # METHOD PATH [BODY]
    local args=(-s -S -H "Authorization: Bearer $TOKEN" -X "$1")
    [ -n "${3:-}" ] && args+=(-H "Content-Type: application/json" --data-binary "$3")
    curl "${args[@]}" "$URL$2"
}

heartbeat() {
    while true; do
        local node now
        node=$(api GET "/api/v1/nodes/$NODE")
        now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        api PUT "/api/v1/nodes/$NODE/status" "$(jq -c --arg t "$now" '
            .status.conditions = ([.status.conditions[]? | select(.type != "Ready")] +
              [{"type":"Ready","status":"True","reason":"KubeletReady",
                "lastHeartbeatTime":$t,"lastTransitionTime":$t}])' <<<"$node")" >/dev/null
        sleep 1
    done
}

fifo=$(mktemp -u /tmp/hollow-XXXXXX)
mkfifo "$fifo"
curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/pods?watch=1" >"$fifo" &
CURL=$!
heartbeat &
HB=$!
trap 'kill $CURL $HB 2>/dev/null; rm -f "$fifo"; exit 0' TERM INT

while IFS= read -r line; do
    # '|' rather than tabs: read collapses runs of whitespace separators (empty fields).
    IFS='|' read -r type ns name node phase deleting want < <(jq -r '[.type, .object.metadata.namespace,
        .object.metadata.name, (.object.spec.nodeName // ""), (.object.status.phase // ""),
        (.object.metadata.deletionTimestamp // ""),
        (.object.metadata.annotations["hollow.minik.io/phase"] // "Running")] | join("|")' <<<"$line")
    [ "$type" = DELETED ] && continue
    [ -n "$deleting" ] && continue
    if [ -z "$node" ]; then
        api POST "/api/v1/namespaces/$ns/pods/$name/binding" \
            "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"$name\"},\"target\":{\"kind\":\"Node\",\"name\":\"$NODE\"}}" >/dev/null
        continue
    fi
    [ "$node" = "$NODE" ] || continue
    case "$phase" in Running | Succeeded | Failed) continue ;; esac
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    api PUT "/api/v1/namespaces/$ns/pods/$name/status" "$(jq -c --arg t "$now" --arg p "$want" '.object |
        .status.phase = $p |
        .status.conditions = [{"type":"Ready","status":(if $p == "Running" then "True" else "False" end),
                               "lastTransitionTime":$t}]' <<<"$line")" >/dev/null
done <"$fifo"
kill $CURL $HB 2>/dev/null
rm -f "$fifo"
