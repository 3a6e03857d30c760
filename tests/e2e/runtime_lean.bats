#!/usr/bin/env bats
# Start-up and footprint of the lean path (docs/runtime.md, "Start-up and footprint"): the
# binary links only light libraries, loads libcurl, libarchive, ldns, SQLite and OpenSSL
# on first use, and a container's shim runs from a sealed copy without any of them.

load helpers
load runtime_bundle

HEAVY='libcurl|libarchive|libldns|libsqlite3|libssl|libcrypto'

@test "the minik binary does not link the heavy libraries" {
    run readelf -d "$MINIK_BIN"
    [ "$status" -eq 0 ]
    needed=$(grep NEEDED <<<"$output")
    echo "$needed"
    grep -q 'libuv' <<<"$needed"
    ! grep -Eq "$HEAVY" <<<"$needed"
}

@test "minik version and the oci verbs load none of them; a client command loads libcurl on first use" {
    run env LD_DEBUG=files "$MINIK_BIN" version
    [ "$status" -eq 0 ]
    [[ "$output" == *"minik version"* ]]
    ! grep -E "file=($HEAVY)" <<<"$output"

    run env LD_DEBUG=files "$MINIK_BIN" oci --root "$BATS_TEST_TMPDIR/state" state nope
    [ "$status" -eq 1 ]
    [[ "$output" == *'container "nope" does not exist'* ]]
    ! grep -E "file=($HEAVY)" <<<"$output"

    port=$(free_port)
    run env LD_DEBUG=files "$MINIK_BIN" get pods --server "http://127.0.0.1:$port" --token x
    [ "$status" -eq 1 ]
    grep -E 'file=libcurl\.so\.4 .*dynamically loaded by' <<<"$output"
    # ...and the command still behaves as before: a clear connection error.
    grep -qi "127.0.0.1:$port" <<<"$output"
}

@test "SQLite is loaded on first use and answers: backup reads the state file's schema" {
    d=$(make_tmpdir data)
    sqlite3 "$d/state.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (42);'
    run env LD_DEBUG=files "$MINIK_BIN" backup --data-dir "$d" "$d/copy.db"
    [ "$status" -eq 1 ]
    grep -E 'file=libsqlite3\.so\.0 .*dynamically loaded by' <<<"$output"
    # Only SQLite itself can have found the table and no minik schema version.
    grep -F "database \"$d/state.db\" is not a minik database (it has tables but no minik schema version)" <<<"$output"
}

@test "a running container's shim maps none of them and runs from a sealed copy smaller than the binary" {
    B="$BATS_TEST_TMPDIR/bundle"
    STATE="$BATS_TEST_TMPDIR/state"
    make_bundle "$B" sleep 1000
    on_teardown "$MINIK_BIN oci --root $STATE delete --force lean1"
    # The container keeps stdout open, so its output goes to a file, not to `run`'s pipe.
    "$MINIK_BIN" oci --root "$STATE" create -b "$B" lean1 </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 ||
        { cat "$BATS_TEST_TMPDIR/out"; return 1; }
    shim=$(jq -r .shimPid "$STATE/lean1/state.json")
    [ -n "$shim" ] && [ -d "/proc/$shim" ]
    cat "/proc/$shim/maps" | awk '{print $6}' | sort -u
    ! grep -Eq "$HEAVY" "/proc/$shim/maps"
    grep -q 'libuv' "/proc/$shim/maps"
    [[ "$(readlink "/proc/$shim/exe")" == "/memfd:minik"* ]]
    copy=$(stat -L -c %s "/proc/$shim/exe")
    orig=$(stat -c %s "$MINIK_BIN")
    echo "copy $copy bytes, binary $orig bytes"
    [ "$copy" -lt "$orig" ]
    # The copy is sealed against writes (CVE-2019-5736).
    ! sh -c "echo x >> /proc/$shim/exe" 2>/dev/null
    run "$MINIK_BIN" oci --root "$STATE" start lean1
    [ "$status" -eq 0 ]
    run "$MINIK_BIN" oci --root "$STATE" state lean1
    [ "$(jq -r .status <<<"$output")" = running ]
}
