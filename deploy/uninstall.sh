#!/usr/bin/env bash
# Remove what deploy/install.sh installed (the files listed in /etc/minik/installed-files).
#   deploy/uninstall.sh [--root DIR] [--purge]
#   --root DIR   the root install.sh was given
#   --purge      also delete the state (MINIK_DATA_DIR, default /var/lib/minik) and the
#                join token: the cluster's objects and images are gone for good.
# Containers outlive the service by design (KillMode=process); stop your workloads
# (minik delete ...) before uninstalling a node, or --purge ends what is left.
set -euo pipefail

root=/ purge=0
while [ $# -gt 0 ]; do
    case $1 in
    --root) root=${2:?--root needs a directory}; shift ;;
    --purge) purge=1 ;;
    -h | --help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall: unknown flag $1" >&2; exit 2 ;;
    esac
    shift
done
root=${root%/}
manifest=$root/etc/minik/installed-files
[ -f "$manifest" ] || { echo "uninstall: nothing installed under ${root:-/} ($manifest missing)" >&2; exit 1; }

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
    for u in minik-server.service minik-agent.service; do
        systemctl disable --now "$u" >/dev/null 2>&1 || true
    done
fi

data_dir=/var/lib/minik
if [ -f "$root/etc/default/minik" ]; then
    d=$(sed -n 's/^MINIK_DATA_DIR=//p' "$root/etc/default/minik")
    [ -n "$d" ] && data_dir=$d
fi

while read -r f; do
    [ -n "$f" ] && rm -f "$root$f"
done <"$manifest"
rm -f "$manifest"
rmdir "$root/etc/minik" 2>/dev/null || true
[ -z "$root" ] && [ -d /run/systemd/system ] && systemctl daemon-reload

if [ "$purge" = 1 ]; then
    d=$root$data_dir
    case $d in "" | / | /var | /var/lib) echo "uninstall: refusing to purge $d" >&2; exit 1 ;; esac
    if [ -d "$d" ]; then
        # Container processes recorded by the runtime, by pid, then their mounts.
        for st in "$d"/agent/oci/*/state.json; do
            [ -f "$st" ] || continue
            for p in $(sed -n 's/.*"\(pid\|shimPid\)":\([0-9]*\).*/\2/p' "$st"); do
                kill -KILL "$p" 2>/dev/null || true
            done
        done
        awk -v d="$d/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$d"
    fi
    rm -f "$root/etc/minik/token"
    rmdir "$root/etc/minik" 2>/dev/null || true
    echo "uninstall: removed minik and its state ($d)"
else
    echo "uninstall: removed minik; state kept in $root$data_dir (--purge deletes it)"
fi
