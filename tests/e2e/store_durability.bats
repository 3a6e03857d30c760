#!/usr/bin/env bats
# The store on disk: kill -9 during write storms loses no acknowledged write, and
# `minik backup` / `minik restore` work (and refuse what they must).

load helpers

STORE_WRITER="$(dirname "$MINIK_BIN")/tools/store_writer"

setup() {
    DATA=$(make_tmpdir store)
    DB="$DATA/state.db"
}

# lines FILE : number of complete (newline-terminated) lines.
lines() {
    if [ -f "$1" ]; then
        tr -cd '\n' <"$1" | wc -c
    else
        echo 0
    fi
}

at_least_lines() {
    [ "$(lines "$1")" -ge "$2" ]
}

# storm MODE ROUND : start a writer, let it acknowledge some writes, kill -9 it mid-storm.
storm() {
    local mode=$1 round=$2 names="$BATS_TEST_TMPDIR/acked-$1-$2"
    start_daemon "writer-$mode-$round" "$STORE_WRITER" write "$DB" "$mode"
    # The writer's stdout is the daemon log; keep only what it printed.
    local log="$BATS_TEST_TMPDIR/writer-$mode-$round.log"
    wait_for 60 at_least_lines "$log" 40
    sleep "0.$((RANDOM % 3 + 1))"
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null || true
    rm -f "$BATS_TEST_TMPDIR/writer-$mode-$round.pid"
    grep -E '^[as]-[0-9]+-[0-9]+$' "$log" >"$names" || true
    [ "$(lines "$names")" -ge 40 ]
}

verify() {
    run sqlite3 "$DB" "PRAGMA integrity_check"
    [ "$status" -eq 0 ]
    [ "$output" = "ok" ]
    local all="$BATS_TEST_TMPDIR/all-acked"
    cat "$BATS_TEST_TMPDIR"/acked-* >"$all"
    run "$STORE_WRITER" check "$DB" "$all"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"missing 0"* ]]
}

@test "kill -9 during a synchronous write storm loses no acknowledged write" {
    for round in 1 2 3; do
        storm sync "$round"
        verify
    done
}

@test "kill -9 during a group-committed storm (100 in flight) loses no acknowledged write" {
    for round in 1 2 3; do
        storm async "$round"
        verify
    done
    # Every acknowledged object and the store's own sequence agree after reopening.
    total=$(sqlite3 "$DB" "SELECT count(*) FROM objects")
    acked=$(cat "$BATS_TEST_TMPDIR"/acked-* | wc -l)
    [ "$total" -ge "$acked" ]
    rv=$(sqlite3 "$DB" "SELECT max((SELECT value FROM meta WHERE key = 'rv'), (SELECT max(rv) FROM events))")
    [ "$rv" -eq "$total" ]
}

@test "minik backup copies a consistent database while a writer is running" {
    start_daemon writer "$STORE_WRITER" write "$DB" async
    log="$BATS_TEST_TMPDIR/writer.log"
    wait_for 60 at_least_lines "$log" 100
    # Everything acknowledged before the backup starts must be in it.
    grep -E '^a-' "$log" >"$BATS_TEST_TMPDIR/acked-before" || true
    run minik backup --data-dir "$DATA" "$BATS_TEST_TMPDIR/backup.db"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == "backed up "*" objects (resourceVersion "*") from $DB to $BATS_TEST_TMPDIR/backup.db" ]]
    stop_daemon writer

    run sqlite3 "$BATS_TEST_TMPDIR/backup.db" "PRAGMA integrity_check"
    [ "$output" = "ok" ]
    restored=$(make_tmpdir restored)
    run minik restore --data-dir "$restored" "$BATS_TEST_TMPDIR/backup.db"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == "restored "*" objects"* ]]
    run "$STORE_WRITER" check "$restored/state.db" "$BATS_TEST_TMPDIR/acked-before"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "minik restore refuses while a process holds the database, then works" {
    "$STORE_WRITER" write "$DB" sync 20 >"$BATS_TEST_TMPDIR/names"
    run minik backup --data-dir "$DATA" "$BATS_TEST_TMPDIR/backup.db"
    [ "$status" -eq 0 ]
    "$STORE_WRITER" write "$DB" sync 5 >/dev/null

    start_daemon holder "$STORE_WRITER" hold "$DB"
    wait_for 30 grep -q ready "$BATS_TEST_TMPDIR/holder.log"
    run --separate-stderr minik restore --data-dir "$DATA" "$BATS_TEST_TMPDIR/backup.db"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"restore refused (stop the minik server first)"* ]]
    [[ "$stderr" == *"$DB\" is in use by another minik process"* ]]
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM objects")" -eq 25 ]
    stop_daemon holder

    run minik restore --data-dir "$DATA" "$BATS_TEST_TMPDIR/backup.db"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM objects")" -eq 20 ]
    run "$STORE_WRITER" check "$DB" "$BATS_TEST_TMPDIR/names"
    [ "$status" -eq 0 ]
}

@test "minik restore refuses a corrupt backup and leaves the database alone" {
    "$STORE_WRITER" write "$DB" sync 10 >/dev/null
    before=$(sha256sum "$DB" | cut -d' ' -f1)
    head -c 20000 /dev/urandom >"$BATS_TEST_TMPDIR/garbage.db"
    run --separate-stderr minik restore --data-dir "$DATA" "$BATS_TEST_TMPDIR/garbage.db"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"backup \"$BATS_TEST_TMPDIR/garbage.db\" is unusable"* ]]
    [[ "$stderr" == *"is corrupt"* ]]
    [ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$before" ]
}

@test "a corrupt state database is refused with its path, never reset" {
    head -c 20000 /dev/urandom >"$DB"
    before=$(sha256sum "$DB" | cut -d' ' -f1)
    run --separate-stderr minik backup --data-dir "$DATA" "$BATS_TEST_TMPDIR/b.db"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"database \"$DB\" is corrupt"* ]]
    run --separate-stderr "$STORE_WRITER" write "$DB" sync 1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"database \"$DB\" is corrupt"* ]]
    [ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$before" ]
}

@test "minik backup and restore report usage and missing databases" {
    run --separate-stderr minik backup
    [ "$status" -eq 2 ]
    run --separate-stderr minik backup --data-dir "$DATA/nope" "$BATS_TEST_TMPDIR/b.db"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"open database \"$DATA/nope/state.db\""* ]]
    run --separate-stderr minik restore --data-dir "$DATA" "$BATS_TEST_TMPDIR/none.db"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"backup \"$BATS_TEST_TMPDIR/none.db\""*"No such file"* ]]
}
