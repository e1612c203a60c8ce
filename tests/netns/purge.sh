#!/bin/bash
# virt-nest uninstall-hooks --purge (what the Debian package runs when it is
# removed) in the seed's nest built from network namespaces by lib.sh, with
# one of libvirt's firewalls. The hooks install the route on L0 and the
# exceptions on L1, as libvirt runs them; then, one line per check:
#
#   intact      L0, its state in place, plus a route tagged proto 155 that
#               no ledger records and a route of somebody else's: purge
#               exits 0, removes the hooks (the package's links), the
#               recorded route and the unrecorded tagged one, keeps the
#               other, and removes the state directory; L0 is as before
#               the hooks
#   lost        L1, its state directory deleted, plus a rule with a
#               virt-nest comment that no ledger records and a rule of
#               somebody else's in the same chain: purge finds virt-nest's
#               rules by their comment and removes them, keeps the other;
#               L1 is as before the hooks
#   again       a second purge: exit 0, says nothing is installed, nothing
#               changes
#   foreign     a state directory holding a file that is not virt-nest's:
#               purge exits 1 naming it, and keeps it
#
# Usage: purge.sh BUILDDIR SRCDIR KIND   (KIND: libvirt9, nftables)
# Exit: 0 pass, 1 fail, 77 skipped (not root, no namespaces, no nftables).
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
KIND=$3
case $KIND in libvirt9|nftables) ;; *) echo "usage: $0 BUILDDIR SRCDIR libvirt9|nftables" >&2; exit 2 ;; esac
VN=$BUILD/src/virt-nest
HOOK=$BUILD/hooks/virt-nest-hook
G=$SRC/tests/golden/hook

. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$HOOK"
[ -x "$VN" ] || { echo "FAIL: no $VN (build first)"; exit 1; }
nest_build
nest_firewall "$KIND" || { echo "FAIL: loading the $KIND rules"; exit 1; }
T=$NEST_TMP
fail=0

ok()    { echo "ok - $*"; }
bad()   { echo "FAIL - $*"; fail=1; }
check() {  # WHAT CMD...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

echo "# virt-nest uninstall-hooks --purge in the seed's nest; firewall: $KIND"

# the hook input, as hook-nest.sh takes it from the golden cases
sed -e 's/192\.168\.122\.50/192.168.122.191/' -e "s/name='nest-guest'/name='debian'/" \
    "$G/qemu-started-reservation/state/network/default.xml" > "$T/l0-net.xml"
sed 's/nestguest/debian/g' "$G/qemu-started-reservation/stdin.xml" > "$T/l0-dom.xml"
cp "$G/network-started-peers/stdin.xml" "$T/l1-net.xml"
grep -q '<nest:route subnet="192.168.124.0/24"/>' "$T/l0-dom.xml" &&
    grep -q '<nest:peer subnet="192.168.122.0/24"/>' "$T/l1-net.xml" ||
    { echo "FAIL: the golden hook inputs changed; adapt purge.sh"; exit 1; }

hook_ok() {  # LAYER KIND NAME OP SUBOP XML
    nest_hook "$@" > "$T/out" 2> "$T/err" && [ ! -s "$T/out" ] && [ ! -s "$T/err" ] &&
        return 0
    echo "  # $1 $2 $3 $4 $5: stdout $(cat "$T/out"), stderr $(cat "$T/err")"
    return 1
}
# the hooks as the package installs them: links to the hook
hooks_dir() {  # LAYER
    local d=$T/libvirt-hooks-$1
    mkdir -p "$d/network.d" "$d/qemu.d"
    ln -sf "$HOOK" "$d/network.d/virt-nest"
    ln -sf "$HOOK" "$d/qemu.d/virt-nest"
    echo "$d"
}
purge() {  # LAYER: uninstall-hooks --purge there, as root on that host
    nest_x "$1" env VIRT_NEST_STATE_DIR="$(nest_state_dir "$1")" \
        ${VN_VALGRIND:-} "$VN" uninstall-hooks --purge --hooks-dir "$T/libvirt-hooks-$1" \
        > "$T/purge.out" 2> "$T/purge.err"
}
snap() { nest_snapshot "$1" > "$T/snap.$2.$1"; }
same() {  # LAYER A B WHAT
    if cmp -s "$T/snap.$2.$1" "$T/snap.$3.$1"; then
        ok "$4"
    else
        bad "$4"
        diff -u "$T/snap.$2.$1" "$T/snap.$3.$1" | sed 's/^/  # /' | head -40
    fi
}
out_has() { grep -qxF -- "$1" "$T/purge.out" || { echo "  # output: $(tr '\n' ';' < "$T/purge.out")"; return 1; }; }
out_matches() { grep -qxE -- "$1" "$T/purge.out" || { echo "  # output: $(tr '\n' ';' < "$T/purge.out")"; return 1; }; }
tagged_routes() { ip -n "$(nest_ns "$1")" route show proto 155; }
ours_rules() { nest_x "$1" nft list ruleset 2>/dev/null | grep -c 'comment "virt-nest ' ; }

# the chain a forward exception goes to, per firewall
if [ "$KIND" = nftables ]; then
    FWD="ip libvirt_network forward"
else
    FWD="ip filter FORWARD"
fi

snap L0 before
snap L1 before
hooks_dir L0 > /dev/null
hooks_dir L1 > /dev/null
check "the start hooks (L0 network and qemu started, L1 network started): exit 0, silent" \
    eval 'hook_ok L0 network default started begin "$T/l0-net.xml" &&
          hook_ok L0 qemu debian started begin "$T/l0-dom.xml" &&
          hook_ok L1 network default started begin "$T/l1-net.xml"'
check "L0 has virt-nest's route" eval '[ -n "$(tagged_routes L0)" ]'
check "L1 has virt-nest's rules" eval '[ "$(ours_rules L1)" -ge 2 ]'

# ============================================================ intact
ip -n "$(nest_ns L0)" route add 10.98.0.0/24 via 192.168.122.191 dev virbr0 proto 155
ip -n "$(nest_ns L0)" route add 10.97.0.0/24 via 192.168.122.191 dev virbr0
purge L0
rc=$?
check "L0 (state intact): purge exits 0, nothing on stderr" eval '[ $rc -eq 0 ] && [ ! -s "$T/purge.err" ] || { cat "$T/purge.err"; false; }'
check "it removed the package's links to the hook" \
    eval '[ ! -L "$T/libvirt-hooks-L0/network.d/virt-nest" ] && [ ! -L "$T/libvirt-hooks-L0/qemu.d/virt-nest" ]'
check "it says it removed the recorded route" out_has "domain 'debian': delete route 192.168.124.0/24 via 192.168.122.191 dev virbr0 proto 155"
check "and the tagged route no ledger records" out_has "delete route 10.98.0.0/24 via 192.168.122.191 dev virbr0 proto 155: tagged as virt-nest's, in no record"
check "and the state directory" out_has "removed $NEST_STATE_L0"
check "no route tagged proto 155 is left on L0" eval '[ -z "$(tagged_routes L0)" ]'
check "the state directory is gone" eval '[ ! -e "$NEST_STATE_L0" ]'
check "somebody else's route stays" eval 'ip -n "$(nest_ns L0)" route show 10.97.0.0/24 | grep -q .'
ip -n "$(nest_ns L0)" route del 10.97.0.0/24
snap L0 purged
same L0 before purged "L0 after the purge (and without the other route): as before the hooks"

# ============================================================ lost
nest_x L1 nft insert rule $FWD ip daddr 10.96.0.0/24 counter accept comment '"someone else"'
nest_x L1 nft insert rule $FWD ip daddr 10.95.0.0/24 counter accept comment '"virt-nest stray in 10.94.0.0/24>10.95.0.0/24"'
rm -rf -- "$NEST_STATE_L1"
purge L1
rc=$?
check "L1 (state lost): purge exits 0, nothing on stderr" eval '[ $rc -eq 0 ] && [ ! -s "$T/purge.err" ] || { cat "$T/purge.err"; false; }'
check "it found virt-nest's rules by their comment and removed them" eval '[ "$(ours_rules L1)" -eq 0 ]'
check "it says so, for the stray one too" out_matches "firewall: delete rule \"virt-nest stray in 10\.94\.0\.0/24>10\.95\.0\.0/24\" from $FWD \(handle [0-9]+\): virt-nest's comment, of no network here or in a ledger"
check "somebody else's rule in the same chain stays" \
    eval 'nest_x L1 nft list chain $FWD | grep -q "comment \"someone else\""'
h=$(nest_x L1 nft -a list chain $FWD | sed -n 's/.*comment "someone else" # handle \([0-9]*\)$/\1/p')
nest_x L1 nft delete rule $FWD handle "$h"
snap L1 purged
same L1 before purged "L1 after the purge (and without the other rule): as before the hooks"

# ============================================================ again
purge L0
rc=$?
# (issue 12 item 12: it says so, in one line)
check "a second purge: exit 0, says there is nothing to uninstall" eval \
    '[ $rc -eq 0 ] && [ ! -s "$T/purge.err" ] &&
     [ "$(wc -l < "$T/purge.out")" = 1 ] &&
     grep -q "^nothing to uninstall: no virt-nest hook in " "$T/purge.out"'
snap L0 again
same L0 before again "and nothing changed"
check "it made no state directory" eval '[ ! -e "$NEST_STATE_L0" ]'

# ============================================================ foreign
mkdir -p "$NEST_STATE_L1/network"
echo mine > "$NEST_STATE_L1/network/notes.txt"
purge L1
rc=$?
check "a file that is not virt-nest's in the state directory: exit 1, named" \
    eval '[ $rc -eq 1 ] && grep -qx "virt-nest: $NEST_STATE_L1/network/notes.txt is not virt-nest'"'"'s; remove it by hand" "$T/purge.err"'
check "and kept" eval '[ "$(cat "$NEST_STATE_L1/network/notes.txt")" = mine ]'

[ $fail = 0 ] && echo "# PASS ($KIND)" || echo "# FAIL ($KIND)"
exit $fail
