#!/usr/bin/env bats
# minik server against hostile or broken clients: limits, malformed requests, slow
# clients, odd names and bodies. Plain HTTP on loopback so raw sockets can speak to it.

load helpers
load apiserver_helpers

setup() {
    start_server --insecure-http --header-timeout 1s --idle-timeout 2s
}

@test "bad input: body over 3 MiB is 413, headers over 16 KiB are 431" {
    head -c $((3 * 1024 * 1024 + 1)) /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
    run curl -s -o "$BATS_TEST_TMPDIR/out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/big" \
        "$URL/api/v1/namespaces/default/configmaps"
    [ "$output" = 413 ]
    [ "$(jq -r .reason "$BATS_TEST_TMPDIR/out")" = RequestEntityTooLarge ]
    # Chunked upload without a length: cut off once it passes the limit.
    run curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
        --data-binary @"$BATS_TEST_TMPDIR/big" "$URL/api/v1/namespaces/default/configmaps"
    [ "$output" = 413 ]
    pad=$(head -c 17000 /dev/zero | tr '\0' x)
    run curl -s -o /dev/null -w '%{http_code}' -H "X-Pad: $pad" "$URL/healthz"
    [ "$output" = 431 ]
    # Still serving.
    run curl -sf "$URL/healthz"
    [ "$output" = ok ]
}

@test "bad input: malformed and truncated requests get 400 and the connection is closed" {
    run raw_request "$PORT" <<<$'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n'
    [[ "$output" == "HTTP/1.1 400 Bad Request"* ]]
    [[ "$output" == *'"reason":"BadRequest"'* ]]
    run raw_request "$PORT" < <(printf 'GET / HTTP/1.1\r\nHost x\r\n\r\n')
    [[ "$output" == "HTTP/1.1 400 "* ]]
    run raw_request "$PORT" < <(printf 'POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n')
    [[ "$output" == "HTTP/1.1 400 "* ]]
    # A body shorter than its Content-Length, then EOF.
    run raw_request "$PORT" < <(printf 'POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":')
    [[ "$output" == "HTTP/1.1 400 "* ]]
    [[ "$output" == *"truncated"* ]]
    run curl -sf "$URL/healthz"
    [ "$output" = ok ]
}

@test "bad input: a client dribbling its headers is cut off (slowloris)" {
    # One header byte every 0.3 s for 3 s keeps the socket busy but never finishes the
    # request; the server answers 408 after --header-timeout (1 s) and closes.
    run bash -c "(printf 'GET /healthz HTTP/1.1\r\n'; for i in 1 2 3 4 5 6 7 8 9 10; do printf X; sleep 0.3; done) | timeout 8 nc 127.0.0.1 $PORT"
    [[ "$output" == "HTTP/1.1 408 "* ]]
    # An idle keep-alive connection is closed too (--idle-timeout 2s): nc's read ends
    # before its own 8 s limit although we never close our side.
    run bash -c "(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 7) | timeout 8 nc 127.0.0.1 $PORT; echo rc=\$?"
    [[ "$output" == "HTTP/1.1 200 OK"* ]]
    [[ "$output" == *"rc=0" ]]
    # Same after a response that came back later (a durable write).
    body='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"idle"}}'
    run bash -c "(printf 'POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $TOKEN\r\nContent-Type: application/json\r\nContent-Length: ${#body}\r\n\r\n%s' '$body'; sleep 7) | timeout 8 nc 127.0.0.1 $PORT; echo rc=\$?"
    [[ "$output" == "HTTP/1.1 201 Created"* ]]
    [[ "$output" == *"rc=0" ]]
}

@test "bad input: bodies that are not JSON, not UTF-8 or nested too deeply" {
    out=$(api POST /api/v1/namespaces/default/configmaps '{"apiVersion":')
    [ "$(code_of "$out")" = 400 ]
    [[ "$(jqr "$out" .message)" == *"not valid JSON"* ]]
    printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"k":"\xff\xfe"}}' >"$BATS_TEST_TMPDIR/latin"
    run curl -s -o "$BATS_TEST_TMPDIR/out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/latin" \
        "$URL/api/v1/namespaces/default/configmaps"
    [ "$output" = 400 ]
    [[ "$(jq -r .message "$BATS_TEST_TMPDIR/out")" == *"UTF-8"* ]]
    deep=$(printf '{"a":%.0s' $(seq 1 5000); printf '1'; printf '}%.0s' $(seq 1 5000))
    out=$(api POST /api/v1/namespaces/default/configmaps "$deep")
    [ "$(code_of "$out")" = 400 ]
    deep=$(printf '[%.0s' $(seq 1 100); printf '}%.0s' $(seq 1 100))
    out=$(api PATCH /api/v1/namespaces/default/configmaps/x "$deep" application/merge-patch+json)
    [ "$(code_of "$out")" = 400 ]
    out=$(api POST /api/v1/namespaces/default/configmaps '[1,2]')
    [ "$(code_of "$out")" = 400 ]
    out=$(api POST /api/v1/namespaces/default/configmaps '{"kind":"ConfigMap"} trailing')
    [ "$(code_of "$out")" = 400 ]
    run curl -sf "$URL/healthz"
    [ "$output" = ok ]
}

@test "bad input: names with / .. or NUL never reach another object" {
    api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target"}}' >/dev/null
    for path in \
        /api/v1/namespaces/default/configmaps/.. \
        /api/v1/namespaces/default/configmaps/%2e%2e \
        /api/v1/namespaces/default/configmaps/a%2Ftarget \
        /api/v1/namespaces/default/configmaps/target%00x \
        /api/v1/namespaces/%2e%2e/configmaps/target \
        /api/v1/namespaces/default/configmaps/target/.. \
        /api/v1/namespaces/default/configmaps//target; do
        out=$(api GET "$path")
        code=$(code_of "$out")
        echo "$path -> $code"
        [ "$code" = 400 ] || [ "$code" = 404 ]
        [ "$(jqr "$out" .kind)" = Status ]
        out=$(api DELETE "$path")
        [ "$(code_of "$out")" = 400 ] || [ "$(code_of "$out")" = 404 ]
    done
    # A name with a slash in a body is refused by validation.
    out=$(api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a/b"}}')
    [ "$(code_of "$out")" = 422 ]
    out=$(api GET /api/v1/namespaces/default/configmaps/target)
    [ "$(code_of "$out")" = 200 ]
}

@test "bad input: unknown routes and methods are Status errors" {
    out=$(api GET /api/v1/namespaces/default/widgets)
    [ "$(code_of "$out")" = 404 ]
    [ "$(jqr "$out" .reason)" = NotFound ]
    out=$(api POST /api/v1/namespaces/default/pods/p '{}')
    [ "$(code_of "$out")" = 405 ]
    out=$(api DELETE /api/v1/namespaces/default/pods)
    [ "$(code_of "$out")" = 405 ]
    out=$(api GET '/api/v1/pods?watch=1&resourceVersion=abc')
    [ "$(code_of "$out")" = 400 ]
}
