#!/bin/bash
# bench/hook-ab.sh: two builds' hooks against each other, interleaved run
# by run in the same namespaces, so that a shared machine's load falls on
# both alike (sequential runs of bench/hook-bench.sh on a busy machine
# differ by more than a change costs). Needs root (network namespaces).
#
#   bench/hook-ab.sh OLD_BUILDDIR NEW_BUILDDIR [RUNS]
#
# The hosts of bench/hook-bench.sh: L0 (virbr0 on 192.168.122.0/24) and L1
# (192.168.124.0/24 with libvirt 9.0's iptables-nft rules); no legacy
# table anywhere. Timed, old and new side by side:
#   L0 qemu debian started begin (the route), a guest without metadata,
#   L1 network default started begin (the exceptions, iptables-nft)
# Prints one line per benchmark and the new/old ratio of each median.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
# shellcheck source=benchlib.sh
. "$HERE/benchlib.sh"
OLD=$(realpath "$1")
NEW=$(realpath "$2")
RUNS=${3:-200}
RUN=$NEW/bench/vn-bench-run
[ "$(id -u)" = 0 ] || { echo "bench/hook-ab.sh needs root (network namespaces)" >&2; exit 77; }
for b in "$OLD" "$NEW"; do
    [ -x "$b/hooks/virt-nest-hook" ] || { echo "no hook in $b: build it first" >&2; exit 1; }
done
[ -x "$RUN" ] || { echo "no $RUN: build first" >&2; exit 1; }

ID=${VN_BENCH_PREFIX:-vnab}$$
L0=${ID}l0
L1=${ID}l1
T=$(mktemp -d /dev/shm/virt-nest-ab.XXXXXX)
cleanup() {
    ip netns del "$L0" 2>/dev/null || true
    ip netns del "$L1" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

bench_host "$L0" 192.168.122.1
bench_host "$L1" 192.168.124.1
bench_libvirt9 "$L0" 122 iptables-restore
bench_libvirt9 "$L1" 124 iptables-restore

G=$SRC/tests/golden/hook
bench_inputs "$T"
for v in old new; do
    b=$OLD; [ $v = new ] && b=$NEW
    mkdir -p "$T/$v/hooks" "$T/$v/state0" "$T/$v/state1"
    cp "$b/hooks/virt-nest-hook" "$T/$v/hooks/qemu"
    cp "$b/hooks/virt-nest-hook" "$T/$v/hooks/network"
    # L0's network hook keeps the network XML with the reservation
    ip netns exec "$L0" env -i VIRT_NEST_STATE_DIR="$T/$v/state0" \
        "$T/$v/hooks/network" default started begin - \
        < "$G/qemu-started-reservation/state/network/default.xml"
done

echo "virt-nest hook A/B: $RUNS runs each, $(nproc) CPUs, $(uname -r)" >&2
echo "  old: $OLD" >&2
echo "  new: $NEW" >&2
{
    ip netns exec "$L0" "$RUN" -n "$RUNS" -w 10 \
        guest-old -p "env VIRT_NEST_STATE_DIR=$T/old/state0 $T/old/hooks/qemu nestguest stopped end - < $T/guest.xml" \
            -e "VIRT_NEST_STATE_DIR=$T/old/state0" -- @"$T/guest.xml" "$T/old/hooks/qemu" nestguest started begin - --- \
        guest-new -p "env VIRT_NEST_STATE_DIR=$T/new/state0 $T/new/hooks/qemu nestguest stopped end - < $T/guest.xml" \
            -e "VIRT_NEST_STATE_DIR=$T/new/state0" -- @"$T/guest.xml" "$T/new/hooks/qemu" nestguest started begin - --- \
        plain-old -e "VIRT_NEST_STATE_DIR=$T/old/state0" -- @"$T/plain.xml" "$T/old/hooks/qemu" plain started begin - --- \
        plain-new -e "VIRT_NEST_STATE_DIR=$T/new/state0" -- @"$T/plain.xml" "$T/new/hooks/qemu" plain started begin - |
        sed 's/^{/{"layer": "L0", /'
    ip netns exec "$L1" "$RUN" -n "$RUNS" -w 10 \
        network-old -p "env VIRT_NEST_STATE_DIR=$T/old/state1 $T/old/hooks/network default stopped end - < $T/peers.xml" \
            -e "VIRT_NEST_STATE_DIR=$T/old/state1" -- @"$T/peers.xml" "$T/old/hooks/network" default started begin - --- \
        network-new -p "env VIRT_NEST_STATE_DIR=$T/new/state1 $T/new/hooks/network default stopped end - < $T/peers.xml" \
            -e "VIRT_NEST_STATE_DIR=$T/new/state1" -- @"$T/peers.xml" "$T/new/hooks/network" default started begin - |
        sed 's/^{/{"layer": "L1", /'
} > "$T/results.json"

awk '
{
    match($0, /"name": "[^"]*"/); n = substr($0, RSTART + 9, RLENGTH - 10)
    match($0, /"layer": "[^"]*"/); l = substr($0, RSTART + 10, RLENGTH - 11)
    match($0, /"median_us": [0-9.]*/); v = substr($0, RSTART + 13, RLENGTH - 13)
    match($0, /"p90_us": [0-9.]*/); p = substr($0, RSTART + 10, RLENGTH - 10)
    med[n] = v
    printf "%-3s %-12s median %8.0f us   p90 %8.0f us\n", l, n, v, p
}
END {
    printf "\nnew / old, medians: guest %.3f, guest without metadata %.3f, network %.3f\n", med["guest-new"] / med["guest-old"], med["plain-new"] / med["plain-old"], med["network-new"] / med["network-old"]
}' "$T/results.json"
