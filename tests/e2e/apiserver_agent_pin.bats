#!/usr/bin/env bats
# The API server reaches a node agent (logs, exec, stats) only over TLS with the public key
# the agent reported in its heartbeat: an endpoint that shows another key is refused. The
# "agent" here is openssl s_server on 127.0.0.1, so the key it shows is the test's choice.

load helpers
load apiserver_helpers

# make_key NAME : a self-signed certificate and key in BATS_TEST_TMPDIR/NAME.{crt,key}.
make_key() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj "/CN=$1" -keyout "$BATS_TEST_TMPDIR/$1.key" -out "$BATS_TEST_TMPDIR/$1.crt" 2>/dev/null
}

# pin_of NAME : base64 SHA-256 of the certificate's public key (DER), as agents report it.
pin_of() {
    openssl x509 -in "$BATS_TEST_TMPDIR/$1.crt" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64
}

heartbeat() { # NODE ENDPOINT PIN
    api POST "/apis/minik.io/v1/nodes/$1/heartbeat" \
        "$(jq -nc --arg e "$2" --arg p "$3" '{endpoint: $e, token: "agent-secret", pin: $p}')"
}

@test "nodes/proxy: the server refuses an agent endpoint whose TLS key is not the pinned one" {
    start_server --insecure-http
    api POST /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"fake"}}' >/dev/null
    make_key shown
    make_key reported
    local port out
    port=$(free_port)
    start_daemon agent-tls openssl s_server -accept "127.0.0.1:$port" -cert "$BATS_TEST_TMPDIR/shown.crt" \
        -key "$BATS_TEST_TMPDIR/shown.key" -www -quiet
    wait_for 10 bash -c "ss -Htln 'sport = :$port' | grep -q ."
    [ "$(pin_of shown)" != "$(pin_of reported)" ]

    # The heartbeat pins another key than the one the endpoint shows: refused, and the
    # request never reaches it.
    out=$(heartbeat fake "https://127.0.0.1:$port" "$(pin_of reported)")
    [ "$(code_of "$out")" = 200 ]
    out=$(api GET /api/v1/nodes/fake/proxy/healthz)
    [ "$(code_of "$out")" = 502 ]
    [[ "$(jqr "$out" .message)" == *"cannot reach the agent of node fake at https://127.0.0.1:$port"* ]]
    [[ "$(jqr "$out" .message)" == *"public key"* ]] || { echo "$out"; return 1; }

    # The same endpoint with its own key pinned: reached (s_server -www answers 200).
    heartbeat fake "https://127.0.0.1:$port" "$(pin_of shown)" >/dev/null
    out=$(api GET /api/v1/nodes/fake/proxy/healthz)
    [ "$(code_of "$out")" = 200 ] || { echo "$out"; return 1; }
}
