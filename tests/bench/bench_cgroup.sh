#!/usr/bin/env bash
# cgroups and seccomp set-up cost per container (agent/runtime/cgroup*, seccomp*), each next
# to what it replaces, measured in one run:
#  - a cgroup with limits created in every hierarchy, a process entered, the group removed:
#    minik's drivers against the same steps written by hand in sh (mkdir/echo/rmdir);
#  - the default seccomp filter: minik's precompiled program against compiling the same
#    profile with libseccomp, which is what a runtime does per container otherwise;
#  - what the installed filter costs a syscall, against no filter.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$root" --no-print-directory build/tools/cgtool >/dev/null
cgtool="$root/build/tools/cgtool"
cg=/minik-bench-$$
n=${BENCH_CGROUP_N:-100}
limits='{"memory":{"limit":67108864},"pids":{"limit":100},"cpu":{"shares":512}}'

purge() {
    local d
    for d in /sys/fs/cgroup/*"$cg" /sys/fs/cgroup"$cg"; do
        [ -d "$d" ] && rmdir "$d" 2>/dev/null
    done
    return 0
}
trap purge EXIT

# The hand-written peer: the directories minik uses on this host, the same limit files and
# the same device rules, a child that enters every hierarchy itself, then rmdir.
by_hand() {
    local dirs=() d h i
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        dirs=("/sys/fs/cgroup$cg")
    else
        for h in cpu cpuacct cpuset memory devices freezer pids blkio systemd unified; do
            [ -e "/sys/fs/cgroup/$h/cgroup.procs" ] && dirs+=("/sys/fs/cgroup/$h$cg")
        done
    fi
    for ((i = 0; i < n; i++)); do
        mkdir "${dirs[@]}"
        if [ -d "/sys/fs/cgroup/memory$cg" ]; then
            cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset$cg/cpuset.cpus"
            cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset$cg/cpuset.mems"
            echo 67108864 >"/sys/fs/cgroup/memory$cg/memory.limit_in_bytes"
            echo 512 >"/sys/fs/cgroup/cpu$cg/cpu.shares"
            echo 100 >"/sys/fs/cgroup/pids$cg/pids.max"
            echo a >"/sys/fs/cgroup/devices$cg/devices.deny"
            for r in 'c 1:3 rwm' 'c 1:5 rwm' 'c 1:7 rwm' 'c 5:0 rwm' 'c 1:9 rwm' 'c 1:8 rwm' \
                'c 136:* rwm' 'c 5:1 rwm' 'c 5:2 rwm' 'c *:* m' 'b *:* m'; do
                echo "$r" >"/sys/fs/cgroup/devices$cg/devices.allow"
            done
        fi
        (for d in "${dirs[@]}"; do echo "$BASHPID" >"$d/cgroup.procs"; done)
        rmdir "${dirs[@]}"
    done
}

echo "## cgroup and seccomp set-up per container ($n runs each, mean)"
echo
echo "| step | minik | peer | peer figure | ratio peer/minik |"
echo "|---|---|---|---|---|"
m=$("$cgtool" bench-cgroup "$cg" "$n" "$limits")
t0=$(date +%s%N)
by_hand
t1=$(date +%s%N)
p=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {printf "%.1f", (b - a) / 1000 / n}')
awk -v m="$m" -v p="$p" -v mode="$("$cgtool" mode)" 'BEGIN {printf "| cgroup with limits: create, enter, remove (%s host) | %.0f us | same steps in sh | %.0f us | %.2fx |\n", mode, m, p, p / m}'

read -r emb comp insns < <("$cgtool" bench-seccomp "$n")
awk -v e="$emb" -v c="$comp" -v i="$insns" 'BEGIN {printf "| default seccomp filter ready (%d insns, 3 ABIs) | %.1f us | libseccomp compile of the same profile | %.0f us | %.0fx |\n", i, e, c, c / e}'

read -r g0 p0 < <("$cgtool" bench-syscall 2000000 none)
read -r g1 p1 < <("$cgtool" bench-syscall 2000000 default)
awk -v a="$g1" -v b="$g0" 'BEGIN {printf "| getppid() under the default filter | %.0f ns | no filter | %.0f ns | %.2fx |\n", a, b, b / a}'
awk -v a="$p1" -v b="$p0" 'BEGIN {printf "| personality(query), argument-checked | %.0f ns | no filter | %.0f ns | %.2fx |\n", a, b, b / a}'
