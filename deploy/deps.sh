#!/usr/bin/env bash
# Install every Debian package minik needs to build, test and run.
# Idempotent and quiet: when everything is present it prints nothing and exits 0.
#   deploy/deps.sh            all packages (build + test + runtime)
#   deploy/deps.sh --runtime  only what a node running minik needs
set -euo pipefail

# What a node needs at run time.
RUNTIME=(
    libuv1 libcjson1 libyaml-0-2 libsqlite3-0 libseccomp2 libssl3 libarchive13 libcurl4
    libhttp-parser2.9 containernetworking-plugins nftables iptables iproute2 ca-certificates
)
# What building needs.
BUILD=(
    gcc make pkg-config libc6-dev
    libuv1-dev libhttp-parser-dev libcjson-dev libyaml-dev libsqlite3-dev libseccomp-dev
    libssl-dev libarchive-dev libcurl4-openssl-dev libzstd-dev
)
# What tests, fuzzing, linting and benchmarks need: real peers, not mocks.
TEST=(
    libcmocka-dev bats clang libclang-rt-14-dev clang-format cppcheck
    docker-registry skopeo umoci runc busybox-static apache2-utils
    hyperfine wrk sqlite3 jq curl openssl util-linux procps psmisc kubectl netcat-openbsd python3 zstd
)

pkgs=("${RUNTIME[@]}")
if [ "${1:-}" != "--runtime" ]; then
    pkgs+=("${BUILD[@]}" "${TEST[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# kubectl is optional: Debian 12 ships it as 'kubernetes-client' on some mirrors.
if ! apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    optional=(kubectl)
    required=()
    for p in "${missing[@]}"; do
        [[ " ${optional[*]} " == *" $p "* ]] || required+=("$p")
    done
    apt-get install -y -qq "${required[@]}" >/dev/null
    for p in "${optional[@]}"; do
        if [[ " ${missing[*]} " == *" $p "* ]]; then
            apt-get install -y -qq "$p" >/dev/null 2>&1 ||
                apt-get install -y -qq kubernetes-client >/dev/null 2>&1 ||
                echo "deps: optional package $p unavailable" >&2
        fi
    done
fi
