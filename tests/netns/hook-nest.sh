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
# The legacy kinds (libvirt's rules in legacy xtables, alone or beside an
# empty iptables-nft filter table) run all of the above with
# iptables-legacy, and besides:
#   counters    before the exceptions, the legacy LIBVIRT_FWI REJECT's
#               counters grow with every probe; legacy-nft: with the
#               exceptions in iptables-nft's table alone (the legacy
#               backend forced off), L0 -> L2 still fails and the counters
#               still grow, and the stop takes those rules away again
#   one copy    a legacy copy deleted by hand: status calls the rule
#               missing (not ok for the iptables-nft copy), reconcile puts
#               it back
#   restore     iptables-legacy-save (and iptables-nft-save) while the
#               exceptions are in place, a flush, an emptied state
#               directory, the restore: the start adopts the restored
#               copies (3 rules in legacy, 2 in iptables-nft, not twice
#               that), the stop removes every copy
#   binary      without iptables-legacy-save/-restore: the start refuses in
#               one line that names the fix, and changes nothing
#
# Usage: hook-nest.sh BUILDDIR SRCDIR KIND
#   (KIND: libvirt9, seed, nftables, legacy, legacy-nft)
# Exit: 0 pass, 1 fail, 77 skipped (not root, no namespaces, no nftables).
#
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
KIND=$3
case $KIND in libvirt9|seed|nftables|legacy|legacy-nft) ;; *) echo "usage: $0 BUILDDIR SRCDIR libvirt9|seed|nftables|legacy|legacy-nft" >&2; exit 2 ;; esac
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
legacy_kind() { case $KIND in legacy|legacy-nft) return 0 ;; esac; return 1; }
echo "# virt-nest-hook in the seed's nest; firewall: $KIND; namespaces $(nest_ns L0) $(nest_ns L1) $(nest_ns L2)"
. "$SRC/tests/netns/checks.sh"

iptables_lists() {  # WHEN: libvirt itself runs iptables -S; people run -L and -save
    iptables_kind || return 0
    local c out r=0 i ipts=("$NEST_IPT")
    [ "$KIND" = legacy-nft ] && ipts+=(iptables-nft)
    for i in "${ipts[@]}"; do
    for c in "$i -w -S" "$i -w -t nat -S" "$i -w -t mangle -S" \
             "$i -w -L -n -v" "$i-save"; do
        out=$(nest_x L1 $c 2>&1) || { r=1; echo "  # $c: exit status $?"; }
        if grep -qi incompatible <<< "$out"; then r=1; echo "  # $c: $(grep -i incompatible <<< "$out")"; fi
    done
    done
    if [ $r = 0 ]; then ok "$1: iptables -S/-L/iptables-save list L1's tables, nothing incompatible"
    else bad "$1: iptables cannot list L1's tables"; fi
}
virt_nest_rules_listed() {  # iptables -S shows virt-nest's rules with their comments
    local n
    n=$(nest_x L1 "$NEST_IPT_SAVE" | grep -c -- '--comment "virt-nest default ')
    [ "$n" = 3 ] || { echo "  # $NEST_IPT_SAVE shows $n rules of virt-nest, not 3"; return 1; }
    [ "$KIND" = legacy-nft ] || return 0
    # iptables-nft's table has no nat: the two forward exceptions only
    n=$(nest_x L1 iptables-nft-save 2>/dev/null | grep -c -- '--comment "virt-nest default ')
    [ "$n" = 2 ] || { echo "  # iptables-nft-save shows $n rules of virt-nest, not 2"; return 1; }
}
heads() {  # virt-nest's rules first where they must be first
    local f
    if iptables_kind; then
        f=$(nest_x L1 "$NEST_IPT" -w -S FORWARD | sed -n '2,3p')
        grep -c 'virt-nest default ' <<< "$f" | grep -qx 2 || { echo "  # FORWARD begins: $f"; return 1; }
        f=$(nest_x L1 "$NEST_IPT" -w -t nat -S POSTROUTING | sed -n 2p)
        grep -q 'virt-nest default nat' <<< "$f" || { echo "  # nat POSTROUTING begins: $f"; return 1; }
        if [ "$KIND" = legacy-nft ]; then
            f=$(nest_x L1 iptables-nft -w -S FORWARD 2>/dev/null | sed -n '2,3p')
            grep -c 'virt-nest default ' <<< "$f" | grep -qx 2 || { echo "  # iptables-nft FORWARD begins: $f"; return 1; }
        fi
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

# ============================================================ legacy: the REJECT's counters
legacy_rejects() {  # packets L1's legacy LIBVIRT_FWI REJECT has rejected
    nest_x L1 iptables-legacy -w -t filter -L LIBVIRT_FWI -v -n -x | awk '$3 == "REJECT" { print $1 }'
}
l1_same() {  # A B WHAT: L1's snapshots
    if cmp -s "$T/snap.$1.l1" "$T/snap.$2.l1"; then ok "$3"
    else bad "$3"; diff -u --label "L1 $1" --label "L1 $2" "$T/snap.$1.l1" "$T/snap.$2.l1" | sed 's/^/  # /'; fi
}
if legacy_kind; then
    c0=$(legacy_rejects)
    probe
    c1=$(legacy_rejects)
    if [ "${c1:-0}" -gt "${c0:-0}" ]; then
        ok "before the exceptions, L1's legacy LIBVIRT_FWI REJECT counts the probes ($c0 -> $c1 packets)"
    else
        bad "before the exceptions, L1's legacy REJECT counted nothing ($c0 -> $c1): is it the rule in the way?"
    fi
fi
if [ "$KIND" = legacy-nft ]; then
    # what virt-nest did before it had a legacy backend: accepts at the
    # head of iptables-nft's ip filter FORWARD only, which match and end
    # nothing, while legacy xtables still rejects
    nft_only() {  # OP SUBOP
        nest_in L1 env VIRT_NEST_FIREWALL=iptables "$NEST_HOOKS/network" default "$1" "$2" - \
            < "$T/l1-net.xml" > "$T/out" 2> "$T/err"
        HOOK_RC=$?
        [ -s "$T/out" ] && { echo "== nft_only $*"; cat "$T/out"; } >> "$T/stdout.all"
        [ $HOOK_RC = 0 ] && [ ! -s "$T/err" ]
    }
    check "the legacy backend forced off (VIRT_NEST_FIREWALL=iptables): L1 network default started: exit 0, silent" \
        nft_only started begin
    n=$(nest_x L1 iptables-nft-save 2>/dev/null | grep -c -- '--comment "virt-nest default ')
    [ "$n" = 2 ] && ok "... the 2 forward exceptions are in iptables-nft's FORWARD" ||
        bad "... iptables-nft-save shows $n rules of virt-nest, not 2"
    c0=$(legacy_rejects)
    if probe; then
        bad "with the exceptions in iptables-nft alone, L0 <-> L2 works: the legacy REJECT is not in the way?"
    else
        ok "with the exceptions in iptables-nft alone, L0 <-> L2 still fails:$BROKEN"
    fi
    c1=$(legacy_rejects)
    [ "${c1:-0}" -gt "${c0:-0}" ] && ok "... and the legacy REJECT counts the drops ($c0 -> $c1 packets)" ||
        bad "... the legacy REJECT counted nothing ($c0 -> $c1)"
    check "the legacy backend forced off: L1 network default stopped: exit 0, silent" nft_only stopped end
    snap nft-only-stopped handles
    l1_same before nft-only-stopped "... and the stop left L1's ruleset as before (nft -s -a, iptables-save, iptables-legacy-save)"
fi

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

# ============================================================ legacy: restored rules, no binary
legacy_count() {  # TOOL-save: virt-nest's rules it lists in L1
    nest_x L1 "$1" 2>/dev/null | grep -c -- '--comment "virt-nest default '
}
if legacy_kind; then
    # one legacy copy gone (an iptables-legacy -D by hand): with the
    # iptables-nft copy still there, status must not call the rule ok
    check "one copy gone: start hooks: exit 0, silent" start_all
    nest_x L1 iptables-legacy -w -D FORWARD 1
    vn_l1 status --host -c "$L1_URI" > "$T/status.out" 2>&1
    if grep -Eq -- '-o virbr0 +missing' "$T/status.out"; then
        ok "one copy gone: virt-nest status on L1 calls the rule missing"
    else
        bad "one copy gone: virt-nest status on L1 does not call the rule missing:"; sed 's/^/  # /' "$T/status.out"
    fi
    vn_l1 reconcile -c "$L1_URI" > "$T/reconcile.out" 2>&1 &&
        grep -q 'insert rule "virt-nest default in .*legacy ip filter FORWARD' "$T/reconcile.out" &&
        ok "one copy gone: reconcile puts it back: $(tr '\n' ';' < "$T/reconcile.out")" ||
        { bad "one copy gone: reconcile:"; sed 's/^/  # /' "$T/reconcile.out"; }
    works "one copy gone, after reconcile"
    check "one copy gone: stop hooks: exit 0, silent" stop_all
    snap before-restore
    check "restore: start hooks: exit 0, silent" start_all
    nest_x L1 iptables-legacy-save > "$T/rules.v4"
    [ "$KIND" = legacy-nft ] && nest_x L1 iptables-nft-save > "$T/rules.nft" 2>/dev/null
    # a reboot: an empty ruleset, an empty /run; then iptables-persistent
    # restores the saved rules, before libvirt starts the network again
    for t in filter nat mangle; do
        nest_x L1 iptables-legacy -w -t $t -F && nest_x L1 iptables-legacy -w -t $t -X
    done
    [ "$KIND" = legacy-nft ] && nest_x L1 nft flush ruleset
    rm -rf -- "$NEST_STATE_L1" && mkdir "$NEST_STATE_L1"
    nest_x L1 iptables-legacy-restore -w < "$T/rules.v4"
    [ "$KIND" = legacy-nft ] && nest_x L1 iptables-nft-restore < "$T/rules.nft"
    n=$(legacy_count iptables-legacy-save)
    [ "$n" = 3 ] && ok "restore: the saved ruleset brought back virt-nest's 3 legacy rules" ||
        bad "restore: $n legacy rules of virt-nest after the restore, not 3"
    check "restore: L1 network default started (empty state directory): exit 0, silent" start_l1
    n=$(legacy_count iptables-legacy-save)
    [ "$n" = 3 ] && ok "restore: the start adopted the restored copies: 3 legacy rules, not 6" ||
        bad "restore: $n legacy rules of virt-nest after the start, not 3"
    if [ "$KIND" = legacy-nft ]; then
        n=$(legacy_count iptables-nft-save)
        [ "$n" = 2 ] && ok "restore: and 2 in iptables-nft's table, not 4" ||
            bad "restore: $n rules of virt-nest in iptables-nft's table, not 2"
    fi
    works "after the restore and the start"
    vn_l1 status --host -c "$L1_URI" > "$T/status.out" 2>&1
    if grep -Eq 'missing|shadowed|stale' "$T/status.out"; then
        bad "restore: virt-nest status on L1 sees a problem:"; sed 's/^/  # /' "$T/status.out"
    else
        ok "restore: virt-nest status on L1: nothing missing, shadowed or stale"
    fi
    check "restore: L1 network default stopped: exit 0, silent" \
        hook_ok L1 network default stopped end "$T/l1-net.xml"
    n=$(legacy_count iptables-legacy-save)
    m=0; [ "$KIND" = legacy-nft ] && m=$(legacy_count iptables-nft-save)
    [ "$n" = 0 ] && [ "$m" = 0 ] && ok "restore: the stop removed every copy" ||
        bad "restore: after the stop, $n legacy and $m iptables-nft rules of virt-nest are left"
    check "restore: the other stop hooks: exit 0, silent" stop_all
    snap restored
    l1_same before-restore restored "restore: after the stop, L1's ruleset is as before the start (nft -s, iptables-save, iptables-legacy-save)"

    # iptables-legacy-save and -restore missing on a legacy host: one
    # line that says what to install; nothing changes
    hide='for f in iptables-legacy-save iptables-legacy-restore ip6tables-legacy-save ip6tables-legacy-restore; do
              for d in /usr/sbin /sbin; do
                  [ -e "$d/$f" ] && { mount --bind /dev/null "$(readlink -f "$d/$f")" || exit 125; }
              done
          done; exec "$@"'
    snap nobin-before handles
    nest_in L1 sh -c "$hide" sh "$NEST_HOOKS/network" default started begin - \
        < "$T/l1-net.xml" > "$T/out" 2> "$T/err"
    rc=$?
    [ -s "$T/out" ] && { echo "== no binary"; cat "$T/out"; } >> "$T/stdout.all"
    if [ $rc != 0 ] && [ $rc != 125 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q 'install iptables' "$T/err"; then
        ok "without iptables-legacy-save/-restore: refused, exit $rc: $(cat "$T/err")"
    else
        bad "without iptables-legacy-save/-restore: exit $rc, stderr:"; sed 's/^/  # /' "$T/err"
    fi
    snap nobin-after handles
    same nobin-before nobin-after "without the binaries, nothing changed"
    rm -rf -- "$NEST_STATE_L1" && mkdir "$NEST_STATE_L1"
fi

# ============================================================ stdout
if [ -s "$T/stdout.all" ]; then
    bad "a hook wrote to stdout (libvirt takes it as XML for migrate/restore):"
    sed 's/^/  # /' "$T/stdout.all"
else
    ok "no hook wrote anything to stdout"
fi

[ $fail = 0 ] && echo "# PASS ($KIND)" || echo "# FAIL ($KIND)"
exit $fail
