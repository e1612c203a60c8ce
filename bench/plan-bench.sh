#!/bin/bash
# bench/plan-bench.sh: `virt-nest status` and `virt-nest plan` on a layer of
# 100 networks and 1,000 guests (a libvirt test-driver node file), against
# `virsh list --all` plus `virsh net-list --all` on the same file, in one
# run, interleaved. Target (issue 5): within 2x of the two virsh commands.
#
#   bench/plan-bench.sh [BUILDDIR] [RUNS] [NETWORKS] [GUESTS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
BUILD=$(realpath "${1:-$SRC/build}")
RUNS=${2:-20}
NETS=${3:-100}
GUESTS=${4:-1000}
RUN=$BUILD/bench/vn-bench-run
VN=$BUILD/src/virt-nest
V=$(command -v virsh)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$HERE/gen-layer.sh" "$NETS" "$GUESTS" > "$T/layer.xml"
U="test://$T/layer.xml"
"$VN" status -c "$U" > /dev/null
"$VN" plan -c "$U" --network net5 --guest newguest --depth 2 > /dev/null

echo "status and plan on $NETS networks and $GUESTS guests: $RUNS runs each" >&2
"$RUN" -n "$RUNS" -w 2 \
    virsh -- "$V" -q -c "$U" list --all :: "$V" -q -c "$U" net-list --all --- \
    status -- "$VN" status -c "$U" --- \
    status-json -- "$VN" status -c "$U" --json --- \
    plan -- "$VN" plan -c "$U" --network net5 --guest newguest --depth 2 \
    > "$T/results.json"
awk '
{
    match($0, /"name": "[^"]*"/); n = substr($0, RSTART + 9, RLENGTH - 10)
    match($0, /"median_us": [0-9.]*/); v = substr($0, RSTART + 13, RLENGTH - 13)
    med[n] = v
    printf "%-12s median %7.1f ms\n", n, v / 1000
}
END {
    printf "\nstatus / virsh list + net-list = %.2fx   (target <= 2)\n", med["status"] / med["virsh"]
    printf "status --json / virsh         = %.2fx\n", med["status-json"] / med["virsh"]
    printf "plan / virsh                  = %.2fx   (target <= 2)\n", med["plan"] / med["virsh"]
}' "$T/results.json"
