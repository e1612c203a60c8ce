#!/bin/bash
# Names libvirt allows (it forbids only '/') through the real hook in the
# seed's nest (tests/netns/lib.sh), with one of libvirt's firewalls: a
# network of L1 named with '[', ']', '=', '#', quotes, spaces, backslashes,
# non-ASCII and control bytes, one name at a time. What this proves, for
# each name:
#
#   start       network NAME started: exit 0, silent; 3 rules of virt-nest
#               whose comments start "virt-nest ESCAPED " (ESCAPED as
#               tests/netns/names.py computes it, independently of the C)
#   listing     iptables -S/-L and iptables-save list L1's tables, nothing
#               incompatible; iptables-save | iptables-restore into an
#               empty namespace gives the same iptables-save (iptables
#               kinds); nft -s list ruleset | nft -f likewise (nftables)
#   status      virt-nest status --host --json (libvirt's test driver with
#               the network renamed): the 3 rules needed are "ok", every
#               installed item is "ok", nothing to reconcile
#   reconcile   nothing to change
#   stop        network NAME stopped: exit 0, silent; ruleset (nft -s -a
#               list ruleset, iptables-save) and routes byte-identical to
#               before the start; nothing left in the state directory
#   reload      started again, then libvirt re-creates its jumps (lib.sh
#               nest_libvirt_reload L1 jumps): status sees the drift,
#               reconcile repairs it, a second one has nothing to do; after
#               stop the ruleset is as before (without handles)
#   prefixes    networks 'a' and 'a b' both started, the state lost:
#               stopping 'a' (its rules found by tag) leaves those of 'a b'
#   upgrade     '[x]' started, its ledger replaced by what version 1 wrote
#               (no rules: GKeyFile refused them): stop finds them by tag
#   domains     a guest on L0 with such a name: qemu started installs its
#               route, stopped and release remove it, byte-identical
#
# Usage: hook-names.sh BUILDDIR SRCDIR KIND   (KIND: libvirt9, seed, nftables,
#   legacy: libvirt's rules and virt-nest's in legacy xtables, with
#   iptables-legacy where the others use iptables)
# Exit: 0 pass, 1 fail, 77 skipped (not root, no namespaces, no nftables).
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
KIND=$3
case $KIND in libvirt9|seed|nftables|legacy) ;; *) echo "usage: $0 BUILDDIR SRCDIR libvirt9|seed|nftables|legacy" >&2; exit 2 ;; esac
VN=$BUILD/src/virt-nest
G=$SRC/tests/golden/hook
NAMES_PY=$SRC/tests/netns/names.py

. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$BUILD/hooks/virt-nest-hook"
[ -x "$VN" ] || { echo "FAIL: no $VN (build first)"; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is missing"; exit 1; }
nest_build
nest_firewall "$KIND" || { echo "FAIL: loading the $KIND rules"; exit 1; }
T=$NEST_TMP
fail=0
ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
iptables_kind() { [ "$KIND" != nftables ]; }

# an empty namespace to restore saved rulesets into
RT=vns$$-rt
if [ -e "/run/netns/$RT" ]; then echo "FAIL: namespace $RT exists already; not touching it"; exit 1; fi
ip netns add "$RT" || { echo "FAIL: ip netns add $RT"; exit 1; }
NEST_CREATED_NS+=("$RT")
# libvirt's nftables rules name virbr0 by index (iif/oif): it must exist
ip -n "$RT" link add virbr0 type bridge || { echo "FAIL: a bridge in $RT"; exit 1; }

# The names, NUL-separated (bash cannot hold a NUL, libvirt's names cannot
# either): printable oddities, quotes and backslashes, non-ASCII, and the
# control bytes XML can carry (tab, newline, carriage return).
python3 "$NAMES_PY" list > "$T/names"
mapfile -d '' NAMES < "$T/names"
[ ${#NAMES[@]} -ge 14 ] || { echo "FAIL: names.py gave ${#NAMES[@]} names"; exit 1; }
shown() { python3 "$NAMES_PY" show "$1"; }

hook() {  # LAYER KIND NAME OP SUBOP XML: exit 0 and silent, else say why
    nest_hook "$@" > "$T/out" 2> "$T/err"
    local rc=$?
    [ $rc = 0 ] && [ ! -s "$T/out" ] && [ ! -s "$T/err" ] && return 0
    echo "  # $1 $2 $4 $5: exit $rc, stdout $(wc -c < "$T/out") bytes, stderr: $(cat "$T/err")"
    return 1
}
snap() { nest_snapshot "$1" handles > "$T/snap.$2"; }
same() {  # A B: the snapshots are byte-identical
    cmp -s "$T/snap.$1" "$T/snap.$2" && return 0
    diff -u "$T/snap.$1" "$T/snap.$2" | head -40 | sed 's/^/  # /'
    return 1
}
# virt-nest's rules in L1, one comment a line
our_comments() {
    if iptables_kind; then
        nest_x L1 "$NEST_IPT_SAVE" | python3 "$NAMES_PY" comments iptables
    else
        nest_x L1 nft list ruleset | python3 "$NAMES_PY" comments nft
    fi
}
ipt_norm() { grep -v '^# \(Generated\|Completed\) ' | sed 's/ \[[0-9]*:[0-9]*\]$//'; }
# legacy iptables-save prints its tables in the order the kernel made them
# (/proc/net/ip_tables_names), which a restore does not keep: by name
ipt_by_table() {
    [ "$KIND" = legacy ] || { cat; return; }
    python3 -c 'import re, sys
sys.stdout.write("".join(sorted(re.findall(r"^\*.*?^COMMIT\n", sys.stdin.read(), re.M | re.S))))'
}
round_trip() {  # the saved ruleset restores as it was, in an empty namespace
    ip netns exec "$RT" nft flush ruleset
    if iptables_kind; then
        nest_x L1 "$NEST_IPT_SAVE" | ipt_norm | ipt_by_table > "$T/save.a"
        ip netns exec "$RT" "$NEST_IPT_RESTORE" < "$T/save.a" 2> "$T/rt.err" ||
            { echo "  # $NEST_IPT_RESTORE: $(cat "$T/rt.err")"; return 1; }
        ip netns exec "$RT" "$NEST_IPT_SAVE" | ipt_norm | ipt_by_table > "$T/save.b"
    else
        nest_x L1 nft -s list ruleset > "$T/save.a"
        ip netns exec "$RT" nft -f "$T/save.a" 2> "$T/rt.err" ||
            { echo "  # nft -f: $(head -3 "$T/rt.err")"; return 1; }
        ip netns exec "$RT" nft -s list ruleset > "$T/save.b"
    fi
    cmp -s "$T/save.a" "$T/save.b" ||
        { diff -u "$T/save.a" "$T/save.b" | head -20 | sed 's/^/  # /'; return 1; }
}
lists() {  # iptables itself, and libvirt's iptables -S, still read L1
    iptables_kind || return 0
    local c out
    for c in "$NEST_IPT -w -S" "$NEST_IPT -w -t nat -S" "$NEST_IPT -w -L -n -v" "$NEST_IPT_SAVE"; do
        out=$(nest_x L1 $c 2>&1) || { echo "  # $c: exit status $?"; return 1; }
        if grep -qi incompatible <<< "$out"; then echo "  # $c: $(grep -i incompatible <<< "$out")"; return 1; fi
    done
}
status_json() {  # NODE: virt-nest status --host --json on L1
    nest_in L1 "$VN" status --host --json -c "test://$1" > "$T/status.json" 2> "$T/status.err"
}
status_ok() {  # NODE: every rule needed is ok, nothing to reconcile
    status_json "$1" || { echo "  # status: exit $?: $(cat "$T/status.err")"; return 1; }
    jq -e '(.needs.rules | length == 3) and (.needs.rules | all(.state == "ok")) and
           (.installed.reconcile_needed == false) and
           (.installed.items | length == 3) and (.installed.items | all(.state == "ok"))' \
        "$T/status.json" > /dev/null && return 0
    jq -c '{rules: [.needs.rules[] | {comment, state}], installed}' "$T/status.json" | sed 's/^/  # /'
    return 1
}
status_drift() {  # NODE: status sees what libvirt's reload did
    status_json "$1" || true
    jq -e '.installed.reconcile_needed == true' "$T/status.json" > /dev/null
}
reconcile() {  # NODE: reconcile's output in $T/reconcile.out
    nest_in L1 "$VN" reconcile -c "test://$1" > "$T/reconcile.out" 2>&1 ||
        { echo "  # reconcile: exit $?: $(cat "$T/reconcile.out")"; return 1; }
}
state_empty() {  # L1 keeps nothing, L0 only its network default
    local left
    left=$(cd "$T" && find state-l0 state-l1 -type f \( -name '*.state' -o -name '*.xml' \) \
           ! -path state-l0/network/default.xml)
    [ -z "$left" ] || { echo "  # left in the state directories: $left"; return 1; }
}

echo "# virt-nest-hook with hostile names; firewall: $KIND; namespaces $(nest_ns L0) $(nest_ns L1) $(nest_ns L2) $RT"
snap L1 before.l1
snap L0 before.l0
nest_snapshot L1 > "$T/snap.before-nh.l1"
# L0's network, for the domain cases
sed -e 's/192\.168\.122\.50/192.168.122.191/' -e "s/name='nest-guest'/name='debian'/" \
    "$G/qemu-started-reservation/state/network/default.xml" > "$T/l0-net.xml"
hook L0 network default started begin "$T/l0-net.xml" || bad "L0 network default started"

i=0
for name in "${NAMES[@]}"; do
    i=$((i + 1))
    what="network $(shown "$name")"
    python3 "$NAMES_PY" network "$name" < "$G/network-started-peers/stdin.xml" > "$T/net.$i.xml"
    python3 "$NAMES_PY" node "$name" < "$SRC/xml/examples/seed-l1.xml" > "$T/node.$i.xml"
    node=$T/node.$i.xml
    prefix=$(python3 "$NAMES_PY" prefix "$name")

    snap L1 iter.l1
    nest_snapshot L1 > "$T/snap.iter-nh.l1"

    # ---- start
    if ! hook L1 network "$name" started begin "$T/net.$i.xml"; then
        bad "$what: started"
        continue
    fi
    our_comments > "$T/comments"
    n=$(grep -c . "$T/comments")
    if [ "$n" = 3 ] && ! grep -qvF -- "$prefix" "$T/comments"; then
        ok "$what: started: 3 rules, comments start \"$prefix\""
    else
        bad "$what: started: $n rules of virt-nest, comments:"; sed 's/^/  # /' "$T/comments"
    fi
    if lists; then ok "$what: iptables lists L1's tables"; else bad "$what: iptables cannot list L1"; fi
    if round_trip; then
        iptables_kind && ok "$what: iptables-save | iptables-restore gives the same rules" ||
            ok "$what: nft list ruleset | nft -f gives the same ruleset"
    else
        bad "$what: the saved ruleset does not restore as it was"
    fi

    # ---- status and reconcile
    if status_ok "$node"; then ok "$what: status: 3 rules ok, nothing to reconcile"
    else bad "$what: status does not see the rules as installed and ok"; fi
    if reconcile "$node" && grep -q '^nothing to change' "$T/reconcile.out"; then
        ok "$what: reconcile: nothing to change"
    else
        bad "$what: reconcile changed something:"; sed 's/^/  # /' "$T/reconcile.out"
    fi

    # ---- stop
    if hook L1 network "$name" stopped end "$T/net.$i.xml"; then ok "$what: stopped"
    else bad "$what: stopped"; fi
    if [ -z "$(our_comments)" ]; then ok "$what: stopped: no rule of virt-nest left"
    else bad "$what: stopped: rules left:"; our_comments | sed 's/^/  # /'; fi
    if state_empty; then ok "$what: stopped: no record left"; else bad "$what: records left"; fi
    snap L1 stopped.l1
    if same iter.l1 stopped.l1; then
        ok "$what: stopped: ruleset and routes as before the start, byte for byte (nft -s -a, iptables-save)"
    else
        bad "$what: stopped: the ruleset changed"
    fi

    # ---- again, with libvirt re-creating its jumps in between
    hook L1 network "$name" started begin "$T/net.$i.xml" || bad "$what: started again"
    nest_libvirt_reload L1 jumps || bad "$what: the reload simulation failed"
    if status_drift "$node"; then ok "$what: after libvirt's reload, status says reconcile"
    else bad "$what: after libvirt's reload, status sees no drift"; fi
    if reconcile "$node" && ! grep -q '^nothing to change' "$T/reconcile.out" && status_ok "$node"; then
        ok "$what: reconcile repairs it: $(grep -c . "$T/reconcile.out") lines, status ok again"
    else
        bad "$what: reconcile did not repair:"; sed 's/^/  # /' "$T/reconcile.out"
    fi
    if reconcile "$node" && grep -q '^nothing to change' "$T/reconcile.out"; then
        ok "$what: a second reconcile: nothing to change"
    else
        bad "$what: a second reconcile changed something:"; sed 's/^/  # /' "$T/reconcile.out"
    fi
    hook L1 network "$name" stopped end "$T/net.$i.xml" || bad "$what: stopped again"
    nest_snapshot L1 > "$T/snap.reloaded.l1"
    if same iter-nh.l1 reloaded.l1 && state_empty; then
        ok "$what: after the reload, reconcile and stop: ruleset and routes as before (nft -s, iptables-save), no record left"
    else
        bad "$what: after the reload, reconcile and stop: changed"
    fi

    # ---- a guest of that name on L0
    python3 "$NAMES_PY" domain "$name" < "$G/qemu-started-reservation/stdin.xml" |
        sed 's/nestguest/debian/g' > "$T/dom.$i.xml"
    what="domain $(shown "$name")"
    if hook L0 qemu "$name" started begin "$T/dom.$i.xml" &&
       ip -n "$(nest_ns L0)" route show proto 155 | grep -q '^192.168.124.0/24 via 192.168.122.191 dev virbr0'; then
        ok "$what: started: the route is there"
    else
        bad "$what: started: no route"
    fi
    if hook L0 qemu "$name" stopped end "$T/dom.$i.xml" &&
       hook L0 qemu "$name" release end "$T/dom.$i.xml" &&
       [ -z "$(ip -n "$(nest_ns L0)" route show proto 155)" ]; then
        ok "$what: stopped, release: the route is gone"
    else
        bad "$what: stopped: the route stayed"
    fi
done

# ---- one network's prefix is never the start of another's comments: with
# the state lost, stopping 'a' (found by tag) leaves the rules of 'a b'
for name in a "a b"; do
    python3 "$NAMES_PY" network "$name" < "$G/network-started-peers/stdin.xml" > "$T/net.$name.xml"
done
# two networks on one bridge: 'a b' for the 192.168.122.0/24 peer, 'a'
# for another
sed 's#192\.168\.122\.0/24#10.99.0.0/16#' "$T/net.a.xml" > "$T/net.a2.xml"
if hook L1 network "a b" started begin "$T/net.a b.xml" && hook L1 network a started begin "$T/net.a2.xml"; then
    our_comments > "$T/c.both"
    rm -rf -- "$NEST_STATE_L1"
    hook L1 network a stopped end "$T/net.a2.xml" || bad "network 'a' stopped with the state lost"
    our_comments > "$T/c.left"
    if [ "$(grep -c . "$T/c.both")" = 6 ] && [ "$(grep -c . "$T/c.left")" = 3 ] &&
       ! grep -qvF 'virt-nest a%20b ' "$T/c.left"; then
        ok "state lost: stopping 'a' found its 3 rules by tag and left the 3 of 'a b'"
    else
        bad "state lost: stopping 'a' took the wrong rules; before:"; sed 's/^/  # /' "$T/c.both"
        echo "  # after:"; sed 's/^/  # /' "$T/c.left"
    fi
    hook L1 network "a b" stopped end "$T/net.a b.xml" || bad "network 'a b' stopped with the state lost"
    mkdir "$NEST_STATE_L1"
else
    bad "networks 'a b' and 'a' started"
fi

# ---- an upgrade: version 1 left network '[x]' a ledger without its rules
# (GKeyFile refused "[rule virt-nest [x] ...]"); stopping it now finds
# them by tag
python3 "$NAMES_PY" network "[x]" < "$G/network-started-peers/stdin.xml" > "$T/net.x.xml"
if hook L1 network "[x]" started begin "$T/net.x.xml"; then
    printf '[ledger]\nversion=1\nobject=network\nname=[x]\nfirewall=%s\n' \
        "$(iptables_kind && echo iptables || echo nftables)" > "$NEST_STATE_L1/network/[x].state"
    hook L1 network "[x]" stopped end "$T/net.x.xml" || bad "network '[x]' stopped after the upgrade"
    left=$(our_comments)
    if [ -z "$left" ]; then ok "upgrade: a version 1 ledger of '[x]' without rules: stop found its 3 rules by tag"
    else bad "upgrade: rules of '[x]' left:"; echo "$left" | sed 's/^/  # /'; fi
else
    bad "network '[x]' started (upgrade case)"
fi

hook L0 network default stopped end "$T/l0-net.xml" || bad "L0 network default stopped"
snap L0 stopped.l0
nest_snapshot L1 > "$T/snap.end-nh.l1"
if same before.l0 stopped.l0 && same before-nh.l1 end-nh.l1; then
    ok "every name: L0 (with handles) and L1 (without: libvirt's reloads renumbered them) as before"
else
    bad "every name: L0 or L1 changed"
fi
if state_empty; then ok "nothing left in the state directories"; else bad "records left at the end"; fi

[ $fail = 0 ] && echo "# PASS ($KIND, ${#NAMES[@]} names)" || echo "# FAIL ($KIND)"
exit $fail
