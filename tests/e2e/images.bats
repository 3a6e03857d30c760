#!/usr/bin/env bats
# minik image pull/ls/inspect/rm/prune/mount against a real docker-registry on 127.0.0.1,
# with test images built by umoci from busybox-static and pushed by skopeo.

load helpers
load images_lib

setup_file() {
    images_setup_file
}

setup() {
    images_data_dir
}

@test "image pull by tag stores the image; ls, inspect and a working rootfs show it" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    run --separate-stderr minik image pull --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 0 ] || { echo "$stderr"; false; }
    want=$(layout_manifest "$BB" bb)
    [[ "$output" == *"Digest: $want"* ]]

    run minik image ls --data-dir "$D"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +DIGEST\ +SIZE ]]
    [[ "${lines[1]}" =~ ^$REG/test/bb\ +1\ +${want:7:12}\ +[0-9.]+[kM]B ]]
    [[ "$output" == *"Disk usage: "*"total (blobs "*", unpacked layers "* ]]

    run minik image inspect --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    [ "$(jq -r .digest <<<"$output")" = "$want" ]
    [ "$(jq -r '.config.Cmd[0]' <<<"$output")" = /bin/sh ]
    [ "$(jq -r '.config.Env[0]' <<<"$output")" = GREETING=hi ]
    [ "$(jq -r '.config.WorkingDir' <<<"$output")" = /tmp ]
    [ "$(jq -r '.layers | length' <<<"$output")" = 1 ]

    # The image runs: chroot into its overlay root filesystem and use its busybox.
    run minik image mount --data-dir "$D" "$REG/test/bb:1" c1
    [ "$status" -eq 0 ]
    root=$output
    [ "$root" = "$D/images/rootfs/c1/merged" ]
    findmnt -n -t overlay "$root" >/dev/null
    run chroot "$root" /bin/sh -c 'cat /hello.txt; echo minik-marker-$PPID > /new.txt'
    [ "$output" = "hello from bb" ]
    # Writes land in the container's upper dir, never in the shared layer.
    [ -f "$D/images/rootfs/c1/upper/new.txt" ]
    run grep -rqF "minik-marker-" "$D/images/layers"
    [ "$status" -eq 1 ]
    run minik image unmount --data-dir "$D" c1
    [ "$status" -eq 0 ]
    run findmnt -n "$root"
    [ "$status" -ne 0 ]
    [ ! -e "$D/images/rootfs/c1" ]
}

@test "a container rootfs survives a lost mount (a reboot): preparing again remounts it" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    minik image pull --data-dir "$D" -q "$REG/test/bb:1"
    root=$(minik image mount --data-dir "$D" "$REG/test/bb:1" c1)
    echo kept >"$root/state.txt"
    umount "$root" # what a reboot does to it
    run findmnt -n "$root"
    [ "$status" -ne 0 ]
    # The record still pins the image.
    run --separate-stderr minik image rm --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 1 ]
    run minik image mount --data-dir "$D" "$REG/test/bb:1" c1
    [ "$status" -eq 0 ]
    [ "$output" = "$root" ]
    findmnt -n -t overlay "$root" >/dev/null
    [ "$(cat "$root/state.txt")" = kept ]
    [ "$(cat "$root/hello.txt")" = "hello from bb" ]
    minik image unmount --data-dir "$D" c1
}

@test "image pull by digest; a second pull fetches nothing" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    want=$(layout_manifest "$BB" bb)
    run minik image pull --data-dir "$D" -q "$REG/test/bb@$want"
    [ "$status" -eq 0 ]
    [ "$output" = "$want" ]
    run minik image ls --data-dir "$D"
    [[ "${lines[1]}" =~ ^$REG/test/bb\ +\<none\>\ +${want:7:12} ]]
    # Local lookups by digest, by ID prefix and by name@digest all find it.
    run minik image inspect --data-dir "$D" "${want:7:12}"
    [ "$status" -eq 0 ]
    run minik image inspect --data-dir "$D" "$REG/test/bb@$want"
    [ "$status" -eq 0 ]
    gets=$(grep -c '"GET /v2/test/bb/blobs/' "$REG_LOG")
    run minik image pull --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    [ "$(grep -c '"GET /v2/test/bb/blobs/' "$REG_LOG")" -eq "$gets" ]
}

@test "Docker schema-2 manifests pull like OCI ones" {
    start_registry
    push "$BB" bb "$REG/test/v2s2:1" --format v2s2
    run --separate-stderr minik image pull --data-dir "$D" "$REG/test/v2s2:1"
    [ "$status" -eq 0 ] || { echo "$stderr"; false; }
    run minik image inspect --data-dir "$D" "$REG/test/v2s2:1"
    [ "$(jq -r .mediaType <<<"$output")" = application/vnd.docker.distribution.manifest.v2+json ]
    [ "$(jq -r '.layers[0].mediaType' <<<"$output")" = application/vnd.docker.image.rootfs.diff.tar.gzip ]
    [ "$(jq -r '.config.Cmd[0]' <<<"$output")" = /bin/sh ]
    run minik image mount --data-dir "$D" "$REG/test/v2s2:1" c-v2
    [ "$status" -eq 0 ]
    [ "$(cat "$output/hello.txt")" = "hello from bb" ]
}

@test "a multi-platform index: the host's platform by default, --platform picks another" {
    start_registry
    L="$BATS_TEST_TMPDIR/multi"
    for arch in amd64 arm64; do
        new_layout "$L" "$arch"
        echo "$arch" >"$L.bundle.$arch/rootfs/arch.txt"
        commit_layout "$L" "$arch"
        umoci config --image "$L:$arch" --architecture "$arch" --os linux >/dev/null
    done
    # An OCI index over the two manifests, added to the layout under the tag "multi".
    amd=$(layout_manifest "$L" amd64)
    arm=$(layout_manifest "$L" arm64)
    jq -n --arg a "$amd" --arg b "$arm" \
        --argjson sa "$(stat -c %s "$L/blobs/sha256/${amd#sha256:}")" \
        --argjson sb "$(stat -c %s "$L/blobs/sha256/${arm#sha256:}")" \
        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
          {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $sa,
           platform: {os: "linux", architecture: "amd64"}},
          {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $sb,
           platform: {os: "linux", architecture: "arm64", variant: "v8"}}]}' >"$L/idx.json"
    idx=sha256:$(sha256sum "$L/idx.json" | cut -d' ' -f1)
    mv "$L/idx.json" "$L/blobs/sha256/${idx#sha256:}"
    jq --arg d "$idx" --argjson s "$(stat -c %s "$L/blobs/sha256/${idx#sha256:}")" \
        '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
          annotations: {"org.opencontainers.image.ref.name": "multi"}}]' "$L/index.json" >"$L/i2"
    mv "$L/i2" "$L/index.json"
    push "$L" multi "$REG/test/multi:1" --all

    run minik image pull --data-dir "$D" -q --platform linux/arm64 "$REG/test/multi:1"
    [ "$status" -eq 0 ]
    [ "$output" = "$arm" ]
    run minik image inspect --data-dir "$D" "$REG/test/multi:1"
    [ "$(jq -r .indexDigest <<<"$output")" = "$idx" ]
    run minik image mount --data-dir "$D" "$REG/test/multi:1" c-arm
    [ "$status" -eq 0 ]
    [ "$(cat "$output/arch.txt")" = arm64 ]
    minik image unmount --data-dir "$D" c-arm

    if [ "$(uname -m)" = x86_64 ]; then
        D2=$(make_tmpdir images2)
        run minik image pull --data-dir "$D2" -q "$REG/test/multi:1"
        [ "$status" -eq 0 ]
        [ "$output" = "$amd" ]
    fi
    # The index can also be named by its own digest.
    run minik image pull --data-dir "$D" -q --platform linux/amd64 "$REG/test/multi@$idx"
    [ "$status" -eq 0 ]
    [ "$output" = "$amd" ]

    run --separate-stderr minik image pull --data-dir "$D" --platform linux/s390x "$REG/test/multi:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"no image for platform linux/s390x in the index (available: linux/amd64, linux/arm64/v8)"* ]]
}

@test "a registry behind htpasswd basic auth: no, bad and good credentials" {
    start_registry alice 's3cret!'
    push "$BB" bb "$REG/test/bb:1" --dest-creds 'alice:s3cret!'

    run --separate-stderr minik image pull --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"registry $REG requires a login: no credentials for it"* ]]

    mkdir -p "$BATS_TEST_TMPDIR/bad" "$BATS_TEST_TMPDIR/good"
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf 'alice:wrong' | base64)" \
        >"$BATS_TEST_TMPDIR/bad/config.json"
    run --separate-stderr minik image pull --data-dir "$D" \
        --creds-file "$BATS_TEST_TMPDIR/bad/config.json" "$REG/test/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"registry $REG: authentication failed: credentials rejected (HTTP 401)"* ]]
    [ "$(store_count "$D" blobs/sha256)" -eq 0 ]

    # The good file is found the way docker finds it: $DOCKER_CONFIG/config.json.
    printf '{"auths":{"http://%s":{"username":"alice","password":"s3cret!"}}}' "$REG" \
        >"$BATS_TEST_TMPDIR/good/config.json"
    DOCKER_CONFIG="$BATS_TEST_TMPDIR/good" run minik image pull --data-dir "$D" -q "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    [ "$output" = "$(layout_manifest "$BB" bb)" ]
}

@test "a corrupted blob in the registry: digest mismatch, nothing installed" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    layer=$(jq -r '.layers[0].digest' "$BB/blobs/sha256/$(layout_manifest "$BB" bb | cut -d: -f2)")
    data="$REG_DIR/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer:7}/data"
    [ -f "$data" ]
    # Same size, one byte changed: only the digest can tell.
    printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc status=none
    run --separate-stderr minik image pull --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"blob $layer from $REG: digest mismatch: expected $layer, content hashes to sha256:"* ]]
    run minik image ls --data-dir "$D" -q
    [ -z "$output" ]
    [ ! -e "$D/images/blobs/sha256/${layer:7}" ]
    [ "$(store_count "$D" layers/sha256)" -eq 0 ]
    [ -z "$(find "$D/images/blobs/sha256" -name '.tmp-*')" ]
}

@test "malicious layers are refused: path traversal, absolute path, symlink and hardlink escapes" {
    start_registry
    outside="$BATS_TEST_TMPDIR/outside"
    mkdir -p "$outside"
    # Each tar tries to write $outside/pwned (or read /etc/passwd through a hardlink).
    python3 - "$BATS_TEST_TMPDIR" "$outside" <<'EOF'
import io, sys, tarfile
top, outside = sys.argv[1], sys.argv[2]
def tar(name, entries):
    with tarfile.open(f"{top}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for path, kind, arg in entries:
            ti = tarfile.TarInfo(path)
            ti.type = kind
            data = None
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                ti.linkname = arg
            elif kind == tarfile.REGTYPE:
                ti.size = len(arg)
                data = io.BytesIO(arg)
            t.addfile(ti, data)
tar("traversal", [("../../../../../../.." + outside + "/pwned", tarfile.REGTYPE, b"x")])
tar("absolute", [(outside + "/pwned", tarfile.REGTYPE, b"x")])
tar("symlink", [("evil", tarfile.SYMTYPE, outside), ("evil/pwned", tarfile.REGTYPE, b"x")])
tar("hardlink", [("passwd", tarfile.LNKTYPE, "../../../../../../../../etc/passwd")])
tar("hardlink2", [("etc", tarfile.SYMTYPE, "/etc"), ("passwd", tarfile.LNKTYPE, "etc/passwd")])
EOF
    # python's tarfile keeps the leading "/" it was given: check the archive says so.
    tar tvf "$BATS_TEST_TMPDIR/absolute.tar" 2>&1 | grep -q "$outside/pwned"
    declare -A why=(
        [traversal]='path contains ".."'
        [absolute]='absolute path'
        [symlink]='goes through a symlink that leaves the layer'
        [hardlink]='path contains ".."'
        [hardlink2]='goes through a symlink that leaves the layer'
    )
    for kind in traversal absolute symlink hardlink hardlink2; do
        L="$BATS_TEST_TMPDIR/oci-$kind"
        umoci init --layout "$L" >/dev/null
        umoci new --image "$L:evil" >/dev/null
        umoci raw add-layer --image "$L:evil" "$BATS_TEST_TMPDIR/$kind.tar" >/dev/null
        push "$L" evil "$REG/test/$kind:1"
        run --separate-stderr minik image pull --data-dir "$D" "$REG/test/$kind:1"
        [ "$status" -eq 1 ] || { echo "$kind was accepted"; false; }
        [[ "$stderr" == *"${why[$kind]}"* ]] || { echo "$kind: $stderr"; false; }
        [ -z "$(ls -A "$outside")" ]
        [ "$(store_count "$D" layers/sha256)" -eq 0 ]
        [ -z "$(ls -A "$D/images/tmp")" ]
    done
    run minik image ls --data-dir "$D" -q
    [ -z "$output" ]
}

@test "layers are shared, and GC removes only unreferenced data" {
    start_registry
    # Image "one" has the busybox layer; image "two" stacks a second layer on the same one.
    L="$BATS_TEST_TMPDIR/shared"
    build_image "$L" one
    umoci tag --image "$L:one" two
    umoci unpack --image "$L:two" "$L.bundle.two" >/dev/null
    echo extra >"$L.bundle.two/rootfs/extra.txt"
    rm "$L.bundle.two/rootfs/hello.txt"
    commit_layout "$L" two
    push "$L" one "$REG/test/one:1"
    push "$L" two "$REG/test/two:1"
    minik image pull --data-dir "$D" -q "$REG/test/one:1"
    minik image pull --data-dir "$D" -q "$REG/test/two:1"
    [ "$(store_count "$D" layers/sha256)" -eq 2 ]   # 3 layer references, 2 unpacked
    [ "$(store_count "$D" blobs/sha256)" -eq 6 ]    # 2 manifests, 2 configs, 2 layers

    # The whiteout of hello.txt in two's top layer hides the shared layer's file,
    # in an overlay mount and in the copy fallback alike.
    r=$(minik image mount --data-dir "$D" "$REG/test/two:1" c-ovl)
    findmnt -n -t overlay "$r" >/dev/null
    [ ! -e "$r/hello.txt" ]
    [ -f "$r/extra.txt" ]
    [ -f "$r/bin/busybox" ]
    r=$(minik image mount --copy --data-dir "$D" "$REG/test/two:1" c-copy)
    run findmnt -n "$r"
    [ "$status" -ne 0 ]
    [ ! -e "$r/hello.txt" ]
    [ -f "$r/extra.txt" ]
    [ -f "$r/bin/busybox" ]
    [ "$(jq -r .mode "$D/images/rootfs/c-copy/image.json")" = copy ]
    minik image unmount --data-dir "$D" c-ovl
    minik image unmount --data-dir "$D" c-copy

    # Leftovers of an interrupted pull: a stray blob and a temp dir.
    echo junk >"$D/images/blobs/sha256/$(printf junk | sha256sum | cut -d' ' -f1)"
    mkdir "$D/images/tmp/layer-stale"
    run minik image prune --data-dir "$D"
    [ "$status" -eq 0 ]
    [[ "$output" == "Removed 1 unused blobs and layers, reclaimed "* ]]
    [ ! -e "$D/images/tmp/layer-stale" ]
    [ "$(store_count "$D" blobs/sha256)" -eq 6 ]

    base=$(minik image inspect --data-dir "$D" "$REG/test/one:1" | jq -r '.layers[0].diffID')
    run minik image rm --data-dir "$D" "$REG/test/one:1"
    [ "$status" -eq 0 ]
    [ -d "$D/images/layers/sha256/${base:7}" ]   # still used by two
    [ "$(store_count "$D" blobs/sha256)" -eq 4 ] # one's manifest and config went
    run minik image mount --data-dir "$D" "$REG/test/two:1" c2
    [ "$status" -eq 0 ]
    minik image unmount --data-dir "$D" c2

    run minik image rm --data-dir "$D" "$REG/test/two:1"
    [ "$status" -eq 0 ]
    [ "$(store_count "$D" blobs/sha256)" -eq 0 ]
    [ "$(store_count "$D" layers/sha256)" -eq 0 ]
    run minik image ls --data-dir "$D" -q
    [ -z "$output" ]
}

@test "an image damaged on disk is reported, cannot be used, and can be removed" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    want=$(minik image pull --data-dir "$D" -q "$REG/test/bb:1")
    echo garbage >"$D/images/blobs/sha256/${want:7}"
    run --separate-stderr minik image ls --data-dir "$D"
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" =~ ^$REG/test/bb\ +1\ +${want:7:12}\ +damaged$ ]]
    [[ "$stderr" == *"image is damaged"* ]]
    run --separate-stderr minik image inspect --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"image $REG/test/bb:1: blob $want is corrupt on disk (content hashes to sha256:"* ]]
    run --separate-stderr minik image mount --data-dir "$D" "$REG/test/bb:1" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"is corrupt on disk"* ]]
    # Pulling again repairs the manifest and the config in place.
    cfg=$(jq -r .config.digest "$BB/blobs/sha256/${want:7}")
    echo garbage >"$D/images/blobs/sha256/${cfg:7}"
    run --separate-stderr minik image pull --data-dir "$D" -q "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"removing damaged blob"* ]]
    run minik image inspect --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    [ "$(jq -r '.config.Cmd[0]' <<<"$output")" = /bin/sh ]
    echo garbage >"$D/images/blobs/sha256/${want:7}"
    run minik image rm --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    [ "$(store_count "$D" blobs/sha256)" -eq 0 ]
    [ "$(store_count "$D" layers/sha256)" -eq 0 ]
    run minik image pull --data-dir "$D" -q "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    run minik image mount --data-dir "$D" "$REG/test/bb:1" c1
    [ "$status" -eq 0 ]
}

@test "image rm of an image a container rootfs uses is refused" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    minik image pull --data-dir "$D" -q "$REG/test/bb:1"
    minik image mount --data-dir "$D" "$REG/test/bb:1" busy
    run --separate-stderr minik image rm --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"image $REG/test/bb:1 is in use by a container's root filesystem"* ]]
    # GC must not collect it either.
    minik image prune --data-dir "$D"
    [ "$(store_count "$D" layers/sha256)" -eq 1 ]
    # With a second reference, the first may go: the image stays referenced.
    want=$(layout_manifest "$BB" bb)
    minik image pull --data-dir "$D" -q "$REG/test/bb@$want"
    run minik image rm --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    run --separate-stderr minik image rm --data-dir "$D" "$REG/test/bb@$want"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"in use by a container's root filesystem"* ]]
    minik image unmount --data-dir "$D" busy
    run minik image rm --data-dir "$D" "$REG/test/bb@$want"
    [ "$status" -eq 0 ]
    [ "$(store_count "$D" layers/sha256)" -eq 0 ]
}

@test "two concurrent pulls of the same image fetch each blob once" {
    start_registry
    L="$BATS_TEST_TMPDIR/big"
    new_layout "$L" big
    # Incompressible data so the transfers take long enough to overlap.
    head -c $((24 * 1024 * 1024)) /dev/urandom >"$L.bundle.big/rootfs/random.bin"
    commit_layout "$L" big
    push "$L" big "$REG/test/big:1"
    : >"$REG_LOG.mark"
    minik image pull --data-dir "$D" -q "$REG/test/big:1" >"$BATS_TEST_TMPDIR/p1" 2>&1 &
    p1=$!
    minik image pull --data-dir "$D" -q "$REG/test/big:1" >"$BATS_TEST_TMPDIR/p2" 2>&1 &
    p2=$!
    wait "$p1" || { cat "$BATS_TEST_TMPDIR/p1"; false; }
    wait "$p2" || { cat "$BATS_TEST_TMPDIR/p2"; false; }
    [ "$(cat "$BATS_TEST_TMPDIR/p1")" = "$(cat "$BATS_TEST_TMPDIR/p2")" ]
    m=$(layout_manifest "$L" big)
    for d in $(jq -r '.config.digest, .layers[].digest' "$L/blobs/sha256/${m:7}"); do
        [ "$(blob_gets "$d")" -eq 1 ] || { echo "$d fetched $(blob_gets "$d") times"; false; }
    done
    [ "$(store_count "$D" layers/sha256)" -eq 1 ]
}

@test "plain HTTP is used for loopback, for --plain-http and for registries.json only" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    port=${REG##*:}
    # The same registry, under a name that is not recognised as loopback.
    name="[::ffff:127.0.0.1]:$port"
    run --separate-stderr minik image pull --data-dir "$D" "$name/test/bb:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"GET https://$name/v2/"* ]]
    run minik image pull --data-dir "$D" -q --plain-http "$name" "$name/test/bb:1"
    [ "$status" -eq 0 ]
    D2=$(make_tmpdir images2)
    mkdir -p "$D2/images"
    printf '{"plainHTTP": ["%s"]}' "$name" >"$D2/images/registries.json"
    run minik image pull --data-dir "$D2" -q "$name/test/bb:1"
    [ "$status" -eq 0 ]
}

@test "pull errors are clear: bad reference, unknown image, no registry" {
    run --separate-stderr minik image pull --data-dir "$D" Busybox
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'invalid image reference "Busybox": repository name must be lowercase'* ]]
    start_registry
    run --separate-stderr minik image pull --data-dir "$D" "$REG/nothing/here:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"manifest $REG/nothing/here:1 not found in registry"* ]]
    port=$(free_port)
    run --separate-stderr minik image pull --data-dir "$D" "127.0.0.1:$port/x:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"GET http://127.0.0.1:$port/v2/"* ]]
    [[ "$stderr" == *"retrying"* ]]   # connection errors are retried before giving up
    run --separate-stderr minik image inspect --data-dir "$D" busybox
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"image docker.io/library/busybox:latest not found in the store"* ]]
    run --separate-stderr minik image
    [ "$status" -eq 2 ]
    run --separate-stderr minik image frob
    [ "$status" -eq 2 ]
    [[ "$stderr" == *'unknown image command "frob"'* ]]
    run --separate-stderr minik image pull --data-dir "$D"
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"expected 1 argument, got 0"*"Run 'minik image pull --help' for more."* ]]
}

@test "requests that fail with 503 or 429 are retried with backoff" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    pport=$(free_port)
    start_daemon flaky python3 "$BATS_TEST_DIRNAME/images_flaky_proxy.py" "$pport" "$REG" \
        "$BATS_TEST_TMPDIR/flaky.log"
    wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$pport/v2/"
    : >"$BATS_TEST_TMPDIR/flaky.log"
    run --separate-stderr minik image pull --data-dir "$D" -q "127.0.0.1:$pport/test/bb:1"
    [ "$status" -eq 0 ] || { echo "$stderr"; false; }
    [ "$output" = "$(layout_manifest "$BB" bb)" ]
    [[ "$stderr" == *"registry request failed, retrying"* ]]
    [[ "$stderr" == *"blob download failed, retrying"* ]]
    # Every path failed once and then passed once: no request was given up on or repeated.
    grep -q "^fail /v2/test/bb/manifests/1$" "$BATS_TEST_TMPDIR/flaky.log"
    # (/v2/ itself was already seen by the readiness check above.)
    [ "$(grep -c '^fail /v2/test' "$BATS_TEST_TMPDIR/flaky.log")" -eq "$(grep -c '^pass /v2/test' "$BATS_TEST_TMPDIR/flaky.log")" ]
    [ "$(grep -c '^fail /v2/test/bb/blobs/' "$BATS_TEST_TMPDIR/flaky.log")" -eq 2 ]
}

@test "pull shows progress on a terminal and not in a pipe" {
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    run script -qec "$MINIK_BIN image pull --data-dir $D $REG/test/bb:1" /dev/null
    [ "$status" -eq 0 ]
    [[ "$output" == *"blobs done, downloading"* ]]
    minik image rm --data-dir "$D" "$REG/test/bb:1"
    run --separate-stderr minik image pull --data-dir "$D" "$REG/test/bb:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" != *"blobs done"* ]]
}
