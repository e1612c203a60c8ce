#!/bin/bash
# A new user's first hour (issue 12), on two real libvirtds: L0 (WSL2 in
# the seed) and L1 (its guest debian's own libvirt), and a namespace for the
# L2 guest, followed step by step as README.md tells it, from nothing (no
# hooks, no metadata, Debian's colliding default network on L1) to L0
# reaching L2, and back to nothing. Every step the README gives must run
# with exit 0 and nothing on stderr; every typo a user makes on the way
# must exit non-zero with one line on stderr that names the object, and
# change nothing on either layer (their XML, routes and rules compared
# before and after).
#
# Where the README says `systemctl reload libvirtd` (install-hooks
# --reload), the lab's daemon gets the SIGHUP itself (lab_reload): the lab
# has no systemd. Its hooks directory is the lab's /etc/libvirt/hooks.
#
# Usage: first-hour.sh BUILDDIR SRCDIR. Exit 77 without root or libvirtd.
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
lab_need libvirtd qemu-system-x86_64 tini dnsmasq
LAB_ROOT=$(mktemp -d /tmp/virt-nest-1h.XXXXXX)
LAB_HOOK=
HOOK=$BUILD/hooks/virt-nest-hook
VN=$BUILD/src/virt-nest
L0=vnF0$$
L1=vnF1$$
L2=vnF2$$
cleanup() {
    lab_stop "$L1"
    lab_stop "$L0"
    ip netns del "$L2" 2>/dev/null
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
uri() { _lab_uri "$1"; }
OUT=$LAB_ROOT/out ERR=$LAB_ROOT/err

# virt-nest inside lab $1 (its /run, its libvirt), output in $OUT and $ERR
vn() {
    local lab=$1; shift
    lab_exec "$lab" env LIBVIRT_DEFAULT_URI="$(uri "$lab")" "$VN" "$@" \
        > "$OUT" 2> "$ERR"
}

# A step of the README: exit 0 and not a line on stderr.
step() {
    local what=$1 rc; shift
    "$@"
    rc=$?
    if [ $rc = 0 ] && [ ! -s "$ERR" ]; then
        ok "$what"
    else
        bad "$what: exit $rc, stderr:"
        sed 's/^/    | /' "$ERR"
    fi
}

# Everything of both layers a command could change, in one text.
state() {
    local l n d
    for l in "$L0" "$L1"; do
        echo "== $l"
        for n in $(lab_virsh "$l" net-list --all --name); do
            lab_virsh "$l" net-dumpxml "$n"
            lab_virsh "$l" net-dumpxml --inactive "$n"
        done
        for d in $(lab_virsh "$l" list --all --name); do
            lab_virsh "$l" dumpxml --inactive "$d" | grep -v '<uuid>'
        done
        # (not the link-local addresses, which come when they come)
        lab_net "$l" ip route show table all | grep -v fe80::
        lab_net "$l" iptables-save | grep -v '^#'
        lab_exec "$l" find /etc/libvirt/hooks /run/virt-nest 2>/dev/null | sort
    done
}

# A user's typo: exit 1 or 2, one line on stderr naming $2, nothing changed.
typo() {
    local what=$1 name=$2 rc before after; shift 2
    before=$(state)
    "$@"
    rc=$?
    after=$(state)
    if [ $rc != 1 ] && [ $rc != 2 ]; then
        bad "typo, $what: exit $rc (1 or 2 expected)"
    elif [ "$(wc -l < "$ERR")" != 1 ]; then
        bad "typo, $what: $(wc -l < "$ERR") lines on stderr, not one:"
        sed 's/^/    | /' "$ERR"
    elif ! grep -qF -- "$name" "$ERR"; then
        bad "typo, $what: the line does not name '$name': $(cat "$ERR")"
    elif [ "$before" != "$after" ]; then
        bad "typo, $what: it changed something:"
        diff <(echo "$before") <(echo "$after") | sed 's/^/    | /' | head -20
    else
        ok "typo, $what: exit $rc, one line naming '$name', nothing changed: $(cat "$ERR")"
    fi
}

# --- nothing: two fresh libvirtds, no hooks -------------------------------
lab_start "$L0" && lab_start "$L1" || { echo "FAIL: the labs did not start"; exit 1; }
ip netns add "$L2"
lab_virsh "$L0" net-define "$XML/l0-net-default.xml" >/dev/null
lab_virsh "$L0" net-start default >/dev/null
lab_virsh "$L0" define "$XML/l0-dom-debian-bare.xml" >/dev/null
# (made in the namespaces: no name of this test's in the host's own)
ip link add l1up netns "$L0" type veth peer name enp1s0 netns "$L1"
lab_net "$L0" ip link set l1up master virbr0 up
# the uplink has the MAC of guest debian on L0, so that graph ties the layers
lab_net "$L1" ip link set enp1s0 address 52:54:00:fc:38:e0 up
lab_net "$L1" ip addr add 192.168.122.191/24 dev enp1s0
lab_net "$L1" ip route add default via 192.168.122.1
lab_virsh "$L1" net-define "$XML/l1-net-debian-default.xml" >/dev/null
NOTHING=$(state)

# --- README, Installing (for developers): install-hooks, then reload ------
for l in "$L0" "$L1"; do
    typo "install-hooks --hook with a path that does not exist" /nonexistent/virt-nest-hook \
        vn "$l" install-hooks --hooks-dir /etc/libvirt/hooks --hook /nonexistent/virt-nest-hook
    step "$l: virt-nest install-hooks" \
        vn "$l" install-hooks --hooks-dir /etc/libvirt/hooks --hook "$HOOK"
    lab_reload "$l"
done

# --- README, Usage: status on each layer ------------------------------------
step "L0: virt-nest status" vn "$L0" status
# L1's default network collides with its uplink: status says so, and that
# is a problem of the layer (exit 1), not an error of the user's
vn "$L1" status
check "L1: status names the collision and the subnet to renumber to" \
    "grep -q \"network 'default' (192.168.122.0/24) collides\" '$ERR'"

# --- README, Planning a nested guest: plan --apply --connect-inner --------
typo "plan --network with a network that does not exist" defualt \
    vn "$L0" plan --network defualt --guest debian
typo "plan --apply --connect-inner with an URI that does not answer" no-such-sock \
    vn "$L0" plan --network default --guest debian --apply \
        --connect-inner "qemu+unix:///system?socket=$LAB_ROOT/no-such-sock"
typo "plan --depth beyond the hook's limit" max_entries \
    vn "$L0" plan --network default --guest debian --depth 40
step "L0: virt-nest plan --apply --connect-inner L1" \
    vn "$L0" plan --network default --guest debian --apply --connect-inner "$(uri "$L1")"
AFTER_PLAN=$(state)
check "plan: guest debian nests 192.168.124.0/24 on L0" \
    "lab_virsh $L0 metadata debian urn:virt-nest:1 | grep -q '192.168.124.0/24'"
check "plan: L1's default network renumbered to 192.168.124.0/24 and running" \
    "lab_virsh $L1 net-dumpxml default | grep -q \"address='192.168.124.1'\" && lab_virsh $L1 net-list --name | grep -qx default"
step "L0: the same plan --apply again" \
    vn "$L0" plan --network default --guest debian --apply --connect-inner "$(uri "$L1")"
check "plan --apply a second time changes nothing on either layer" \
    "[ \"\$AFTER_PLAN\" = \"\$(state)\" ]"

# --- README, Metadata: a typo in the namespace, a subnet, the uplink -------
lab_virsh "$L0" dumpxml --inactive debian | sed -e 's/<name>debian</<name>typo</' \
    -e '/<uuid>/d' -e '/<mac /d' -e '/<metadata>/,/<\/metadata>/d' > "$LAB_ROOT/typo.xml"
lab_virsh "$L0" define "$LAB_ROOT/typo.xml" >/dev/null
lab_virsh "$L0" metadata typo urn:virtnest:1 --key nest --config \
    --set '<guest><route subnet="192.168.125.0/24"/></guest>' >/dev/null
vn "$L0" status
check "status warns of guest typo's metadata in namespace urn:virtnest:1" \
    "grep -q \"typo\" '$ERR' && grep -q 'urn:virtnest:1' '$ERR' && grep -q 'urn:virt-nest:1' '$ERR'"
lab_virsh "$L0" metadata typo urn:virtnest:1 --key nest --config --remove >/dev/null
lab_virsh "$L0" metadata typo urn:virt-nest:1 --key nest --config \
    --set '<guest><uplink address="10.5.5.5"/><route subnet="192.168.125.0/24"/></guest>' >/dev/null
vn "$L0" status
check "status flags guest typo's uplink 10.5.5.5 outside network default" \
    "grep -q \"typo\" '$ERR' && grep -q '10.5.5.5' '$ERR'"
before=$(lab_net "$L0" ip route show table all)
err=$(lab_virsh "$L0" start typo 2>&1)
check "virsh start typo is refused by the hook, naming the guest and the address" \
    "echo \"\$err\" | grep -q \"typo\" && echo \"\$err\" | grep -q '10.5.5.5' && ! echo \"\$err\" | grep -q 'Unspecific failure'"
check "and the refused start changed no route" \
    "[ \"\$before\" = \"\$(lab_net $L0 ip route show table all)\" ]"
lab_virsh "$L0" undefine typo >/dev/null

# --- the nest works: L2 on L1's bridge, L0's guest starts ------------------
# L1's libvirt knows its guest l2 (defined, shut off: the namespace stands
# in for it), so that graph ties L2's ens3 to it by its MAC
sed -e 's/<name>debian</<name>l2</' -e 's/52:54:00:fc:38:e0/52:54:00:5a:1a:8e/' \
    -e 's/debian-serial/l2-serial/' "$XML/l0-dom-debian-bare.xml" > "$LAB_ROOT/l2.xml"
lab_virsh "$L1" define "$LAB_ROOT/l2.xml" >/dev/null
lab_l2 "$L1" "$L2" l2port
lab_virsh "$L0" start debian >/dev/null || bad "virsh start debian"
check "L0 reaches L2: ping 192.168.124.91" "lab_net $L0 ping -c2 -W2 192.168.124.91 >/dev/null"
step "L0: status --exit-code: installed, no drift" vn "$L0" status --exit-code
check "L0: status lists the route as installed (ok)" \
    "grep -E '192.168.124.0/24 via 192.168.122.191 dev virbr0' '$OUT' | grep -qw ok"
step "L1: status --exit-code: installed, no drift" vn "$L1" status --exit-code

# --- README, The whole nest: snapshots, graph, doctor ----------------------
step "L0: status --json --host" vn "$L0" status --json --host
cp "$OUT" "$LAB_ROOT/l0.json"
step "L1: status --json --host (guest l2 shut off)" vn "$L1" status --json --host
cp "$OUT" "$LAB_ROOT/l1.json"
ip netns exec "$L2" "$VN" status --json --host -c "test://$SRC/xml/examples/seed-l2.xml" \
    > "$LAB_ROOT/l2.json" 2> "$ERR"
check "L2: status --json --host on the test driver" "[ ! -s '$ERR' ]"
# guest l2 is shut off on L1 (the namespace answers the ping, its TAP is
# not there): doctor says so and how to fix it
vn "$L0" doctor --from 192.168.122.1 --to 192.168.124.91 \
    "$LAB_ROOT/l0.json" "$LAB_ROOT/l1.json" "$LAB_ROOT/l2.json"
check "doctor: guest l2 is shut off on L1, start it" \
    "grep -q '^  DIES at L1: guest l2, which holds 192.168.124.91 (L2), is shut off on L1' '$OUT' && grep -q 'fix: start guest l2 on L1 (virsh start l2)' '$OUT'"
lab_virsh "$L1" start l2 >/dev/null || bad "virsh start l2 on L1"
step "L1: status --json --host (guest l2 running)" vn "$L1" status --json --host
cp "$OUT" "$LAB_ROOT/l1.json"
step "graph of the three snapshots" \
    vn "$L0" graph "$LAB_ROOT/l0.json" "$LAB_ROOT/l1.json" "$LAB_ROOT/l2.json"
check "graph ties L1 to guest debian of L0" "grep -q 'guest debian' '$OUT'"
step "doctor from L0 to L2 on the three snapshots" \
    vn "$L0" doctor --from 192.168.122.1 --to 192.168.124.91 \
        "$LAB_ROOT/l0.json" "$LAB_ROOT/l1.json" "$LAB_ROOT/l2.json"
check "doctor agrees with the ping: reachable" "grep -q '^reachable' '$OUT'" ||
    sed "s/^/    doctor | /" "$OUT"
typo "doctor --from and --to the same address" 192.168.122.1 \
    vn "$L0" doctor --from 192.168.122.1 --to 192.168.122.1 \
        "$LAB_ROOT/l0.json" "$LAB_ROOT/l1.json" "$LAB_ROOT/l2.json"

# --- and back to nothing ----------------------------------------------------
lab_virsh "$L1" destroy l2 >/dev/null
lab_virsh "$L0" destroy debian >/dev/null
lab_virsh "$L1" net-destroy default >/dev/null
for l in "$L0" "$L1"; do
    step "$l: virt-nest uninstall-hooks --purge" \
        vn "$l" uninstall-hooks --hooks-dir /etc/libvirt/hooks --purge
    vn "$l" uninstall-hooks --hooks-dir /etc/libvirt/hooks
    check "$l: a second uninstall-hooks says there is nothing to remove" \
        "[ -s '$OUT' ] && [ ! -s '$ERR' ]"
done
leftovers() {
    local l
    for l in "$L0" "$L1"; do
        lab_net "$l" ip route show table all proto 155
        lab_net "$l" iptables-save | grep virt-nest
        lab_net "$l" nft list ruleset | grep virt-nest
        lab_exec "$l" find /etc/libvirt/hooks /run/virt-nest -mindepth 1 \
            -not -type d 2>/dev/null
    done
}
check "nothing of virt-nest's is left on either layer (routes, rules, hooks, state)" \
    "[ -z \"\$(leftovers)\" ]"
[ $fail = 0 ] || { echo "left over:"; leftovers | sed 's/^/    | /'; }
exit $fail
