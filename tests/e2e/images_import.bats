#!/usr/bin/env bats
# minik image import: OCI layout directories and tarballs, docker-archives made by skopeo,
# and plain root filesystem tarballs (gzip, zstd, none).

load helpers
load images_lib

setup_file() {
    images_setup_file
}

setup() {
    images_data_dir
}

# check_runs REF ID : the imported image gives a root filesystem whose busybox works.
check_runs() {
    run minik image mount --data-dir "$D" "$1" "$2"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run chroot "$output" /bin/sh -c 'cat /hello.txt'
    [ "$status" -eq 0 ]
    [ "$output" = "hello from bb" ]
    minik image unmount --data-dir "$D" "$2"
}

@test "import an OCI image layout directory" {
    run --separate-stderr minik image import --data-dir "$D" "$BB"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'the image has no full name (ref.name "bb"): give --name NAME:TAG'* ]]

    run minik image import --data-dir "$D" "$BB" --name myapp:1
    [ "$status" -eq 0 ]
    [ "$output" = "Imported docker.io/library/myapp:1" ]
    run minik image inspect --data-dir "$D" myapp:1
    [ "$(jq -r .digest <<<"$output")" = "$(layout_manifest "$BB" bb)" ]
    [ "$(jq -r '.config.Cmd[0]' <<<"$output")" = /bin/sh ]
    check_runs myapp:1 c1
}

@test "import a layout with several images picks the one named by --name" {
    L="$BATS_TEST_TMPDIR/two"
    build_image "$L" first
    build_image "$L" second
    run --separate-stderr minik image import --data-dir "$D" "$L"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"lists 2 images: choose one with --name"* ]]
    run minik image import --data-dir "$D" "$L" --name registry.lan/app:second
    [ "$status" -eq 0 ]
    run minik image inspect --data-dir "$D" registry.lan/app:second
    [ "$(jq -r .digest <<<"$output")" = "$(layout_manifest "$L" second)" ]
}

@test "import an OCI layout tarball (oci-archive)" {
    skopeo copy -q "oci:$BB:bb" "oci-archive:$BATS_TEST_TMPDIR/bb-oci.tar:bb"
    run minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/bb-oci.tar" --name ociarch:1
    [ "$status" -eq 0 ]
    check_runs ociarch:1 c2
    [ -z "$(ls -A "$D/images/tmp")" ]
}

@test "import a docker-archive made by skopeo, named by its RepoTags" {
    skopeo copy -q "oci:$BB:bb" "docker-archive:$BATS_TEST_TMPDIR/bb-docker.tar:example.com/team/bb:2"
    run minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/bb-docker.tar"
    [ "$status" -eq 0 ]
    [ "$output" = "Imported example.com/team/bb:2" ]
    run minik image inspect --data-dir "$D" example.com/team/bb:2
    [ "$(jq -r '.config.Env[0]' <<<"$output")" = GREETING=hi ]
    [ "$(jq -r '.layers[0].mediaType' <<<"$output")" = application/vnd.oci.image.layer.v1.tar ]
    check_runs example.com/team/bb:2 c3
    # --name overrides the archive's tag.
    run minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/bb-docker.tar" --name other:3
    [ "$output" = "Imported docker.io/library/other:3" ]
}

@test "import plain root filesystem tarballs: gzip, zstd and uncompressed" {
    R="$BB.bundle.bb/rootfs"
    tar -C "$R" -czf "$BATS_TEST_TMPDIR/root.tgz" .
    tar -C "$R" --zstd -cf "$BATS_TEST_TMPDIR/root.tar.zst" .
    tar -C "$R" -cf "$BATS_TEST_TMPDIR/root.tar" .
    run --separate-stderr minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/root.tgz"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"is a plain root filesystem tarball: give --name NAME:TAG"* ]]
    n=0
    for f in root.tgz root.tar.zst root.tar; do
        n=$((n + 1))
        run minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/$f" --name "rootfs:$n"
        [ "$status" -eq 0 ] || { echo "$f: $output"; false; }
        check_runs "rootfs:$n" "r$n"
    done
    run minik image inspect --data-dir "$D" rootfs:1
    [ "$(jq -r '.layers[0].mediaType' <<<"$output")" = application/vnd.oci.image.layer.v1.tar+gzip ]
    [[ "$(jq -r '.config.Env[0]' <<<"$output")" == PATH=* ]]
    run minik image inspect --data-dir "$D" rootfs:2
    [ "$(jq -r '.layers[0].mediaType' <<<"$output")" = application/vnd.oci.image.layer.v1.tar+zstd ]
    run minik image ls --data-dir "$D" -q
    [ "${#lines[@]}" -eq 3 ]
}

@test "import refuses what is not an image" {
    echo "just text" >"$BATS_TEST_TMPDIR/notes.txt"
    run --separate-stderr minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/notes.txt" --name x:1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"is not a tar archive"* ]]
    mkdir "$BATS_TEST_TMPDIR/emptydir"
    run --separate-stderr minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/emptydir" --name x:1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"is not an OCI image layout (no oci-layout file)"* ]]
    run --separate-stderr minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/missing" --name x:1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"import \"$BATS_TEST_TMPDIR/missing\": No such file or directory"* ]]
    # A docker-archive whose manifest.json points outside the archive through a symlink.
    mkdir -p "$BATS_TEST_TMPDIR/evil"
    ln -s /etc/passwd "$BATS_TEST_TMPDIR/evil/config.json"
    echo '[{"Config":"config.json","RepoTags":["evil:1"],"Layers":[]}]' >"$BATS_TEST_TMPDIR/evil/manifest.json"
    tar -C "$BATS_TEST_TMPDIR/evil" -cf "$BATS_TEST_TMPDIR/evil.tar" .
    run --separate-stderr minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/evil.tar"
    [ "$status" -eq 1 ]
    # The symlink resolves inside the unpacked archive, where there is no /etc/passwd.
    [[ "$stderr" == *'open "config.json": No such file or directory'* ]]
    run minik image ls --data-dir "$D" -q
    [ -z "$output" ]
}

@test "a layer is unpacked once by diff_id, whether it came gzipped or uncompressed" {
    skopeo copy -q "oci:$BB:bb" "docker-archive:$BATS_TEST_TMPDIR/bb-docker.tar:local/bb:1"
    minik image import --data-dir "$D" "$BATS_TEST_TMPDIR/bb-docker.tar"
    [ "$(store_count "$D" layers/sha256)" -eq 1 ]
    start_registry
    push "$BB" bb "$REG/test/bb:1"
    minik image pull --data-dir "$D" -q "$REG/test/bb:1"
    # Two layer blobs (tar and tar+gzip), one unpacked layer.
    a=$(minik image inspect --data-dir "$D" local/bb:1 | jq -r '.layers[0] | .digest + " " + .diffID')
    b=$(minik image inspect --data-dir "$D" "$REG/test/bb:1" | jq -r '.layers[0] | .digest + " " + .diffID')
    [ "${a% *}" != "${b% *}" ]
    [ "${a#* }" = "${b#* }" ]
    [ "$(store_count "$D" layers/sha256)" -eq 1 ]
    # Removing one image keeps the layer the other uses.
    minik image rm --data-dir "$D" local/bb:1
    [ "$(store_count "$D" layers/sha256)" -eq 1 ]
    run minik image mount --data-dir "$D" "$REG/test/bb:1" c1
    [ "$status" -eq 0 ]
    [ "$(cat "$output/hello.txt")" = "hello from bb" ]
}
