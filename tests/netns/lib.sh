# tests/netns/lib.sh: the seed's nest (Windows -> WSL2 (L0) -> libvirt guest
# debian (L1) -> its guest (L2)) built from network namespaces. Source it
# from bash; it sets no shell options of its own and works under `set -u`.
#
#   nest_init SRCDIR HOOK   check what is needed (not root, or ip, nft,
#                           unshare, mount, ping, timeout missing: exit 77;
#                           iptables or python3 missing: exit 1), make the
#                           temporary
#                           directory $NEST_TMP, install HOOK (the built
#                           virt-nest-hook) there as `qemu` and `network`
#                           as install-hooks would, set the cleanup trap
#                           (EXIT; INT and TERM exit through it). It
#                           replaces the caller's EXIT trap: a caller with
#                           its own cleanup sets its trap after nest_init
#                           and calls nest_cleanup from it
#   nest_build              make the namespaces L0, L1, L2 and their links
#                           (below) and the state directories; exit 77 if
#                           namespaces cannot be made or nftables does not
#                           work in them; IPv6 DAD is off and settled, so
#                           that nest_snapshot is stable
#   nest_firewall KIND      load libvirt's rules into L0 and L1:
#     libvirt9              libvirt 9.0 with iptables-nft: LIBVIRT_FWI/FWO/
#                           FWX/INP/OUT/PRT (tests/data/rules/
#                           libvirt9-nat-122.iptables; 122 -> 124 for L1)
#     seed                  L1: the seed's own ruleset, an older libvirt's
#                           rules straight in FORWARD/POSTROUTING
#                           (seed-l1.iptables); L0: libvirt9 (the seed's
#                           WSL2 lists LIBVIRT_PRT, i.e. libvirt >= 5.1)
#     nftables              libvirt's nftables backend (>= 10.4): table ip
#                           (and ip6) libvirt_network (libvirt-nft-base.nft
#                           + libvirt-nft-nat-122.nft; 122 -> 124 for L1)
#     legacy                libvirt 9.0 on a host whose iptables alternative
#                           is iptables-legacy: libvirt9's rules loaded with
#                           iptables-legacy-restore, so they live in legacy
#                           xtables; no nftables table at all
#     legacy-nft            legacy, and beside it an empty iptables-nft
#                           filter table (INPUT, FORWARD, OUTPUT, policy
#                           accept), as a stray `iptables-nft -L` or a tool
#                           built for iptables-nft leaves it
#   nest_libvirt_reload LAYER MODE
#                           what libvirt does to its rules in LAYER (L0|L1):
#     rules                 a reload as libvirt does it (SIGHUP, daemon
#                           start, firewalld reload): delete each rule of the
#                           network and insert it again at the head of its
#                           chain. libvirt9: the rules in LIBVIRT_*, the
#                           jumps are kept (inserted only if missing); seed:
#                           its rules in FORWARD/INPUT/OUTPUT/POSTROUTING/
#                           mangle; nftables: the network's rules in
#                           guest_* (libvirt deletes them by handle)
#     jumps                 harsher, iptables kinds: its jump rules deleted
#                           and inserted again at the head of FORWARD,
#                           INPUT, OUTPUT and nat/mangle POSTROUTING (what
#                           re-creating its chains does, e.g. libvirtd
#                           starting after an iptables flush);
#                           nftables: the `forward` base chain flushed and
#                           its jumps added again
#   NEST_IPT                after nest_firewall: the iptables that holds
#                           libvirt's rules (iptables, or iptables-legacy for
#                           the legacy kinds); NEST_IPT_SAVE, NEST_IPT_RESTORE
#                           likewise
#   nest_ns LAYER           the namespace's name: $NEST_ID-l0 (-l1, -l2);
#                           NEST_ID (set before sourcing) defaults to vn$$
#   nest_state_dir LAYER    the layer's state directory (what nest_in mounts
#                           on /run/virt-nest); delete it to lose the state
#   nest_x LAYER CMD...     run CMD in LAYER's namespace (ip netns exec)
#   nest_in LAYER CMD...    run CMD in LAYER as libvirt runs a hook: its
#                           environment (env -i, then only LC_ALL=C, PATH,
#                           HOME, USER, LOGNAME, as libvirt's virCommand
#                           passes them), cwd /, and in a private mount
#                           namespace (unshare --mount) where /run is an
#                           empty tmpfs and /run/virt-nest is LAYER's own
#                           state directory (bind mount of $NEST_STATE_Lx),
#                           so no VIRT_NEST_* variable is needed and nothing
#                           of the machine's /run (libvirt's status files,
#                           a real /run/virt-nest) is seen. If
#                           /etc/virt-nest exists it is hidden under an
#                           empty tmpfs too. NEST_CONF=FILE makes FILE the
#                           configuration: copied to
#                           /etc/virt-nest/virt-nest.conf where that
#                           directory exists, else (the one exception to
#                           the empty environment) VIRT_NEST_CONFIG=FILE.
#                           If the state directory does not exist, the
#                           command sees no /run/virt-nest at all (a lost
#                           state directory). NEST_SYSTEM_BUS=SOCKET (a
#                           private bus of the test's own) is bind-mounted
#                           on /run/dbus/system_bus_socket, where D-Bus
#                           clients look for the system bus by default.
#                           Exit 125: the setup failed.
#   nest_hook LAYER KIND NAME OP SUBOP XML
#                           the hook as libvirt calls it: nest_in, argv[0]
#                           the installed copy named KIND (qemu|network),
#                           args NAME OP SUBOP -, XML file on stdin
#   nest_snapshot LAYER [handles]
#                           what virt-nest may change in LAYER, as text:
#                           `nft -s list ruleset` (with `-a`, the handles,
#                           if asked), `iptables-save` without counters and
#                           dates (and for the legacy kinds
#                           `iptables-legacy-save` and `ip6tables-legacy-save`
#                           the same way), the IPv4 routes of every table,
#                           the IPv6 routes of table main
#   nest_ping FROM DST      one ping from layer FROM to DST (1 s)
#   nest_tcp FROM TO DST PORT
#                           a TCP connection from layer FROM to DST:PORT,
#                           answered by a one-shot python3 listener in
#                           layer TO; prints the source address the
#                           listener saw (empty: no connection). Takes up
#                           to 2 s when nothing answers; fine inside $(...)
#   nest_cleanup            what the EXIT trap runs: kills the processes
#                           this library started (by PID), deletes exactly
#                           the namespaces it created and the directories it
#                           made (recorded when made; never a glob)
#
# The nest (names, addresses and MACs as ../shared/seed shows them):
#
#   L0 (WSL2)   eth0 00:15:5d:13:0c:12 10.61.2.254/32, MTU 1420 (the VPN)
#               eth1 1c:83:41:cf:a8:7c 172.24.21.109/24, default via
#                    172.24.21.254: what leaves the nest goes there and dies
#                    (both are links to nowhere: dummy, else ifb, else an
#                    unread TAP; $NEST_STUB_TYPE says which)
#               virbr0 52:54:00:7d:0b:60 192.168.122.1/24
#               vnet0 fe:54:00:fc:38:e0 on virbr0: the TAP of guest debian
#               ip_forward 1
#   L1 (debian) enp1s0 52:54:00:fc:38:e0 192.168.122.191/24 (veth peer of
#                    L0's vnet0), default via 192.168.122.1
#               virbr0 52:54:00:e8:c6:c3 192.168.124.1/24
#               vnet0 fe:54:00:5a:1a:8e on virbr0
#               ip_forward 1, rp_filter 1 (strict)
#   L2          $NEST_L2_IF (default enp1s0; the seed's L2 calls it ens3)
#                    52:54:00:5a:1a:8e 192.168.124.91/24 (veth peer of
#                    L1's vnet0), default via 192.168.124.1
#
# Variables after nest_init/nest_build: NEST_TMP; NEST_HOOKS (the directory
# with `qemu` and `network`); NEST_STATE_L0, NEST_STATE_L1, NEST_STATE_L2
# (the state directories nest_in mounts on /run/virt-nest, made by
# nest_build); NEST_KIND (after nest_firewall). Namespace names are
# <NEST_PREFIX><PID>-l0, -l1, -l2 (PID of the sourcing shell; NEST_PREFIX,
# set before sourcing, defaults to vn: a test that runs beside others with
# daemons of its own uses a prefix of its own, e.g. vnf).
#
# Every packet stays inside these namespaces: L0's way out leads nowhere.

NEST_ID=${NEST_ID:-${NEST_PREFIX:-vn}$$}
NEST_CREATED_NS=()
NEST_CREATED_DIRS=()
NEST_PIDS=()
NEST_L2_IF=${NEST_L2_IF:-enp1s0}
NEST_KIND=
NEST_TMP=
NEST_IPT=iptables
NEST_IPT_SAVE=iptables-save
NEST_IPT_RESTORE=iptables-restore

nest_ns() {
    case $1 in
    L0) echo "$NEST_ID-l0" ;;
    L1) echo "$NEST_ID-l1" ;;
    L2) echo "$NEST_ID-l2" ;;
    *) echo "nest_ns: no layer '$1' (L0, L1, L2)" >&2; return 2 ;;
    esac
}

nest_state_dir() {
    case $1 in
    L0) echo "$NEST_STATE_L0" ;;
    L1) echo "$NEST_STATE_L1" ;;
    L2) echo "$NEST_STATE_L2" ;;
    *) echo "nest_state_dir: no layer '$1'" >&2; return 2 ;;
    esac
}

nest_x() {
    local ns
    ns=$(nest_ns "$1") || return 2
    shift
    ip netns exec "$ns" "$@"
}

_nest_forget_pid() {  # PID: no longer ours to kill
    local keep=() p
    for p in "${NEST_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    NEST_PIDS=("${keep[@]}")
}

nest_cleanup() {
    local i p
    for p in "${NEST_PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    NEST_PIDS=()
    for ((i = ${#NEST_CREATED_NS[@]} - 1; i >= 0; i--)); do
        ip netns del "${NEST_CREATED_NS[i]}" 2>/dev/null
    done
    NEST_CREATED_NS=()
    for ((i = ${#NEST_CREATED_DIRS[@]} - 1; i >= 0; i--)); do
        rm -rf -- "${NEST_CREATED_DIRS[i]}"
    done
    NEST_CREATED_DIRS=()
}

nest_init() {  # SRCDIR HOOK
    NEST_SRC=$1
    local hook=$2 t base
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
    for t in ip nft unshare mount ping timeout; do
        command -v "$t" >/dev/null || { echo "SKIP: $t is missing"; exit 77; }
    done
    for t in iptables iptables-save iptables-restore python3; do
        command -v "$t" >/dev/null || { echo "FAIL: $t is missing"; exit 1; }
    done
    [ -x "$hook" ] || { echo "FAIL: no hook at $hook (build first)"; exit 1; }
    # nest_in hides /run: the temporary directory must live elsewhere
    base=${TMPDIR:-/tmp}
    case $base in /run|/run/*) base=/tmp ;; esac
    NEST_TMP=$(mktemp -d "$base/virt-nest-netns.XXXXXX") || exit 1
    NEST_CREATED_DIRS+=("$NEST_TMP")
    trap nest_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    NEST_HOOKS=$NEST_TMP/hooks
    mkdir "$NEST_HOOKS"
    cp "$hook" "$NEST_HOOKS/qemu"
    cp "$hook" "$NEST_HOOKS/network"
}

# A link that drops what is sent to it: dummy, else ifb (kernels without
# the dummy driver), else a TAP nobody reads (NO-CARRIER). NEST_STUB_TYPE
# says which one was used.
_nest_stub_link() {  # NS NAME MAC MTU
    local t
    for t in dummy ifb; do
        if ip -n "$1" link add "$2" address "$3" mtu "$4" type "$t" 2>/dev/null; then
            NEST_STUB_TYPE=$t
            return 0
        fi
    done
    ip -n "$1" tuntap add "$2" mode tap &&
        ip -n "$1" link set "$2" address "$3" mtu "$4" && NEST_STUB_TYPE=tap
}

nest_build() {
    local L ns i
    for L in L0 L1 L2; do
        ns=$(nest_ns "$L")
        if [ -e "/run/netns/$ns" ]; then
            echo "FAIL: a namespace $ns exists already (left over?); not touching it"; exit 1
        fi
        if ! ip netns add "$ns" 2>"$NEST_TMP/netns.err"; then
            # the first one tells whether namespaces work at all
            [ "$L" = L0 ] && { echo "SKIP: cannot create network namespaces: $(cat "$NEST_TMP/netns.err")"; exit 77; }
            echo "FAIL: ip netns add $ns: $(cat "$NEST_TMP/netns.err")"; exit 1
        fi
        NEST_CREATED_NS+=("$ns")
        # no DAD: IPv6 link-local addresses settle at once
        nest_x "$L" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        ip -n "$ns" link set lo up
    done
    nest_x L0 nft list ruleset >/dev/null 2>&1 || { echo "SKIP: nftables does not work here"; exit 77; }
    local n0 n1 n2
    n0=$(nest_ns L0); n1=$(nest_ns L1); n2=$(nest_ns L2)

    # L0, WSL2: the VPN adapter and the LAN, links to nowhere
    _nest_stub_link "$n0" eth0 00:15:5d:13:0c:12 1420 || exit 1
    _nest_stub_link "$n0" eth1 1c:83:41:cf:a8:7c 1500 || exit 1
    ip -n "$n0" addr add 10.61.2.254/32 dev eth0
    ip -n "$n0" addr add 172.24.21.109/24 dev eth1
    ip -n "$n0" link set eth0 up
    ip -n "$n0" link set eth1 up
    ip -n "$n0" route add 169.254.1.1 dev eth0 metric 1
    ip -n "$n0" route add 10.113.0.0/16 via 169.254.1.1 dev eth0 metric 1
    ip -n "$n0" route add default via 172.24.21.254 dev eth1 metric 25
    # L0's virbr0, and vnet0 (the TAP of debian) <-> debian's enp1s0
    ip -n "$n0" link add virbr0 address 52:54:00:7d:0b:60 type bridge
    ip -n "$n0" addr add 192.168.122.1/24 dev virbr0
    ip link add vnet0 netns "$n0" address fe:54:00:fc:38:e0 type veth \
        peer name enp1s0 netns "$n1" address 52:54:00:fc:38:e0
    ip -n "$n0" link set vnet0 master virbr0 up
    ip -n "$n0" link set virbr0 up
    # L1, debian
    ip -n "$n1" addr add 192.168.122.191/24 dev enp1s0
    ip -n "$n1" link set enp1s0 up
    ip -n "$n1" route add default via 192.168.122.1 dev enp1s0 metric 100
    ip -n "$n1" link add virbr0 address 52:54:00:e8:c6:c3 type bridge
    ip -n "$n1" addr add 192.168.124.1/24 dev virbr0
    ip link add vnet0 netns "$n1" address fe:54:00:5a:1a:8e type veth \
        peer name "$NEST_L2_IF" netns "$n2" address 52:54:00:5a:1a:8e
    ip -n "$n1" link set vnet0 master virbr0 up
    ip -n "$n1" link set virbr0 up
    # L2, debian's guest
    ip -n "$n2" addr add 192.168.124.91/24 dev "$NEST_L2_IF"
    ip -n "$n2" link set "$NEST_L2_IF" up
    ip -n "$n2" route add default via 192.168.124.1 dev "$NEST_L2_IF" metric 100
    # forwarding as libvirt leaves it; strict reverse path on L1
    nest_x L0 sysctl -qw net.ipv4.ip_forward=1
    nest_x L1 sysctl -qw net.ipv4.ip_forward=1
    nest_x L1 sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
    nest_x L1 sysctl -qw net.ipv4.conf.enp1s0.rp_filter=1 net.ipv4.conf.virbr0.rp_filter=1

    NEST_STATE_L0=$NEST_TMP/state-l0
    NEST_STATE_L1=$NEST_TMP/state-l1
    NEST_STATE_L2=$NEST_TMP/state-l2
    mkdir "$NEST_STATE_L0" "$NEST_STATE_L1" "$NEST_STATE_L2"

    # IPv6 link-local addresses and routes come and go while links settle
    for i in $(seq 50); do
        [ -z "$(for L in L0 L1 L2; do ip -n "$(nest_ns $L)" -6 addr show tentative; done)" ] && break
        sleep 0.1
    done
    sleep 0.2
}

# --- firewalls

nest_firewall() {  # KIND
    local d=$NEST_SRC/tests/netns lv=$NEST_SRC/tests/data/rules/libvirt9-nat-122.iptables
    NEST_KIND=$1
    case $1 in
    libvirt9)
        nest_x L0 iptables-restore < "$lv" &&
        sed 's/192\.168\.122\./192.168.124./g' "$lv" | nest_x L1 iptables-restore
        ;;
    seed)
        nest_x L0 iptables-restore < "$lv" &&
        nest_x L1 iptables-restore < "$d/seed-l1.iptables"
        ;;
    legacy|legacy-nft)
        NEST_IPT=iptables-legacy
        NEST_IPT_SAVE=iptables-legacy-save
        NEST_IPT_RESTORE=iptables-legacy-restore
        command -v iptables-legacy-restore >/dev/null ||
            { echo "nest_firewall: iptables-legacy-restore is missing" >&2; return 1; }
        nest_x L0 iptables-legacy-restore -w < "$lv" &&
        sed 's/192\.168\.122\./192.168.124./g' "$lv" | nest_x L1 iptables-legacy-restore -w || return 1
        if [ "$1" = legacy-nft ]; then
            printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' > "$NEST_TMP/empty-filter"
            nest_x L0 iptables-nft-restore < "$NEST_TMP/empty-filter" &&
            nest_x L1 iptables-nft-restore < "$NEST_TMP/empty-filter"
        fi
        ;;
    nftables)
        nest_x L0 nft -f "$d/libvirt-nft-base.nft" &&
        nest_x L0 nft -f "$d/libvirt-nft-nat-122.nft" &&
        nest_x L1 nft -f "$d/libvirt-nft-base.nft" &&
        sed 's/192\.168\.122\./192.168.124./g' "$d/libvirt-nft-nat-122.nft" | nest_x L1 nft -f -
        ;;
    *)
        echo "nest_firewall: unknown kind '$1' (libvirt9, seed, nftables, legacy, legacy-nft)" >&2
        return 2
        ;;
    esac
}

# libvirt's own rules in TABLE CHAIN of LAYER, as `iptables -S` lists them
# without "-A CHAIN ": every rule that is not virt-nest's
_nest_ipt_own() {  # LAYER TABLE CHAIN
    nest_x "$1" "$NEST_IPT" -w -t "$2" -S "$3" | sed -n "s/^-A $3 //p" | grep -v -- '--comment "virt-nest '
}

# delete the rules (one per line, iptables -S form) and insert them again
# at the head of CHAIN, keeping their order, as libvirt's --insert does
_nest_ipt_reinsert() {  # LAYER TABLE CHAIN RULES
    local r
    [ -n "$4" ] || return 0
    while IFS= read -r r; do
        eval "nest_x \"\$1\" \"\$NEST_IPT\" -w -t \"\$2\" -D \"\$3\" $r" || return 1
    done <<< "$4"
    while IFS= read -r r; do
        eval "nest_x \"\$1\" \"\$NEST_IPT\" -w -t \"\$2\" -I \"\$3\" 1 $r" || return 1
    done <<< "$(printf '%s\n' "$4" | tac)"
}

nest_libvirt_reload() {  # LAYER rules|jumps
    local layer=$1 mode=$2 kind=$NEST_KIND tc table chain
    [ "$NEST_KIND" = seed ] && [ "$layer" = L0 ] && kind=libvirt9
    # the same rules, in legacy xtables ($NEST_IPT says which iptables)
    case $kind in legacy|legacy-nft) kind=libvirt9 ;; esac
    case $kind:$mode in
    libvirt9:rules)
        for tc in filter:LIBVIRT_FWX filter:LIBVIRT_FWI filter:LIBVIRT_FWO \
                  filter:LIBVIRT_INP filter:LIBVIRT_OUT nat:LIBVIRT_PRT mangle:LIBVIRT_PRT; do
            table=${tc%%:*}; chain=${tc#*:}
            _nest_ipt_reinsert "$layer" "$table" "$chain" "$(_nest_ipt_own "$layer" "$table" "$chain")" || return 1
        done
        ;;
    libvirt9:jumps)
        # libvirt inserts FWO, then FWI, then FWX at position 1
        for tc in filter:INPUT filter:OUTPUT filter:FORWARD nat:POSTROUTING mangle:POSTROUTING; do
            table=${tc%%:*}; chain=${tc#*:}
            _nest_ipt_reinsert "$layer" "$table" "$chain" \
                "$(_nest_ipt_own "$layer" "$table" "$chain" | grep -- '-j LIBVIRT_')" || return 1
        done
        ;;
    seed:rules|seed:jumps)
        # the old libvirt's rules are in the built-in chains themselves
        for tc in filter:INPUT filter:OUTPUT filter:FORWARD nat:POSTROUTING mangle:POSTROUTING; do
            table=${tc%%:*}; chain=${tc#*:}
            _nest_ipt_reinsert "$layer" "$table" "$chain" "$(_nest_ipt_own "$layer" "$table" "$chain")" || return 1
        done
        ;;
    nftables:rules)
        local net=192.168.122 h c
        [ "$layer" = L1 ] && net=192.168.124
        # libvirt deletes its rules by handle (kept in the network's status
        # XML): every rule of guest_* that is not virt-nest's
        for c in guest_output guest_input guest_cross guest_nat; do
            for h in $(nest_x "$layer" nft -a list chain ip libvirt_network "$c" |
                       grep -v 'comment "virt-nest ' |
                       sed -n 's/^\t\t.* # handle \([0-9]*\)$/\1/p'); do
                nest_x "$layer" nft delete rule ip libvirt_network "$c" handle "$h" || return 1
            done
        done
        sed "s/192\\.168\\.122\\./$net./g" "$NEST_SRC/tests/netns/libvirt-nft-nat-122.nft" |
            nest_x "$layer" nft -f -
        ;;
    nftables:jumps)
        nest_x "$layer" nft flush chain ip libvirt_network forward &&
        grep '^insert rule ip libvirt_network forward ' "$NEST_SRC/tests/netns/libvirt-nft-base.nft" |
            nest_x "$layer" nft -f -
        ;;
    *)
        echo "nest_libvirt_reload: kind '$NEST_KIND', mode '$mode'?" >&2
        return 2
        ;;
    esac
}

# --- running things as libvirt does

nest_in() {  # LAYER CMD...
    local layer=$1 sd ns
    ns=$(nest_ns "$layer") || return 2
    sd=$(nest_state_dir "$layer") || return 2
    shift
    ip netns exec "$ns" unshare --mount --propagation private -- /bin/sh -c '
        sd=$1 conf=$2 bus=$3
        shift 3
        mount -t tmpfs -o mode=0755,size=8m virt-nest-test-run /run || exit 125
        if [ -n "$bus" ]; then
            mkdir /run/dbus && : > /run/dbus/system_bus_socket &&
                mount --bind "$bus" /run/dbus/system_bus_socket || exit 125
        fi
        if [ -d "$sd" ]; then
            mkdir /run/virt-nest && mount --bind "$sd" /run/virt-nest || exit 125
        fi
        if [ -d /etc/virt-nest ]; then
            mount -t tmpfs -o size=1m virt-nest-test-etc /etc/virt-nest || exit 125
            if [ -n "$conf" ]; then cp "$conf" /etc/virt-nest/virt-nest.conf || exit 125; fi
        elif [ -n "$conf" ]; then
            set -- VIRT_NEST_CONFIG="$conf" "$@"
        fi
        cd / || exit 125
        exec env -i LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root USER=root LOGNAME=root "$@"' nest-in "$sd" "${NEST_CONF:-}" "${NEST_SYSTEM_BUS:-}" "$@"
}

nest_hook() {  # LAYER KIND NAME OP SUBOP XML
    nest_in "$1" "$NEST_HOOKS/$2" "$3" "$4" "$5" - < "$6"
}

# --- looking

nest_snapshot() {  # LAYER [handles]
    local a=
    [ "${2:-}" = handles ] && a=-a
    echo "# nft -s $a list ruleset"
    # (nft warns on stderr about iptables-nft's tables: not news)
    { nest_x "$1" nft -s $a list ruleset 2>&1 1>&3 3>&- |
          grep -v '^# Warning: table .* is managed by iptables-nft' >&2; } 3>&1
    echo "# iptables-save"
    # (iptables-nft warns on stderr when legacy tables exist: not news)
    { nest_x "$1" iptables-save 2>&1 1>&3 3>&- |
          grep -v '^# Warning: iptables-legacy tables present' >&2; } 3>&1 |
        grep -v '^# \(Generated\|Completed\) ' | sed 's/ \[[0-9]*:[0-9]*\]$//'
    case $NEST_KIND in
    legacy|legacy-nft)
        echo "# iptables-legacy-save"
        nest_x "$1" iptables-legacy-save | grep -v '^# \(Generated\|Completed\) ' |
            sed 's/ \[[0-9]*:[0-9]*\]$//'
        echo "# ip6tables-legacy-save"
        nest_x "$1" ip6tables-legacy-save | grep -v '^# \(Generated\|Completed\) ' |
            sed 's/ \[[0-9]*:[0-9]*\]$//'
        ;;
    esac
    echo "# ip -4 route show table all"
    ip -n "$(nest_ns "$1")" -4 route show table all
    echo "# ip -6 route show table main"
    ip -n "$(nest_ns "$1")" -6 route show table main
}

nest_ping() {  # FROM DST
    nest_x "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1
}

nest_tcp() {  # FROM TO DST PORT
    local from=$1 to=$2 dst=$3 port=$4 out pid i
    out=$NEST_TMP/tcp.$RANDOM
    nest_x "$to" timeout 10 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("listening", flush=True)
c, peer = s.accept()
c.sendall(peer[0].encode())
c.close()
print(peer[0], flush=True)' "$dst" "$port" > "$out" 2>/dev/null &
    pid=$!
    NEST_PIDS+=("$pid")
    for i in $(seq 50); do
        grep -q listening "$out" 2>/dev/null && break
        sleep 0.1
    done
    nest_x "$from" timeout 5 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print(s.recv(64).decode())
except OSError:
    pass' "$dst" "$port"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    _nest_forget_pid "$pid"
    rm -f "$out"
}
