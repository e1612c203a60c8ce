# tests/nest-lib.sh: the seed's nest in network namespaces; source it.
#
# Needs $SRC (the source tree) and $HOOK (the built virt-nest-hook) set.
#
#   nest_build            make the namespaces and the links, named and
#                         addressed as the seed's `ip a` and `ip route` show
#                         them; exits 77 without root or namespaces
#   nest_firewall KIND    load libvirt's rules into L0 and L1 (and keep a
#                         copy for nest_libvirt_reload):
#                           libvirt9  libvirt 9.0, iptables-nft, LIBVIRT_* chains
#                           seed      the seed's own rules: libvirt before 5.1,
#                                     straight into FORWARD (L1; L0 libvirt9)
#                           nftables  libvirt's nftables backend (10.4+):
#                                     table ip libvirt_network
#   nest_libvirt_reload NS  what libvirt does to its rules on a reload of
#                         NS (L0 or L1): delete each rule of its own and
#                         insert it again at the head of its chain
#   nsx NS CMD...         run CMD in NS
#   run_hook NS STATEDIR KIND OBJ OP SUBOP STDIN
#                         run the hook in NS as libvirt does: argv[0] named
#                         KIND (qemu, network), a cleared environment but
#                         for the state directory, XML on stdin
#   nest_state NS         the ruleset (stateless) and routes of NS, as text
#
# After nest_build: W (the Windows side of WSL2's links), L0 (WSL2), L1
# (guest debian), L2 (debian's guest); $T a temporary directory; fail=0.
# Everything made here goes away on exit: the namespaces by name, $T.
#
# L0: eth0 10.61.2.254/32 (MTU 1420), eth1 172.24.21.109/24, default via
#     172.24.21.254, virbr0 192.168.122.1/24 with vnet0 (fe:54:00:fc:38:e0)
# L1: enp1s0 52:54:00:fc:38:e0 192.168.122.191/24, default via .122.1,
#     virbr0 192.168.124.1/24 with vnet0 (fe:54:00:5a:1a:8e); rp_filter 1
# L2: ens3 52:54:00:5a:1a:8e 192.168.124.91/24, default via .124.1

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

nest_build() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
    local t
    for t in ip iptables-restore iptables-save nft unshare ping; do
        command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
    done
    ID=vnn$$
    W=${ID}w; L0=${ID}l0; L1=${ID}l1; L2=${ID}l2
    T=$(mktemp -d)
    NEST_CREATED=()
    trap nest_cleanup EXIT
    ip netns add "$W" 2>/dev/null || { echo "SKIP: cannot create network namespaces"; exit 77; }
    NEST_CREATED+=("$W")
    local ns l
    for ns in "$L0" "$L1" "$L2"; do ip netns add "$ns"; NEST_CREATED+=("$ns"); done
    fail=0

    for ns in "$W" "$L0" "$L1" "$L2"; do
        nsx "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
        ip -n "$ns" link set lo up
    done
    # WSL2 (mirrored networking): eth0 the VPN adapter (MTU 1420), eth1 the LAN
    ip link add eth0 netns "$L0" mtu 1420 address 00:15:5d:13:0c:12 type veth \
        peer name w-eth0 netns "$W" mtu 1420
    ip link add eth1 netns "$L0" address 1c:83:41:cf:a8:7c type veth \
        peer name w-eth1 netns "$W"
    ip -n "$W" link set w-eth0 up
    ip -n "$W" link set w-eth1 up
    ip -n "$W" addr add 172.24.21.254/24 dev w-eth1
    ip -n "$L0" addr add 10.61.2.254/32 dev eth0
    ip -n "$L0" addr add 172.24.21.109/24 dev eth1
    ip -n "$L0" link set eth0 up
    ip -n "$L0" link set eth1 up
    ip -n "$L0" route add 169.254.1.1 dev eth0 metric 1
    ip -n "$L0" route add 10.113.0.0/16 via 169.254.1.1 dev eth0 metric 1
    ip -n "$L0" route add default via 172.24.21.254 dev eth1 metric 25
    # L0's virbr0 and vnet0, the TAP of guest debian (52:54:00:fc:38:e0)
    ip -n "$L0" link add virbr0 address 52:54:00:7d:0b:60 type bridge
    ip -n "$L0" addr add 192.168.122.1/24 dev virbr0
    ip link add vnet0 netns "$L0" address fe:54:00:fc:38:e0 type veth \
        peer name enp1s0 netns "$L1" address 52:54:00:fc:38:e0
    ip -n "$L0" link set vnet0 master virbr0 up
    ip -n "$L0" link set virbr0 up
    # L1, debian: enp1s0 from L0's DHCP, its own virbr0 and vnet0
    ip -n "$L1" addr add 192.168.122.191/24 dev enp1s0
    ip -n "$L1" link set enp1s0 up
    ip -n "$L1" route add default via 192.168.122.1 dev enp1s0 metric 100
    ip -n "$L1" link add virbr0 address 52:54:00:e8:c6:c3 type bridge
    ip -n "$L1" addr add 192.168.124.1/24 dev virbr0
    ip link add vnet0 netns "$L1" address fe:54:00:5a:1a:8e type veth \
        peer name ens3 netns "$L2" address 52:54:00:5a:1a:8e
    ip -n "$L1" link set vnet0 master virbr0 up
    ip -n "$L1" link set virbr0 up
    # L2: ens3
    ip -n "$L2" addr add 192.168.124.91/24 dev ens3
    ip -n "$L2" link set ens3 up
    ip -n "$L2" route add default via 192.168.124.1 dev ens3 metric 100
    # forwarding as libvirt leaves it; rp_filter as the seed's Debian has it
    nsx "$L0" sysctl -qw net.ipv4.ip_forward=1
    nsx "$L1" sysctl -qw net.ipv4.ip_forward=1
    nsx "$L2" sysctl -qw net.ipv4.ip_forward=0
    for ns in "$L0" "$L1" "$L2"; do
        for l in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
            nsx "$ns" sysctl -qw "net.ipv4.conf.$l.rp_filter=0"
        done
    done
    nsx "$L1" sysctl -qw net.ipv4.conf.all.rp_filter=1
    # the hooks, as installed
    mkdir -p "$T/hooks"
    cp "$HOOK" "$T/hooks/qemu"
    cp "$HOOK" "$T/hooks/network"
}

nest_cleanup() {
    local ns
    for ns in "${NEST_CREATED[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$T"
}

# libvirt's nftables backend for NET (the /24 prefix, "192.168.122") on BRIDGE
nest_nft_rules() {  # NET BRIDGE
    local n=$1 b=$2
    cat <<EOF
table ip libvirt_network {
    chain forward {
        type filter hook forward priority 0; policy accept;
        counter jump guest_cross
        counter jump guest_input
        counter jump guest_output
    }
    chain guest_output {
        ip saddr $n.0/24 iif "$b" counter accept
        iif "$b" counter reject
    }
    chain guest_input {
        oif "$b" ip daddr $n.0/24 ct state related,established counter accept
        oif "$b" counter reject
    }
    chain guest_cross {
        iif "$b" oif "$b" counter accept
    }
    chain guest_nat {
        type nat hook postrouting priority 100; policy accept;
        ip saddr $n.0/24 ip daddr 224.0.0.0/24 counter return
        ip saddr $n.0/24 ip daddr 255.255.255.255 counter return
        meta l4proto { tcp, udp } ip saddr $n.0/24 ip daddr != $n.0/24 counter masquerade to :1024-65535
        ip saddr $n.0/24 ip daddr != $n.0/24 counter masquerade
    }
}
EOF
}

nest_firewall() {  # KIND
    NEST_FW=$1
    case $1 in
    libvirt9)
        nsx "$L0" iptables-restore < "$SRC/tests/data/rules/libvirt9-nat-122.iptables"
        sed 's/192\.168\.122\./192.168.124./g' "$SRC/tests/data/rules/libvirt9-nat-122.iptables" |
            nsx "$L1" iptables-restore
        ;;
    seed)
        nsx "$L0" iptables-restore < "$SRC/tests/data/rules/libvirt9-nat-122.iptables"
        nsx "$L1" iptables-restore < "$SRC/tests/data/rules/seed-l1-rules.v4"
        ;;
    nftables)
        nest_nft_rules 192.168.122 virbr0 | nsx "$L0" nft -f -
        nest_nft_rules 192.168.124 virbr0 | nsx "$L1" nft -f -
        ;;
    *)
        echo "nest_firewall: unknown kind $1" >&2
        exit 1
        ;;
    esac
}

# What libvirt does on a reload (networkReloadFirewallRules): remove each of
# its rules and insert it again at the head of its chain.
nest_libvirt_reload() {  # NS
    local ns=$1 net
    if [ "$ns" = "$L0" ]; then net=192.168.122; else net=192.168.124; fi
    case $NEST_FW in
    libvirt9|seed)
        local table chain rules r
        if [ "$NEST_FW" = seed ] && [ "$ns" = "$L1" ]; then
            set -- filter:FORWARD nat:POSTROUTING
        else
            set -- filter:LIBVIRT_FWX filter:LIBVIRT_FWI filter:LIBVIRT_FWO \
                   filter:LIBVIRT_INP filter:LIBVIRT_OUT nat:LIBVIRT_PRT
        fi
        for tc in "$@"; do
            table=${tc%%:*}; chain=${tc#*:}
            # libvirt's own rules: those that name its bridge or subnet
            rules=$(nsx "$ns" iptables -t "$table" -S "$chain" |
                    grep -- "^-A $chain " | grep -v virt-nest |
                    grep -e virbr0 -e "$net\." | sed "s/^-A $chain //")
            [ -n "$rules" ] || continue
            while IFS= read -r r; do
                eval "nsx \"\$ns\" iptables -t $table -D $chain $r"
            done <<< "$rules"
            # inserted at the head in reverse, so they keep their order
            while IFS= read -r r; do
                eval "nsx \"\$ns\" iptables -t $table -I $chain 1 $r"
            done <<< "$(printf '%s\n' "$rules" | tac)"
        done
        ;;
    nftables)
        local chain h
        for chain in guest_output guest_input guest_cross guest_nat; do
            for h in $(nsx "$ns" nft -a list chain ip libvirt_network $chain |
                       sed -n 's/^\t\t.*# handle \([0-9]*\)$/\1/p'); do
                nsx "$ns" nft delete rule ip libvirt_network $chain handle "$h"
            done
        done
        local body line
        for chain in guest_output guest_input guest_cross guest_nat; do
            body=$(nest_nft_rules $net virbr0 |
                   awk -v c="$chain" '$1 == "chain" && $2 == c { on = 1; next }
                        on && /^ *}$/ { on = 0 } on && !/type / && NF { sub(/^ +/, ""); print }')
            while IFS= read -r line; do
                [ -n "$line" ] || continue
                nsx "$ns" nft insert rule ip libvirt_network $chain $line
            done <<< "$(printf '%s\n' "$body" | tac)"
        done
        ;;
    esac
}

run_hook() {  # NS STATEDIR KIND OBJ OP SUBOP STDIN
    local ns=$1 st=$2 kind=$3; shift 3
    local stdin=${*: -1}
    nsx "$ns" env -i VIRT_NEST_STATE_DIR="$st" VIRT_NEST_CONFIG=/nonexistent \
        "$T/hooks/$kind" "${@:1:$#-1}" - < "$stdin"
}

nest_state() {  # NS: its ruleset and routes, without counters
    local ns=$1
    nsx "$ns" nft -s list ruleset 2>/dev/null
    echo "# routes"
    # the local tables change on their own (IPv6 link-local addresses come
    # up after DAD); virt-nest only ever touches main
    ip -n "$ns" route show table main
    ip -n "$ns" -6 route show table main
}
