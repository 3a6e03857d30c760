#!/usr/bin/env bats
# The command-line skeleton: help, version, usage errors and exit codes.

load helpers

@test "minik --help lists the commands and exits 0" {
    run minik --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"Usage:"* ]]
    [[ "$output" == *"version"*"Print version information"* ]]
}

@test "minik with no command prints usage on stderr and exits 2" {
    run --separate-stderr minik
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ "$stderr" == *"Usage:"* ]]
}

@test "an unknown command is a usage error naming the command" {
    run --separate-stderr minik frobnicate
    [ "$status" -eq 2 ]
    [[ "$stderr" == *'unknown command "frobnicate"'* ]]
}

@test "an unknown flag is a usage error naming the flag" {
    run --separate-stderr minik version --frobnicate
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"unknown flag --frobnicate"* ]]
    [[ "$stderr" == *"minik version --help"* ]]
    run --separate-stderr minik --frobnicate
    [ "$status" -eq 2 ]
    [[ "$stderr" == *'unknown flag "--frobnicate"'* ]]
}

@test "minik version prints version, git commit and build date" {
    run minik version
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "minik version $(cat "$BATS_TEST_DIRNAME/../../VERSION")" ]]
    [[ "${lines[1]}" =~ ^git\ commit:\ +[0-9a-f]{7,}(-dirty)?$|^git\ commit:\ +unknown ]]
    [[ "${lines[2]}" =~ ^build\ date:\ +[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
    run minik version --short
    [ "$output" = "$(cat "$BATS_TEST_DIRNAME/../../VERSION")" ]
}

@test "every command answers --help with its usage and exits 0" {
    run minik --help
    cmds=$(printf '%s\n' "$output" | sed -n '/^Commands:/,/^$/p' | awk 'NF>1 && !/Commands:/ {print $1}')
    [ -n "$cmds" ]
    for c in $cmds; do
        run minik "$c" --help
        [ "$status" -eq 0 ] || { echo "minik $c --help exited $status"; return 1; }
        [[ "$output" == *"Usage:"*"minik $c"* ]] || { echo "minik $c --help: $output"; return 1; }
    done
}

@test "a bad MINIK_LOG_LEVEL is refused with a clear message" {
    MINIK_LOG_LEVEL=loud run --separate-stderr minik version
    [ "$status" -eq 2 ]
    [[ "$stderr" == *'MINIK_LOG_LEVEL="loud"'* ]]
}
