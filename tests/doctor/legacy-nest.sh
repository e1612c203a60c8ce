#!/bin/bash
# The seed's nest on hosts whose iptables is iptables-legacy: libvirt 9.0's
# rules loaded with iptables-legacy-restore into L0 and L1, and beside them
# an empty iptables-nft filter table (lib.sh nest_firewall legacy-nft, the
# case issue 9 found: nft accepts that match and end nothing). Snapshots
# per layer (`virt-nest status --json --host` in each namespace), then
# `virt-nest doctor` on them and live in L1, against golden output; ping
# and the legacy REJECT's counters show that doctor's verdict is the
# kernel's:
#
#   route     L0's hooks ran (the route), L1 has no metadata: the packet
#             dies at L1's legacy LIBVIRT_FWI REJECT
#   nft-only  L1's network hook with the legacy backend forced off (what
#             virt-nest did before it had one): virt-nest's accept in
#             iptables-nft's FORWARD matches, and the legacy REJECT still
#             drops the packet; doctor must say so, not `reachable`
#   fixed     the hook with every backend: reachable, there and back
#
# Usage: legacy-nest.sh VIRT_NEST VIRT_NEST_HOOK SRCDIR
# VN_REGENERATE=1 rewrites the golden files.
set -u
VN=$(realpath "$1")
HOOK=$(realpath "$2")
SRC=$3
X=$SRC/xml/examples
GOLD=$SRC/tests/golden/doctor
G=$SRC/tests/golden/hook

NEST_L2_IF=ens3
. "$SRC/tests/netns/lib.sh"
nest_init "$SRC" "$HOOK"
command -v iptables-legacy-restore >/dev/null || { echo "FAIL: iptables-legacy-restore is missing (Debian: iptables)"; exit 1; }
nest_build
nest_firewall legacy-nft || { echo "FAIL: loading libvirt's rules into legacy xtables"; exit 1; }
T=$NEST_TMP
fail=0
# shellcheck source=seedlib.sh
. "$SRC/tests/doctor/seedlib.sh"
seed_rp_filter

# L1's libvirt without its metadata: the test-driver example, stripped
strip_nest "$X/seed-l1.xml" > "$T/l1-plain.xml"
grep -q '<nest:' "$T/l1-plain.xml" && { echo "FAIL: metadata left"; exit 1; }

snapshots() {  # STATE L1XML
    mkdir -p "$T/$1"
    snap "$L0" wujing "$X/seed-l0.xml" "$T/$1/l0.json"
    snap "$L1" debian "$2" "$T/$1/l1.json"
    snap "$L2" debian-l2 "$X/seed-l2.xml" "$T/$1/l2.json"
}

rejects() {  # packets L1's legacy LIBVIRT_FWI REJECT has rejected
    nsx "$L1" iptables-legacy -w -L LIBVIRT_FWI -v -n -x | awk '$3 == "REJECT" { print $1 }'
}
pings() {  # EXPECT(ok|fail) WHAT: and whether the legacy REJECT counted it
    local c0 c1 got=fail
    c0=$(rejects)
    nsx "$L0" ping -c 1 -W 1 -I 192.168.122.1 192.168.124.91 >/dev/null 2>&1 && got=ok
    c1=$(rejects)
    if [ "$got" != "$1" ]; then
        echo "FAIL: ping L0 -> L2 expected $1, got $got: $2"; fail=1
    elif [ "$1" = fail ] && [ "$c1" -le "$c0" ]; then
        echo "FAIL: ping L0 -> L2 failed, but L1's legacy REJECT did not count it ($c0 -> $c1): $2"; fail=1
    elif [ "$1" = ok ] && [ "$c1" != "$c0" ]; then
        echo "FAIL: ping L0 -> L2 worked, yet L1's legacy REJECT counted $c0 -> $c1: $2"; fail=1
    else
        echo "ok: ping L0 -> L2: $1, L1's legacy REJECT $c0 -> $c1 packets ($2)"
    fi
}

sed 's/192\.168\.122\.50/192.168.122.191/' \
    "$G/qemu-started-reservation/state/network/default.xml" > "$T/l0-default.xml"
hook_ok L0 network default started begin "$T/l0-default.xml"
hook_ok L0 qemu debian started begin "$G/qemu-started-reservation/stdin.xml"

# --- 1. the route only
snapshots route "$T/l1-plain.xml"
pings fail "the route only"
GOLDEN_CWD="$T/route" golden legacy-route.txt doctor

# --- 2. the exceptions in iptables-nft's table alone
nest_in L1 env VIRT_NEST_FIREWALL=iptables "$NEST_HOOKS/network" default started begin - \
    < "$G/network-started-peers/stdin.xml" || { echo "FAIL: L1 hook, iptables only"; fail=1; }
snapshots nft-only "$X/seed-l1.xml"
pings fail "virt-nest's accepts in iptables-nft alone"
GOLDEN_CWD="$T/nft-only" golden legacy-nft-only.txt doctor
GOLDEN_CWD="$T" golden legacy-live-l1-nft-only.txt \
    live "$L1" debian doctor -c "test://$X/seed-l1.xml" \
    --from 192.168.122.1 --to 192.168.124.91
nest_in L1 env VIRT_NEST_FIREWALL=iptables "$NEST_HOOKS/network" default stopped end - \
    < "$G/network-started-peers/stdin.xml" || { echo "FAIL: L1 stop hook, iptables only"; fail=1; }

# --- 3. fixed: every backend
hook_ok L1 network default started begin "$G/network-started-peers/stdin.xml"
snapshots fixed "$X/seed-l1.xml"
pings ok "the hooks with the legacy backend"
GOLDEN_CWD="$T/fixed" golden legacy-fixed.txt doctor
GOLDEN_CWD="$T" golden legacy-live-l1-fixed.txt \
    live "$L1" debian doctor -c "test://$X/seed-l1.xml" \
    --from 192.168.122.1 --to 192.168.124.91
# the snapshot carries the legacy chains, marked as such
n=$(jq '[.host.firewall[] | select(.legacy == true)] | length' "$T/fixed/l1.json")
m=$(jq '[.host.firewall[] | select(.legacy != true)] | length' "$T/fixed/l1.json")
if [ "$n" -gt 0 ] && [ "$m" = 3 ]; then
    echo "ok: L1's snapshot has $n legacy chains and iptables-nft's 3"
else
    echo "FAIL: L1's snapshot has $n legacy chains and $m others"; fail=1
fi
hook_ok L1 network default stopped end "$G/network-started-peers/stdin.xml"
exit $fail
