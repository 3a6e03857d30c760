#!/usr/bin/env bats
# Logs, exec and stats through the API server: the relay to the node agent, its secret,
# streamed stdin, and a followed log that ends when its client goes away.

load helpers
load apiserver_helpers
load images_lib
load agent_lib

teardown() {
    agent_suite_teardown
}

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    agent_setup
}

agent_port() {
    kc get node n1 -o json | jq -r '.metadata.annotations["minik.io/agent-endpoint"]' | sed 's/.*://'
}

# Established connections to the agent's endpoint (only the server's relays make them).
relays_to_agent() {
    ss -Htn state established "( dport = :$1 )" | wc -l
}

@test "agent proxy: logs, exec and stats go through the API server; the agent refuses callers without its secret" {
    pod_yaml px 'echo proxied-hello; exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is px Running
    # The secret is not in the Node: only the endpoint, which refuses callers without it.
    [ "$(kc get node n1 -o json | jq -r '.metadata.annotations["minik.io/agent-token"]')" = null ]
    local ep
    ep=$(kc get node n1 -o json | jq -r '.metadata.annotations["minik.io/agent-endpoint"]')
    # TLS only, with a key made at the agent's start (the server pins it; -k here).
    [[ "$ep" == https://127.0.0.1:* ]]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http${ep#https}/healthz")" = 000 ]
    [ "$(curl -sk -o /dev/null -w '%{http_code}' "$ep/healthz")" = 200 ]
    [ "$(curl -sk -o /dev/null -w '%{http_code}' "$ep/stats/summary")" = 401 ]
    [ "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer 00112233' "$ep/containerLogs/default/px/c")" = 401 ]
    [ "$(curl -sk -o /dev/null -w '%{http_code}' -X POST "$ep/exec/default/px/c?command=true")" = 401 ]
    # Through the API server with the admin token: Kubernetes' paths.
    wait_for 10 bash -c "'$MINIK_BIN' logs px | grep -qx proxied-hello"
    local out
    out=$(api GET /api/v1/namespaces/default/pods/px/log)
    [ "$(code_of "$out")" = 200 ]
    [ "$(body_of "$out")" = proxied-hello ]
    out=$(api POST "/api/v1/namespaces/default/pods/px/exec?command=/bin/busybox&command=sh&command=-c&command=echo%20via-api%3B%20exit%203" | tr -d '\000-\004')
    [ "$(code_of "$out")" = 200 ]
    [[ "$(body_of "$out")" == *via-api*'{"exitCode":3}'* ]]
    out=$(api GET /api/v1/nodes/n1/proxy/stats/summary)
    [ "$(code_of "$out")" = 200 ]
    [ "$(jqr "$out" '.node.name')" = n1 ]
    [ "$(code_of "$(api GET /api/v1/nodes/n1/proxy/pods)")" = 404 ]
    [ "$(code_of "$(api GET '/api/v1/namespaces/default/pods/px/log?container=nope')")" = 400 ]
    [ "$(code_of "$(api GET /api/v1/namespaces/default/pods/nothere/log)")" = 404 ]
    # A node token may not use the relay, nor may a client without a token.
    local ntok
    ntok=$(body_of "$(api POST /apis/minik.io/v1/tokens '{}')" | jq -r .token)
    [ "$(code_of "$(AUTH_TOKEN=$ntok api GET /api/v1/namespaces/default/pods/px/log)")" = 403 ]
    [ "$(code_of "$(AUTH_TOKEN=none api GET /api/v1/namespaces/default/pods/px/log)")" = 401 ]
    # A pod on a node whose agent never reported an endpoint: a clear error.
    pod_yaml elsewhere 'true' '{"nodeName":"ghost"}' | kc apply -f -
    run kc logs elsewhere
    [ "$status" -eq 1 ]
    [[ "$output" == *"node ghost has not reported an agent endpoint"* ]]
}

@test "agent proxy: exec -i streams stdin as it is typed and returns the exit code" {
    pod_yaml ex 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is ex Running
    local line
    coproc EX { "$MINIK_BIN" exec -i ex -- /bin/busybox cat; }
    local in=${EX[1]} out=${EX[0]} pid=$EX_PID
    # Each line comes back while stdin is still open: nothing waits for its end.
    echo first >&"$in"
    read -r -t 15 line <&"$out"
    [ "$line" = first ]
    echo second >&"$in"
    read -r -t 15 line <&"$out"
    [ "$line" = second ]
    eval "exec $in>&-"
    local st=0
    wait "$pid" || st=$?
    [ "$st" -eq 0 ]
    run bash -c "printf 'x\n' | '$MINIK_BIN' exec -i ex -- /bin/busybox sh -c 'read l; echo got-\$l; exit 7'"
    [ "$status" -eq 7 ]
    [ "$output" = got-x ]
    # The command ends before its stdin does: the exit code still comes back at once.
    # (A fifo the test keeps open for writing: stdin never ends.)
    mkfifo "$BATS_TEST_TMPDIR/in"
    exec 7<>"$BATS_TEST_TMPDIR/in"
    echo one >&7
    run timeout 20 "$MINIK_BIN" exec -i ex -- /bin/busybox head -n1 <"$BATS_TEST_TMPDIR/in"
    exec 7>&-
    [ "$status" -eq 0 ]
    [ "$output" = one ]
}

@test "agent proxy: a followed log streams through the server and ends the relay when its client goes away" {
    pod_yaml tick 'i=0; while :; do echo tick-$i; i=$((i+1)); /bin/busybox sleep 0.2; done' | kc apply -f -
    wait_for 30 pod_phase_is tick Running
    local port
    port=$(agent_port)
    [ "$(relays_to_agent "$port")" -eq 0 ]
    "$MINIK_BIN" logs -f tick >"$BATS_TEST_TMPDIR/follow.out" 2>&1 &
    local pid=$!
    wait_for 10 bash -c "[ \$(ss -Htn state established '( dport = :$port )' | wc -l) -ge 1 ]"
    local n1
    wait_for 10 bash -c "[ \$(grep -c '^tick-' '$BATS_TEST_TMPDIR/follow.out') -ge 3 ]"
    n1=$(grep -c '^tick-' "$BATS_TEST_TMPDIR/follow.out")
    sleep 1
    # Still streaming, chunk by chunk: more lines arrived while the request is open.
    [ "$(grep -c '^tick-' "$BATS_TEST_TMPDIR/follow.out")" -gt "$n1" ]
    kill "$pid"
    wait "$pid" || true
    wait_for 10 bash -c "[ \$(ss -Htn state established '( dport = :$port )' | wc -l) -eq 0 ]"
}

@test "agent proxy: exec -t gives the command a terminal of the client's size" {
    pod_yaml tt 'exec /bin/busybox sleep 1000' | kc apply -f -
    wait_for 30 pod_phase_is tt Running
    # script(1) gives minik a terminal; stty sets its size, which the command must see.
    run timeout 30 script -qec "stty rows 27 cols 91; '$MINIK_BIN' exec -it tt -- /bin/busybox sh -c '[ -t 0 ] && [ -t 1 ] && echo is-a-tty; stty size; exit 4'" /dev/null
    [ "$status" -eq 4 ]
    [[ "$output" == *is-a-tty* ]]
    [[ "$output" == *"27 91"* ]]
    # The terminal's line discipline: output lines end in CR LF.
    [[ "$output" == *$'is-a-tty\r\n'* ]]
    # Without -t there is no terminal.
    run kc exec tt -- /bin/busybox sh -c '[ -t 0 ] || [ -t 1 ] || echo no-tty'
    [ "$status" -eq 0 ]
    [ "$output" = no-tty ]
    # -t with piped stdin: the end of input is ^D to the terminal, so cat ends.
    run timeout 30 bash -c "printf 'abc\n' | '$MINIK_BIN' exec -it tt -- /bin/busybox cat"
    [ "$status" -eq 0 ]
    [[ "$output" == *abc* ]]
}
