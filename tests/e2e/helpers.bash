# Shared helpers for the bats end-to-end suites. Load with `load helpers`.
#
# Everything a helper creates is registered for cleanup and removed in teardown, even when
# the test fails: daemons are stopped by their pid (never by name), network namespaces and
# temporary directories are deleted. A suite that defines its own teardown must call
# `minik_cleanup` from it.

bats_require_minimum_version 1.5.0

: "${MINIK_BIN:=$BATS_TEST_DIRNAME/../../build/asan/minik}"
export MINIK_BIN
# The sanitizers report leaks at exit; binaries under test must be leak-free.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

minik() {
    "$MINIK_BIN" "$@"
}

_cleanup_file() {
    echo "$BATS_TEST_TMPDIR/.minik-cleanup"
}

# Register a shell command to run at teardown (last registered runs first).
on_teardown() {
    echo "$*" >>"$(_cleanup_file)"
}

minik_cleanup() {
    local f
    f=$(_cleanup_file)
    if [ -f "$f" ]; then
        # Run in reverse order of registration: what was made last is undone first.
        tac "$f" | while IFS= read -r cmd; do
            eval "$cmd" >/dev/null 2>&1 || true
        done
        rm -f "$f"
    fi
    host_net_check
}

# What minik's pod network puts in a network namespace (the Service table, the bridge), as
# found in the host's: tests must leave none of it there (only namespaces they made).
host_net_state() {
    nft list table ip minik >/dev/null 2>&1 && echo "nft-table-ip-minik"
    ip link show minik0 >/dev/null 2>&1 && echo "minik0"
    return 0
}
# Taken when a test file is loaded, before the test runs.
MINIK_HOST_NET_BEFORE=" $(host_net_state | tr '\n' ' ')"

# cgroup_hierarchies : the mount point of every cgroup hierarchy here (v1 controllers,
# named ones like name=systemd, the hybrid unified tree, or the one cgroup2 root).
cgroup_hierarchies() {
    findmnt -rn -t cgroup,cgroup2 -o TARGET
}

# pod_cgroup_dirs UID... : the pod-level cgroups (minik/pod-<uid>, in any hierarchy) of
# these pods that exist.
pod_cgroup_dirs() {
    [ $# -gt 0 ] || return 0
    local re
    re="/minik/pod-($(IFS='|'; echo "$*"))\$"
    find /sys/fs/cgroup -maxdepth 4 -type d -name 'pod-*' 2>/dev/null | grep -E "$re" || true
}

# host_net_check : fail (and remove them) if this test left minik's nft table or bridge in
# the host's namespace when they were not there before it (see host_net_state).
host_net_check() {
    local what left=""
    for what in $(host_net_state); do
        [[ "$MINIK_HOST_NET_BEFORE" == *" $what "* ]] || left+=" $what"
    done
    [ -z "$left" ] && return 0
    echo "this test left in the host's network namespace:$left (an agent on the pod network ran outside a namespace the test made)" >&2
    [[ "$left" == *nft-table-ip-minik* ]] && nft delete table ip minik
    [[ "$left" == *minik0* ]] && ip link delete minik0
    return 1
}

teardown() {
    minik_cleanup
}

# start_daemon NAME CMD... : run CMD in the background with output in
# $BATS_TEST_TMPDIR/NAME.log, remember its pid in $BATS_TEST_TMPDIR/NAME.pid and stop it
# at teardown. Sets DAEMON_PID.
start_daemon() {
    local name=$1
    shift
    "$@" >"$BATS_TEST_TMPDIR/$name.log" 2>&1 &
    DAEMON_PID=$!
    echo "$DAEMON_PID" >"$BATS_TEST_TMPDIR/$name.pid"
    on_teardown "stop_daemon $name"
}

# stop_daemon NAME [TIMEOUT_S] : SIGTERM the daemon started under NAME, SIGKILL it if it
# has not exited after TIMEOUT_S (default 10). Sets DAEMON_STATUS to the daemon's exit
# status (128+signal when a signal ended it).
stop_daemon() {
    local name=$1 timeout=${2:-10} pidfile pid i
    pidfile="$BATS_TEST_TMPDIR/$name.pid"
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    rm -f "$pidfile"
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    DAEMON_STATUS=0
    wait "$pid" 2>/dev/null || DAEMON_STATUS=$?
    return 0
}

# daemon_log NAME : print a daemon's output (for failure messages).
daemon_log() {
    cat "$BATS_TEST_TMPDIR/$1.log" 2>/dev/null
}

# wait_for TIMEOUT_S CMD... : retry CMD every 0.1 s until it succeeds or the deadline
# passes; on timeout print what was waited for and fail.
wait_for() {
    local timeout=$1
    shift
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    if "$@" >/dev/null 2>&1; then
        return 0
    fi
    echo "wait_for: timed out after ${timeout}s waiting for: $*" >&2
    return 1
}

# free_port : print a TCP port on 127.0.0.1 that nothing listens on. Ports are drawn from a
# range per bats job so parallel suites do not collide.
free_port() {
    local port tries
    for ((tries = 0; tries < 200; tries++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
        if ! ss -Htan "sport = :$port" 2>/dev/null | grep -q .; then
            echo "$port"
            return 0
        fi
    done
    echo "free_port: no free port found" >&2
    return 1
}

# netns_create NAME : create a network namespace with loopback up, removed at teardown.
# Names are prefixed with "mk-" and a per-test suffix so concurrent runs cannot collide.
# Prints the real namespace name.
netns_create() {
    local ns="mk-$1-$$"
    ip netns add "$ns"
    on_teardown "netns_delete $ns"
    ip -n "$ns" link set lo up
    echo "$ns"
}

# netns_delete NS : kill every process still inside NS (they are ours: the namespace was
# created by this test) and delete it.
netns_delete() {
    local ns=$1 pid
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns delete "$ns" 2>/dev/null || true
}

# tmpdir NAME : a directory removed at teardown (bats removes BATS_TEST_TMPDIR, but
# directories elsewhere, e.g. with mounts inside, need explicit cleanup).
make_tmpdir() {
    local d
    d=$(mktemp -d "/tmp/minik-$1-XXXXXX")
    on_teardown "rm -rf --one-file-system $d"
    echo "$d"
}
