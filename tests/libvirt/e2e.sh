#!/bin/bash
# End to end with a real libvirtd (tests/libvirt/lab.sh): virt-nest's hooks,
# installed with `virt-nest install-hooks`, fire from the daemon itself.
# Usage: e2e.sh BUILDDIR SRCDIR [backports iptables|nftables]
#   without the third argument: the system's libvirt (Debian 12's 9.0);
#   backports: bookworm-backports' libvirt (11.3), fetched into
#   BUILDDIR/libvirt-backports (tests/libvirt/fetch-libvirt.sh), with that
#   firewall_backend in the lab's network.conf. Exit 77 when it cannot be
#   had (no registry).
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
WHICH=${3:-system}
FW=${4:-iptables}
lab_need libvirtd qemu-system-x86_64 tini dnsmasq
lab_use_libvirt "$WHICH" "$FW"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-e2e.XXXXXX)
L=vne2e$$
trap 'lab_stop $L; rm -rf "$LAB_ROOT"' EXIT
vn() { lab_exec "$L" "$LAB_VN" "$@"; }       # inside the lab: its /run/virt-nest
routes() { lab_net "$L" ip route show proto 155; }
# Where libvirt's firewall is, by backend. The exceptions must head the
# chain whose REJECT they beat (FWD), the NAT exemption the chain whose
# MASQUERADE it beats (NAT); libvirt's jumps to its own chains are JUMP.
#   fwd_rules, nat_rules   the rules of those chains, in order, one a line
#   ours                   how many of virt-nest's rules the ruleset holds
#   fwsave                 the whole ruleset, without counters
#   fwd_flush              what a user's flush of FWD does
if [ "$FW" = nftables ]; then
    FWD="ip libvirt_network forward"
    NAT="ip libvirt_network guest_nat"
    JUMP="jump guest_"
    _chain() { lab_net "$L" nft list chain $1 | sed -n 's/^\t\t//p' | grep -v '^type '; }
    fwd_rules() { _chain "$FWD"; }
    nat_rules() { _chain "$NAT"; }
    ours() { lab_net "$L" nft list ruleset | grep -c 'comment "virt-nest '; }
    fwsave() { lab_net "$L" nft -s list ruleset; }
    fwd_flush() { lab_net "$L" nft flush chain $FWD; }
else
    FWD="ip filter FORWARD"
    NAT="ip nat POSTROUTING"
    JUMP="-j LIBVIRT_FW"
    fwd_rules() { lab_net "$L" iptables -S FORWARD | sed -n 's/^-A FORWARD //p'; }
    nat_rules() { lab_net "$L" iptables -t nat -S POSTROUTING | sed -n 's/^-A POSTROUTING //p'; }
    ours() { lab_net "$L" iptables-save | grep -c -- '--comment "virt-nest ' ; }
    fwsave() { lab_net "$L" iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
    fwd_flush() { lab_net "$L" iptables -F FORWARD; }
fi
heads_fwd() {  # NET: its two exceptions are the first two rules of FWD
    fwd_rules | sed -n '1,2p' | grep -c "virt-nest $1 " | grep -qx 2
}
# libvirt >= 10.4 with nftables deletes its rules by handle and inserts them
# again at the heads of its chains on every daemon start and SIGHUP
# (network_nftables.c; it fires no network hook): its MASQUERADE comes back
# above virt-nest's NAT exemption. status must say so, reconcile must put
# the exemption back, and everything else must not have moved.
nat_after_reload() {  # WHEN
    local want="no NAT  -s 192.168.150.0/24 -d 10.77.0.0/24            shadowed" out
    if nat_rules | sed -n 1p | grep -q 'virt-nest nestnet nat'; then
        ok "$1: the NAT exemption still heads $NAT"
        return
    fi
    note "$1: libvirt re-inserted its own rules at the head of $NAT, above virt-nest's NAT exemption"
    vn status -c "$URI" > "$LAB_ROOT/status-nat.txt"
    check "$1: status shows the NAT exemption shadowed by libvirt's MASQUERADE and names reconcile" \
        "grep -q -- '$want' '$LAB_ROOT/status-nat.txt' && grep -q 'MASQUERADE still rewrites it' '$LAB_ROOT/status-nat.txt' && grep -q \"run 'virt-nest reconcile'\" '$LAB_ROOT/status-nat.txt'"
    out=$(vn reconcile -c "$URI" 2>&1)
    if [ "$out" = "network 'nestnet': move rule \"virt-nest nestnet nat 192.168.150.0/24>10.77.0.0/24\" back to the head of $NAT" ]; then
        ok "$1: reconcile moves the NAT exemption back, and only it"
    else
        bad "$1: reconcile: $out"
    fi
    check "$1: the NAT exemption heads $NAT again" "nat_rules | sed -n 1p | grep -q 'virt-nest nestnet nat'"
}

lab_start "$L" || { bad "the lab did not start"; exit 1; }
URI=$(_lab_uri "$L")
ok "libvirtd up in $L with the hooks installed"
v=$(lab_version "$L")
if [ "$WHICH" = backports ]; then
    check "the lab runs libvirtd $v, bookworm-backports' $LAB_LIBVIRT_PKG, firewall_backend $FW" \
        "[ '$v' = '${LAB_LIBVIRT_PKG%%-*}' ]"
else
    check "the lab runs the system's libvirtd $v" "[ '$v' = \"\$(libvirtd --version | awk '{ print \$NF }')\" ]"
fi

# 1. net-start installs the exceptions, above libvirt's jumps
lab_virsh "$L" net-define "$XML/net-nest.xml" >/dev/null
lab_virsh "$L" net-start nestnet >/dev/null || bad "net-start nestnet"
first=$(fwd_rules | sed -n 1p)
check "net-start: a virt-nest rule heads $FWD" \
    "echo \"\$first\" | grep -q 'virt-nest nestnet in 10.77.0.0/24>192.168.150.0/24'"
check "net-start: both virt-nest rules come before libvirt's jumps" \
    "heads_fwd nestnet && fwd_rules | sed -n 3p | grep -q -- '$JUMP'"
check "net-start: the NAT exemption heads $NAT" \
    "nat_rules | sed -n 1p | grep -q 'virt-nest nestnet nat 192.168.150.0/24>10.77.0.0/24'"
check "libvirt's own iptables -S still works" "lab_net $L iptables -S >/dev/null"
if [ "$FW" = nftables ]; then
    check "virt-nest made no iptables table: libvirt_network is the only table" \
        "[ \"\$(lab_net $L nft list tables)\" = \"\$(printf 'table ip libvirt_network\ntable ip6 libvirt_network')\" ]"
fi

# 2. the guest's start installs the route via its reservation, on its bridge
lab_virsh "$L" define "$XML/dom-l1.xml" >/dev/null
lab_virsh "$L" start l1 >/dev/null || bad "virsh start l1"
check "start: route via the reserved address on virbr7" \
    "[ \"\$(routes)\" = '192.168.151.0/24 via 192.168.150.50 dev virbr7 ' ]"
check "status: nothing drifted" "vn status -c '$URI' > '$LAB_ROOT/status.txt' && ! grep -q Drift '$LAB_ROOT/status.txt' && grep -q 'route  192.168.151.0/24 via 192.168.150.50 dev virbr7 (reservation)  ok' '$LAB_ROOT/status.txt'"

# 3. a libvirtd restart with the guest running (the reconnect hook) keeps all
before=$(fwsave; routes)
lab_restart "$L"
after=$(fwsave; routes)
check "libvirtd restart: guest still running" "lab_virsh $L domstate l1 | grep -q running"
if [ "$before" = "$after" ]; then
    ok "libvirtd restart: routes and rules as before"
elif [ "$FW" = nftables ]; then
    check "libvirtd restart: virt-nest's exceptions still head $FWD" "heads_fwd nestnet"
    nat_after_reload "libvirtd restart"
    check "libvirtd restart, then reconcile: routes and rules as before" "[ \"\$before\" = \"\$(fwsave; routes)\" ]"
else
    bad "libvirtd restart: routes and rules as before"
    diff <(echo "$before") <(echo "$after") | sed 's/^/    | /'
fi
# the reconnect hook itself: take the route away, restart, and it is back
lab_net "$L" ip route del 192.168.151.0/24 via 192.168.150.50 dev virbr7 proto 155
lab_restart "$L"
check "libvirtd restart: the qemu reconnect hook re-installs a missing route" \
    "[ \"\$(routes)\" = '192.168.151.0/24 via 192.168.150.50 dev virbr7 ' ]"
nat_after_reload "second libvirtd restart"

# 4. SIGHUP: libvirt reloads its own rules; virt-nest's stay on top
lab_reload "$L"
check "libvirt reload: virt-nest's rules still head $FWD" "heads_fwd nestnet"
nat_after_reload "libvirt reload (SIGHUP)"

# 5. a flush of FWD, then reconcile puts them back
fwd_flush
check "after a flush of $FWD: status names the drift and the fix" \
    "vn status -c '$URI' | grep -q \"run 'virt-nest reconcile'\""
vn reconcile -c "$URI" > "$LAB_ROOT/reconcile.txt" 2>&1
check "reconcile exits 0" "[ $? -eq 0 ]"
check "reconcile re-inserted both forward rules" \
    "[ \"\$(grep -c 'insert rule \"virt-nest nestnet' '$LAB_ROOT/reconcile.txt')\" = 2 ]"
check "reconcile: rules head $FWD again" "heads_fwd nestnet"
# libvirt creates its jumps to its own chains once per daemon: after the
# flush they come back when libvirtd restarts, at the head, above
# virt-nest's rules (no hook fires for networks then); reconcile moves
# them back up
lab_restart "$L"
check "after a libvirtd restart its jumps are back above virt-nest's rules" \
    "fwd_rules | sed -n 1p | grep -q -- '$JUMP'"
shadowed="vn status -c '$URI' > '$LAB_ROOT/status2.txt'; grep -q 'accept  -s 10.77.0.0/24 -d 192.168.150.0/24 -o virbr7  shadowed' '$LAB_ROOT/status2.txt' && grep -q \"run 'virt-nest reconcile'\" '$LAB_ROOT/status2.txt'"
# (for libvirt's nftables backend: its `oif "virbr7" reject` in
# guest_input, behind the jump above virt-nest's rules, matched by ifindex)
check "status shows them shadowed and names reconcile" "$shadowed"
vn reconcile -c "$URI" > "$LAB_ROOT/reconcile2.txt" 2>&1
check "reconcile says it moved them" \
    "[ \"\$(grep 'move rule' '$LAB_ROOT/reconcile2.txt' | grep -c 'back to the head of $FWD\$')\" = 2 ]"
# and nothing else, but for libvirt's nftables backend the NAT exemption
# that the restart put below libvirt's own rules again
if [ "$FW" = nftables ]; then
    check "reconcile moved nothing else but the NAT exemption" \
        "[ -z \"\$(grep 'move rule' '$LAB_ROOT/reconcile2.txt' | grep -v 'back to the head of $FWD\$' | grep -vx \"network 'nestnet': move rule \\\"virt-nest nestnet nat 192.168.150.0/24>10.77.0.0/24\\\" back to the head of $NAT\")\" ]"
else
    check "reconcile moved nothing else" "[ \"\$(grep -c 'move rule' '$LAB_ROOT/reconcile2.txt')\" = 2 ]"
fi
check "after libvirt re-inserted its jumps, reconcile puts virt-nest's rules first again" \
    "heads_fwd nestnet && fwd_rules | grep -q -- '$JUMP'"
check "the NAT exemption heads $NAT" "nat_rules | sed -n 1p | grep -q 'virt-nest nestnet nat'"
vn reconcile -c "$URI" > "$LAB_ROOT/reconcile3.txt" 2>&1
check "a second reconcile changes nothing" "grep -qx 'nothing to change: this layer has what it needs' '$LAB_ROOT/reconcile3.txt'"

# 6. a refusal reaches `virsh start` as one clear line; nothing changes
snap=$(fwsave; routes)
lab_virsh "$L" define "$XML/dom-hostile.xml" >/dev/null
err=$(lab_virsh "$L" start hostile 2>&1)
check "virsh start of a guest asking for a default route fails" "! lab_virsh $L domstate hostile | grep -q running"
check "and its error carries virt-nest's one line" \
    "echo \"\$err\" | grep -q \"virt-nest: domain 'hostile': <nest:route subnet='0.0.0.0/0'>: a default route is never delegated; name the nested subnets\""
echo "$err" | sed 's/^/    | /'
check "nothing changed" "[ \"\$snap\" = \"\$(fwsave; routes)\" ]"

# 6b. refused network metadata: refused at `start begin`, before libvirt
# makes the bridge, its rules or dnsmasq; libvirt 9.0 left all three
# behind after a refusal at `started` (its cleanup skipped a network not
# yet active); the next net-start with fixed metadata works
snap=$(fwsave; routes)
lab_virsh "$L" net-define "$XML/net-refused.xml" >/dev/null
err=$(lab_virsh "$L" net-start nestbad 2>&1)
check "net-start of a network letting 0.0.0.0/0 in fails" "! lab_virsh $L net-info nestbad | grep -q 'Active: *yes'"
check "and its error carries virt-nest's one line" \
    "echo \"\$err\" | grep -q \"virt-nest: network 'nestbad': <nest:peer subnet='0.0.0.0/0'>: \""
echo "$err" | sed 's/^/    | /'
check "the refusal left no bridge" "! lab_net $L ip link show virbr9 >/dev/null 2>&1"
check "the refusal left no dnsmasq" "[ -z \"\$(lab_exec $L sh -c 'grep -la nestba[d].conf /proc/[0-9]*/cmdline 2>/dev/null')\" ]"
check "the refusal left no rule" "[ \"\$snap\" = \"\$(fwsave; routes)\" ]"
# the user's fix, as net-edit makes it (same name and UUID)
lab_virsh "$L" net-dumpxml nestbad --inactive | sed 's#0\.0\.0\.0/0#10.78.0.0/24#' > "$LAB_ROOT/net-fixed.xml"
lab_virsh "$L" net-define "$LAB_ROOT/net-fixed.xml" >/dev/null
err=$(lab_virsh "$L" net-start nestbad 2>&1)
check "with the metadata fixed, the next net-start works" "lab_virsh $L net-info nestbad | grep -q 'Active: *yes'"
echo "$err" | sed 's/^/    | /'
check "and installs its exceptions" "fwd_rules | grep -q 'virt-nest nestbad in 10.78.0.0/24>192.168.160.0/24'"
lab_virsh "$L" net-destroy nestbad >/dev/null
lab_virsh "$L" net-undefine nestbad >/dev/null
check "net-destroy: nestbad's exceptions are gone" "! fwsave | grep -q 'virt-nest nestbad'"
check "net-destroy: everything else as before nestbad" "[ \"\$snap\" = \"\$(fwsave; routes)\" ]"

# 6c. another network hook fails at `started`, after virt-nest's has
# installed the exceptions (hooks run in name order: zz-late after
# virt-nest). libvirt 11.3 cleans up a network whose `started` failed and
# runs `stopped end` (so virt-nest takes its rules back); libvirt 9.0 skips
# its cleanup for a network not yet active: bridge, dnsmasq and every rule
# stay, and no hook fires; reconcile then takes back virt-nest's own
late=$LAB_ROOT/$L/etc/hooks/network.d/zz-late
printf '#!/bin/sh\n[ "$1" = nestlate ] && [ "$2" = started ] && { echo "zz-late: not nestlate" >&2; exit 1; }\nexit 0\n' > "$late"
chmod 755 "$late"
snap=$(fwsave; routes)
lab_virsh "$L" net-define "$XML/net-late.xml" >/dev/null
err=$(lab_virsh "$L" net-start nestlate 2>&1)
check "net-start of nestlate fails by the other hook at started" \
    "echo \"\$err\" | grep -q 'zz-late: not nestlate' && ! lab_virsh $L net-info nestlate | grep -q 'Active: *yes'"
late_dnsmasq() { lab_exec "$L" sh -c 'grep -la nestlat[e].conf /proc/[0-9]*/cmdline 2>/dev/null'; }
if [ "$WHICH" = backports ]; then
    check "libvirt $v cleaned up: no bridge left" "! lab_net $L ip link show virbr8 >/dev/null 2>&1"
    check "libvirt $v cleaned up: no dnsmasq left" "[ -z \"\$(late_dnsmasq)\" ]"
    check "and ran stopped: virt-nest took its exceptions back, no rule is left" "[ \"\$snap\" = \"\$(fwsave; routes)\" ]"
    check "no ledger of nestlate is left" "! lab_exec $L test -e /run/virt-nest/network/nestlate.state"
else
    note "libvirt $v left nestlate's bridge ($(lab_net "$L" ip -br link show virbr8 2>/dev/null | awk '{print $1}')), dnsmasq ($(late_dnsmasq | wc -l) processes) and rules behind, and ran no stopped hook"
    check "virt-nest's exceptions of nestlate are still there (no hook told it)" "[ \"\$(fwsave | grep -c 'virt-nest nestlate ')\" = 3 ]"
    vn reconcile -c "$URI" > "$LAB_ROOT/reconcile-late.txt" 2>/dev/null  # stderr: the hostile guest
    n=$(grep -c "^network 'nestlate': delete rule \"virt-nest nestlate " "$LAB_ROOT/reconcile-late.txt")
    if [ "$n" = 3 ] && [ "$(grep -c . "$LAB_ROOT/reconcile-late.txt")" = 3 ]; then
        ok "reconcile takes back the 3 rules of the inactive network, nothing else"
    else
        bad "reconcile takes back the 3 rules of the inactive network, nothing else:"
        sed 's/^/    | /' "$LAB_ROOT/reconcile-late.txt"
    fi
    check "no rule of virt-nest's for nestlate is left" "! fwsave | grep -q 'virt-nest nestlate '"
    # what the user does about libvirt's leftovers, so that the rest runs
    # as before: the bridge and dnsmasq go (libvirt's rules for virbr8 stay)
    for p in $(late_dnsmasq | cut -d/ -f3); do lab_exec "$L" kill "$p" 2>/dev/null; done
    lab_net "$L" ip link del virbr8 2>/dev/null
fi
rm -f "$late"
lab_virsh "$L" net-undefine nestlate >/dev/null

# 6d. libvirt >= 9.7 sets a running network's metadata with
# virNetworkSetMetadata (virsh net-metadata; 11.3's virsh inside the lab):
# no network hook fires, so the exceptions stay those of the old peers
# until reconcile; status must say so
if [ "$WHICH" = backports ]; then
    setpeer() {  # SUBNET
        lab_exec "$L" virsh -q net-metadata nestnet urn:virt-nest:1 --key nest --live --config \
            --set "<network><peer subnet=\"$1\"/></network>"
    }
    setpeer 10.88.0.0/24
    check "virsh net-metadata --live: nestnet's peer is 10.88.0.0/24 now" \
        "lab_virsh $L net-dumpxml nestnet | grep -q '<nest:peer subnet=\"10.88.0.0/24\"/>'"
    check "no hook fired: the exceptions are still those of 10.77.0.0/24" \
        "heads_fwd nestnet && fwd_rules | grep -q 'virt-nest nestnet in 10.77.0.0/24>' && ! fwsave | grep -q 'virt-nest nestnet in 10.88.0.0/24>'"
    vn status -c "$URI" > "$LAB_ROOT/status-meta.txt" 2>/dev/null
    check "status: the new peer's three rules missing, the old peer's three stale, and reconcile named" \
        "[ \"\$(grep -c '10.88.0.0/24.*  missing\$' '$LAB_ROOT/status-meta.txt')\" = 3 ] && [ \"\$(grep -c '10.77.0.0/24.*(stale)' '$LAB_ROOT/status-meta.txt')\" = 3 ] && grep -q \"run 'virt-nest reconcile'\" '$LAB_ROOT/status-meta.txt'"
    vn reconcile -c "$URI" > "$LAB_ROOT/reconcile-meta.txt" 2>/dev/null
    check "reconcile: 3 rules of 10.77.0.0/24 deleted, 3 of 10.88.0.0/24 inserted" \
        "[ \"\$(grep -c 'delete rule \"virt-nest nestnet .*10.77.0.0/24' '$LAB_ROOT/reconcile-meta.txt')\" = 3 ] && [ \"\$(grep -c 'insert rule \"virt-nest nestnet .*10.88.0.0/24' '$LAB_ROOT/reconcile-meta.txt')\" = 3 ] && [ \"\$(grep -c . '$LAB_ROOT/reconcile-meta.txt')\" = 6 ]"
    check "and they head $FWD and $NAT" \
        "heads_fwd nestnet && fwd_rules | sed -n 1,2p | grep -q 10.88.0.0/24 && nat_rules | sed -n 1p | grep -q 'virt-nest nestnet nat 192.168.150.0/24>10.88.0.0/24'"
    setpeer 10.77.0.0/24
    vn reconcile -c "$URI" >/dev/null 2>&1
    check "the peer set back and reconciled: rules as before" "[ \"\$snap\" = \"\$(fwsave; routes)\" ]"
fi

# 7. a guest known only by its lease: pending at start, routed by reconcile
lab_virsh "$L" define "$XML/dom-leasey.xml" >/dev/null
lab_virsh "$L" start leasey >/dev/null || bad "virsh start leasey"
check "lease only: no route yet at start (pending)" "! routes | grep -q 192.168.152.0"
check "lease only: status shows it pending" "vn status -c '$URI' | grep -q '192.168.152.0/24 via ? dev virbr7 (next hop not known yet)  pending'"
for i in $(seq 120); do
    lab_virsh "$L" net-dhcp-leases nestnet --mac 52:54:00:15:00:77 | grep -q ipv4 && break
    sleep 0.5
done
lease=$(lab_virsh "$L" net-dhcp-leases nestnet --mac 52:54:00:15:00:77 | awk '/ipv4/ {print $5}' | cut -d/ -f1)
if [ -n "$lease" ]; then
    vn reconcile -c "$URI" > "$LAB_ROOT/reconcile4.txt" 2>&1
    check "the lease arrived ($lease); reconcile routes via it" \
        "routes | grep -qx '192.168.152.0/24 via $lease dev virbr7 '"
else
    bad "the guest never got a lease (iPXE under TCG)"
fi

# 8. destroy and net-destroy take back exactly what virt-nest added
lab_virsh "$L" destroy leasey >/dev/null
lab_virsh "$L" destroy l1 >/dev/null
check "destroy: the routes are gone" "[ -z \"\$(routes)\" ]"
lab_virsh "$L" net-destroy nestnet >/dev/null
check "net-destroy: the exceptions are gone" "[ \"\$(ours)\" = 0 ]"
if [ "$FW" = nftables ]; then
    check "net-destroy: libvirt's own chains are untouched by virt-nest" \
        "lab_net $L nft list chain ip libvirt_network guest_input >/dev/null && lab_net $L nft list chain $NAT >/dev/null"
else
    check "net-destroy: libvirt's own chains are untouched by virt-nest" "lab_net $L iptables -S LIBVIRT_FWI >/dev/null"
fi
check "no ledgers left" "[ -z \"\$(lab_exec $L sh -c 'ls /run/virt-nest/*/*.state 2>/dev/null')\" ]"

exit $fail
