#!/usr/bin/env bats
# minik version on client and server (issue 9, day 2).

load helpers
load apiserver_helpers

@test "version: shows the server's version when a kubeconfig is found; --client/--short do not ask" {
    start_server
    export MINIK_CONFIG=$DATA/admin.conf
    run minik version
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "minik version $(cat "$BATS_TEST_DIRNAME/../../VERSION")" ]
    [ "${lines[3]}" = "server version $(cat "$BATS_TEST_DIRNAME/../../VERSION")" ]
    [[ "$output" == *"server:       $URL"* ]]
    # The server's commit is what its /version says.
    commit=$(curl -sf --cacert "$CACERT" "$URL/version" | jq -r .gitCommit)
    [ "${lines[4]}" = "git commit:   $commit" ]
    run minik version --client
    [ "${#lines[@]}" -eq 3 ]
    run minik version --short
    [ "$output" = "$(cat "$BATS_TEST_DIRNAME/../../VERSION")" ]
    # An unreachable server is an error, after the client's own lines.
    stop_daemon server
    run --separate-stderr minik version
    [ "$status" -eq 1 ]
    [[ "$output" == "minik version "* ]]
    [[ "$stderr" == *"server version: cannot reach the minik server at $URL"* ]]
}

@test "version: no kubeconfig anywhere prints the client only, exit 0" {
    HOME=$BATS_TEST_TMPDIR MINIK_CONFIG= run minik version
    # /var/lib/minik/admin.conf may exist on a machine running minik; then this is moot.
    if [ ! -e /var/lib/minik/admin.conf ]; then
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 3 ]
    fi
}
