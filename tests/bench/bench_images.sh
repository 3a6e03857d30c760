#!/usr/bin/env bash
# Image pulls: pull + unpack of the same image from a local docker-registry, minik against
# `skopeo copy` + `umoci unpack` (the same work with the reference tools), and the time to
# prepare one container's root filesystem (overlay mount, and the copy fallback).
# Everything runs on 127.0.0.1 and is removed at the end.
set -euo pipefail
: "${MINIK_BIN:?}"
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/minik-bench-images-XXXXXX)
reg_pid=
cleanup() {
    for m in $(findmnt -rn -o TARGET | grep "^$work/" || true); do umount -l "$m" || true; done
    if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# A registry on a free loopback port.
start_registry "$work/reg"
reg_pid=$REG_PID
port=$REG_PORT

# The image: busybox-static plus the host's perl modules (~30 MB, a few thousand files),
# in two layers, about the size of a small service image.
L="$work/oci"
umoci init --layout "$L" >/dev/null
umoci new --image "$L:app" >/dev/null
umoci unpack --image "$L:app" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
umoci repack --image "$L:app" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/usr/lib"
cp -a /usr/lib/x86_64-linux-gnu/perl* "$work/bundle/rootfs/usr/lib/" 2>/dev/null ||
    cp -a /usr/share/doc "$work/bundle/rootfs/usr/lib/"
umoci repack --image "$L:app" "$work/bundle" >/dev/null
REF="127.0.0.1:$port/bench/app:1"
skopeo copy -q --dest-tls-verify=false "oci:$L:app" "docker://$REF"
files=$(find "$work/bundle/rootfs" | wc -l)
size=$(du -sm "$work/bundle/rootfs" | cut -f1)

json=$(mktemp)
hyperfine -N --warmup 1 --runs 10 --export-json "$json" \
    --prepare "rm -rf $work/d1" "$MINIK_BIN image pull -q --data-dir $work/d1 $REF" \
    --prepare "bash -c 'rm -rf $work/peer && mkdir -p $work/peer'" \
    "bash -c 'skopeo copy -q --src-tls-verify=false docker://$REF oci:$work/peer/oci:app && umoci unpack --image $work/peer/oci:app $work/peer/bundle >/dev/null'" \
    >"$work/hf.log" 2>&1 || { cat "$work/hf.log"; exit 1; }
read -r m p < <(jq -r '[.results[0].median, .results[1].median] | map(. * 1000) | @tsv' "$json")

echo "## Image pull + unpack (hyperfine, median of 10 runs; ${size} MB, ${files} files, 2 layers)"
echo
echo "| command | median ms | peer | peer median ms | ratio peer/minik |"
echo "|---|---|---|---|---|"
awk -v m="$m" -v p="$p" 'BEGIN {printf "| minik image pull | %.1f | skopeo copy + umoci unpack | %.1f | %.2fx |\n", m, p, p / m}'

# Root filesystem per container: the image is in the store; each run prepares one.
"$MINIK_BIN" image pull -q --data-dir "$work/d2" "$REF" >/dev/null
hyperfine -N --warmup 2 --runs 20 --export-json "$json" \
    --prepare "$MINIK_BIN image unmount --data-dir $work/d2 c1" \
    "$MINIK_BIN image mount --data-dir $work/d2 $REF c1" \
    --prepare "$MINIK_BIN image unmount --data-dir $work/d2 c2" \
    "$MINIK_BIN image mount --copy --data-dir $work/d2 $REF c2" >"$work/hf.log" 2>&1 || { cat "$work/hf.log"; exit 1; }
read -r o c < <(jq -r '[.results[0].median, .results[1].median] | map(. * 1000) | @tsv' "$json")
echo
echo "## Container root filesystem preparation (hyperfine, median of 20 runs, same image)"
echo
echo "| command | median ms | peer | peer median ms | ratio peer/minik |"
echo "|---|---|---|---|---|"
awk -v o="$o" -v c="$c" 'BEGIN {printf "| minik image mount (overlayfs) | %.2f | minik image mount --copy (fallback) | %.1f | %.1fx |\n", o, c, c / o}'
rm -f "$json"
