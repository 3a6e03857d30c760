#!/usr/bin/env bats
# seccomp filters (agent/runtime/seccomp*) installed before exec of real programs, driven
# through tests/tools/cgtool seccomp-run. The syscall-by-syscall checks are in
# tests/unit/test_seccomp.c; this suite checks what a user of a container would see.

load helpers

setup() {
    CGTOOL="$(dirname "$MINIK_BIN")/tools/cgtool"
    [ -x "$CGTOOL" ] || {
        echo "cgtool not built: $CGTOOL" >&2
        return 1
    }
}

@test "seccomp: ordinary programs run under the default profile" {
    run "$CGTOOL" seccomp-run default -- sh -c 'echo hello | tr a-z A-Z; ls / >/dev/null; sleep 0.01 & wait'
    [ "$status" -eq 0 ]
    [[ "$output" == *HELLO* ]]
}

@test "seccomp: the default profile refuses new namespaces and mounts" {
    # Control: without the filter, root can do these here.
    unshare -U true
    run "$CGTOOL" seccomp-run default -- unshare -U true
    [ "$status" -ne 0 ]
    [[ "$output" == *"Operation not permitted"* ]]
    run "$CGTOOL" seccomp-run default -- unshare -m true
    [ "$status" -ne 0 ]
    [[ "$output" == *"Operation not permitted"* ]]
    run "$CGTOOL" seccomp-run default -- mount -t tmpfs none /mnt
    [ "$status" -ne 0 ]
    [[ "$output" == *"ermission denied"* || "$output" == *"not permitted"* ]]
}

@test "seccomp: a custom OCI profile applies its errno" {
    dir=$(make_tmpdir seccomp)
    cat >"$dir/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}
JSON
    run "$CGTOOL" seccomp-run "$dir/profile.json" -- mkdir "$dir/x"
    [ "$status" -ne 0 ]
    [[ "$output" == *"No space left on device"* ]] # errno 28, ENOSPC
    [ ! -d "$dir/x" ]
    run "$CGTOOL" seccomp-run "$dir/profile.json" -- touch "$dir/y"
    [ "$status" -eq 0 ]
    [ -f "$dir/y" ]
}

@test "seccomp: a bad profile is refused with the field that is wrong" {
    dir=$(make_tmpdir seccomp)
    echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_MAYBE"}]}' \
        >"$dir/bad.json"
    run "$CGTOOL" seccomp-run "$dir/bad.json" -- true
    [ "$status" -eq 1 ]
    [[ "$output" == *'seccomp.syscalls[0].action: unknown action "SCMP_ACT_MAYBE"'* ]]
}
