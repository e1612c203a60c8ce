#!/bin/bash
# Two layers with two real libvirtds: L0 (the outer host) and L1 (its
# guest's libvirt), and a namespace standing in for the L2 guest, set up the
# way the seed's user would with virt-nest: the installed hooks, and
# `virt-nest plan --apply` for the metadata and the inner network.
#
#   L0 libvirtd: network default (virbr0, 192.168.122.0/24, reservation
#       52:54:00:fc:38:e0 -> 192.168.122.191), guest debian (TCG)
#   L1 libvirtd: its uplink is a veth on L0's virbr0 at 192.168.122.191;
#       Debian's own default network, on 192.168.122.0/24 again: it cannot
#       start (the seed's collision) until plan renumbers it
#   L2: a namespace on L1's virbr0
#
# Usage: two-layers.sh BUILDDIR SRCDIR [backports iptables|nftables]
#   without the third argument both daemons are the system's libvirt
#   (Debian 12's 9.0); backports: both run bookworm-backports' libvirt
#   (11.3; tests/libvirt/fetch-libvirt.sh into BUILDDIR/libvirt-backports)
#   with that firewall_backend. Exit 77 when it cannot be had.
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
WHICH=${3:-system}
FW=${4:-iptables}
PROBE=$BUILD/tests/vn-probe
lab_need libvirtd qemu-system-x86_64 tini dnsmasq
lab_use_libvirt "$WHICH" "$FW"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-2l.XXXXXX)
L0=vn2l0$$
L1=vn2l1$$
L2=vn2l2$$
cleanup() {
    lab_stop "$L1"
    lab_stop "$L0"
    ip netns del "$L2" 2>/dev/null
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
# L1's forward chain whose REJECT the exceptions beat, its rules in order
# one a line; and a layer's whole ruleset
if [ "$FW" = nftables ]; then
    FWD="ip libvirt_network forward"
    fwd_rules() { lab_net "$1" nft list chain $FWD | sed -n 's/^\t\t//p' | grep -v '^type '; }
    fwsave() { lab_net "$1" nft -s list ruleset; }
else
    FWD="FORWARD"
    fwd_rules() { lab_net "$1" iptables -S FORWARD | sed -n 's/^-A FORWARD //p'; }
    fwsave() { lab_net "$1" iptables-save; }
fi

lab_start "$L0" && lab_start "$L1" || { echo "FAIL: the labs did not start"; exit 1; }
v0=$(lab_version "$L0") v1=$(lab_version "$L1")
if [ "$WHICH" = backports ]; then
    check "both labs run libvirtd ${LAB_LIBVIRT_PKG%%-*} (bookworm-backports' $LAB_LIBVIRT_PKG), firewall_backend $FW" \
        "[ '$v0' = '${LAB_LIBVIRT_PKG%%-*}' ] && [ '$v1' = '${LAB_LIBVIRT_PKG%%-*}' ]"
else
    check "both labs run the system's libvirtd ($v0, $v1)" \
        "[ '$v0' = \"\$(libvirtd --version | awk '{ print \$NF }')\" ] && [ '$v1' = '$v0' ]"
fi
ip netns add "$L2"

# L0's network, and L1's uplink on it
lab_virsh "$L0" net-define "$XML/l0-net-default.xml" >/dev/null
lab_virsh "$L0" net-start default >/dev/null
ip link add l1up netns "$L0" type veth peer name enp1s0 netns "$L1"
lab_net "$L0" ip link set l1up master virbr0 up
lab_net "$L1" ip link set enp1s0 address 52:54:00:fc:38:e1 up
lab_net "$L1" ip addr add 192.168.122.191/24 dev enp1s0
lab_net "$L1" ip route add default via 192.168.122.1

# L1 as Debian installs it: its default network collides with the uplink
lab_virsh "$L1" net-define "$XML/l1-net-debian-default.xml" >/dev/null
err=$(lab_virsh "$L1" net-start default 2>&1)
check "L1: Debian's default network does not start (the seed's collision)" \
    "echo \"\$err\" | grep -q 'Network is already in use by interface enp1s0'"
lab_exec "$L1" "$LAB_VN" status -c "$(_lab_uri "$L1")" > /dev/null 2> "$LAB_ROOT/l1-status.err"
check "L1: virt-nest status says so, with the subnet to renumber it to" \
    "grep -qx \"virt-nest: this layer: network 'default' (192.168.122.0/24) collides with 192.168.122.191/24 on enp1s0, so libvirt refuses to start it ('Network is already in use by interface enp1s0'); renumber it to 192.168.124.0/24\" '$LAB_ROOT/l1-status.err'"

lab_exec "$L1" "$LAB_VN" plan -c "$(_lab_uri "$L1")" --network default --guest l2 \
    > "$LAB_ROOT/l1-plan.txt" 2>/dev/null
check "L1: virt-nest plan proposes the renumbered network" \
    "grep -A8 'Collisions on this layer' '$LAB_ROOT/l1-plan.txt' | grep -q \"<ip address='192.168.124.1' prefix='24'>\""

# the user's one step: plan on L0, applied to L0 and, through libvirt, to L1
lab_virsh "$L0" define "$XML/l0-dom-debian-bare.xml" >/dev/null
lab_exec "$L0" "$LAB_VN" plan -c "$(_lab_uri "$L0")" --network default --guest debian \
    --apply --connect-inner "$(_lab_uri "$L1")" > "$LAB_ROOT/plan.txt" 2>&1
check "plan --apply --connect-inner exits 0" "[ $? -eq 0 ]"
sed 's/^/    | /' "$LAB_ROOT/plan.txt" | grep -E 'applied|route|reservation'
check "plan: debian keeps its reservation and nests 192.168.124.0/24" \
    "lab_virsh $L0 metadata debian urn:virt-nest:1 | grep -q '192.168.124.0/24'"
check "plan: L1's default network renumbered to 192.168.124.0/24 and running" \
    "lab_virsh $L1 net-dumpxml default | grep -q \"address='192.168.124.1'\" && lab_virsh $L1 net-list --name | grep -qx default"
check "L1's hook let L0's subnet in: virt-nest's exception heads L1's $FWD" \
    "fwd_rules $L1 | sed -n 1p | grep -q 'virt-nest default in 192.168.122.0/24>192.168.124.0/24'"

# L2 on L1's bridge
lab_l2 "$L1" "$L2" vnet0

check "before L0's guest starts, L0 cannot reach L2" \
    "! lab_net $L0 ping -c1 -W1 192.168.124.91 >/dev/null 2>&1"

# L0's guest starts: its hook routes 192.168.124.0/24 via 192.168.122.191
lab_virsh "$L0" start debian >/dev/null || echo "FAIL: virsh start debian"
check "L0: the route to 192.168.124.0/24 via 192.168.122.191 dev virbr0" \
    "lab_net $L0 ip route show proto 155 | grep -qx '192.168.124.0/24 via 192.168.122.191 dev virbr0 '"
check "L0 reaches L2: ping" "lab_net $L0 ping -c2 -W2 192.168.124.91 >/dev/null"

ip netns exec "$L2" "$PROBE" listen 192.168.124.91 7001 > "$LAB_ROOT/l2.out" &
lpid=$!
sleep 0.3
check "L0 reaches L2: TCP" "lab_net $L0 $PROBE connect 192.168.124.91 7001 >/dev/null"
wait "$lpid"
check "L2 sees L0's real address" "grep -qx 192.168.122.1 '$LAB_ROOT/l2.out'"

lab_net "$L0" "$PROBE" listen 192.168.122.1 7002 > "$LAB_ROOT/l0.out" &
lpid=$!
sleep 0.3
check "L2 reaches L0 by TCP" "ip netns exec $L2 $PROBE connect 192.168.122.1 7002 >/dev/null"
wait "$lpid"
check "L0 sees L2's real address (no MASQUERADE towards the peer)" \
    "grep -qx 192.168.124.91 '$LAB_ROOT/l0.out'"

# L1's libvirtd restarts (as on every boot of the guest, or Debian's
# --timeout 120 idling out): libvirt re-creates its own rules and fires no
# network hook. libvirt 9.0 and 11.3's iptables backend leave virt-nest's
# rules where they are; 11.3's nftables backend re-inserts its own rules at
# the heads of its chains, its MASQUERADE above virt-nest's NAT exemption,
# so that L0 sees L1's address: status on L1 must say so, and reconcile fix
# it. Either way L0 still reaches L2.
from_l2() {  # the source address L0 sees on a TCP connection from L2
    lab_net "$L0" "$PROBE" listen 192.168.122.1 7003 > "$LAB_ROOT/l0.out" &
    lpid=$!
    sleep 0.3
    ip netns exec "$L2" "$PROBE" connect 192.168.122.1 7003 >/dev/null
    wait "$lpid"
    grep -v "^listening" "$LAB_ROOT/l0.out"
}
lab_restart "$L1"
check "after L1's libvirtd restart, L0 still reaches L2: ping" "lab_net $L0 ping -c2 -W2 192.168.124.91 >/dev/null"
seen=$(from_l2)
if [ "$seen" = 192.168.124.91 ]; then
    echo "ok: after L1's libvirtd restart, L0 still sees L2's real address"
elif [ "$FW" = nftables ] && [ "$seen" = 192.168.122.191 ]; then
    echo "note: after L1's libvirtd restart, L0 sees L1's 192.168.122.191: libvirt's MASQUERADE came back above virt-nest's NAT exemption"
    lab_exec "$L1" "$LAB_VN" status -c "$(_lab_uri "$L1")" > "$LAB_ROOT/l1-status2.txt" 2>&1
    check "status on L1 shows the NAT exemption shadowed and names reconcile" \
        "grep -q 'no NAT  -s 192.168.124.0/24 -d 192.168.122.0/24 *shadowed' '$LAB_ROOT/l1-status2.txt' && grep -q \"run 'virt-nest reconcile'\" '$LAB_ROOT/l1-status2.txt'"
    lab_exec "$L1" "$LAB_VN" reconcile -c "$(_lab_uri "$L1")" | sed 's/^/    | /'
    check "after reconcile on L1, L0 sees L2's real address again" "[ \"\$(from_l2)\" = 192.168.124.91 ]"
else
    echo "FAIL: after L1's libvirtd restart, L0 sees '${seen:-no connection}' on a connection from L2, not 192.168.124.91"
    fail=1
fi
ip netns exec "$L2" "$PROBE" listen 192.168.124.91 7004 > "$LAB_ROOT/l2.out" &
lpid=$!
sleep 0.3
check "after L1's libvirtd restart, L0 still reaches L2 by TCP" "lab_net $L0 $PROBE connect 192.168.124.91 7004 >/dev/null"
wait "$lpid"
check "and L2 still sees L0's real address" "grep -qx 192.168.122.1 '$LAB_ROOT/l2.out'"

# and both stop cleanly
lab_virsh "$L0" destroy debian >/dev/null
lab_virsh "$L1" net-destroy default >/dev/null
check "after destroy and net-destroy nothing of virt-nest's is left" \
    "[ -z \"\$(lab_net $L0 ip route show proto 155)\" ] && ! fwsave $L1 | grep -q virt-nest && ! fwsave $L0 | grep -q virt-nest"
exit $fail
