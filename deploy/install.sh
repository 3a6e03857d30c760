#!/usr/bin/env bash
# Install minik on this machine: the binary, its run-time Debian packages
# (deploy/deps.sh --runtime), the systemd unit and its settings.
#
#   deploy/install.sh                                   a server (control plane + node)
#   deploy/install.sh --agent --server URL --token T    a worker joining that server
#
# Flags:
#   --prefix DIR     where bin/minik goes (default /usr/local)
#   --root DIR       install into DIR as if it were / (a scratch root for tests or an image);
#                    then no packages are installed and no service is started
#   --binary FILE    the minik binary to install (default build/minik, built if missing)
#   --no-deps        do not install Debian packages
#   --no-start       install and enable nothing in systemd; print how to start
#   --data-dir DIR   state directory (default /var/lib/minik)
#   --server-args "..." / --agent-args "..."   extra flags written to /etc/default/minik
# Re-running upgrades in place: the binary and units are replaced, settings are kept
# unless given again, the data dir is never touched (a newer binary migrates it; an older
# one refuses it, see docs/homelab.md "Upgrades").
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=/usr/local root=/ binary="" deps=1 start=1 role=server
server_url="" token="" data_dir=/var/lib/minik server_args="" agent_args=""

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-2}"
}
die() {
    echo "install: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift ;;
    --root) root=${2:?--root needs a directory}; shift ;;
    --binary) binary=${2:?--binary needs a file}; shift ;;
    --no-deps) deps=0 ;;
    --no-start) start=0 ;;
    --agent) role=agent ;;
    --server) server_url=${2:?--server needs a URL}; shift ;;
    --token) token=${2:?--token needs a token}; shift ;;
    --data-dir) data_dir=${2:?--data-dir needs a directory}; shift ;;
    --server-args) server_args=${2?}; shift ;;
    --agent-args) agent_args=${2?}; shift ;;
    -h | --help) usage 0 ;;
    *) echo "install: unknown flag $1" >&2; usage 2 ;;
    esac
    shift
done

if [ "$role" = agent ]; then
    [ -n "$server_url" ] || die "--agent needs --server https://HOST:6443"
    [ -n "$token" ] || die "--agent needs --token (on the server: minik token create)"
    [[ "$server_url" == https://* ]] || die "--server $server_url: want https://HOST:PORT"
    [[ "$token" =~ ^(K10[0-9a-f]{64}::)?[0-9a-f]{8}\.[0-9a-f]{32}$ ]] ||
        die "--token does not look like a minik join token (K10<sha256>::<id>.<secret>)"
elif [ -n "$server_url" ] || [ -n "$token" ]; then
    die "--server and --token are for --agent"
fi
[[ "$prefix" == /* ]] || die "--prefix $prefix: want an absolute path"
[[ "$data_dir" == /* ]] || die "--data-dir $data_dir: want an absolute path"
root=${root%/}
real_root=0
[ -z "$root" ] && real_root=1
if [ "$real_root" = 1 ] && [ "$(id -u)" -ne 0 ]; then
    die "run as root (or use --root DIR for a scratch root)"
fi

if [ -z "$binary" ]; then
    binary=$repo/build/minik
    [ -x "$binary" ] || make -C "$repo" -j2 >/dev/null
fi
[ -x "$binary" ] || die "$binary is not an executable"
"$binary" version >/dev/null 2>&1 || die "$binary does not run on this machine"

if [ "$deps" = 1 ] && [ "$real_root" = 1 ]; then
    bash "$repo/deploy/deps.sh" --runtime
fi

manifest=$root/etc/minik/installed-files
mkdir -p "$root/etc/minik"
: >"$manifest.new"
put() { # put MODE SRC DEST : install one file and record it for uninstall.sh
    install -D -m "$1" "$2" "$root$3"
    echo "$3" >>"$manifest.new"
}

put 0755 "$binary" "$prefix/bin/minik"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for u in minik-server minik-agent; do
    sed "s|@BINDIR@|$prefix/bin|g" "$repo/deploy/systemd/$u.service" >"$tmp/$u.service"
    put 0644 "$tmp/$u.service" "/etc/systemd/system/$u.service"
done

# Settings: kept across re-installs, except what this run was told.
defaults=$root/etc/default/minik
if [ ! -f "$defaults" ]; then
    cat >"$tmp/defaults" <<EOT
# minik settings, read by minik-server.service and minik-agent.service.
MINIK_DATA_DIR=$data_dir
# Extra flags, e.g. MINIK_SERVER_ARGS="--tls-san nas.lan --listen 0.0.0.0:6443"
MINIK_SERVER_ARGS="$server_args"
# e.g. MINIK_AGENT_ARGS="--node-ip 192.168.1.12 --labels zone=attic"
MINIK_AGENT_ARGS="$agent_args"
MINIK_SERVER=$server_url
EOT
    install -D -m 0644 "$tmp/defaults" "$defaults"
else
    set_kv() { # set_kv KEY VALUE : replace or append KEY=VALUE
        if grep -q "^$1=" "$defaults"; then
            sed -i "s|^$1=.*|$1=$2|" "$defaults"
        else
            echo "$1=$2" >>"$defaults"
        fi
    }
    [ -n "$server_url" ] && set_kv MINIK_SERVER "$server_url"
    [ -n "$server_args" ] && set_kv MINIK_SERVER_ARGS "\"$server_args\""
    [ -n "$agent_args" ] && set_kv MINIK_AGENT_ARGS "\"$agent_args\""
fi
echo /etc/default/minik >>"$manifest.new"
if [ -n "$token" ]; then
    # Root-only: the join token is this node's credential once it has joined.
    (umask 077 && printf '%s\n' "$token" >"$root/etc/minik/token")
    echo /etc/minik/token >>"$manifest.new"
fi
mkdir -p "$root$data_dir"
chmod 0700 "$root$data_dir"
# What an earlier install put elsewhere (another --prefix) and this one did not: remove it.
if [ -f "$manifest" ]; then
    sort -u "$manifest.new" | comm -23 <(sort -u "$manifest") - | while read -r f; do
        rm -f "$root$f"
    done
fi
sort -u "$manifest.new" >"$manifest"
rm -f "$manifest.new"

unit=minik-$role.service
if [ "$real_root" = 1 ] && [ "$start" = 1 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now "$unit"
    echo "install: $unit enabled and started"
else
    echo "install: installed into ${root:-/}; start with: systemctl daemon-reload && systemctl enable --now $unit"
fi
if [ "$role" = server ]; then
    cat <<EOT
Next:
  minik get nodes                      (as root; kubeconfig: $data_dir/admin.conf)
  minik token create --ttl 24h         a join token for another machine, then on it:
  deploy/install.sh --agent --server https://$(hostname -f 2>/dev/null || hostname):6443 --token <token>
EOT
fi
