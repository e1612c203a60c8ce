#!/bin/bash
# End to end with a real libvirtd (tests/libvirt/lab.sh): virt-nest's hooks,
# installed with `virt-nest install-hooks`, fire from the daemon itself.
# Usage: e2e.sh BUILDDIR SRCDIR
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
HERE=$SRC/tests/libvirt
XML=$HERE/xml
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for b in libvirtd qemu-system-x86_64 tini dnsmasq; do
    command -v $b >/dev/null || { echo "SKIP: $b is not installed (scripts/dev test installs it)"; exit 77; }
done
# shellcheck source=lab.sh
. "$HERE/lab.sh"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-e2e.XXXXXX)
LAB_HOOK=$BUILD/hooks/virt-nest-hook
LAB_VN=$BUILD/src/virt-nest
L=vne2e$$
trap 'lab_stop $L; rm -rf "$LAB_ROOT"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
vn() { lab_exec "$L" "$LAB_VN" "$@"; }       # inside the lab: its /run/virt-nest
fwd() { lab_net "$L" iptables -S FORWARD; }
ours() { lab_net "$L" iptables-save | grep -c -- '--comment "virt-nest ' ; }
routes() { lab_net "$L" ip route show proto 155; }

lab_start "$L" || { bad "the lab did not start"; exit 1; }
URI=$(_lab_uri "$L")
ok "libvirtd up in $L with the hooks installed"

# 1. net-start installs the exceptions, above libvirt's jumps
lab_virsh "$L" net-define "$XML/net-nest.xml" >/dev/null
lab_virsh "$L" net-start nestnet >/dev/null || bad "net-start nestnet"
first=$(fwd | sed -n 2p)
check "net-start: a virt-nest rule heads FORWARD" \
    "echo \"\$first\" | grep -q 'virt-nest nestnet in 10.77.0.0/24>192.168.150.0/24'"
check "net-start: both virt-nest rules come before libvirt's jumps" \
    "fwd | sed -n '2,3p' | grep -c 'virt-nest nestnet' | grep -qx 2 && fwd | sed -n 4p | grep -q LIBVIRT_"
check "net-start: the NAT exemption heads nat POSTROUTING" \
    "lab_net $L iptables -t nat -S POSTROUTING | sed -n 2p | grep -q 'virt-nest nestnet nat 192.168.150.0/24>10.77.0.0/24'"
check "libvirt's own iptables -S still works" "lab_net $L iptables -S >/dev/null"

# 2. the guest's start installs the route via its reservation, on its bridge
lab_virsh "$L" define "$XML/dom-l1.xml" >/dev/null
lab_virsh "$L" start l1 >/dev/null || bad "virsh start l1"
check "start: route via the reserved address on virbr7" \
    "[ \"\$(routes)\" = '192.168.151.0/24 via 192.168.150.50 dev virbr7 ' ]"
check "status: nothing drifted" "vn status -c '$URI' > '$LAB_ROOT/status.txt' && ! grep -q Drift '$LAB_ROOT/status.txt' && grep -q 'route  192.168.151.0/24 via 192.168.150.50 dev virbr7 (reservation)  ok' '$LAB_ROOT/status.txt'"

# 3. a libvirtd restart with the guest running (the reconnect hook) keeps all
before=$(lab_net "$L" iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; routes)
lab_restart "$L"
after=$(lab_net "$L" iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; routes)
check "libvirtd restart: guest still running" "lab_virsh $L domstate l1 | grep -q running"
check "libvirtd restart: routes and rules as before" "[ \"\$before\" = \"\$after\" ]"
# the reconnect hook itself: take the route away, restart, and it is back
lab_net "$L" ip route del 192.168.151.0/24 via 192.168.150.50 dev virbr7 proto 155
lab_restart "$L"
check "libvirtd restart: the qemu reconnect hook re-installs a missing route" \
    "[ \"\$(routes)\" = '192.168.151.0/24 via 192.168.150.50 dev virbr7 ' ]"

# 4. SIGHUP: libvirt reloads its own rules; virt-nest's stay on top
lab_reload "$L"
check "libvirt reload: virt-nest's rules still head FORWARD" \
    "fwd | sed -n '2,3p' | grep -c 'virt-nest nestnet' | grep -qx 2"

# 5. iptables -F FORWARD, then reconcile puts them back
lab_net "$L" iptables -F FORWARD
check "after iptables -F FORWARD: status names the drift and the fix" \
    "vn status -c '$URI' | grep -q \"run 'virt-nest reconcile'\""
vn reconcile -c "$URI" > "$LAB_ROOT/reconcile.txt" 2>&1
check "reconcile exits 0" "[ $? -eq 0 ]"
check "reconcile re-inserted both forward rules" \
    "[ \"\$(grep -c 'insert rule \"virt-nest nestnet' '$LAB_ROOT/reconcile.txt')\" = 2 ]"
check "reconcile: rules head FORWARD again" "fwd | sed -n '2,3p' | grep -c 'virt-nest nestnet' | grep -qx 2"
# libvirt 9.0 creates its FORWARD jumps once per daemon: after the flush
# they come back when libvirtd restarts, at the head, above virt-nest's
# rules (no hook fires for networks then); reconcile moves them back up
lab_restart "$L"
check "after a libvirtd restart its jumps are back above virt-nest's rules" \
    "fwd | sed -n 2p | grep -q 'LIBVIRT_FW'"
check "status shows them shadowed and names reconcile" \
    "vn status -c '$URI' > '$LAB_ROOT/status2.txt'; grep -q 'accept  -s 10.77.0.0/24 -d 192.168.150.0/24 -o virbr7  shadowed' '$LAB_ROOT/status2.txt' && grep -q \"run 'virt-nest reconcile'\" '$LAB_ROOT/status2.txt'"
vn reconcile -c "$URI" > "$LAB_ROOT/reconcile2.txt" 2>&1
check "reconcile says it moved them" "grep -c 'move rule' '$LAB_ROOT/reconcile2.txt' | grep -qx 2"
check "after libvirt re-inserted its jumps, reconcile puts virt-nest's rules first again" \
    "fwd | sed -n '2,3p' | grep -c 'virt-nest nestnet' | grep -qx 2 && fwd | grep -q LIBVIRT_FWI"
vn reconcile -c "$URI" > "$LAB_ROOT/reconcile3.txt" 2>&1
check "a second reconcile changes nothing" "grep -qx 'nothing to change: this layer has what it needs' '$LAB_ROOT/reconcile3.txt'"

# 6. a refusal reaches `virsh start` as one clear line; nothing changes
snap=$(lab_net "$L" iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; routes)
lab_virsh "$L" define "$XML/dom-hostile.xml" >/dev/null
err=$(lab_virsh "$L" start hostile 2>&1)
check "virsh start of a guest asking for a default route fails" "! lab_virsh $L domstate hostile | grep -q running"
check "and its error carries virt-nest's one line" \
    "echo \"\$err\" | grep -q \"virt-nest: domain 'hostile': <nest:route subnet='0.0.0.0/0'>: a default route is never delegated; name the nested subnets\""
echo "$err" | sed 's/^/    | /'
check "nothing changed" "[ \"\$snap\" = \"\$(lab_net $L iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; routes)\" ]"

# 6b. refused network metadata: refused at `start begin`, before libvirt
# makes the bridge, its rules or dnsmasq; libvirt 9.0 left all three
# behind after a refusal at `started` (its cleanup skipped a network not
# yet active); the next net-start with fixed metadata works
snap=$(lab_net "$L" iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; routes)
lab_virsh "$L" net-define "$XML/net-refused.xml" >/dev/null
err=$(lab_virsh "$L" net-start nestbad 2>&1)
check "net-start of a network letting 0.0.0.0/0 in fails" "! lab_virsh $L net-info nestbad | grep -q 'Active: *yes'"
check "and its error carries virt-nest's one line" \
    "echo \"\$err\" | grep -q \"virt-nest: network 'nestbad': <nest:peer subnet='0.0.0.0/0'>: \""
echo "$err" | sed 's/^/    | /'
check "the refusal left no bridge" "! lab_net $L ip link show virbr9 >/dev/null 2>&1"
check "the refusal left no dnsmasq" "[ -z \"\$(lab_exec $L sh -c 'grep -la nestba[d].conf /proc/[0-9]*/cmdline 2>/dev/null')\" ]"
check "the refusal left no rule" "[ \"\$snap\" = \"\$(lab_net $L iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; routes)\" ]"
# the user's fix, as net-edit makes it (same name and UUID)
lab_virsh "$L" net-dumpxml nestbad --inactive | sed 's#0\.0\.0\.0/0#10.78.0.0/24#' > "$LAB_ROOT/net-fixed.xml"
lab_virsh "$L" net-define "$LAB_ROOT/net-fixed.xml" >/dev/null
err=$(lab_virsh "$L" net-start nestbad 2>&1)
check "with the metadata fixed, the next net-start works" "lab_virsh $L net-info nestbad | grep -q 'Active: *yes'"
echo "$err" | sed 's/^/    | /'
check "and installs its exceptions" "lab_net $L iptables -S FORWARD | grep -q 'virt-nest nestbad in 10.78.0.0/24>192.168.160.0/24'"
lab_virsh "$L" net-destroy nestbad >/dev/null
lab_virsh "$L" net-undefine nestbad >/dev/null
check "net-destroy: nestbad's exceptions are gone" "! lab_net $L iptables-save | grep -q 'virt-nest nestbad'"

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
check "net-destroy: libvirt's own chains are untouched by virt-nest" "lab_net $L iptables -S LIBVIRT_FWI >/dev/null"
check "no ledgers left" "[ -z \"\$(lab_exec $L sh -c 'ls /run/virt-nest/*/*.state 2>/dev/null')\" ]"

exit $fail
