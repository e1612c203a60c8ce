#!/bin/bash
# bench/hook-bench.sh: what the hook costs, against the alternatives, in one
# run on this machine. Needs root (network namespaces).
#
#   bench/hook-bench.sh [BUILDDIR] [RUNS]
#
# The seed's nest in two namespaces: L0 (the outer host, virbr0 on
# 192.168.122.0/24) and L1 (the middle host, virbr0 on 192.168.124.0/24
# with libvirt 9.0's iptables-nft rules). Timing happens inside each
# namespace (vn-bench-run runs there; no `ip netns exec` in the timed
# window), with the compared commands interleaved run by run so that they
# share the machine's load. State lives on tmpfs, as /run does.
#
# Compared, to fix the seed's nest (route on L0 + exceptions on L1):
#   hook    virt-nest-hook: L0 qemu debian started + L1 network default started
#   hand    the seed's hand fix: ip route add + three iptables -I
#   shell   bench/shell-hook, the same job with xmllint, ip and iptables
#   true    /bin/true, the floor of starting a process (x2: two events)
#   floor   the kernel's floor for L1: a process that commits one accept
#           rule to ip filter FORWARD and does nothing else (vn-nft-floor)
# and, for a guest without virt-nest metadata, the hook against /bin/true;
# and everything again with 10,000 foreign rules in L1's FORWARD chain.
# When iptables-legacy is installed, a third host L1L is L1 with libvirt's
# rules in legacy xtables (its iptables alternative is iptables-legacy):
#   hook-legacy  the network hook there (its exceptions go to legacy
#                xtables with iptables-legacy-restore)
#   hand-legacy  the seed's hand fix there: three iptables-legacy -I
#   true-legacy  /bin/true, in the same interleaved run
#
# Targets (issue 3): hook >= 10x faster than shell, >= 1.2x faster than
# hand, a guest without metadata within 1.3x of /bin/true, and at most 1.2x
# growth from 0 to 10,000 foreign rules.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
# shellcheck source=benchlib.sh
. "$HERE/benchlib.sh"
BUILD=${1:-$SRC/build}
RUNS=${2:-200}
RUN=$BUILD/bench/vn-bench-run
FLOOR=$BUILD/bench/vn-nft-floor
HOOK=$BUILD/hooks/virt-nest-hook
[ "$(id -u)" = 0 ] || { echo "bench/hook-bench.sh needs root (network namespaces)" >&2; exit 77; }
[ -x "$RUN" ] && [ -x "$HOOK" ] || { echo "build first: meson compile -C $BUILD" >&2; exit 1; }
for t in xmllint iptables ip; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done

ID=${VN_BENCH_PREFIX:-vnb}$$   # namespaces: ${ID}l0, ${ID}l1, ${ID}l1l
L0=${ID}l0
L1=${ID}l1
L1L=${ID}l1l
LEGACY=
[ -x /usr/sbin/iptables-legacy-restore ] && LEGACY=1
T=$(mktemp -d /dev/shm/virt-nest-bench.XXXXXX)
cleanup() {
    ip netns del "$L0" 2>/dev/null || true
    ip netns del "$L1" 2>/dev/null || true
    [ -z "$LEGACY" ] || ip netns del "$L1L" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

# --- the hosts
bench_host "$L0" 192.168.122.1
bench_host "$L1" 192.168.124.1
bench_libvirt9 "$L0" 122 iptables-restore
bench_libvirt9 "$L1" 124 iptables-restore
if [ -n "$LEGACY" ]; then
    # L1 again, with libvirt's rules in legacy xtables (per namespace)
    bench_host "$L1L" 192.168.124.1
    bench_libvirt9 "$L1L" 124 iptables-legacy-restore -w
fi

# --- inputs: the hooks as installed, the XML libvirt 9.0 passes
mkdir -p "$T"/{hooks,shell,net,state0,state1,state1l}
cp "$HOOK" "$T/hooks/qemu"
cp "$HOOK" "$T/hooks/network"
cp "$HERE/shell-hook" "$T/shell/qemu"
cp "$HERE/shell-hook" "$T/shell/network"
G=$SRC/tests/golden/hook
bench_inputs "$T"
cp "$G/qemu-started-reservation/state/network/default.xml" "$T/net/default.xml"
# the network hook keeps L0's network XML for the reservation, as it would
ip netns exec "$L0" env -i VIRT_NEST_STATE_DIR="$T/state0" \
    "$T/hooks/network" default started begin - < "$T/net/default.xml"

ROUTE="192.168.124.0/24 via 192.168.122.50 dev virbr0"
E0="VIRT_NEST_STATE_DIR=$T/state0"
E1="VIRT_NEST_STATE_DIR=$T/state1"
UNDO_HOOK0="env $E0 $T/hooks/qemu nestguest stopped end - < $T/guest.xml"
UNDO_ROUTE="ip route del 192.168.124.0/24 2>/dev/null; true"
UNDO_HOOK1="env $E1 $T/hooks/network default stopped end - < $T/peers.xml"
UNDO_IPT="for r in '-s 192.168.122.0/24 -d 192.168.124.0/24' '-s 192.168.124.0/24 -d 192.168.122.0/24' '-i virbr0 -o virbr0'; do iptables -D FORWARD \$r -j ACCEPT 2>/dev/null; done; true"
UNDO_SHELL1="for r in '-s 192.168.122.0/24 -d 192.168.124.0/24 -o virbr0' '-s 192.168.124.0/24 -d 192.168.122.0/24 -i virbr0'; do iptables -D FORWARD \$r -j ACCEPT 2>/dev/null; done; iptables -t nat -D POSTROUTING -s 192.168.124.0/24 -d 192.168.122.0/24 -j ACCEPT 2>/dev/null; true"

E1L="VIRT_NEST_STATE_DIR=$T/state1l"
UNDO_HOOK1L="env $E1L $T/hooks/network default stopped end - < $T/peers.xml"
UNDO_IPTL="for r in '-s 192.168.122.0/24 -d 192.168.124.0/24' '-s 192.168.124.0/24 -d 192.168.122.0/24' '-i virbr0 -o virbr0'; do iptables-legacy -w -D FORWARD \$r -j ACCEPT 2>/dev/null; done; true"

run_l0() {
    ip netns exec "$L0" "$RUN" -n "$RUNS" -w 10 \
        true -- /bin/true --- \
        hook -p "$UNDO_HOOK0" -e "$E0" -- @"$T/guest.xml" "$T/hooks/qemu" nestguest started begin - --- \
        hand -p "$UNDO_ROUTE" -- /sbin/ip route add $ROUTE --- \
        shell -p "$UNDO_ROUTE" -e NETDIR="$T/net" -- @"$T/guest.xml" "$T/shell/qemu" nestguest started begin - --- \
        plain -e "$E0" -- @"$T/plain.xml" "$T/hooks/qemu" plain started begin -
}
run_l1() {
    local tag=$1
    ip netns exec "$L1" "$RUN" -n "$RUNS" -w 10 \
        "true$tag" -- /bin/true --- \
        "hook$tag" -p "$UNDO_HOOK1" -e "$E1" -- @"$T/peers.xml" "$T/hooks/network" default started begin - --- \
        "hand$tag" -p "$UNDO_IPT" -- \
            /usr/sbin/iptables -I FORWARD 1 -i virbr0 -o virbr0 -j ACCEPT :: \
            /usr/sbin/iptables -I FORWARD 1 -s 192.168.124.0/24 -d 192.168.122.0/24 -j ACCEPT :: \
            /usr/sbin/iptables -I FORWARD 1 -s 192.168.122.0/24 -d 192.168.124.0/24 -j ACCEPT --- \
        "shell$tag" -p "$UNDO_SHELL1" -- @"$T/peers.xml" "$T/shell/network" default started begin - --- \
        "floor$tag" -p "iptables -D FORWARD -s 198.51.100.0/24 -j ACCEPT 2>/dev/null; true" -- "$FLOOR"
}

run_l1l() {
    ip netns exec "$L1L" "$RUN" -n "$RUNS" -w 10 \
        true-legacy -- /bin/true --- \
        hook-legacy -p "$UNDO_HOOK1L" -e "$E1L" -- @"$T/peers.xml" "$T/hooks/network" default started begin - --- \
        hand-legacy -p "$UNDO_IPTL" -- \
            /usr/sbin/iptables-legacy -w -I FORWARD 1 -i virbr0 -o virbr0 -j ACCEPT :: \
            /usr/sbin/iptables-legacy -w -I FORWARD 1 -s 192.168.124.0/24 -d 192.168.122.0/24 -j ACCEPT :: \
            /usr/sbin/iptables-legacy -w -I FORWARD 1 -s 192.168.122.0/24 -d 192.168.124.0/24 -j ACCEPT
}

echo "virt-nest hook benchmark: $RUNS runs each, $(nproc) CPUs, $(uname -r)" >&2
{
    run_l0 | sed 's/^{/{"layer": "L0", /'
    run_l1 "" | sed 's/^{/{"layer": "L1", /'
    # 10,000 foreign rules below libvirt's jumps in L1's FORWARD chain
    { echo '*filter'
      for i in $(seq 1 10000); do
          echo "-A FORWARD -s 10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))/32 -p tcp --dport 9 -j DROP"
      done
      echo COMMIT; } | ip netns exec "$L1" iptables-restore --noflush
    run_l1 "-10k" | sed 's/^{/{"layer": "L1", /'
    [ -z "$LEGACY" ] || run_l1l | sed 's/^{/{"layer": "L1L", /'
} > "$T/results.json"

# one line per ratio
awk '
function m(k) { return med[k] }
{
    match($0, /"name": "[^"]*"/); n = substr($0, RSTART + 9, RLENGTH - 10)
    match($0, /"layer": "[^"]*"/); l = substr($0, RSTART + 10, RLENGTH - 11)
    match($0, /"median_us": [0-9.]*/); v = substr($0, RSTART + 13, RLENGTH - 13)
    med[l "/" n] = v
    printf "%-3s %-10s median %8.0f us\n", l, n, v
}
END {
    hook = m("L0/hook") + m("L1/hook"); hand = m("L0/hand") + m("L1/hand")
    shell = m("L0/shell") + m("L1/shell"); tru = m("L0/true") + m("L1/true")
    printf "\nfixing the seed nest (L0 route + L1 exceptions), medians summed:\n"
    printf "  hook %.2f ms, hand fix %.2f ms, shell hook %.2f ms, 2x /bin/true %.2f ms\n", hook/1000, hand/1000, shell/1000, tru/1000
    printf "  shell hook / hook  = %5.2fx   (target >= 10)\n", shell / hook
    printf "  hand fix / hook    = %5.2fx   (target >= 1.2)\n", hand / hook
    printf "guest without metadata / /bin/true = %5.2fx   (target <= 1.3)\n", m("L0/plain") / m("L0/true")
    printf "L1 with 10,000 foreign rules / without: hook %5.2fx (target <= 1.2), hand fix %5.2fx, kernel floor %5.2fx\n", m("L1/hook-10k") / m("L1/hook"), m("L1/hand-10k") / m("L1/hand"), m("L1/floor-10k") / m("L1/floor")
    printf "  of which the kernel: floor +%.2f ms; the hook beyond the floor: %.2f ms -> %.2f ms (%.2fx)\n", (m("L1/floor-10k") - m("L1/floor"))/1000, (m("L1/hook") - m("L1/floor"))/1000, (m("L1/hook-10k") - m("L1/floor-10k"))/1000, (m("L1/hook-10k") - m("L1/floor-10k")) / (m("L1/hook") - m("L1/floor"))
    if (m("L1L/hook-legacy") > 0)
        printf "L1 with libvirt'"'"'s rules in legacy xtables: hook %.2f ms, hand fix (3x iptables-legacy -I) %.2f ms, hand fix / hook = %.2fx, /bin/true %.2f ms\n", m("L1L/hook-legacy")/1000, m("L1L/hand-legacy")/1000, m("L1L/hand-legacy") / m("L1L/hook-legacy"), m("L1L/true-legacy")/1000
}' "$T/results.json"
if [ -n "${VN_BENCH_OUT:-}" ]; then
    cp "$T/results.json" "$VN_BENCH_OUT"
fi
