# Helpers for the apiserver suites: start a server on a free loopback port and talk to it
# with curl. Load after helpers.bash.

# start_server [EXTRA_FLAGS...] : TLS server in a fresh data dir. Sets DATA, PORT, URL,
# TOKEN, CACERT, SERVER_PID (and SERVER_FLAGS, for restart_server).
start_server() {
    DATA=$(make_tmpdir apiserver)
    PORT=$(free_port)
    # No embedded agent unless a suite asks (WITH_AGENT=1): it would register this host as
    # a node and run pods bound to it.
    SERVER_FLAGS=(--no-agent "$@")
    [ "${WITH_AGENT:-0}" = 1 ] && SERVER_FLAGS=("$@")
    _serve
}

# restart_server [--new-port] : start the server of start_server again, on the same data
# dir and flags, once the test has stopped it (stop_daemon server); --new-port moves it to
# a fresh port (URL follows). Waits until it answers; sets the same variables.
restart_server() {
    [ "${1:-}" = --new-port ] && PORT=$(free_port)
    _serve
}

_serve() {
    start_daemon server "$MINIK_BIN" server --data-dir "$DATA" --listen "127.0.0.1:$PORT" "${SERVER_FLAGS[@]}"
    SERVER_PID=$DAEMON_PID
    local scheme=https
    for a in "${SERVER_FLAGS[@]}"; do [ "$a" = --insecure-http ] && scheme=http; done
    URL="$scheme://127.0.0.1:$PORT"
    CACERT="$DATA/tls/ca.crt"
    if ! wait_for 20 curl -sf --cacert "$CACERT" "$URL/healthz"; then
        daemon_log server >&2
        return 1
    fi
    wait_for 5 test -s "$DATA/admin.conf"
    TOKEN=$(sed -n 's/^    token: //p' "$DATA/admin.conf")
}

# api METHOD PATH [BODY] [CONTENT_TYPE] : prints the body, then the HTTP code on its own
# last line. Uses $TOKEN (set AUTH_TOKEN to override, AUTH_TOKEN=none for no header).
api() {
    local method=$1 path=$2 body=${3:-} ctype=${4:-application/json}
    local tok=${AUTH_TOKEN:-$TOKEN}
    local args=(-s -S --path-as-is --cacert "$CACERT" -X "$method" -w '\n%{http_code}')
    [ "$tok" != none ] && args+=(-H "Authorization: Bearer $tok")
    [ -n "$body" ] && args+=(-H "Content-Type: $ctype" --data-binary "$body")
    curl "${args[@]}" "$URL$path"
}

# code_of OUTPUT : the HTTP code (last line of api's output). body_of: the rest.
code_of() { tail -n1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }

# jqr OUTPUT FILTER : jq -r on the body of api's output.
jqr() { body_of "$1" | jq -r "$2"; }

pod_json() { # NAME [NODE] [LABEL_VALUE]
    local node=""
    [ -n "${2:-}" ] && node=",\"nodeName\":\"$2\""
    printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","labels":{"app":"%s"}},"spec":{"containers":[{"name":"c","image":"busybox"}]%s}}' \
        "$1" "${3:-web}" "$node"
}

deploy_json() { # NAME REPLICAS
    printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s"},"spec":{"replicas":%s,"selector":{"matchLabels":{"app":"%s"}},"template":{"metadata":{"labels":{"app":"%s"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' \
        "$1" "$2" "$1" "$1"
}

# raw_request PORT : send stdin over a plain TCP connection (netcat-openbsd), half-close
# it, and print what comes back until the server closes the connection (at most 10 s).
raw_request() {
    timeout 10 nc -N 127.0.0.1 "$1" || true
}

# Every suite's teardown: stop the server and fail the test if it did not exit 0 or if a
# sanitizer reported anything (leaks, UB) in its log.
teardown() {
    local st=0 rc=0 log="$BATS_TEST_TMPDIR/server.log"
    if [ -f "$BATS_TEST_TMPDIR/server.pid" ]; then
        stop_daemon server
        st=${DAEMON_STATUS:-0}
    fi
    # minik_cleanup fails when the test left minik's network state in the host (helpers).
    minik_cleanup || rc=1
    if grep -q "Sanitizer\|runtime error" "$log" 2>/dev/null; then
        cat "$log" >&2
        return 1
    fi
    if [ "$st" -ne 0 ]; then
        echo "server exited with status $st" >&2
        cat "$log" >&2
        return 1
    fi
    return $rc
}
