#!/bin/bash
# The seed's nest, with real host data per layer: network namespaces for
# WSL2 (L0), its guest debian (L1) and debian's guest (L2), links named and
# addressed as in ../shared/seed, libvirt 9.0's rules loaded, the real hook
# run where the story needs it. Each layer's snapshot is
# `virt-nest status --json --host` inside its namespace, with the test
# driver example of that layer for the libvirt part. Then `virt-nest graph`
# and `virt-nest doctor` on the snapshots, against golden output, and ping
# inside the namespaces to show that doctor's verdict is the kernel's.
#
# Usage: seed-nest.sh VIRT_NEST VIRT_NEST_HOOK SRCDIR
# VN_REGENERATE=1 rewrites the golden files; VN_SNAPSHOTS=DIR keeps the
# snapshots there: of the nest before the fix (seed-before-nest-l*.json),
# with the route only (seed-route-nest-l*.json) and fixed (seed-nest-l*.json);
# xml/examples/ has them from it, and tests/doctor/seed-examples.sh checks
# what doctor says of each.
set -u
VN=$(realpath "$1")
HOOK=$(realpath "$2")
SRC=$3
X=$SRC/xml/examples
GOLD=$SRC/tests/golden/doctor

# the seed's L2 calls its link ens3
NEST_L2_IF=ens3
. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$HOOK"
nest_build
nest_firewall libvirt9 || { echo "FAIL: loading libvirt's rules"; exit 1; }
T=$NEST_TMP
fail=0
# shellcheck source=seedlib.sh
. "$SRC/tests/doctor/seedlib.sh"
seed_rp_filter

# --- the libvirt part of each layer: the test-driver examples, with and
# without virt-nest's metadata
strip_nest "$X/seed-l0.xml" > "$T/l0-plain.xml"
strip_nest "$X/seed-l1.xml" > "$T/l1-plain.xml"
grep -q '<nest:' "$T/l0-plain.xml" "$T/l1-plain.xml" && { echo "FAIL: metadata left"; exit 1; }

snapshots() {  # STATE L0XML L1XML
    local d=$T/$1
    mkdir -p "$d"
    snap "$L0" wujing "$2" "$d/l0.json"
    snap "$L1" debian "$3" "$d/l1.json"
    snap "$L2" debian-l2 "$X/seed-l2.xml" "$d/l2.json"
}


pings() {  # EXPECT(ok|fail) WHAT
    if nsx "$L0" ping -c 1 -W 1 -I 192.168.122.1 192.168.124.91 >/dev/null 2>&1; then
        got=ok
    else
        got=fail
    fi
    if [ "$got" = "$1" ]; then
        echo "ok: ping L0 -> L2: $1 ($2)"
    else
        echo "FAIL: ping L0 -> L2 expected $1, got $got: $2"
        fail=1
    fi
}



G=$SRC/tests/golden/hook
# libvirt's hook input for L0's network default, with the seed's reservation
sed 's/192\.168\.122\.50/192.168.122.191/' \
    "$G/qemu-started-reservation/state/network/default.xml" > "$T/l0-default.xml"

# --- 1. nothing configured: no metadata, nothing installed
snapshots none "$T/l0-plain.xml" "$T/l1-plain.xml"
pings fail "nothing configured"
GOLDEN_CWD="$T/none" golden graph-none.txt vn graph l0.json l1.json l2.json
GOLDEN_CWD="$T/none" golden doctor-none.txt doctor

# --- 2. the route only: guest debian has its <nest:route>, the hook ran
hook_ok L0 network default started begin "$T/l0-default.xml"
hook_ok L0 qemu debian started begin \
    "$G/qemu-started-reservation/stdin.xml"
snapshots route "$X/seed-l0.xml" "$T/l1-plain.xml"
pings fail "the route only"
GOLDEN_CWD="$T/route" golden doctor-route.txt doctor
# live, without snapshots: L0 by the kernel's routes, L1 for a packet from L0
GOLDEN_CWD="$T" golden doctor-live-l0-route.txt \
    live "$L0" wujing doctor -c "test://$X/seed-l0.xml" \
    --from 192.168.122.1 --to 192.168.124.91
GOLDEN_CWD="$T" golden doctor-live-l1-route.txt \
    live "$L1" debian doctor -c "test://$T/l1-plain.xml" \
    --from 192.168.122.1 --to 192.168.124.91
# the metadata is there but the route is gone (a flushed table): reconcile
ip -n "$L0" route del 192.168.124.0/24
snapshots lost "$X/seed-l0.xml" "$T/l1-plain.xml"
GOLDEN_CWD="$T/lost" golden doctor-route-lost.txt doctor
hook_ok L0 qemu debian started begin \
    "$G/qemu-started-reservation/stdin.xml"

# --- 3. both fixed: network default on L1 has its peer
hook_ok L1 network default started begin \
    "$G/network-started-peers/stdin.xml"
snapshots fixed "$X/seed-l0.xml" "$X/seed-l1.xml"
pings ok "route and exceptions"
GOLDEN_CWD="$T/fixed" golden graph-fixed.txt vn graph l0.json l1.json l2.json
GOLDEN_CWD="$T/fixed" golden graph-fixed.mmd vn graph --mermaid l0.json l1.json l2.json
GOLDEN_CWD="$T/fixed" golden graph-fixed.dot vn graph --dot l0.json l1.json l2.json
GOLDEN_CWD="$T/fixed" golden graph-fixed.json vn graph --json l0.json l1.json l2.json
GOLDEN_CWD="$T/fixed" golden doctor-fixed.txt doctor
GOLDEN_CWD="$T/fixed" golden doctor-fixed.json doctor --json
GOLDEN_CWD="$T" golden doctor-live-l1-fixed.txt \
    live "$L1" debian doctor -c "test://$X/seed-l1.xml" \
    --from 192.168.122.1 --to 192.168.124.91
GOLDEN_CWD="$T/fixed" golden doctor-fixed-tcp-back.txt \
    vn doctor --tcp --from 192.168.124.91 --to 192.168.122.1 l2.json l0.json l1.json
# out of the nest: L2 to the LAN's gateway, masqueraded twice
GOLDEN_CWD="$T/fixed" golden doctor-out.txt \
    vn doctor --from 192.168.124.91 --to 172.24.21.254 l0.json l1.json l2.json
# toward the VPN behind WSL2's eth0 (MTU 1420)
GOLDEN_CWD="$T/fixed" golden doctor-vpn.txt \
    vn doctor --from 192.168.124.91 --to 10.113.0.1 --size 1500 l0.json l1.json l2.json
if [ -n "${VN_SNAPSHOTS:-}" ]; then
    # before the fix (none), the route only (route), fixed: the bundled
    # seed-before-nest-l*, seed-route-nest-l* and seed-nest-l*.json
    # (a layer without metadata has the test's copy of seed-lN.xml without
    # it for its uri: @TMP@/lN-plain.xml)
    for s in none:seed-before-nest route:seed-route-nest fixed:seed-nest; do
        for n in 0 1 2; do
            sed -e "s|$SRC/xml/examples|@EXAMPLES@|g" -e "s|$T|@TMP@|g" \
                "$T/${s%%:*}/l$n.json" > "$VN_SNAPSHOTS/${s#*:}-l$n.json"
        done
    done
fi

# every layer's snapshot has host.firewall_error, null where the firewall
# was read
for n in 0 1 2; do
    if jq -e '.host | has("firewall_error") and .firewall_error == null and
              (.firewall | type) == "array"' "$T/fixed/l$n.json" > /dev/null
    then
        echo "ok: l$n.json: host.firewall_error is null, the firewall read"
    else
        echo "FAIL: l$n.json: host.firewall_error not null or absent"; fail=1
    fi
done
# live, where the kernel has no route at all: its reason, no libnl
# "Unspecific failure", and a fix that says what to do
GOLDEN_CWD="$T" golden doctor-live-noroute.txt \
    unshare -n --uts sh -c 'ip link set lo up && hostname lonely && exec "$@"' \
    sh ${VN_VALGRIND:-} "$VN" doctor -c test:///default --from 127.0.0.1 \
    --to 192.168.124.91

# --- 4. ip_forward off on L1
nsx "$L1" sysctl -qw net.ipv4.ip_forward=0
snapshots noforward "$X/seed-l0.xml" "$X/seed-l1.xml"
pings fail "ip_forward off on L1"
GOLDEN_CWD="$T/noforward" golden doctor-noforward.txt doctor
GOLDEN_CWD="$T/noforward" golden graph-noforward.txt vn graph l0.json l1.json l2.json
nsx "$L1" sysctl -qw net.ipv4.ip_forward=1

# --- 5. an MTU mismatch on the wire into debian: vnet0 1420, enp1s0 1500
ip -n "$L0" link set vnet0 mtu 1420
snapshots mtu "$X/seed-l0.xml" "$X/seed-l1.xml"
if nsx "$L2" ping -c 1 -W 1 -M do -s 1472 192.168.122.1 >/dev/null 2>&1; then
    echo "FAIL: a 1500-byte packet from L2 got through the 1420-byte vnet0"; fail=1
else
    echo "ok: a 1500-byte packet from L2 dies at vnet0, as doctor says"
fi
pings ok "small packets still pass the MTU mismatch"
GOLDEN_CWD="$T/mtu" golden doctor-mtu.txt doctor
GOLDEN_CWD="$T/mtu" golden doctor-mtu-size.txt \
    vn doctor --size 1500 --from 192.168.124.91 --to 192.168.122.1 l0.json l1.json l2.json
ip -n "$L0" link set vnet0 mtu 1500

# --- bad or mismatched snapshots: one line each, no picture
cp "$T/fixed/l0.json" "$T/fixed/l0-copy.json"
sed 's/"version": 1,/"version": 7,/' "$T/fixed/l0.json" > "$T/fixed/l0-v7.json"
jq '.host = null' "$T/fixed/l1.json" > "$T/fixed/l1-nohost.json"
echo '{"format": "virt-nest-status", "version": 1}' > "$T/fixed/thin.json"
GOLDEN_CWD="$T/fixed" golden graph-bad.txt bash -c '
    vn() { ${VN_VALGRIND:-} "$0" "$@"; echo "exit $?"; }
    vn graph l0.json l0-copy.json l1.json
    vn graph l0.json l2.json
    vn graph l0-v7.json l1.json
    vn graph l0.json l1-nohost.json l2.json
    vn graph l0.json thin.json
    vn graph
    vn graph missing.json
    vn doctor --from 192.168.122.1 l0.json
    vn doctor --from 10.9.9.9 --to 192.168.124.91 l0.json l1.json l2.json
    vn doctor --from 192.168.122.1 --to fe80::1 l0.json
    vn doctor --from 192.168.122.1 --to 192.168.124.91 --size 9 l0.json
' "$VN"

# the snapshot round trip: status JSON -> snapshot -> the same picture
# from a copy that went through jq (another JSON writer)
jq . "$T/fixed/l1.json" > "$T/fixed/l1-jq.json"
a=$(cd "$T/fixed" && vn graph --json l0.json l1.json l2.json | sed 's/l1-jq/l1/')
b=$(cd "$T/fixed" && vn graph --json l0.json l1-jq.json l2.json | sed 's/l1-jq/l1/')
[ "$a" = "$b" ] && echo "ok: a snapshot rewritten by jq draws the same nest" ||
    { echo "FAIL: jq round trip changed the graph"; fail=1; }

exit $fail
