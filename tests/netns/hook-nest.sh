#!/bin/bash
# virt-nest-hook in the seed's nest (WSL2 L0 -> debian L1 -> L2), built from
# network namespaces by lib.sh, with one of libvirt's firewalls. The hooks
# run exactly as libvirt runs them (argv[0] named qemu/network, NAME OP
# SUBOP -, the XML on stdin, libvirt's environment, /run/virt-nest private
# to each layer). What this proves, one line per check:
#
#   before      L0 cannot reach L2 (ping, TCP)
#   start       L0 network default started, L0 qemu debian started: the
#               route on L0, and L1's REJECT still answers; then L1 network
#               default started: ping and TCP L0 -> L2 work, L2 sees L0's
#               own 192.168.122.1, and L0 sees L2's own 192.168.124.91 on a
#               connection from L2 (masquerade_peers=false, the default:
#               no MASQUERADE towards the peers); the rules sit at the head
#               of the chains whose REJECT/MASQUERADE they must beat
#   listing     iptables -S, iptables -L, iptables-save still list L1's
#               tables (iptables kinds); nftables: no iptables table made
#   idempotent  every start hook again (and qemu reconnect): the ruleset
#               (with handles) and the routes byte-identical
#   hostile     refused metadata (tests/golden/hook/refused-* on L0,
#               network-refused-* on L1, a guest on L1 nesting L1's own
#               192.168.124.0/24, a guest on L0 nesting its LAN): exit
#               non-zero, one line on stderr, nothing on stdout; ruleset,
#               routes and the records of what is installed unchanged;
#               a guest without metadata: exit 0, nothing changes
#   stop        L1 network stopped, L0 qemu stopped + release, L0 network
#               stopped: ruleset (nft -s -a, iptables-save) and routes
#               byte-identical to before the start hooks; L0 -> L2 closed
#   reload      libvirt re-inserting its own rules (lib.sh
#               nest_libvirt_reload: `rules` as libvirt does it, `jumps`
#               harsher): what still works is checked; what broke is said,
#               `virt-nest status` must see it and `virt-nest reconcile` on
#               L1 must bring everything back (a second reconcile: nothing
#               to change). libvirt9 with libvirt's own reload must not
#               break at all.
#   masquerade  masquerade_peers=true in virt-nest.conf: L0 sees L1's
#               192.168.122.191 instead; no NAT exception installed
#   lost state  the state directories deleted after start: the stop hooks
#               still remove exactly virt-nest's rules and routes (by tag)
#   stdout      no hook ever wrote to stdout
#
# Usage: hook-nest.sh BUILDDIR SRCDIR KIND   (KIND: libvirt9, seed, nftables)
# Exit: 0 pass, 1 fail, 77 skipped (not root, no namespaces, no nftables).
#
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
KIND=$3
case $KIND in libvirt9|seed|nftables) ;; *) echo "usage: $0 BUILDDIR SRCDIR libvirt9|seed|nftables" >&2; exit 2 ;; esac
VN=$BUILD/src/virt-nest
G=$SRC/tests/golden/hook
L1_URI=test://$SRC/xml/examples/seed-l1.xml

. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$BUILD/hooks/virt-nest-hook"
[ -x "$VN" ] || { echo "FAIL: no $VN (build first)"; exit 1; }
nest_build
nest_firewall "$KIND" || { echo "FAIL: loading the $KIND rules"; exit 1; }
T=$NEST_TMP
fail=0

iptables_kind() { [ "$KIND" != nftables ]; }
echo "# virt-nest-hook in the seed's nest; firewall: $KIND; namespaces $(nest_ns L0) $(nest_ns L1) $(nest_ns L2)"
. "$SRC/tests/netns/checks.sh"

iptables_lists() {  # WHEN: libvirt itself runs iptables -S; people run -L and -save
    iptables_kind || return 0
    local c out r=0
    for c in "iptables -w -S" "iptables -w -t nat -S" "iptables -w -t mangle -S" \
             "iptables -w -L -n -v" "iptables-save"; do
        out=$(nest_x L1 $c 2>&1) || { r=1; echo "  # $c: exit status $?"; }
        if grep -qi incompatible <<< "$out"; then r=1; echo "  # $c: $(grep -i incompatible <<< "$out")"; fi
    done
    if [ $r = 0 ]; then ok "$1: iptables -S/-L/iptables-save list L1's tables, nothing incompatible"
    else bad "$1: iptables cannot list L1's tables"; fi
}
virt_nest_rules_listed() {  # iptables -S shows virt-nest's rules with their comments
    local n
    n=$(nest_x L1 iptables-save | grep -c -- '--comment "virt-nest default ')
    [ "$n" = 3 ] || { echo "  # iptables-save shows $n rules of virt-nest, not 3"; return 1; }
}
heads() {  # virt-nest's rules first where they must be first
    local f
    if iptables_kind; then
        f=$(nest_x L1 iptables -w -S FORWARD | sed -n '2,3p')
        grep -c 'virt-nest default ' <<< "$f" | grep -qx 2 || { echo "  # FORWARD begins: $f"; return 1; }
        f=$(nest_x L1 iptables -w -t nat -S POSTROUTING | sed -n 2p)
        grep -q 'virt-nest default nat' <<< "$f" || { echo "  # nat POSTROUTING begins: $f"; return 1; }
    else
        f=$(nest_x L1 nft list chain ip libvirt_network forward | sed -n '4,5p')
        grep -c 'comment "virt-nest default ' <<< "$f" | grep -qx 2 || { echo "  # forward begins: $f"; return 1; }
        f=$(nest_x L1 nft list chain ip libvirt_network guest_nat | sed -n 4p)
        grep -q 'comment "virt-nest default nat' <<< "$f" || { echo "  # guest_nat begins: $f"; return 1; }
    fi
}
no_iptables_tables() {  # the nftables backend: the hook made no ip filter/nat
    local t
    t=$(nest_x L1 nft list tables)
    [ "$t" = "$(printf 'table ip libvirt_network\ntable ip6 libvirt_network')" ] ||
        { echo "  # L1's tables: $t"; return 1; }
}

# ============================================================ before
snap before handles
snap before-nohandles
if ping_l2; then bad "before the hooks: L0 reaches L2 already"; else ok "before the hooks: no ping L0 -> L2"; fi
s=$(src_at_l2)
if [ -z "$s" ]; then ok "before the hooks: no TCP L0 -> L2"; else bad "before the hooks: TCP L0 -> L2 connects ($s)"; fi

# ============================================================ start
check "L0: network default started, qemu debian started: exit 0, silent" start_l0
ip -n "$(nest_ns L0)" route show table all | grep -w 'proto 155' > "$T/r"
check "L0 has the route 192.168.124.0/24 via 192.168.122.191 dev virbr0 proto 155 (virt-nest), no other" \
    grep -qx '192.168.124.0/24 via 192.168.122.191 dev virbr0 proto 155 *' "$T/r"
[ "$(wc -l < "$T/r")" -le 1 ] || bad "L0 has other virt-nest routes: $(tr '\n' ';' < "$T/r")"
nest_x L0 ping -n -c 1 -W 1 192.168.124.91 > "$T/p" 2>&1
check "with the route alone, L1's REJECT answers (From 192.168.122.191 ... Unreachable)" \
    grep -q 'From 192.168.122.191 .*Unreachable' "$T/p"
check "L1: network default started: exit 0, silent" start_l1
works "after the start hooks"
check "virt-nest's rules are at the head of the chains they must beat" heads
if iptables_kind; then
    check "iptables-save lists virt-nest's 3 rules with their comments" virt_nest_rules_listed
else
    check "no iptables table was created in L1 (nftables backend)" no_iptables_tables
fi
iptables_lists "after the start hooks"

# ============================================================ idempotent
snap started handles
if start_all && hook_ok L0 qemu debian reconnect begin "$T/l0-dom.xml"; then
    ok "every start hook again, and qemu reconnect: exit 0, silent"
else
    bad "a start hook failed the second time"
fi
snap again handles
same started again "a second run of every start hook changes nothing (nft -s -a, iptables-save, routes)"

# ============================================================ hostile
ledgers > "$T/ledgers.before"
(cd "$T" && find state-l0 state-l1 -type f -name '*.xml' | sort | xargs -r sha256sum) > "$T/xml.before"
refused() {  # WHAT LAYER KIND NAME OP SUBOP XML
    local what=$1; shift
    hook "$@"
    if [ "$HOOK_RC" -ne 0 ] && [ "$(wc -l < "$T/err")" = 1 ] && [ ! -s "$T/out" ] &&
       grep -q "^virt-nest: \(domain\|network\) '$3': " "$T/err"; then
        ok "$what: refused, exit $HOOK_RC: $(cat "$T/err")"
    else
        bad "$what: exit $HOOK_RC, stdout $(wc -c < "$T/out") bytes, stderr $(wc -l < "$T/err") lines:"
        sed 's/^/  # /' "$T/err"
    fi
}
for d in "$G"/refused-* "$G"/network-refused-*; do
    read -r kind obj op subop < "$d/args"
    layer=L0
    [ "$kind" = network ] && layer=L1
    refused "$layer $(basename "$d")" "$layer" "$kind" "$obj" "$op" "$subop" "$d/stdin.xml"
done
refused "L1 guest debian-l2 nesting 192.168.124.0/24, L1's own network" \
    L1 qemu debian-l2 started begin "$T/l1-dom-own-net.xml"
refused "L0 guest debian nesting 172.24.21.0/24, L0's LAN on eth1" \
    L0 qemu debian started begin "$T/l0-dom-lan.xml"
# a subnet this host routes elsewhere: L0's VPN route 10.113.0.0/16 via
# 169.254.1.1 dev eth0 must not go to a guest
refused "L0 guest vpnthief nesting 10.113.0.0/16, which L0 routes through its VPN" \
    L0 qemu vpnthief started begin "$T/l0-dom-vpn.xml"
snap hostile handles
same again hostile "refused metadata changed no rule and no route"
ledgers > "$T/ledgers.after"
if cmp -s "$T/ledgers.before" "$T/ledgers.after"; then
    ok "refused metadata changed no record of what is installed"
else
    bad "refused metadata changed the records of what is installed:"
    diff "$T/ledgers.before" "$T/ledgers.after" | sed 's/^/  # /'
fi
(cd "$T" && find state-l0 state-l1 -type f -name '*.xml' | sort | xargs -r sha256sum) > "$T/xml.after"
if cmp -s "$T/xml.before" "$T/xml.after"; then
    ok "refused metadata changed no network XML kept in the state directory"
else
    bad "a refused network 'started' changed the network XML in the state directory:$(
        join -j 2 -a 2 "$T/xml.before" "$T/xml.after" |
        awk 'NF == 2 { printf " %s (new)", $1 } NF == 3 && $2 != $3 { printf " %s (replaced)", $1 }')"
fi
hook L0 qemu vpnthief stopped end "$T/l0-dom-vpn.xml"
hook L0 qemu vpnthief release end "$T/l0-dom-vpn.xml"
# a guest without virt-nest metadata: the fast path
hook L0 qemu plain started begin "$T/l0-dom-plain.xml"
rc=$HOOK_RC
snap plain handles
if [ $rc = 0 ] && [ ! -s "$T/err" ] && cmp -s "$T/snap.again.l0" "$T/snap.plain.l0" &&
   [ ! -e "$NEST_STATE_L0/domain/plain.state" ]; then
    ok "a guest without virt-nest metadata: exit 0, nothing changed, nothing recorded"
else
    bad "a guest without metadata: exit $rc, stderr: $(cat "$T/err")"
fi

# ============================================================ stop
check "the stop hooks (L1 network stopped; L0 qemu stopped, release; L0 network stopped): exit 0, silent" stop_all
snap stopped handles
same before stopped "after the stop hooks, ruleset and routes are as before the start hooks, byte for byte (nft -s -a, iptables-save, routes)"
if ping_l2; then bad "after the stop hooks L0 still reaches L2"; else ok "after the stop hooks, L0 -> L2 is closed again"; fi
left=$(cd "$T" && find state-l0 state-l1 -name '*.state')
[ -z "$left" ] && ok "no records left in the state directories" || bad "records left after stop: $left"

# ============================================================ reload
# libvirt fires no hook when it re-creates its rules (libvirt-facts §3)
vn_l1() { nest_in L1 "$VN" "$@"; }
reload_case() {  # MODE
    local mode=$1 what="libvirt re-inserting its rules ($1)"
    nest_libvirt_reload L0 "$mode" && nest_libvirt_reload L1 "$mode" ||
        { bad "$what: the simulation failed"; return; }
    iptables_lists "after $what"
    if probe; then
        ok "after $what, L0 <-> L2 still works with the real addresses"
        return
    fi
    if [ "$KIND:$mode" = libvirt9:rules ]; then
        bad "after $what, broken:$BROKEN (virt-nest's rules must sit above libvirt's jumps)"
    else
        note "after $what, broken:$BROKEN (libvirt put its rules above virt-nest's and fires no hook; reconcile is the fix)"
    fi
    vn_l1 status --host -c "$L1_URI" > "$T/status.out" 2>&1
    if grep -Eq 'shadowed|missing' "$T/status.out"; then
        ok "virt-nest status on L1 sees it: $(grep -Eo '(shadowed|missing)[^;]*' "$T/status.out" | head -1) ... and names reconcile: $(grep -c reconcile "$T/status.out")"
    else
        bad "virt-nest status on L1 does not see it:"; sed 's/^/  # /' "$T/status.out"
    fi
    if vn_l1 reconcile -c "$L1_URI" > "$T/reconcile.out" 2>&1; then
        ok "virt-nest reconcile on L1: exit 0: $(tr '\n' ';' < "$T/reconcile.out")"
    else
        bad "virt-nest reconcile on L1 failed:"; sed 's/^/  # /' "$T/reconcile.out"
    fi
    works "after reconcile"
    check "after reconcile, virt-nest's rules are at the head again" heads
    vn_l1 reconcile -c "$L1_URI" > "$T/reconcile.out" 2>&1
    check "a second reconcile has nothing to change" grep -q '^nothing to change' "$T/reconcile.out"
    iptables_lists "after reconcile"
}
check "start hooks again: exit 0, silent" start_all
probe || bad "L0 <-> L2 does not work after the second start:$BROKEN"
reload_case rules
if [ "$KIND" = seed ]; then
    note "the seed's libvirt has no jump rules of its own: one kind of reload only"
else
    reload_case jumps
fi
check "stop hooks after the reloads: exit 0, silent" stop_all
snap reloaded
same before-nohandles reloaded "after reloads, reconcile and the stop hooks, ruleset and routes are as before (nft -s, iptables-save, routes)"

# ============================================================ masquerade_peers
printf '[firewall]\nmasquerade_peers=true\n' > "$T/masq.conf"
NEST_CONF=$T/masq.conf
EXPECT_AT_L0=192.168.122.191
check "masquerade_peers=true: start hooks: exit 0, silent" start_all
works "masquerade_peers=true"
if nest_x L1 nft list ruleset 2>/dev/null | grep -q "virt-nest default nat"; then
    bad "masquerade_peers=true: virt-nest still exempts the peers from MASQUERADE"
else
    ok "masquerade_peers=true: no NAT exception installed"
fi
check "masquerade_peers=true: stop hooks: exit 0, silent" stop_all
NEST_CONF=
EXPECT_AT_L0=192.168.124.91
snap masq
same before-nohandles masq "masquerade_peers=true: after the stop hooks, as before"

# ============================================================ lost state
check "start hooks once more: exit 0, silent" start_all
probe || bad "L0 <-> L2 does not work after the third start:$BROKEN"
rm -rf -- "$NEST_STATE_L0" "$NEST_STATE_L1"
# nest_in: no state directory, no /run/virt-nest (as after rm -rf)
check "state directories lost: the stop hooks exit 0, silent" stop_all
snap lost
same before-nohandles lost "state directories lost: the stop hooks still removed exactly virt-nest's rules and routes"
mkdir "$NEST_STATE_L0" "$NEST_STATE_L1"
iptables_lists "at the end"

# ============================================================ stdout
if [ -s "$T/stdout.all" ]; then
    bad "a hook wrote to stdout (libvirt takes it as XML for migrate/restore):"
    sed 's/^/  # /' "$T/stdout.all"
else
    ok "no hook wrote anything to stdout"
fi

[ $fail = 0 ] && echo "# PASS ($KIND)" || echo "# FAIL ($KIND)"
exit $fail
