#!/usr/bin/env bats
# Joining nodes (issue 9): join tokens carry the cluster CA's SHA-256 (K10<hash>::<id>.<secret>);
# `minik agent --server URL --token T` checks the server's CA against it before it sends
# the token; expired, deleted and forged tokens are refused with a clear message; token
# create --ttl/--description, list, delete. After the CA check the agent exchanges the join
# token for a per-node credential (DATA_DIR/node-credential, 0600) and uses only that; the
# join token is spent.

load helpers
load apiserver_helpers

setup() {
    start_server
}

# join_agent NAME TOKEN [flags] : run an agent for node NAME in the background.
# The data dir is BATS_TEST_TMPDIR/agent-NAME, kept across restarts within a test.
# --pod-network none: these agents run in the host's namespace, where an agent on the pod
# network would program Service rules (nft table ip minik) and routes.
join_agent() {
    local name=$1 tok=$2
    shift 2
    start_daemon "agent-$name" "$MINIK_BIN" agent --server "$URL" --token "$tok" --node-name "$name" \
        --data-dir "$BATS_TEST_TMPDIR/agent-$name" --port 0 --pod-network none "$@"
}

# heartbeats : the server's count of accepted node heartbeats.
heartbeats() {
    curl -sf --cacert "$CACERT" -H "Authorization: Bearer $TOKEN" "$URL/metrics" |
        awk '$1 == "minik_node_heartbeats_total" { print $2 }'
}

# token_id TOKEN : the 8-hex id of a join token or bare token.
token_id() {
    local id=${1#*::}
    echo "${id%%.*}"
}

@test "join: token create prints K10<sha256 of ca.crt>::<id>.<secret>; /cacerts serves that CA without auth" {
    run minik token create --data-dir "$DATA" --ttl 24h --description "rack 2"
    [ "$status" -eq 0 ]
    local tok=$output hash
    hash=$(sha256sum "$CACERT" | cut -d' ' -f1)
    [[ "$tok" == "K10$hash::"* ]]
    [[ "${tok#*::}" =~ ^[0-9a-f]{8}\.[0-9a-f]{32}$ ]]
    run curl -sf --cacert "$CACERT" "$URL/cacerts"
    [ "$status" -eq 0 ]
    [ "$output" = "$(cat "$CACERT")" ]
    run minik token list --data-dir "$DATA"
    [ "$status" -eq 0 ]
    local id=${tok#*::}
    id=${id%%.*}
    [[ "$output" == *"$id"*"node"*"<none>"*"rack 2"* ]]
    # The expiry is 24h after creation.
    local created expires
    created=$(awk -v id="$id" '$1 == id { print $4 }' <<<"$output")
    expires=$(awk -v id="$id" '$1 == id { print $5 }' <<<"$output")
    [ $(($(date -d "$expires" +%s) - $(date -d "$created" +%s))) -eq 86400 ]
}

@test "join: a good token joins (the CA is checked first) and binds to the node; list shows it" {
    tok=$(minik token create --data-dir "$DATA" --description worker)
    join_agent n2 "$tok"
    # pipefail: jq 1.6 -e exits 0 on empty input (no node yet).
    wait_for 20 bash -c "set -o pipefail; MINIK_CONFIG='$DATA/admin.conf' '$MINIK_BIN' get node n2 -o json | jq -e '.status.conditions[] | select(.type==\"Ready\" and .status==\"True\")'"
    run daemon_log agent-n2
    [[ "$output" == *"server CA matches the join token"* ]]
    [[ "$output" == *"join token exchanged for a node credential"* ]]
    # The join token is spent; the node's credential is listed with its node.
    run minik token list --data-dir "$DATA"
    [ -z "$(awk -v id="$(token_id "$tok")" '$1 == id' <<<"$output")" ]
    [[ "$output" == *" node "*" n2 "*"never"*"credential of node n2 (join token $(token_id "$tok"))"* ]]
}

@test "join: the agent swaps the join token for a node credential (0600) and uses it from then on" {
    tok=$(minik token create --data-dir "$DATA" --ttl 1h)
    join_agent n7 "$tok"
    wait_for 20 bash -c "MINIK_CONFIG='$DATA/admin.conf' '$MINIK_BIN' get node n7"
    cred_file=$BATS_TEST_TMPDIR/agent-n7/node-credential
    [ "$(stat -c %a "$cred_file")" = 600 ]
    cred=$(cat "$cred_file")
    [[ "$cred" =~ ^[0-9a-f]{8}\.[0-9a-f]{32}$ ]]
    [ "$cred" != "${tok#*::}" ]
    # The join token is refused now, for this node and any other: it was spent.
    out=$(AUTH_TOKEN=${tok#*::} api GET /api/v1/nodes/n7)
    [ "$(code_of "$out")" = 401 ]
    run --separate-stderr minik agent --server "$URL" --token "$tok" --node-name n8 \
        --data-dir "$BATS_TEST_TMPDIR/n8" --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"the server refused the join token: Unauthorized: invalid bearer token (deleted with minik token delete, spent by another node's join"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/n8/node-credential" ]
    # The credential acts only as n7.
    out=$(AUTH_TOKEN=$cred api GET /api/v1/nodes/n7)
    [ "$(code_of "$out")" = 200 ]
    out=$(AUTH_TOKEN=$cred api PUT /api/v1/nodes/n8 '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n8"}}')
    [ "$(code_of "$out")" = 403 ]
    # A second exchange with the credential itself is refused.
    out=$(AUTH_TOKEN=$cred api POST /apis/minik.io/v1/nodes/n7/credential '')
    [ "$(code_of "$out")" = 403 ]
    [[ "$out" == *"only a join token can be exchanged"* ]]
    # Restart: the spent join token is still passed (for its CA hash) but never sent; the
    # agent comes back on its credential and keeps heartbeating.
    stop_daemon agent-n7
    join_agent n7 "$tok"
    wait_for 20 grep -q "using the node credential" "$BATS_TEST_TMPDIR/agent-n7.log"
    # Its heartbeats (made with the credential; only n7's agent runs) keep being accepted.
    before=$(heartbeats)
    wait_for 20 bash -c "[ \$(curl -sf --cacert '$CACERT' -H 'Authorization: Bearer $TOKEN' '$URL/metrics' | awk '\$1 == \"minik_node_heartbeats_total\" { print \$2 }') -gt $((before + 2)) ]"
    kill -0 "$DAEMON_PID"
    run daemon_log agent-n7
    [[ "$output" != *"refused"* ]]
    [ "$(cat "$cred_file")" = "$cred" ]
    # Re-joining n7 (its data dir lost) with a new join token replaces its credential.
    stop_daemon agent-n7
    rm "$cred_file"
    tok2=$(minik token create --data-dir "$DATA")
    join_agent n7 "$tok2"
    wait_for 20 test -s "$cred_file"
    [ "$(cat "$cred_file")" != "$cred" ]
    out=$(AUTH_TOKEN=$cred api GET /api/v1/nodes/n7)
    [ "$(code_of "$out")" = 401 ]
    out=$(AUTH_TOKEN=$(cat "$cred_file") api GET /api/v1/nodes/n7)
    [ "$(code_of "$out")" = 200 ]
    [ "$(minik token list --data-dir "$DATA" | awk '$3 == "n7"' | wc -l)" -eq 1 ]
}

@test "join: an expired token is refused with its expiry time; a token that already joined keeps working" {
    joined=$(minik token create --data-dir "$DATA" --ttl 2s)
    join_agent n2 "$joined"
    wait_for 20 bash -c "MINIK_CONFIG='$DATA/admin.conf' '$MINIK_BIN' get node n2"
    stop_daemon agent-n2
    expired=$(minik token create --data-dir "$DATA" --ttl 1s)
    sleep 2.2
    run --separate-stderr minik agent --server "$URL" --token "$expired" --node-name n3 \
        --data-dir "$BATS_TEST_TMPDIR/n3" --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"the server refused the join token: Unauthorized: token "*" expired at "*"minik token create"* ]]
    run minik get node n3 --kubeconfig "$DATA/admin.conf"
    [ "$status" -ne 0 ]
    # The TTL bounds the join window only: n2 comes back on its credential.
    join_agent n2 "$joined"
    run bash -c "sleep 1; MINIK_CONFIG='$DATA/admin.conf' '$MINIK_BIN' get node n2"
    [ "$status" -eq 0 ]
    kill -0 "$DAEMON_PID"
}

@test "join: a forged token (right CA hash, made-up secret) and a deleted token are refused" {
    hash=$(sha256sum "$CACERT" | cut -d' ' -f1)
    run --separate-stderr minik agent --server "$URL" --token "K10$hash::0123abcd.00112233445566778899aabbccddeeff" \
        --node-name n4 --data-dir "$BATS_TEST_TMPDIR/n4" --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"refused the join token: Unauthorized: invalid bearer token (deleted with minik token delete, spent by another node's join, never issued"* ]]
    tok=$(minik token create --data-dir "$DATA")
    id=${tok#*::}
    id=${id%%.*}
    run minik token delete "$id" --data-dir "$DATA"
    [ "$status" -eq 0 ]
    [ "$output" = "token $id deleted" ]
    run minik token list --data-dir "$DATA"
    [[ "$output" != *"$id"* ]]
    run --separate-stderr minik agent --server "$URL" --token "$tok" --node-name n4 \
        --data-dir "$BATS_TEST_TMPDIR/n4" --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"refused the join token"* ]]
    run minik token delete "$id" --data-dir "$DATA"
    [ "$status" -eq 1 ]
    [[ "$output" == *"not found"* ]]
    # The admin token is not deletable through this door.
    admin_id=$(minik token list --data-dir "$DATA" | awk '$2 == "admin" { print $1 }')
    run minik token delete "$admin_id" --data-dir "$DATA"
    [ "$status" -eq 1 ]
    [[ "$output" == *"admin token"* ]]
}

@test "join: deleting a node's credential cuts the node off, with a clear message on restart" {
    tok=$(minik token create --data-dir "$DATA")
    join_agent n5 "$tok"
    wait_for 20 bash -c "MINIK_CONFIG='$DATA/admin.conf' '$MINIK_BIN' get node n5"
    cred=$(cat "$BATS_TEST_TMPDIR/agent-n5/node-credential")
    id=$(minik token list --data-dir "$DATA" | awk '$3 == "n5" { print $1 }')
    [ "$id" = "$(token_id "$cred")" ]
    stop_daemon agent-n5
    minik token delete "$id" --data-dir "$DATA"
    out=$(AUTH_TOKEN=$cred api GET /api/v1/nodes/n5)
    [ "$(code_of "$out")" = 401 ]
    run --separate-stderr minik agent --server "$URL" --token "$tok" --node-name n5 \
        --data-dir "$BATS_TEST_TMPDIR/agent-n5" --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"the server refused this node's credential ($BATS_TEST_TMPDIR/agent-n5/node-credential): Unauthorized: invalid bearer token (revoked with minik token delete: remove the file and join again"* ]]
}

@test "join: a server whose CA does not match the token gets no secret; a TLS client with the wrong CA is refused" {
    tok=$(minik token create --data-dir "$DATA")
    # A second CA and a server certificate from it, served by a recording TLS server.
    d=$BATS_TEST_TMPDIR/evil
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=evil-ca \
        -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout "$d/srv.key" -out "$d/srv.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 1 \
        -extfile "$d/ext" -out "$d/srv.crt" 2>/dev/null
    eport=$(free_port)
    start_daemon evil python3 "$BATS_TEST_DIRNAME/setup_tls_recorder.py" "$eport" "$d/srv.crt" "$d/srv.key" \
        "$d/ca.crt" "$d/requests"
    wait_for 10 curl -sf --cacert "$d/ca.crt" "https://127.0.0.1:$eport/cacerts" -o /dev/null
    : >"$d/requests"
    run --separate-stderr minik agent --server "https://127.0.0.1:$eport" --token "$tok" --node-name n6 \
        --data-dir "$BATS_TEST_TMPDIR/n6" --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"presents a CA with SHA-256 $(sha256sum "$d/ca.crt" | cut -d' ' -f1), but the join token expects $(sha256sum "$CACERT" | cut -d' ' -f1): refusing to send the token"* ]]
    # It asked for /cacerts and nothing else, without any credential.
    [ "$(grep -c '^GET ' "$d/requests")" -eq 1 ]
    grep -q '^GET /cacerts ' "$d/requests"
    ! grep -qi '^authorization:' "$d/requests"
    ! grep -q "${tok##*.}" "$d/requests"
    # --ca-file that does not match the token's hash is refused before any request.
    run --separate-stderr minik agent --server "$URL" --token "$tok" --ca-file "$d/ca.crt" --node-name n6 \
        --data-dir "$BATS_TEST_TMPDIR/n6" --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"--ca-file $d/ca.crt has SHA-256"*"but the join token expects"* ]]
    # A TLS client that trusts the other CA cannot talk to the real server.
    run curl -sS --cacert "$d/ca.crt" "$URL/healthz"
    [ "$status" -eq 60 ]
}

@test "join: malformed tokens and token usage errors are named" {
    run --separate-stderr minik agent --server "$URL" --token K10abc --node-name x --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'join token: missing "::" after the CA hash'* ]]
    run --separate-stderr minik agent --server "$URL" --token "K10abc::0123abcd.00" --node-name x --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"the CA hash after K10 must be 64 lower-case hex characters (got 3 characters)"* ]]
    run --separate-stderr minik agent --server "$URL" --node-name x --port 0
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"--server needs --token or --token-file"* ]]
    run minik token create --ttl soon --data-dir "$DATA"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--ttl soon"* ]]
    run minik token delete --data-dir "$DATA"
    [ "$status" -eq 2 ]
    run minik token list --ttl 1h --data-dir "$DATA"
    [ "$status" -eq 2 ]
    run minik token rotate --data-dir "$DATA"
    [ "$status" -eq 2 ]
    # --token-file: the token read from a file works like --token.
    tok=$(minik token create --data-dir "$DATA")
    printf '%s\n' "$tok" >"$BATS_TEST_TMPDIR/tokfile"
    start_daemon agent-f "$MINIK_BIN" agent --server "$URL" --token-file "$BATS_TEST_TMPDIR/tokfile" \
        --node-name nf --data-dir "$(make_tmpdir agent-nf)" --port 0 --pod-network none
    wait_for 20 bash -c "MINIK_CONFIG='$DATA/admin.conf' '$MINIK_BIN' get node nf"
}
