# Helpers for the runtime suites: build a busybox OCI bundle from Debian's busybox-static
# and write its config.json. Load after helpers: `load runtime_bundle`.

# make_rootfs DIR : a root filesystem with /bin/busybox and a symlink per applet.
make_rootfs() {
    local root=$1 applet
    mkdir -p "$root"/{bin,dev,proc,sys,etc,tmp,root,mnt}
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
    echo "root:x:0:" >"$root/etc/group"
}

# make_bundle DIR [ARGS...] : a bundle in DIR (rootfs + config.json) running ARGS
# (default: sh). The config mirrors `runc spec` minus the terminal: pid, network, ipc,
# uts and mount namespaces, /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, masked and
# read-only paths, no process.capabilities (so the Docker defaults apply).
# Environment knobs: BUNDLE_HOSTNAME, BUNDLE_JQ (a jq filter applied to the config last).
make_bundle() {
    local dir=$1
    shift
    [ $# -gt 0 ] || set -- sh
    mkdir -p "$dir"
    [ -d "$dir/rootfs/bin" ] || make_rootfs "$dir/rootfs"
    local args
    args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
    jq -n --argjson args "$args" --arg host "${BUNDLE_HOSTNAME:-minik}" '{
      ociVersion: "1.0.2",
      process: {
        terminal: false,
        user: {uid: 0, gid: 0},
        args: $args,
        env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
        cwd: "/",
        rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
        noNewPrivileges: true
      },
      root: {path: "rootfs", readonly: false},
      hostname: $host,
      mounts: [
        {destination: "/proc", type: "proc", source: "proc"},
        {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]},
        {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]}
      ],
      linux: {
        resources: {devices: [{allow: false, access: "rwm"}]},
        namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}],
        maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
      }
    }' >"$dir/config.json"
    if [ -n "${BUNDLE_JQ:-}" ]; then
        jq "$BUNDLE_JQ" "$dir/config.json" >"$dir/config.json.new"
        mv "$dir/config.json.new" "$dir/config.json"
    fi
}
