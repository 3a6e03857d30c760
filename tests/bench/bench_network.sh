#!/usr/bin/env bash
# Pod networking costs, measured in one run inside namespaces the driver makes itself:
#  - pod network setup (CNI ADD: loopback + bridge/host-local + portmap) and teardown;
#  - HTTP through a ClusterIP (nftables DNAT) against straight to the pod IP: requests/s
#    (busybox httpd closes every connection, so this is also the connection rate) and
#    mean latency from wrk, with the ratio;
#  - what one Endpoints change costs a node (the agent's watch hands it to the renderer
#    and one `nft -f` transaction): render and apply time with 10 and 100 Services.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$root" --no-print-directory build/tools/net_bench >/dev/null
nb="$root/build/tools/net_bench"
n=${BENCH_NETWORK_PODS:-20}
secs=${BENCH_NETWORK_SECONDS:-5}

cni=$("$nb" cni "$n")
serve=$("$nb" serve "$secs")
rules10=$("$nb" rules 10)
rules100=$("$nb" rules 100)
get() { awk -v k="$1" '$1 == k {print $2}' <<<"$2"; }
# wrk prints latency with a unit (us/ms/s); normalise to microseconds.
us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v)} else if (v ~ /ms$/) {sub(/ms/,"",v); v*=1000} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000000}; printf "%.0f", v}' <<<"$1"; }

d_rps=$(get direct_rps "$serve")
c_rps=$(get clusterip_rps "$serve")
d_lat=$(us "$(get direct_latency "$serve")")
c_lat=$(us "$(get clusterip_latency "$serve")")

echo "## network ($n pods; wrk -t1 -c8 for ${secs}s against busybox httpd)"
echo
echo "| measure | minik | peer | ratio (minik / peer) |"
echo "|---|---|---|---|"
echo "| pod network setup, CNI ADD (ms per pod) | $(get cni_add_ms "$cni") | - | - |"
echo "| pod network teardown, CNI DEL (ms per pod) | $(get cni_del_ms "$cni") | - | - |"
echo "| requests (= connections) per s: ClusterIP vs pod IP | $c_rps | $d_rps | $(awk -v a="$c_rps" -v b="$d_rps" 'BEGIN {printf "%.2f", a / b}') |"
echo "| mean latency (us): ClusterIP vs pod IP | $c_lat | $d_lat | $(awk -v a="$c_lat" -v b="$d_lat" 'BEGIN {printf "%.2f", a / b}') |"
for r in "$rules10" "$rules100"; do
    echo "| one Endpoints change, $(get rules_services "$r") Services: render (ms) / nft -f apply (ms) | $(get rules_render_ms "$r") / $(get rules_apply_ms "$r") | - | - |"
done
