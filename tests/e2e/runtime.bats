#!/usr/bin/env bats
# The OCI runtime, end to end on the real kernel: `minik oci` runs busybox bundles built
# from Debian's busybox-static, and each test checks what a process inside sees.

load helpers
load runtime_bundle

setup_file() {
    export TEMPLATE_ROOTFS="$BATS_FILE_TMPDIR/rootfs"
    make_rootfs "$TEMPLATE_ROOTFS"
}

setup() {
    STATE="$BATS_TEST_TMPDIR/state"
    B="$BATS_TEST_TMPDIR/bundle"
    mkdir -p "$B"
    cp -a "$TEMPLATE_ROOTFS" "$B/rootfs"
}

oci() {
    minik oci --root "$STATE" "$@"
}

# new_container ID : register the container for removal at teardown.
new_container() {
    on_teardown "$MINIK_BIN oci --root $STATE delete --force $1"
}

@test "run: output, exit code, hostname, pid 1 and the mounts the config asks for" {
    BUNDLE_HOSTNAME=box make_bundle "$B" sh -c 'hostname; echo pid=$$; grep -E " /proc | /dev | /sys " /proc/self/mountinfo | cut -d" " -f5,6; ls -l /dev/null; exit 7'
    new_container c1
    run --separate-stderr oci run -b "$B" c1
    echo "$output $stderr"
    [ "$status" -eq 7 ]
    [ "${lines[0]}" = box ]
    [ "${lines[1]}" = pid=1 ]
    [[ "$output" == *"/proc rw"* ]]
    [[ "$output" == *"/dev rw"* ]]
    [[ "$output" == *"/sys ro"* ]]
    [[ "$output" == *"crw-rw-rw-"*"1,"*"3"*"/dev/null"* ]]
    # run removes the container afterwards, like runc run.
    run oci state c1
    [ "$status" -eq 1 ]
    [[ "$output" == *'container "c1" does not exist'* ]]
}

@test "default privileges: the 14 Docker capabilities, empty inheritable set, no_new_privs, seccomp" {
    make_bundle "$B" grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
    new_container caps
    run oci run -b "$B" caps
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"CapEff:"*"00000000a80425fb"* ]]
    [[ "$output" == *"CapBnd:"*"00000000a80425fb"* ]]
    [[ "$output" == *"CapInh:"*"0000000000000000"* ]]
    [[ "$output" == *"CapAmb:"*"0000000000000000"* ]]
    [[ "$output" == *"NoNewPrivs:"*"1"* ]]
    [[ "$output" == *"Seccomp:"*"2"* ]]
}

@test "only fds 0, 1 and 2 reach the container, even when the caller leaks others" {
    make_bundle "$B" ls /proc/self/fd
    new_container fds
    # fd 5 and 9 are open in the caller; ls itself opens one fd for the directory.
    run oci run -b "$B" fds 5</etc/hostname 9</etc/passwd
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
}

@test "--preserve-fds passes fds 3.. to the container" {
    echo secret-from-fd3 >"$BATS_TEST_TMPDIR/f3"
    make_bundle "$B" sh -c 'cat <&3; ls /proc/self/fd | tr "\n" " "'
    new_container pfd
    run oci run --preserve-fds 1 -b "$B" pfd 3<"$BATS_TEST_TMPDIR/f3" 7</etc/passwd
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = secret-from-fd3 ]
    [ "${lines[1]}" = "0 1 2 3 4 " ]
}

@test "masked paths read empty and read-only paths refuse writes" {
    # (/proc/keys and /proc/timer_list exist on every kernel config; kcore may not.)
    [ -e /proc/keys ] && [ -e /proc/timer_list ]
    make_bundle "$B" sh -c 'echo keys=$(wc -c </proc/keys); echo timers=$(wc -c </proc/timer_list); echo firmware=$(ls /sys/firmware | wc -l); echo x >/proc/sys/kernel/domainname && echo domainname-written; echo "|/x" >/proc/sys/kernel/core_pattern && echo core-written; touch /proc/fs/x 2>/dev/null || echo fs-refused; echo done'
    new_container masked
    run oci run -b "$B" masked
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"keys=0"* ]]
    [[ "$output" == *"timers=0"* ]]
    [ "$(wc -c </proc/timer_list)" -gt 0 ]
    [[ "$output" == *"firmware=0"* ]]
    [[ "$output" == *"Read-only file system"* ]]
    [[ "$output" != *"domainname-written"* ]]
    [[ "$output" != *"core-written"* ]]
    [[ "$output" == *"fs-refused"* ]]
    [[ "$output" == *"done"* ]]
}

@test "a read-only root refuses writes; rlimits, oom_score_adj, user and groups apply" {
    BUNDLE_JQ='.root.readonly=true | .process.oomScoreAdj=123 | .process.user={uid:1000,gid:1000,additionalGids:[10,20]} | .process.rlimits=[{type:"RLIMIT_NOFILE",soft:321,hard:654}]' \
        make_bundle "$B" sh -c 'touch /x 2>&1; cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn; id -u; id -g; id -G'
    new_container ro
    run oci run -b "$B" ro
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == *"Read-only file system"* ]]
    [ "${lines[1]}" = 123 ]
    [ "${lines[2]}" = 321 ]
    [ "${lines[3]}" = 654 ]
    [ "${lines[4]}" = 1000 ]
    [ "${lines[5]}" = 1000 ]
    [[ " ${lines[6]} " == *" 10 "* && " ${lines[6]} " == *" 20 "* ]]
}

@test "seccomp's default profile blocks each listed syscall, even with every capability" {
    gcc -static -O1 -o "$B/rootfs/bin/syscalls" "$BATS_TEST_DIRNAME/../fixtures/runtime/syscalls.c"
    allcaps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_SETUID","CAP_SETGID","CAP_SYS_ADMIN","CAP_SYS_MODULE","CAP_SYS_BOOT","CAP_BPF","CAP_PERFMON","CAP_DAC_READ_SEARCH","CAP_SYS_PTRACE"]'
    BUNDLE_JQ=".process.capabilities={bounding:$allcaps,effective:$allcaps,permitted:$allcaps}" \
        make_bundle "$B" /bin/syscalls
    new_container sc
    run oci run -b "$B" sc
    echo "$output"
    [ "$status" -eq 0 ]
    for s in mount umount2 unshare setns keyctl add_key request_key bpf perf_event_open kexec_load \
        init_module finit_module reboot swapon userfaultfd open_by_handle_at clone_newuser; do
        [[ "$output" == *"$s EPERM"* ]] || { echo "not blocked: $s"; return 1; }
    done
    [[ "$output" == *"clone3 ENOSYS"* ]]

    # The same program with an allow-all profile: the calls get through (so it is the
    # filter, not missing capabilities, that refused them above).
    BUNDLE_JQ=".process.capabilities={bounding:$allcaps,effective:$allcaps,permitted:$allcaps} | .linux.seccomp={defaultAction:\"SCMP_ACT_ALLOW\"}" \
        make_bundle "$B" /bin/syscalls
    new_container sc2
    run oci run -b "$B" sc2
    echo "$output"
    [[ "$output" == *"mount ok"* ]]
    [[ "$output" == *"unshare ok"* ]]
    [[ "$output" == *"clone_newuser ok"* ]]
}

@test "create, start, state, kill by name and number, delete: the runc life cycle" {
    make_bundle "$B" sh -c 'trap "exit 3" TERM; trap "exit 4" USR1; while :; do sleep 0.1; done'
    new_container life
    # (--log-path: otherwise the container inherits, and holds open, the stdout bats reads)
    run oci create -b "$B" --pid-file "$BATS_TEST_TMPDIR/pid" --log-path "$BATS_TEST_TMPDIR/life.log" life
    [ "$status" -eq 0 ]
    run oci state life
    echo "$output"
    [ "$(echo "$output" | jq -r .status)" = created ]
    pid=$(echo "$output" | jq -r .pid)
    [ "$pid" = "$(cat "$BATS_TEST_TMPDIR/pid")" ]
    [ "$(echo "$output" | jq -r .bundle)" = "$B" ]
    run oci start life
    [ "$status" -eq 0 ]
    [ "$(oci state life | jq -r .status)" = running ]
    run oci start life
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot start a container that is running"* ]]
    run oci delete life
    [ "$status" -eq 1 ]
    [[ "$output" == *"not stopped: running"* ]]
    run oci kill life TERM
    [ "$status" -eq 0 ]
    wait_for 10 sh -c "$MINIK_BIN oci --root $STATE state life | jq -e '.status == \"stopped\"'"
    [ "$(jq .exitCode "$STATE/life/exit.json")" = 3 ]
    run oci kill life KILL
    [ "$status" -eq 1 ]
    [[ "$output" == *"not running"* ]]
    run oci delete life
    [ "$status" -eq 0 ]
    [ ! -e "$STATE/life" ]

    # Numbers and the SIG prefix work too.
    for sig in 10 SIGUSR1 usr1; do
        oci create -b "$B" n >/dev/null 2>&1 </dev/null
        oci start n
        run oci kill n "$sig"
        [ "$status" -eq 0 ]
        wait_for 10 sh -c "$MINIK_BIN oci --root $STATE state n | jq -e '.status == \"stopped\"'"
        [ "$(jq .exitCode "$STATE/n/exit.json")" = 4 ]
        oci delete n
    done
    run oci kill whatever BOGUS
    [ "$status" -eq 2 ]
    [[ "$output" == *'invalid signal "BOGUS"'* ]]
}

@test "state JSON has the same shape as runc's for the same bundle" {
    make_bundle "$B" sleep 30
    new_container shape
    on_teardown "runc --root $BATS_TEST_TMPDIR/runc delete --force shape"
    oci create -b "$B" shape </dev/null >/dev/null 2>&1
    runc --root "$BATS_TEST_TMPDIR/runc" create -b "$B" shape </dev/null >/dev/null 2>&1
    mine=$(oci state shape)
    theirs=$(runc --root "$BATS_TEST_TMPDIR/runc" state shape)
    echo "$mine"
    echo "$theirs"
    [ "$(echo "$mine" | jq -c 'keys')" = "$(echo "$theirs" | jq -c 'keys')" ]
    [ "$(echo "$mine" | jq -r '.status, .bundle, .rootfs, .id')" = "$(echo "$theirs" | jq -r '.status, .bundle, .rootfs, .id')" ]
    [ "$(echo "$mine" | jq -r '.pid | type')" = number ]
}

@test "kill -9 of the shim's parent leaves the container running" {
    make_bundle "$B" sleep 1000
    new_container orphan
    oci run -b "$B" orphan </dev/null >/dev/null 2>&1 &
    runpid=$!
    wait_for 20 sh -c "$MINIK_BIN oci --root $STATE state orphan | jq -e '.status == \"running\"'"
    kill -9 "$runpid"
    wait "$runpid" || true
    sleep 0.5
    run oci state orphan
    [ "$(echo "$output" | jq -r .status)" = running ]
    pid=$(echo "$output" | jq -r .pid)
    kill -0 "$pid"
}

@test "delete leaves no mounts, cgroups or processes behind" {
    make_bundle "$B" sh -c 'sleep 1000 & sleep 1000 & sleep 1000'
    new_container clean
    oci create -b "$B" clean </dev/null >/dev/null 2>&1
    oci start clean
    pid=$(oci state clean | jq -r .pid)
    shim=$(jq -r .shimPid "$STATE/clean/state.json")
    cg=$(jq -r .cgroupPath "$STATE/clean/state.json")
    wait_for 10 sh -c "[ \$(cat /sys/fs/cgroup/pids$cg/cgroup.procs /sys/fs/cgroup/unified$cg/cgroup.procs 2>/dev/null | sort -u | wc -l) -ge 3 ]"
    run oci delete --force clean
    [ "$status" -eq 0 ]
    ! kill -0 "$pid" 2>/dev/null
    ! kill -0 "$shim" 2>/dev/null
    for d in /sys/fs/cgroup/*/; do
        [ ! -e "$d${cg#/}" ] || { echo "left behind: $d${cg#/}"; return 1; }
    done
    ! grep -q "$B" /proc/self/mountinfo
    ! grep -qs "$B" /proc/"$$"/mountinfo
    [ ! -e "$STATE/clean" ]
}

@test "a memory limit OOM-kills inside the container and is reported" {
    BUNDLE_JQ='.linux.resources.memory={limit:33554432, swap:33554432}' \
        make_bundle "$B" dd if=/dev/zero of=/dev/null bs=128M count=1
    new_container oom
    run --separate-stderr oci run -b "$B" oom
    echo "$output / $stderr"
    [ "$status" -eq 137 ]
    [[ "$stderr" == *'container "oom" was OOM-killed'* ]]
    # Without the limit the same process completes.
    make_bundle "$B" dd if=/dev/zero of=/dev/null bs=128M count=1
    new_container nooom
    run oci run -b "$B" nooom
    [ "$status" -eq 0 ]
}

@test "pids.max stops a fork bomb" {
    BUNDLE_JQ='.linux.resources.pids={limit:20}' \
        make_bundle "$B" sh -c 'sh -c "while :; do sleep 1000 & done"; echo bomb-stopped; sleep 1000'
    new_container bomb
    oci create --log-path "$BATS_TEST_TMPDIR/bomb.log" -b "$B" bomb
    oci start bomb
    wait_for 20 grep -q bomb-stopped "$BATS_TEST_TMPDIR/bomb.log"
    cat "$BATS_TEST_TMPDIR/bomb.log"
    grep -q "can't fork" "$BATS_TEST_TMPDIR/bomb.log"
    cg=$(jq -r .cgroupPath "$STATE/bomb/state.json")
    [ "$(cat /sys/fs/cgroup/pids$cg/pids.max)" = 20 ]
    [ "$(cat /sys/fs/cgroup/pids$cg/pids.current)" -le 20 ]
    [ "$(cat /sys/fs/cgroup/pids$cg/pids.current)" -ge 15 ]
}

@test "CRI logs: F and P records, and size-based rotation" {
    make_bundle "$B" sh -c 'echo out-line; echo err-line >&2; printf tail-no-newline; head -c 20000 /dev/zero | tr "\0" a'
    new_container logs
    log="$BATS_TEST_TMPDIR/c.log"
    run oci run --log-path "$log" -b "$B" logs
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    cat "$log"
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z stdout F out-line$' "$log"
    grep -Eq 'Z stderr F err-line$' "$log"
    grep -Eq 'Z stdout P tail-no-newlineaaaa' "$log"
    [ "$(grep -c ' stdout F a*$' "$log")" -eq 1 ]

    make_bundle "$B" sh -c 'i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done'
    new_container rot
    rlog="$BATS_TEST_TMPDIR/r.log"
    run oci run --log-path "$rlog" --log-max-size 2k --log-max-files 3 -b "$B" rot
    [ "$status" -eq 0 ]
    ls -l "$BATS_TEST_TMPDIR"
    [ -e "$rlog" ] && [ -e "$rlog.1" ] && [ -e "$rlog.2" ] && [ ! -e "$rlog.3" ]
    for f in "$rlog" "$rlog.1" "$rlog.2"; do
        [ "$(stat -c %s "$f")" -le 2048 ]
    done
    tail -n1 "$rlog" | grep -q 'stdout F line-199$'
}

@test "a user namespace maps ids, and device nodes are bound from the host" {
    BUNDLE_JQ='.linux.namespaces += [{type:"user"}] | .linux.uidMappings=[{containerID:0,hostID:100000,size:65536}] | .linux.gidMappings=[{containerID:0,hostID:100000,size:65536}]' \
        make_bundle "$B" sh -c 'cat /proc/self/uid_map; id -u; echo hi >/dev/null && echo null-ok'
    # The mapped root must be able to reach the rootfs: a traversable bundle directory.
    d=$(make_tmpdir userns)
    chmod 755 "$d"
    mv "$B" "$d/bundle"
    B="$d/bundle"
    new_container userns
    run oci run -b "$B" userns
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
    [ "${lines[1]}" = 0 ]
    [ "${lines[2]}" = null-ok ]
}

@test "namespaces given by path are joined" {
    ns=$(netns_create rt)
    BUNDLE_JQ=".linux.namespaces |= map(if .type == \"network\" then {type:\"network\", path:\"/var/run/netns/$ns\"} else . end)" \
        make_bundle "$B" readlink /proc/self/ns/net
    new_container join
    run oci run -b "$B" join
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "net:[$(stat -L -c %i "/var/run/netns/$ns")]" ]
}

@test "bad config: errors name the field, the bundle and JSON positions" {
    make_bundle "$B" sh
    jq '.process.args = ["sh", 5]' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
    run oci create -b "$B" bad
    [ "$status" -eq 1 ]
    [[ "$output" == *"config.json: process.args[1]: expected a string, got a number"* ]]
    printf '{\n  "ociVersion": "1.0.2",\n  "process": {,\n}' >"$B/config.json"
    run oci create -b "$B" bad
    [ "$status" -eq 1 ]
    [[ "$output" == *"config.json:3:"*"invalid JSON"* ]]
    make_bundle "$B" nosuchprogram
    run oci create -b "$B" bad
    [ "$status" -eq 1 ]
    [[ "$output" == *'exec: "nosuchprogram": executable file not found in $PATH'* ]]
    [ ! -e "$STATE/bad" ]
    BUNDLE_JQ='.linux.sysctl={"kernel.core_pattern":"|/evil"}' make_bundle "$B" sh
    run oci create -b "$B" bad
    [ "$status" -eq 1 ]
    [[ "$output" == *'linux.sysctl: "kernel.core_pattern"'* ]]
    run oci create -b "$B" 'bad/id'
    [ "$status" -eq 1 ]
    [[ "$output" == *'invalid container id "bad/id"'* ]]
}

@test "escape: a cwd through /proc/self/fd is refused (CVE-2024-21626)" {
    for fd in 3 4 5 6 7 8 9; do
        BUNDLE_JQ=".process.cwd=\"/proc/self/fd/$fd\"" make_bundle "$B" pwd
        run oci create -b "$B" cwd
        echo "$output"
        [ "$status" -eq 1 ]
        [[ "$output" == *"process.cwd"* ]]
        [ ! -e "$STATE/cwd" ]
    done
}

@test "escape: mount targets that are symlinks stay inside the rootfs (CVE-2021-30465)" {
    host=$(make_tmpdir host)
    # Absolute and ../-climbing symlinks to a host directory; the same path exists in the
    # rootfs, which is where the mounts must land.
    ln -s "$host" "$B/rootfs/evil"
    ln -s "../../../../../../../../$host" "$B/rootfs/evil2"
    mkdir -p "$B/rootfs$host"
    BUNDLE_JQ='.mounts += [{destination:"/evil", type:"tmpfs", source:"tmpfs"}, {destination:"/evil2/sub", type:"tmpfs", source:"tmpfs"}]' \
        make_bundle "$B" sh -c "touch /evil/planted /evil2/sub/planted2 && echo planted; grep -c ' $host ' /proc/self/mountinfo"
    new_container sym
    run oci run -b "$B" sym
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = planted ]
    [ "${lines[1]}" = 1 ]
    [ -z "$(ls -A "$host")" ]
    ! grep -q "$host" /proc/self/mountinfo
}

@test "escape: a /dev/null that is a symlink or not the null device is refused (CVE-2025-31133)" {
    # No /dev tmpfs: the image's own /dev is used, and its null is a trap.
    BUNDLE_JQ='.mounts |= map(select(.destination | startswith("/dev") | not))' make_bundle "$B" true
    ln -s /proc/sys/kernel/core_pattern "$B/rootfs/dev/null"
    run oci create -b "$B" devnull
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"/dev/null in the container is a symlink"* ]]
    rm "$B/rootfs/dev/null"
    mknod "$B/rootfs/dev/null" c 1 5
    run oci create -b "$B" devnull
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"/dev/null in the container is not the null device"* ]]
}

@test "escape: the runtime binary cannot be overwritten through /proc/pid/exe (CVE-2019-5736)" {
    make_bundle "$B" sleep 1000
    new_container exe
    oci create -b "$B" exe </dev/null >/dev/null 2>&1
    shim=$(jq -r .shimPid "$STATE/exe/state.json")
    pid=$(jq -r .pid "$STATE/exe/state.json")
    before=$(sha256sum "$MINIK_BIN" | cut -d' ' -f1)
    # Before start the init still runs minik's code: both run from a sealed memfd.
    [[ "$(readlink /proc/$shim/exe)" == "/memfd:minik (deleted)" ]]
    [[ "$(readlink /proc/$pid/exe)" == "/memfd:minik (deleted)" ]]
    run sh -c "printf x >>/proc/$pid/exe"
    [ "$status" -ne 0 ]
    run sh -c "printf x >/proc/$shim/exe"
    [ "$status" -ne 0 ]
    [ "$(sha256sum "$MINIK_BIN" | cut -d' ' -f1)" = "$before" ]
    # A container whose entry point is /proc/self/exe runs the sealed copy, not the host
    # file (the host's libraries are bound in so the dynamically linked copy can start).
    BUNDLE_JQ='.mounts += [{destination:"/lib",type:"bind",source:"/lib",options:["rbind","ro"]}, {destination:"/lib64",type:"bind",source:"/lib64",options:["rbind","ro"]}, {destination:"/usr/lib",type:"bind",source:"/usr/lib",options:["rbind","ro"]}]' \
        make_bundle "$B" /proc/self/exe version
    new_container exe2
    run oci run -b "$B" exe2
    echo "$output"
    [[ "$output" == *"minik version"* ]]
    [ "$(sha256sum "$MINIK_BIN" | cut -d' ' -f1)" = "$before" ]
}
