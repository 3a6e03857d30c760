#!/usr/bin/env bats
# The e2e harness itself: helpers must clean up after failing tests too.

load helpers

@test "start_daemon runs a process and stop_daemon stops it by pid" {
    start_daemon sleeper sleep 300
    pid=$DAEMON_PID
    kill -0 "$pid"
    stop_daemon sleeper
    ! kill -0 "$pid" 2>/dev/null
    [ "$DAEMON_STATUS" -eq 143 ] # SIGTERM
}

@test "stop_daemon escalates to SIGKILL for a daemon that ignores SIGTERM" {
    start_daemon stubborn bash -c 'trap "" TERM; while :; do sleep 0.1; done'
    pid=$DAEMON_PID
    sleep 0.2
    stop_daemon stubborn 1
    ! kill -0 "$pid" 2>/dev/null
    [ "$DAEMON_STATUS" -eq 137 ] # SIGKILL
}

@test "wait_for succeeds once the condition holds and times out otherwise" {
    touch_later() { sleep 0.3; touch "$BATS_TEST_TMPDIR/flag"; }
    touch_later &
    wait_for 5 test -f "$BATS_TEST_TMPDIR/flag"
    run wait_for 1 test -f "$BATS_TEST_TMPDIR/never"
    [ "$status" -ne 0 ]
    [[ "$output" == *"timed out after 1s"* ]]
}

@test "free_port returns a loopback port nothing listens on" {
    port=$(free_port)
    [ "$port" -ge 20000 ] && [ "$port" -lt 50000 ]
    ! ss -Htln "sport = :$port" | grep -q .
}

@test "netns_create makes a namespace with loopback up" {
    ns=$(netns_create host1)
    ip netns list | grep -q "^$ns"
    ip -n "$ns" -o link show lo | grep -q "UP"
    echo "$ns" >"$BATS_TEST_TMPDIR/ns-name"
}

@test "teardown removes namespaces and daemons even after a failure" {
    # Simulate a failing test body in a subshell-free way: register, then clean up as
    # teardown would, and check nothing is left.
    ns=$(netns_create leak)
    start_daemon leaker ip netns exec "$ns" sleep 300
    pid=$DAEMON_PID
    minik_cleanup
    ! ip netns list | grep -q "^$ns"
    ! kill -0 "$pid" 2>/dev/null
}

@test "host_net_check fails a test that leaves minik's nft table or bridge in the host's namespace, and removes them" {
    # The "host" here is a namespace of this test: the check looks at whatever namespace
    # it runs in, and the real host is never touched.
    ns=$(netns_create hostnet)
    run ip netns exec "$ns" bash -c "
        bats_require_minimum_version() { :; }
        BATS_TEST_DIRNAME='$BATS_TEST_DIRNAME' BATS_TEST_TMPDIR='$BATS_TEST_TMPDIR'
        source '$BATS_TEST_DIRNAME/helpers.bash'
        host_net_check || exit 10
        nft add table ip minik && ip link add minik0 type bridge || exit 11
        host_net_check && exit 12
        nft list table ip minik >/dev/null 2>&1 && exit 13
        ip link show minik0 >/dev/null 2>&1 && exit 14
        # What was there before the test is not the test's doing.
        nft add table ip minik || exit 15
        source '$BATS_TEST_DIRNAME/helpers.bash'
        host_net_check || exit 16
        nft list table ip minik >/dev/null || exit 17
        exit 0"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"this test left in the host's network namespace: nft-table-ip-minik minik0"* ]]
}
