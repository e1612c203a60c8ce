#!/bin/bash
# The hook on the metadata of tests/data/bad/checks.xml, in a network
# namespace of its own with real netlink (issue 12 items 5, 6): status and
# the hook must check the same things, in the same words.
#
#   same line   each refused object (an uplink address outside its network,
#               the host's own address, an IPv6 route on a network without
#               IPv6): qemu prepare and started exit 1 with exactly the
#               line `virt-nest status` prints for it, nothing on stdout;
#               routes and the state directory unchanged
#   warnings    each namespace that only looks like virt-nest's (domains,
#               and a network's start and started): exit 0, the status
#               line as a warning on stderr, nothing installed
#   good        the dual-stack guest beside them: its IPv4 and link-local
#               IPv6 routes installed, a reconnect changes nothing (the
#               IPv6 route's metric is the kernel's 1024), the stop removes
#               both
#   kernel      the same bad metadata on a type='bridge' uplink, whose
#               network the hook cannot read: the kernel refuses the route
#               (ENETUNREACH, EACCES; a missing device) and the hook says so
#               in one line naming the route, the device and the fix, not
#               libnl's "Unspecific failure"; nothing left installed
#
# The XML is the libvirt test driver's own (virsh dumpxml, net-dumpxml),
# the network's as the network hook keeps it; the hook runs as libvirt
# runs it (argv[0] qemu or network, libvirt's environment).
# Every name this test creates starts with vnK.
# Usage: hook-checks.sh BUILDDIR SRCDIR
# Exit: 0 pass, 1 fail, 77 skipped (not root, no namespaces, no virsh).
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
VN=$BUILD/src/virt-nest
HOOK=$BUILD/hooks/virt-nest-hook
URI=test://$SRC/tests/data/bad/checks.xml
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
for t in ip virsh; do
    command -v $t >/dev/null || { echo "SKIP: $t is missing"; exit 77; }
done
[ -x "$HOOK" ] && [ -x "$VN" ] || { echo "FAIL: build first"; exit 1; }

NS=vnK-chk-$$
T=$(mktemp -d /tmp/vnK-chk.XXXXXX)
: > "$T/none.conf"  # an empty configuration: the defaults
cleanup() {
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail=0
ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }

if ! ip netns add "$NS" 2>"$T/netns.err"; then
    echo "SKIP: cannot create a network namespace: $(cat "$T/netns.err")"
    exit 77
fi
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
# default: IPv4 only, and IPv6 disabled on its bridge as libvirt does it
in_ns ip link add vnKbr0 type bridge
in_ns sysctl -qw net.ipv6.conf.vnKbr0.disable_ipv6=1
in_ns ip addr add 192.168.122.1/24 dev vnKbr0
# dual: both families; no link-local address of its own, which the kernel
# would add at a moment of its choosing, in the middle of a comparison
in_ns ip link add vnKbr1 type bridge
in_ns ip link set vnKbr1 addrgenmode none
in_ns ip addr add 192.168.130.1/24 dev vnKbr1
in_ns ip addr add fd00:130::1/64 dev vnKbr1 nodad
in_ns ip link set vnKbr0 up
in_ns ip link set vnKbr1 up

# the network XML as the network hook gets it (and keeps it)
hookdata() {
    echo '<hookData>'
    virsh -q -c "$URI" net-dumpxml "$1" || return 1
    echo '</hookData>'
}
mkdir -p "$T/hooks" "$T/state/network" "$T/none"
ln -s "$HOOK" "$T/hooks/qemu"
ln -s "$HOOK" "$T/hooks/network"
chmod 0755 "$T/state"
for net in default dual; do
    hookdata $net > "$T/state/network/$net.xml" ||
        { bad "net-dumpxml $net"; exit 1; }
done

# what status says of each object, as "OBJECT: MESSAGE"
"$VN" status -c "$URI" --no-host > /dev/null 2> "$T/status.err"
status_line() { grep -F "virt-nest: $1 '$2': " "$T/status.err"; }

# hook DRIVER NAME OP SUBOP XMLFILE: as libvirt runs it, in the namespace
hook() {
    in_ns env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        USER=root LOGNAME=root VIRT_NEST_STATE_DIR="$T/state" \
        VIRT_NEST_LIBVIRT_NETWORK_DIR="$T/none" \
        VIRT_NEST_LEASES_DIR="$T/none" VIRT_NEST_CONFIG="$T/none.conf" \
        ${VN_VALGRIND:-} "$T/hooks/$1" "$2" "$3" "$4" - \
        < "$5" > "$T/out" 2> "$T/err"
}
snap() {
    { in_ns ip route show table all; in_ns ip -6 route show table all
      # the lock, the intact mark and the change log (which records a
      # refusal too) are the hook's own bookkeeping
      (cd "$T/state" && find . -type f ! -name lock ! -name intact \
           ! -name 'changes.log*' |
          sort | xargs -r md5sum); } > "$T/$1"
}
dom() { virsh -q -c "$URI" dumpxml "$1" > "$T/$1.xml"; }

# refused: the status line, word for word
for name in uplinkout uplinkhost v6route; do
    dom $name
    want=$(status_line domain $name)
    [ -n "$want" ] || { bad "$name: status says nothing"; continue; }
    snap before
    for op in prepare started; do
        hook qemu $name $op begin "$T/$name.xml"
        rc=$?
        snap after
        if [ $rc = 1 ] && [ ! -s "$T/out" ] &&
           [ "$(cat "$T/err")" = "$want" ] && cmp -s "$T/before" "$T/after"
        then
            ok "$name $op: refused as status says: ${want#virt-nest: }"
        else
            bad "$name $op: exit $rc, stderr:"; sed 's/^/  # /' "$T/err"
            echo "  # status: $want"
            diff "$T/before" "$T/after" | sed 's/^/  # /'
        fi
    done
done

# warned about, not refused, nothing installed
for name in typo-virtnest typo-underscore typo-case; do
    dom $name
    want=$(status_line domain $name | sed 's/^virt-nest: /&warning: /')
    snap before
    for op in prepare started; do
        hook qemu $name $op begin "$T/$name.xml"
        rc=$?
        snap after
        if [ $rc = 0 ] && [ ! -s "$T/out" ] && [ -n "$want" ] &&
           [ "$(cat "$T/err")" = "$want" ] && cmp -s "$T/before" "$T/after"
        then
            ok "$name $op: started, with the warning: ${want#virt-nest: }"
        else
            bad "$name $op: exit $rc, stderr:"; sed 's/^/  # /' "$T/err"
            echo "  # expected: $want"
        fi
    done
done
hookdata typo-net > "$T/typo-net.xml"
want=$(status_line network typo-net | sed 's/^virt-nest: /&warning: /')
for op in start started; do
    hook network typo-net $op begin "$T/typo-net.xml"
    rc=$?
    if [ $rc = 0 ] && [ ! -s "$T/out" ] && [ -n "$want" ] &&
       [ "$(cat "$T/err")" = "$want" ]; then
        ok "network typo-net $op: started, with the warning"
    else
        bad "network typo-net $op: exit $rc, stderr:"; sed 's/^/  # /' "$T/err"
    fi
done
# somebody else's metadata: not a word
dom other-metadata
hook qemu other-metadata started begin "$T/other-metadata.xml"
rc=$?
if [ $rc = 0 ] && [ ! -s "$T/err" ] && [ ! -s "$T/out" ]; then
    ok "other-metadata: nothing said"
else
    bad "other-metadata: exit $rc: $(cat "$T/err")"
fi

# the good guest: both routes in, and out again
dom v6dual
snap before
hook qemu v6dual started begin "$T/v6dual.xml"
rc=$?
r4=$(in_ns ip route show 192.168.127.0/24)
r6=$(in_ns ip -6 route show fd00:127::/64)
want4="192.168.127.0/24 via 192.168.130.7 dev vnKbr1 proto 155 "
want6="fd00:127::/64 via fe80::5054:ff:fe00:c04 dev vnKbr1 proto 155 "
if [ $rc = 0 ] && [ ! -s "$T/err" ] && [ "$r4" = "$want4" ] &&
   [ "${r6#"$want6"}" != "$r6" ]; then
    ok "v6dual: routes installed: $r4; $r6"
else
    bad "v6dual: exit $rc, routes '$r4' '$r6', stderr:"
    sed 's/^/  # /' "$T/err"
fi
# again (qemu reconnect): nothing changes; the IPv6 route has the
# kernel's metric 1024, and is still virt-nest's own
snap installed
hook qemu v6dual reconnect begin "$T/v6dual.xml"
rc=$?
snap again
[ $rc = 0 ] && [ ! -s "$T/err" ] && cmp -s "$T/installed" "$T/again" &&
    ok "v6dual: reconnect changes nothing" ||
    { bad "v6dual: reconnect: exit $rc: $(cat "$T/err")"
      diff "$T/installed" "$T/again"; }
hook qemu v6dual stopped end "$T/v6dual.xml"
snap after
if cmp -s "$T/before" "$T/after"; then
    ok "v6dual: stopped, routes and state as before"
else
    bad "v6dual: stop left:"; diff "$T/before" "$T/after" | sed 's/^/  # /'
fi

# the kernel's refusals, said in words: the uplink on type='bridge', so
# that the hook has no network XML to check against
kernel() {  # NAME BRIDGE EXPECTED-STDERR
    local name=$1 br=$2 want=$3 mac v6='<nest:route subnet="fd00:126::/64"/>'
    mac=$(sed -n "s/.*<mac address='\([^']*\)'.*/\1/p" "$T/$name.xml")
    sed -e "s|type='network'|type='bridge'|" \
        -e "s|<source network='default'/>|<source bridge='$br'/>|" \
        -e "s|<nest:uplink |<nest:uplink mac=\"$mac\" |" \
        -e "s|$v6|&<nest:uplink mac=\"$mac\"/>|" \
        "$T/$name.xml" > "$T/$name-bridge.xml"
    snap before
    hook qemu $name started begin "$T/$name-bridge.xml"
    rc=$?
    snap after
    if [ $rc = 1 ] && [ ! -s "$T/out" ] && [ "$(cat "$T/err")" = "$want" ] &&
       cmp -s "$T/before" "$T/after"; then
        ok "$name on bridge $br: ${want#virt-nest: }"
    else
        bad "$name on bridge $br: exit $rc, stderr:"; sed 's/^/  # /' "$T/err"
        echo "  # expected: $want"
        diff "$T/before" "$T/after" | sed 's/^/  # /'
    fi
    grep -q 'Unspecific failure\|No Access' "$T/err" &&
        bad "$name: libnl's words reach the user"
}
d="virt-nest: domain"
kernel uplinkout vnKbr0 "$d 'uplinkout': cannot add route 192.168.124.0/24\
 via 10.5.5.5 dev vnKbr0: the next hop 10.5.5.5 is not on the network of\
 vnKbr0 (no IPv4 route to it on vnKbr0); give the guest's address on the\
 network of vnKbr0 in <nest:uplink address=...>, or drop address= to use\
 its DHCP reservation or lease"
kernel v6route vnKbr0 "$d 'v6route': cannot add route fd00:126::/64 via\
 fe80::5054:ff:fe00:c03 dev vnKbr0: IPv6 is disabled on vnKbr0 (libvirt\
 disables it on the bridge of a network without IPv6); add an <ip\
 family='ipv6'> (or ipv6='yes') to the network of vnKbr0, or drop the IPv6\
 <nest:route>"
kernel uplinkout vnKgone "$d 'uplinkout': cannot add route 192.168.124.0/24\
 via 10.5.5.5 dev vnKgone: device vnKgone is gone; start the network of\
 vnKgone again"

[ $fail = 0 ] && echo "# PASS" || echo "# FAIL"
exit $fail
