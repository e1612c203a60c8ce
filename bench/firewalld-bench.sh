#!/bin/bash
# bench/firewalld-bench.sh: what firewalld costs the network hook, against
# firewall-cmd doing the same, in one interleaved run. Needs root, firewalld
# and dbus-daemon (it runs them in a network namespace of its own, on a
# private bus; never outside it).
#
#   bench/firewalld-bench.sh [BUILDDIR] [RUNS]
#
# One host, L1 of the seed's nest (virbr0 on 192.168.124.0/24, libvirt
# 9.0's iptables-nft rules), with firewalld 1.3 (nftables backend) and
# virt-nest's policy, virbr0 in zone libvirt. Compared:
#   true      /bin/true, the floor of starting a process
#   hook-ipt  virt-nest-hook network default started with firewalld left
#             out (VIRT_NEST_FIREWALL=iptables): the hook's cost without
#             firewalld, on the same host
#   hook      the same event with firewalld: the static hook finds table
#             inet firewalld, hands the event to virt-nest-hook-firewalld,
#             which adds the two rich rules over D-Bus
#             (getPolicySettings + setPolicySettings) beside the iptables
#             rules
#   fwcmd     firewall-cmd adding the same two rich rules to the policy
#             (one process, two --add-rich-rule), what a shell hook would
#             run
# Each run is undone before the next (not timed). Prints the medians and
# the ratios: the firewalld part of the hook (hook - hook-ipt) next to
# firewall-cmd.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
BUILD=${1:-$SRC/build}
RUNS=${2:-50}
RUN=$BUILD/bench/vn-bench-run
HOOK=$BUILD/hooks/virt-nest-hook
HELPER=$BUILD/hooks/virt-nest-hook-firewalld
[ "$(id -u)" = 0 ] || { echo "bench/firewalld-bench.sh needs root (network namespaces)" >&2; exit 77; }
for t in firewalld firewall-cmd dbus-daemon iptables-restore; do
    command -v $t >/dev/null || { echo "missing $t" >&2; exit 77; }
done
[ -x "$RUN" ] && [ -x "$HOOK" ] && [ -x "$HELPER" ] || { echo "build first: meson compile -C $BUILD" >&2; exit 1; }

NS=vnfb$$
T=$(mktemp -d /dev/shm/virt-nest-fwbench.XXXXXX)
DBUS_PID= FWD_PID=
cleanup() {
    [ -z "$FWD_PID" ] || { kill "$FWD_PID" 2>/dev/null && wait "$FWD_PID" 2>/dev/null; } || true
    [ -z "$DBUS_PID" ] || { kill "$DBUS_PID" 2>/dev/null && wait "$DBUS_PID" 2>/dev/null; } || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add virbr0 type bridge
ip -n "$NS" addr add 192.168.124.1/24 dev virbr0
ip -n "$NS" link add p0 type veth peer name p1
ip -n "$NS" link set p0 master virbr0 up
ip -n "$NS" link set p1 up
ip -n "$NS" link set virbr0 up
sed 's/192\.168\.122\./192.168.124./g' "$SRC/tests/data/rules/libvirt9-nat-122.iptables" |
    ip netns exec "$NS" iptables-restore

. "$SRC/tests/netns/privbus.sh"
BUS=$T/bus.sock
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$BUS
privbus_config "$T/bus.conf" "$BUS"
privbus_firewalld_copy "$T" nftables
cp "$SRC/data/firewalld/virt-nest.xml" "$T/lib-firewalld/policies/"
ip netns exec "$NS" dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile &
DBUS_PID=$!
for i in $(seq 50); do [ -S "$BUS" ] && break; sleep 0.1; done
ip netns exec "$NS" firewalld --nofork --nopid --system-config "$T/etc-firewalld" \
    --default-config "$T/lib-firewalld" --log-target file --log-file "$T/firewalld.log" &
FWD_PID=$!
for i in $(seq 150); do ip netns exec "$NS" firewall-cmd --state >/dev/null 2>&1 && break; sleep 0.2; done
# libvirt's part: its rules again (firewalld's start may flush), its zone
sed 's/192\.168\.122\./192.168.124./g' "$SRC/tests/data/rules/libvirt9-nat-122.iptables" |
    ip netns exec "$NS" iptables-restore
ip netns exec "$NS" firewall-cmd -q --zone=libvirt --change-interface=virbr0

mkdir -p "$T/hooks" "$T/state" "$T/state-ipt"
cp "$HOOK" "$T/hooks/network"
cp "$HELPER" "$T/hooks/"
cp "$SRC/tests/golden/hook/network-started-peers/stdin.xml" "$T/peers.xml"
B="DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS"
E="VIRT_NEST_STATE_DIR=$T/state"
EI="VIRT_NEST_STATE_DIR=$T/state-ipt"
R1='rule family="ipv4" source address="192.168.122.0/24" destination address="192.168.124.0/24" accept'
R2='rule family="ipv4" source address="192.168.124.0/24" destination address="192.168.122.0/24" accept'
UNDO_HOOK="env $B $E $T/hooks/network default stopped end - < $T/peers.xml"
UNDO_IPT="env $EI VIRT_NEST_FIREWALL=iptables $T/hooks/network default stopped end - < $T/peers.xml"
UNDO_CMD="firewall-cmd -q --policy=virt-nest --remove-rich-rule='$R1' --remove-rich-rule='$R2' 2>/dev/null; true"

echo "virt-nest firewalld benchmark: $RUNS runs each, $(nproc) CPUs, firewalld $(dpkg-query -W -f '${Version}' firewalld 2>/dev/null)" >&2
ip netns exec "$NS" "$RUN" -n "$RUNS" -w 5 \
    true -- /bin/true --- \
    hook-ipt -p "$UNDO_IPT" -e "$EI" -e VIRT_NEST_FIREWALL=iptables -- @"$T/peers.xml" "$T/hooks/network" default started begin - --- \
    hook -p "$UNDO_HOOK" -e "$E" -e "$B" -- @"$T/peers.xml" "$T/hooks/network" default started begin - --- \
    fwcmd -p "$UNDO_CMD" -e "$B" -- /usr/bin/firewall-cmd -q --policy=virt-nest \
        "--add-rich-rule=$R1" "--add-rich-rule=$R2" > "$T/results.json"
eval "$UNDO_HOOK"

awk '
{
    match($0, /"name": "[^"]*"/); n = substr($0, RSTART + 9, RLENGTH - 10)
    match($0, /"median_us": [0-9.]*/); v = substr($0, RSTART + 13, RLENGTH - 13)
    med[n] = v
    printf "%-9s median %9.0f us\n", n, v
}
END {
    part = med["hook"] - med["hook-ipt"]
    printf "\nthe hook with firewalld %.2f ms, without it (same host) %.2f ms: firewalld part (exec of the helper + D-Bus round trips) %.2f ms\n", med["hook"]/1000, med["hook-ipt"]/1000, part/1000
    printf "firewall-cmd adding the same two rich rules: %.2f ms\n", med["fwcmd"]/1000
    printf "  firewall-cmd / firewalld part of the hook = %5.2fx\n", med["fwcmd"] / part
    printf "  firewall-cmd / whole hook with firewalld  = %5.2fx\n", med["fwcmd"] / med["hook"]
}' "$T/results.json"
if [ -n "${VN_BENCH_OUT:-}" ]; then
    cp "$T/results.json" "$VN_BENCH_OUT"
fi
