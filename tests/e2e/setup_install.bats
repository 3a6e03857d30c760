#!/usr/bin/env bats
# deploy/install.sh and deploy/uninstall.sh into a scratch root (--root), and the systemd
# units they install: what a runtime needs (Delegate, KillMode=process, Restart=always,
# writable state) and nothing systemd rejects.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
TOKEN="K10$(printf '%064d' 7)::0123abcd.$(printf '%032d' 9)"

setup() {
    R=$(make_tmpdir root)
}

# verify_units : systemd-analyze verify of the installed units, with ExecStart pointing at
# the binary inside the scratch root; prints what systemd complains about (nothing = ok).
verify_units() {
    local v=$BATS_TEST_TMPDIR/verify u
    mkdir -p "$v"
    for u in minik-server minik-agent; do
        sed "s|/usr/local/bin/minik|$R/usr/local/bin/minik|" "$R/etc/systemd/system/$u.service" >"$v/$u.service"
    done
    (cd "$v" && systemd-analyze verify ./minik-server.service ./minik-agent.service 2>&1)
}

@test "install: a server into a scratch root: binary, units, settings, state dir; nothing outside it" {
    local before
    before=$(ls /etc/systemd/system/minik-*.service /etc/minik 2>/dev/null || true)
    run bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN"
    [ "$status" -eq 0 ]
    [[ "$output" == *"systemctl daemon-reload && systemctl enable --now minik-server.service"* ]]
    [ -x "$R/usr/local/bin/minik" ]
    cmp "$MINIK_BIN" "$R/usr/local/bin/minik"
    run "$R/usr/local/bin/minik" version
    [ "$status" -eq 0 ]
    grep -qx 'ExecStart=/usr/local/bin/minik server --data-dir ${MINIK_DATA_DIR} $MINIK_SERVER_ARGS' \
        "$R/etc/systemd/system/minik-server.service"
    grep -qx 'MINIK_DATA_DIR=/var/lib/minik' "$R/etc/default/minik"
    [ "$(stat -c %a "$R/var/lib/minik")" = 700 ]
    [ ! -e "$R/etc/minik/token" ]
    run verify_units
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    # The real system was not touched.
    [ "$(ls /etc/systemd/system/minik-*.service /etc/minik 2>/dev/null || true)" = "$before" ]
}

@test "install: the units keep containers alive across restarts and leave the runtime room to work" {
    bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" >/dev/null
    local u
    for u in minik-server minik-agent; do
        f=$R/etc/systemd/system/$u.service
        grep -qx 'Delegate=yes' "$f"
        grep -qx 'KillMode=process' "$f"
        grep -qx 'Restart=always' "$f"
        grep -qx 'WantedBy=multi-user.target' "$f"
        # strict would make /var/lib/minik, /run and the CNI dirs read-only.
        ! grep -q '^ProtectSystem=strict' "$f"
        grep -q '^ReadWritePaths=.*/var/lib/minik.*/run' "$f"
        # Settings that would break namespaces, mounts or devices are absent.
        ! grep -qE '^(PrivateDevices|PrivateTmp|ProtectKernelTunables|NoNewPrivileges|RestrictNamespaces|CapabilityBoundingSet|SystemCallFilter|MemoryDenyWriteExecute)=' "$f"
    done
    # A unit systemd would reject is caught: break one and verify complains.
    sed -i 's/^KillMode=process/KillMode=sometimes/' "$R/etc/systemd/system/minik-agent.service"
    run verify_units
    [[ "$output" == *"kill mode"* ]]
}

@test "install --agent: server URL in the settings, the join token root-only and off the command line" {
    run bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --agent \
        --server https://10.0.0.1:6443 --token "$TOKEN" --agent-args "--node-ip 10.0.0.2"
    [ "$status" -eq 0 ]
    [[ "$output" == *"systemctl enable --now minik-agent.service"* ]]
    [ "$(cat "$R/etc/minik/token")" = "$TOKEN" ]
    [ "$(stat -c %a "$R/etc/minik/token")" = 600 ]
    grep -qx 'MINIK_SERVER=https://10.0.0.1:6443' "$R/etc/default/minik"
    grep -qx 'MINIK_AGENT_ARGS="--node-ip 10.0.0.2"' "$R/etc/default/minik"
    grep -q -- '--token-file /etc/minik/token' "$R/etc/systemd/system/minik-agent.service"
    ! grep -q -- "$TOKEN" "$R/etc/systemd/system/minik-agent.service"
    run verify_units
    [ -z "$output" ]
}

@test "install: bad flags are refused with what is wrong" {
    run bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --agent --token "$TOKEN"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--agent needs --server"* ]]
    run bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --agent --server https://h:6443
    [ "$status" -eq 1 ]
    [[ "$output" == *"--agent needs --token"* ]]
    run bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --agent --server http://h:6443 --token "$TOKEN"
    [ "$status" -eq 1 ]
    [[ "$output" == *"want https://HOST:PORT"* ]]
    run bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --agent --server https://h:6443 --token nope
    [ "$status" -eq 1 ]
    [[ "$output" == *"does not look like a minik join token"* ]]
    run bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --token "$TOKEN"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--server and --token are for --agent"* ]]
    run bash "$REPO/deploy/install.sh" --root "$R" --bogus
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown flag --bogus"* ]]
    run bash "$REPO/deploy/install.sh" --root "$R" --binary /etc/hostname
    [ "$status" -eq 1 ]
    [ ! -e "$R/usr/local/bin/minik" ]
}

@test "install: re-install upgrades the binary and keeps settings; uninstall removes it; --purge the state" {
    bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --server-args "--tls-san nas.lan" >/dev/null
    echo 'MINIK_EXTRA=kept' >>"$R/etc/default/minik"
    mkdir -p "$R/var/lib/minik/agent" && echo state >"$R/var/lib/minik/state.db"
    bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --prefix /opt/minik >/dev/null
    [ -x "$R/opt/minik/bin/minik" ]
    [ ! -e "$R/usr/local/bin/minik" ] # the earlier prefix's copy is gone
    grep -q 'ExecStart=/opt/minik/bin/minik server' "$R/etc/systemd/system/minik-server.service"
    grep -qx 'MINIK_EXTRA=kept' "$R/etc/default/minik"
    grep -qx 'MINIK_SERVER_ARGS="--tls-san nas.lan"' "$R/etc/default/minik"
    [ "$(cat "$R/var/lib/minik/state.db")" = state ]

    run bash "$REPO/deploy/uninstall.sh" --root "$R"
    [ "$status" -eq 0 ]
    [[ "$output" == *"state kept in $R/var/lib/minik"* ]]
    [ ! -e "$R/opt/minik/bin/minik" ]
    [ ! -e "$R/etc/systemd/system/minik-server.service" ]
    [ ! -e "$R/etc/default/minik" ]
    [ ! -e "$R/etc/minik" ]
    [ -f "$R/var/lib/minik/state.db" ]
    [ ! -e "$R/usr/local/bin/minik" ]

    bash "$REPO/deploy/install.sh" --root "$R" --binary "$MINIK_BIN" --agent --server https://h:6443 --token "$TOKEN" >/dev/null
    run bash "$REPO/deploy/uninstall.sh" --root "$R" --purge
    [ "$status" -eq 0 ]
    [ ! -e "$R/var/lib/minik" ]
    [ ! -e "$R/etc/minik/token" ]
    run bash "$REPO/deploy/uninstall.sh" --root "$R"
    [ "$status" -eq 1 ]
    [[ "$output" == *"nothing installed"* ]]
}
