#!/usr/bin/env bash
# Build minik's demo image offline: busybox-static in an OCI image layout, made with umoci
# the way the image tests make theirs (no registry, no internet).
#   deploy/demo-image.sh OUT_DIR [TAG]     -> OCI layout OUT_DIR with image TAG (default 1)
# The image runs `httpd -f -v -p 8080 -h /www` (busybox httpd); /www/index.html says hello
# and the pod's ConfigMap is mounted over /www/config. Import it with
#   minik image import OUT_DIR --name minik-demo/hello:1
# Needs: umoci, busybox-static (deploy/deps.sh installs both).
set -euo pipefail

out=${1:?usage: demo-image.sh OUT_DIR [TAG]}
tag=${2:-1}
busybox=${BUSYBOX:-/bin/busybox}
for t in umoci; do
    command -v "$t" >/dev/null || { echo "demo-image: $t not found (run: bash deploy/deps.sh)" >&2; exit 1; }
done
# busybox-static is what makes the image self-contained: a dynamic busybox would need the
# host's libc inside the image.
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' &&
    ! ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable'; then
    echo "demo-image: $busybox is not statically linked (install busybox-static)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/minik-demo-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
umoci init --layout "$out" >/dev/null
umoci new --image "$out:$tag" >/dev/null
umoci unpack --rootless --image "$out:$tag" "$work/bundle" >/dev/null
r="$work/bundle/rootfs"
mkdir -p "$r/bin" "$r/www/config" "$r/tmp" "$r/etc"
cp "$busybox" "$r/bin/busybox"
# cp: the two-tier example's db seeds its data directory with it.
for c in sh httpd wget cat cp echo ls sleep nc hostname env; do ln -sf busybox "$r/bin/$c"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$r/etc/group"
cat >"$r/www/index.html" <<'HTML'
Hello from minik! This page is served by busybox httpd in a minik pod.
HTML
# /healthz for the probes: a file, so httpd answers 200 without a CGI.
echo ok >"$r/www/healthz"
umoci repack --image "$out:$tag" "$work/bundle" >/dev/null
umoci config --image "$out:$tag" \
    --config.entrypoint /bin/httpd \
    --config.cmd -f --config.cmd -v --config.cmd -p --config.cmd 8080 --config.cmd -h --config.cmd /www \
    --config.exposedports 8080/tcp --config.workingdir /www >/dev/null
echo "demo-image: built $out:$tag" >&2
