# bench/benchlib.sh: the seed's hosts and the hook's inputs, as
# bench/hook-bench.sh and bench/hook-ab.sh set them up. Source it with SRC
# (the source tree) set, then:
#
#   bench_host NS ADDR    the network namespace NS: lo up, a bridge virbr0
#                         at ADDR/24 with a port with carrier (veth p0 in
#                         it, its peer p1 up: a bridge needs one for its
#                         connected route to be usable)
#   bench_libvirt9 NS NET RESTORE...
#                         libvirt 9.0's iptables rules for 192.168.NET.0/24
#                         (tests/data/rules/libvirt9-nat-122.iptables,
#                         renumbered) loaded in NS with RESTORE...
#                         (iptables-restore, iptables-legacy-restore -w)
#   bench_inputs DIR      the XML libvirt 9.0 passes the hooks
#                         (tests/golden/hook) into DIR: guest.xml (guest
#                         debian with its route), peers.xml (network default
#                         with its peer) and plain.xml (the guest without
#                         virt-nest's metadata)

bench_host() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" link add virbr0 type bridge
    ip -n "$1" link set virbr0 up
    ip -n "$1" addr add "$2/24" dev virbr0
    ip -n "$1" link add p0 type veth peer name p1
    ip -n "$1" link set p0 master virbr0 up
    ip -n "$1" link set p1 up
}

bench_libvirt9() {
    local ns=$1 net=$2; shift 2
    sed "s/192\.168\.122\./192.168.$net./g" \
        "$SRC/tests/data/rules/libvirt9-nat-122.iptables" |
        ip netns exec "$ns" "$@"
}

bench_inputs() {
    local g=$SRC/tests/golden/hook
    cp "$g/qemu-started-reservation/stdin.xml" "$1/guest.xml"
    cp "$g/network-started-peers/stdin.xml" "$1/peers.xml"
    sed -e 's/<nest:route subnet="192.168.124.0\/24"\/>//' \
        -e 's/xmlns:nest="urn:virt-nest:1"/xmlns:other="urn:other:1"/' \
        -e 's/nest:guest/other:guest/g' "$1/guest.xml" > "$1/plain.xml"
    if grep -q virt-nest "$1/plain.xml"; then
        echo "plain.xml still has metadata" >&2
        exit 1
    fi
}
