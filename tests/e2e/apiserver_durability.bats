#!/usr/bin/env bats
# kill -9 of `minik server` in the middle of a write storm loses no acknowledged write:
# every create that got its 201 is there after a restart, and the database is intact.

load helpers
load apiserver_helpers

# writer N : create ConfigMaps w<N>-<i> one after another; print the name of each create
# the server acknowledged (201) the moment the answer arrives.
writer() {
    local n=$1 i code
    for ((i = 0; i < 5000; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -X POST \
            -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
            --data-binary "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"w$n-$i\"},\"data\":{\"i\":\"$i\"}}" \
            "$URL/api/v1/namespaces/default/configmaps") || return 0
        [ "$code" = 201 ] || return 0
        echo "w$n-$i"
    done
}

acked_at_least() {
    [ "$(cat "$BATS_TEST_TMPDIR"/acked.* 2>/dev/null | wc -l)" -ge "$1" ]
}

@test "durability: kill -9 during concurrent creates loses no acknowledged object" {
    start_server
    acked="$BATS_TEST_TMPDIR/acked"
    pids=()
    for n in 1 2 3 4; do
        writer "$n" >"$acked.$n" &
        pids+=($!)
        on_teardown "kill ${pids[-1]}"
    done
    # Let the storm run until a good number of writes were acknowledged, then pull the plug.
    wait_for 30 acked_at_least 1
    sleep 2
    kill -KILL "$SERVER_PID"
    rm -f "$BATS_TEST_TMPDIR/server.pid" # it is gone; teardown must not expect exit 0
    for p in "${pids[@]}"; do wait "$p" || true; done
    cat "$acked".* >"$acked"
    total=$(wc -l <"$acked")
    [ "$total" -ge 20 ] || { echo "only $total writes acknowledged before the kill"; return 1; }

    run sqlite3 "$DATA/state.db" 'PRAGMA integrity_check'
    [ "$output" = ok ]

    restart_server --new-port
    out=$(api GET /api/v1/namespaces/default/configmaps)
    [ "$(code_of "$out")" = 200 ]
    body_of "$out" | jq -r '.items[].metadata.name' | sort >"$BATS_TEST_TMPDIR/present"
    missing=$(sort "$acked" | comm -23 - "$BATS_TEST_TMPDIR/present")
    [ -z "$missing" ] || { echo "acknowledged but lost: $missing"; return 1; }
    echo "# $total acknowledged creates, all present after kill -9" >&3
}
