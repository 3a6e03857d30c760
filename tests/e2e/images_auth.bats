#!/usr/bin/env bats
# The bearer-token flow against docker-registry's real token auth, with a small token
# server (images_token_server.py) issuing RS256 JWTs: anonymous pulls, private
# repositories, good and bad credentials, imagePullSecrets-style JSON.

load helpers
load images_lib

setup_file() {
    images_setup_file
}

setup() {
    images_data_dir
    T="$BATS_TEST_TMPDIR/token"
    mkdir -p "$T"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
        -days 1 -subj /CN=minik-test-token >/dev/null 2>&1
    tport=$(free_port)
    start_daemon tokens python3 "$BATS_TEST_DIRNAME/images_token_server.py" "$tport" \
        "$T/key.pem" "$T/cert.pem" minik-test-issuer "$T/requests.log" 'alice:s3cret'
    wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$tport/token"
    start_registry
    # Switch the registry started by start_registry to token auth and restart it.
    stop_daemon registry
    cat >>"$BATS_TEST_TMPDIR/registry/config.yml" <<EOF
auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: minik-test-registry
    issuer: minik-test-issuer
    rootcertbundle: $T/cert.pem
EOF
    start_daemon registry docker-registry serve "$BATS_TEST_TMPDIR/registry/config.yml"
    wait_for 20 bash -c "curl -s -o /dev/null -w '%{http_code}' http://$REG/v2/ | grep -q 401"
    push "$BB" bb "$REG/test/bb:1" --dest-creds alice:s3cret
    push "$BB" bb "$REG/private/bb:1" --dest-creds alice:s3cret
    : >"$T/requests.log"
}

@test "anonymous pull through the bearer-token flow" {
    run --separate-stderr minik image pull --data-dir "$D" -q "$REG/test/bb:1"
    [ "$status" -eq 0 ] || { echo "$stderr"; false; }
    [ "$output" = "$(layout_manifest "$BB" bb)" ]
    # The token was asked for with the service and scope from the registry's challenge.
    grep -qx "user=anonymous service=minik-test-registry scope=repository:test/bb:pull" "$T/requests.log"
}

@test "a private repository: anonymous refused, bad credentials refused, good ones pull" {
    run --separate-stderr minik image pull --data-dir "$D" "$REG/private/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"registry $REG: authentication failed: private/bb needs a login (HTTP 401); pass credentials with --creds-file"* ]]

    printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf alice:nope | base64)" >"$T/bad.json"
    run --separate-stderr minik image pull --data-dir "$D" --creds-file "$T/bad.json" "$REG/private/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"the token server rejected the credentials (HTTP 401)"* ]]
    grep -q "rejected user=alice" "$T/requests.log"
    [ "$(store_count "$D" blobs/sha256)" -eq 0 ]

    # A kubernetes.io/dockerconfigjson secret's payload has the same shape.
    printf '{"auths":{"%s":{"username":"alice","password":"s3cret","auth":"%s"}}}' \
        "$REG" "$(printf alice:s3cret | base64)" >"$T/good.json"
    run --separate-stderr minik image pull --data-dir "$D" -q --creds-file "$T/good.json" "$REG/private/bb:1"
    [ "$status" -eq 0 ] || { echo "$stderr"; false; }
    grep -qx "user=alice service=minik-test-registry scope=repository:private/bb:pull" "$T/requests.log"
}
