#!/bin/bash
# bench/libvirt-bench.sh: what virt-nest's hooks add to libvirt's own
# operations, with a real libvirtd (tests/libvirt/lab.sh), in one run.
#
#   bench/libvirt-bench.sh [BUILDDIR] [RUNS]
#
# Three identical daemons in their own namespaces: one with virt-nest's
# hooks installed, one without hooks, and one with /bin/true as its hooks
# (what libvirt spends on running any hook at all), each with the same NAT
# network (with
# <nest:network> peers) and the same diskless TCG guest (with
# <nest:guest> routes and a DHCP reservation). Timed, interleaved run by
# run: `virsh net-start` of the network, and `virsh start` of the guest;
# the destroy before each run is not timed. Target (issue 4): the hooks
# add at most 2%.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
BUILD=$(realpath "${1:-$SRC/build}")
RUNS=${2:-30}
RUN=$BUILD/bench/vn-bench-run
XML=$SRC/tests/libvirt/xml
[ "$(id -u)" = 0 ] || { echo "bench/libvirt-bench.sh needs root" >&2; exit 77; }
# shellcheck source=../tests/libvirt/lab.sh
. "$SRC/tests/libvirt/lab.sh"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-lbench.XXXXXX)
LAB_VN=$BUILD/src/virt-nest
A=vnlbh$$       # with the hooks
B=vnlbn$$       # without
C=vnlbt$$       # with /bin/true as hooks
cleanup() { lab_stop "$A"; lab_stop "$B"; lab_stop "$C"; rm -rf "$LAB_ROOT"; }
trap cleanup EXIT

LAB_HOOK=$BUILD/hooks/virt-nest-hook lab_start "$A"
LAB_HOOK= lab_start "$B"
LAB_HOOK= LAB_NOOP=1 lab_start "$C"
for l in "$A" "$B" "$C"; do
    lab_virsh "$l" net-define "$XML/net-nest.xml" >/dev/null
    lab_virsh "$l" define "$XML/dom-l1.xml" >/dev/null
    lab_virsh "$l" net-start nestnet >/dev/null
done
VA=$(_lab_uri "$A")
VB=$(_lab_uri "$B")
VC=$(_lab_uri "$C")
V=$(command -v virsh)

echo "libvirt with and without virt-nest's hooks: $RUNS runs each, $(nproc) CPUs" >&2
"$RUN" -n "$RUNS" -w 3 \
    net-start-hooks -p "$V -q -c '$VA' net-destroy nestnet >/dev/null" -- "$V" -q -c "$VA" net-start nestnet --- \
    net-start-plain -p "$V -q -c '$VB' net-destroy nestnet >/dev/null" -- "$V" -q -c "$VB" net-start nestnet --- \
    net-start-true -p "$V -q -c '$VC' net-destroy nestnet >/dev/null" -- "$V" -q -c "$VC" net-start nestnet \
    > "$LAB_ROOT/net.json"
"$RUN" -n "$RUNS" -w 3 \
    start-hooks -p "$V -q -c '$VA' destroy l1 >/dev/null 2>&1; true" -- "$V" -q -c "$VA" start l1 --- \
    start-plain -p "$V -q -c '$VB' destroy l1 >/dev/null 2>&1; true" -- "$V" -q -c "$VB" start l1 --- \
    start-true -p "$V -q -c '$VC' destroy l1 >/dev/null 2>&1; true" -- "$V" -q -c "$VC" start l1 \
    > "$LAB_ROOT/start.json"
# the hooks did their work in A, and nothing in B
lab_net "$A" ip route show proto 155 | grep -q 192.168.151.0/24 || { echo "no route in A" >&2; exit 1; }
lab_net "$B" ip route show proto 155 | grep -q . && { echo "a route in B" >&2; exit 1; }

cat "$LAB_ROOT/net.json" "$LAB_ROOT/start.json" | awk '
{
    match($0, /"name": "[^"]*"/); n = substr($0, RSTART + 9, RLENGTH - 10)
    match($0, /"median_us": [0-9.]*/); v = substr($0, RSTART + 13, RLENGTH - 13)
    med[n] = v
    printf "%-16s median %8.1f ms\n", n, v / 1000
}
END {
    printf "\nnet-start: virt-nest'"'"'s hooks add %+.1f%% (target <= 2%%); /bin/true as hooks adds %+.1f%%\n", (med["net-start-hooks"] / med["net-start-plain"] - 1) * 100, (med["net-start-true"] / med["net-start-plain"] - 1) * 100
    printf "virsh start: virt-nest'"'"'s hooks add %+.1f%% (target <= 2%%); /bin/true as hooks adds %+.1f%%\n", (med["start-hooks"] / med["start-plain"] - 1) * 100, (med["start-true"] / med["start-plain"] - 1) * 100
}'
