# tests/netns/checks.sh: what the namespace tests of the hook share, on
# top of lib.sh (source lib.sh, call nest_init and nest_build, set T to a
# directory of the test's own and G to tests/golden/hook, then source this):
#
#   ok/bad/note WHAT, check WHAT CMD...   one line each; bad sets fail=1
#   $T/l0-net.xml, l0-dom.xml, l1-net.xml, l1-dom-own-net.xml,
#   l0-dom-lan.xml, l0-dom-vpn.xml, l0-dom-plain.xml
#                           the hook inputs of the seed's nest, from the
#                           golden cases, as libvirt 9.0 passes them
#   hook LAYER KIND NAME OP SUBOP XML, hook_ok ...
#                           the hook as libvirt runs it; stdout and stderr
#                           in $T/out, $T/err (anything on stdout is
#                           collected in $T/stdout.all)
#   start_l0, start_l1, start_all, stop_all
#                           the seed's start and stop events in libvirt's
#                           order
#   snap NAME [handles], same A B WHAT
#                           snapshots of L0 and L1 (lib.sh nest_snapshot)
#                           and their comparison, byte for byte
#   ledgers                 the records of what is installed
#   works WHAT, probe       L0 <-> L2 by ping and TCP both ways, with the
#                           real addresses (EXPECT_AT_L0: what L0 sees of
#                           L2); probe quietly, BROKEN says what failed
fail=0
ok()    { echo "ok - $*"; }
bad()   { echo "FAIL - $*"; fail=1; }
note()  { echo "note - $*"; }
check() {  # WHAT CMD...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# --- the hook input, as libvirt 9.0 passes it (from the golden cases)
sed -e 's/192\.168\.122\.50/192.168.122.191/' -e "s/name='nest-guest'/name='debian'/" \
    "$G/qemu-started-reservation/state/network/default.xml" > "$T/l0-net.xml"
sed 's/nestguest/debian/g' "$G/qemu-started-reservation/stdin.xml" > "$T/l0-dom.xml"
cp "$G/network-started-peers/stdin.xml" "$T/l1-net.xml"
grep -q "<host mac='52:54:00:fc:38:e0' name='debian' ip='192.168.122.191'/>" "$T/l0-net.xml" &&
    grep -q '<name>debian</name>' "$T/l0-dom.xml" &&
    grep -q '<nest:route subnet="192.168.124.0/24"/>' "$T/l0-dom.xml" &&
    grep -q '<nest:peer subnet="192.168.122.0/24"/>' "$T/l1-net.xml" ||
    { echo "FAIL: the golden hook inputs changed; adapt tests/netns/checks.sh"; exit 1; }
# hostile, beyond the golden cases: debian's guest on L1 nesting L1's own
# network; debian on L0 nesting L0's LAN (eth1)
sed -e 's/nestguest/debian-l2/g' -e 's/52:54:00:fc:38:e0/52:54:00:5a:1a:8e/' \
    "$G/qemu-started-reservation/stdin.xml" > "$T/l1-dom-own-net.xml"
sed 's#192\.168\.124\.0/24#172.24.21.0/24#' "$T/l0-dom.xml" > "$T/l0-dom-lan.xml"
# debian on L0 claiming 10.113.0.0/16, which L0 routes through its VPN
sed -e 's#192\.168\.124\.0/24#10.113.0.0/16#' -e 's/debian/vpnthief/g' "$T/l0-dom.xml" > "$T/l0-dom-vpn.xml"
# a guest without virt-nest metadata
sed -e '/<metadata>/,/<\/metadata>/d' -e 's/debian/plain/g' "$T/l0-dom.xml" > "$T/l0-dom-plain.xml"

# --- running hooks
HOOK_RC=0
: > "$T/stdout.all"
hook() {  # LAYER KIND NAME OP SUBOP XML: stdout and stderr kept in $T/out, $T/err
    nest_hook "$@" > "$T/out" 2> "$T/err"
    HOOK_RC=$?
    if [ -s "$T/out" ]; then
        { echo "== $*"; cat "$T/out"; } >> "$T/stdout.all"
    fi
    return $HOOK_RC
}
hook_ok() {  # as hook; a failure is reported
    hook "$@" && [ ! -s "$T/err" ] && return 0
    echo "  # $1 $2 $3 $4 $5: exit $HOOK_RC, stderr: $(cat "$T/err")"
    return 1
}
start_l0() {
    hook_ok L0 network default started begin "$T/l0-net.xml" &&
    hook_ok L0 qemu debian started begin "$T/l0-dom.xml"
}
start_l1() { hook_ok L1 network default started begin "$T/l1-net.xml"; }
start_all() { start_l0 && start_l1; }
# libvirt's order: L1 shuts down (its network stops), then its guest
# debian on L0 (stopped, port-deleted, release), then L0's network
stop_all() {
    local r=0
    hook_ok L1 network default stopped end "$T/l1-net.xml" || r=1
    hook_ok L0 qemu debian stopped end "$T/l0-dom.xml" || r=1
    hook_ok L0 qemu debian release end "$T/l0-dom.xml" || r=1
    hook_ok L0 network default stopped end "$T/l0-net.xml" || r=1
    return $r
}

# --- looking
snap() {  # NAME [handles]: L0 and L1
    nest_snapshot L0 "${2:-}" > "$T/snap.$1.l0"
    nest_snapshot L1 "${2:-}" > "$T/snap.$1.l1"
}
same() {  # A B WHAT
    if cmp -s "$T/snap.$1.l0" "$T/snap.$2.l0" && cmp -s "$T/snap.$1.l1" "$T/snap.$2.l1"; then
        ok "$3"
    else
        bad "$3"
        diff -u --label "L0 $1" --label "L0 $2" "$T/snap.$1.l0" "$T/snap.$2.l0" | sed 's/^/  # /'
        diff -u --label "L1 $1" --label "L1 $2" "$T/snap.$1.l1" "$T/snap.$2.l1" | sed 's/^/  # /'
    fi
}
ledgers() {  # the records of what is installed (not the kept network XML)
    (cd "$T" && find state-l0 state-l1 -type f \( -name '*.state' -o -name intact \) |
        sort | xargs -r sha256sum)
}
ping_l2() { nest_ping L0 192.168.124.91; }
# the source address the other end sees, both ways
src_at_l2() { nest_tcp L0 L2 192.168.124.91 $((20000 + RANDOM % 20000)); }
src_at_l0() { nest_tcp L2 L0 192.168.122.1 $((20000 + RANDOM % 20000)); }
EXPECT_AT_L0=192.168.124.91
# WHAT: L0 -> L2 by ping and TCP with L0's own address, and L2 -> L0 with
# $EXPECT_AT_L0; one line each; status 1 if any is wrong (BROKEN says which)
works() {
    local r=0 s
    BROKEN=
    if ping_l2; then ok "$1: ping L0 -> L2"; else bad "$1: ping L0 -> L2"; r=1; BROKEN+=" ping"; fi
    s=$(src_at_l2)
    if [ "$s" = 192.168.122.1 ]; then ok "$1: TCP L0 -> L2 arrives from 192.168.122.1"
    else bad "$1: TCP L0 -> L2: L2 saw '${s:-no connection}', not 192.168.122.1"; r=1; BROKEN+=" tcp-in"; fi
    s=$(src_at_l0)
    if [ "$s" = "$EXPECT_AT_L0" ]; then ok "$1: TCP L2 -> L0 arrives from $EXPECT_AT_L0"
    else bad "$1: TCP L2 -> L0: L0 saw '${s:-no connection}', not $EXPECT_AT_L0"; r=1; BROKEN+=" tcp-out"; fi
    return $r
}
# the same, quietly: which of the three fail
probe() {
    BROKEN=
    ping_l2 || BROKEN+=" ping"
    [ "$(src_at_l2)" = 192.168.122.1 ] || BROKEN+=" tcp-in"
    [ "$(src_at_l0)" = "$EXPECT_AT_L0" ] || BROKEN+=" tcp-out"
    [ -z "$BROKEN" ]
}
