# Helpers for the image e2e suites: a real docker-registry on 127.0.0.1, test images built
# with umoci from busybox-static, pushed with skopeo. Load after helpers:
#   load helpers
#   load images_lib

# images_setup_file : what every image suite's setup_file does: build the busybox test
# image once per file into $BB (tag bb).
images_setup_file() {
    export BB="$BATS_FILE_TMPDIR/bb"
    build_image "$BB" bb
}

# images_data_dir : a fresh node data dir $D for the test. Root filesystems prepared under it
# are mounts: they are unmounted before it is removed.
images_data_dir() {
    D=$(make_tmpdir images)
    on_teardown "for m in \$(findmnt -rn -o TARGET | grep '^$D/'); do umount -l \$m; done"
}

# start_registry [USER PASS] : run Debian's docker-registry on a free 127.0.0.1 port with
# storage in a temp dir (and htpasswd basic auth when USER/PASS are given). Sets REG
# (127.0.0.1:PORT), REG_DIR (storage root) and REG_LOG.
start_registry() {
    local port dir
    port=$(free_port)
    dir="$BATS_TEST_TMPDIR/registry"
    mkdir -p "$dir/data"
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
    if [ $# -eq 2 ]; then
        htpasswd -Bbn "$1" "$2" >"$dir/htpasswd"
        cat >>"$dir/config.yml" <<EOF
auth:
  htpasswd:
    realm: minik-test
    path: $dir/htpasswd
EOF
    fi
    start_daemon registry docker-registry serve "$dir/config.yml"
    REG="127.0.0.1:$port"
    REG_DIR="$dir/data"
    REG_LOG="$BATS_TEST_TMPDIR/registry.log"
    # 401 (auth on) counts as up.
    wait_for 20 bash -c "curl -s -o /dev/null -w '%{http_code}' http://$REG/v2/ | grep -qE '200|401'" || {
        daemon_log registry
        return 1
    }
}

# new_layout DIR TAG : an OCI layout with one image whose only layer holds busybox (sh, ls,
# cat, echo as links) and /hello.txt. Leaves the unpacked bundle in DIR.bundle for more.
new_layout() {
    local dir=$1 tag=$2
    [ -d "$dir" ] || umoci init --layout "$dir" >/dev/null
    umoci new --image "$dir:$tag" >/dev/null
    umoci unpack --image "$dir:$tag" "$dir.bundle.$tag" >/dev/null
    local r="$dir.bundle.$tag/rootfs"
    mkdir -p "$r/bin" "$r/etc"
    cp /bin/busybox "$r/bin/busybox"
    for c in sh ls cat echo; do ln -s busybox "$r/bin/$c"; done
    echo "hello from $tag" >"$r/hello.txt"
}

# commit_layout DIR TAG : add what changed in DIR.bundle.TAG as a new layer.
commit_layout() {
    umoci repack --image "$1:$2" "$1.bundle.$2" >/dev/null
}

# build_image DIR TAG : new_layout + commit + a config with Cmd, Env and WorkingDir.
build_image() {
    new_layout "$1" "$2"
    commit_layout "$1" "$2"
    umoci config --image "$1:$2" --config.cmd /bin/sh --config.env GREETING=hi \
        --config.workingdir /tmp >/dev/null
}

# push DIR TAG REF [skopeo flags] : copy oci:DIR:TAG to docker://REF.
push() {
    local dir=$1 tag=$2 ref=$3
    shift 3
    skopeo copy -q --dest-tls-verify=false "$@" "oci:$dir:$tag" "docker://$ref" >/dev/null
}

# layout_manifest DIR TAG : the manifest digest a tag points at in an OCI layout.
layout_manifest() {
    jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json"
}

# blob_gets DIGEST : how many times the registry answered a GET for that blob (access log).
blob_gets() {
    grep -c "\"GET /v2/[^ ]*/blobs/$1 HTTP/1.1\" 200" "$REG_LOG" || true
}

# store_file_count DATA_DIR SUBDIR : entries in images/SUBDIR (blobs/sha256, layers/sha256).
store_count() {
    find "$1/images/$2" -mindepth 1 -maxdepth 1 ! -name '.*' | wc -l
}
