#!/usr/bin/env bats
# Build-system targets a user runs by hand: install/uninstall into a scratch root.

load helpers

@test "make install PREFIX=... installs a working binary and uninstall removes it" {
    root=$(make_tmpdir install)
    cd "$BATS_TEST_DIRNAME/../.."
    run make --no-print-directory install DESTDIR="$root" PREFIX=/opt/minik
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ -x "$root/opt/minik/bin/minik" ]
    run "$root/opt/minik/bin/minik" version --short
    [ "$status" -eq 0 ]
    [ "$output" = "$(cat VERSION)" ]
    run make --no-print-directory uninstall DESTDIR="$root" PREFIX=/opt/minik
    [ "$status" -eq 0 ]
    [ ! -e "$root/opt/minik/bin/minik" ]
}
