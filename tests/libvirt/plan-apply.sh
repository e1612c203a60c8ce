#!/bin/bash
# `virt-nest plan --apply` against two real libvirtds (issue 12 items 2
# and 7): L0 with its network and guest, L1 standing in for the libvirt
# inside the guest (no uplink: only the libvirt API is used).
#   - a second identical run changes nothing on either layer, says so;
#   - for a guest not defined yet, the second run reuses the reservation;
#   - a bad --connect-inner changes nothing on L0;
#   - a change that fails half way is undone on both layers;
#   - a network inside in the way: nothing changes on either;
#   - status names a running network whose persistent metadata differs
#     (net-define while it runs) and a running guest whose live metadata
#     differs (virsh metadata --live), with the fix.
# Names: the namespaces are vnA*, the only prefix this test uses.
# Usage: plan-apply.sh BUILDDIR SRCDIR
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
lab_need libvirtd qemu-system-x86_64 tini dnsmasq
LAB_ROOT=$(mktemp -d /tmp/virt-nest-pa.XXXXXX)
LAB_HOOK=
VN=$BUILD/src/virt-nest
L0=vnA0$$
L1=vnA1$$
T=$LAB_ROOT/t
cleanup() {
    lab_stop "$L1"
    lab_stop "$L0"
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
mkdir -p "$T"

lab_start "$L0" && lab_start "$L1" || { echo "FAIL: the labs did not start"; exit 1; }
U0=$(_lab_uri "$L0")
U1=$(_lab_uri "$L1")
plan() { lab_exec "$L0" "$VN" plan -c "$U0" --network default "$@"; }
# both layers' definitions (libvirt 9.0 leaves an empty <metadata/> when
# the last element in it is removed, as virsh metadata --remove does: the
# same as none)
state() {
    { lab_virsh "$L0" net-dumpxml default --inactive
      lab_virsh "$L0" net-dumpxml default
      lab_virsh "$L0" dumpxml debian --inactive | grep -v '<uuid'
      lab_virsh "$L1" net-list --all --name
      lab_virsh "$L1" net-dumpxml default --inactive 2>/dev/null; } |
        grep -v -e '^$' -e '^  <metadata/>$'
}

lab_virsh "$L0" net-define "$XML/l0-net-default.xml" >/dev/null
lab_virsh "$L0" net-start default >/dev/null
lab_virsh "$L0" define "$XML/l0-dom-debian-bare.xml" >/dev/null

# 0. a change that fails half way: L1's network does not start (an address
# of its subnet is on a link there, which libvirt refuses), after L0's
# metadata was set and L1's network defined: both are undone
lab_net "$L1" ip link add vnAd0 type veth peer name vnAd1
lab_net "$L1" ip addr add 192.168.124.5/24 dev vnAd0
lab_net "$L1" ip link set vnAd0 up
state > "$T/before"
plan --guest debian --apply --connect-inner "$U1" > "$T/run0.txt" 2> "$T/run0.err"
rc=$?
state > "$T/after"
sed 's/^/    | /' "$T/run0.txt" "$T/run0.err" | grep -E '^    \| (undone|virt-nest)'
check "a failed start inside: exit 1, libvirt's message, the earlier changes undone" \
    "[ $rc = 1 ] && ! grep -q '^applied:' '$T/run0.txt' &&
     grep -qx \"undone: level 1: network 'default' undefined again\" '$T/run0.txt' &&
     grep -qx \"undone: domain 'debian': its metadata as it was before\" '$T/run0.txt' &&
     grep -q \"^virt-nest: plan: level 1: network 'default' did not start: .*vnAd0.*(what this run had changed is undone)\" '$T/run0.err'"
check "... and both layers are as they were" "cmp -s '$T/before' '$T/after'"
lab_net "$L1" ip link del vnAd0

# 1. the first run on both layers, then the same again
plan --guest debian --apply --connect-inner "$U1" > "$T/run1.txt" 2>&1
check "the first run exits 0 and applies 3 changes" \
    "[ \$? = 0 ] && [ \$(grep -c '^applied:' '$T/run1.txt') = 3 ]"
sed 's/^/    | /' "$T/run1.txt" | grep -E '^    \| (applied|unchanged)'
state > "$T/state1"
plan --guest debian --apply --connect-inner "$U1" > "$T/run2.txt" 2>&1
rc=$?
sed 's/^/    | /' "$T/run2.txt" | grep -E '^    \| (applied|unchanged|plan)'
state > "$T/state2"
check "the second identical run exits 0, changes nothing, says so" \
    "[ $rc = 0 ] && ! grep -q '^applied:' '$T/run2.txt' &&
     grep -qx 'plan --apply: nothing to change, all of it is in place' '$T/run2.txt' &&
     grep -qx \"unchanged: level 1: network 'default' on 192.168.124.1/24 is defined already\" '$T/run2.txt' &&
     grep -qx \"unchanged: domain 'debian': its <nest:guest> metadata is in place already\" '$T/run2.txt'"
check "both layers are as the first run left them" "cmp -s '$T/state1' '$T/state2'"

# 2. a guest not defined yet, twice: the second reuses the reservation
plan --guest fedora --apply > "$T/run3.txt" 2>&1
host=$(sed -n "s/^applied: network 'default': added //p" "$T/run3.txt")
plan --guest fedora --apply > "$T/run4.txt" 2>&1
rc=$?
check "a guest not defined yet: the second run reuses $host" \
    "[ -n \"\$host\" ] && [ $rc = 0 ] && ! grep -q '^applied:' '$T/run4.txt' &&
     grep -qxF \"unchanged: network 'default': \$host is there already\" '$T/run4.txt'"
check "L0 has that reservation once" \
    "[ \$(lab_virsh $L0 net-dumpxml default --inactive | grep -cF \"\$host\") = 1 ]"

# 3. a bad --connect-inner: nothing changes on L0
state > "$T/before"
plan --guest gentoo --apply --connect-inner "qemu:///system?socket=$LAB_ROOT/none" \
    > "$T/run5.txt" 2> "$T/run5.err"
rc=$?
state > "$T/after"
check "a bad --connect-inner: exit 1, one line with libvirt's message, L0 unchanged" \
    "[ $rc = 1 ] && ! grep -q '^applied:' '$T/run5.txt' &&
     grep -q \"^virt-nest: plan: --connect-inner: cannot connect to .*Failed to connect socket.*(nothing was changed)\" '$T/run5.err' &&
     cmp -s '$T/before' '$T/after'"

# 4. a network inside in the way (another name, the same bridge)
sed -e 's/<name>default</<name>lan</' -e 's/192\.168\.122\./10.77.0./g' \
    -e '/<host /d' "$XML/l0-net-default.xml" > "$T/lan.xml"
lab_virsh "$L1" net-undefine default > /dev/null 2>&1
lab_virsh "$L1" net-destroy default > /dev/null 2>&1
lab_virsh "$L1" net-define "$T/lan.xml" > /dev/null
state > "$T/before"
plan --guest gentoo --apply --connect-inner "$U1" > "$T/run6.txt" 2> "$T/run6.err"
rc=$?
state > "$T/after"
check "a network in the way inside: exit 1, nothing changed on either layer" \
    "[ $rc = 1 ] && grep -q \"network 'lan' there (bridge virbr0) is in the way\" '$T/run6.err' &&
     cmp -s '$T/before' '$T/after'"
lab_virsh "$L1" net-undefine lan > /dev/null

# 5. item 7: live and persistent metadata that differ
lab_virsh "$L0" net-dumpxml default --inactive > "$T/net.xml"
sed -i 's|</network>|<metadata><nest:network xmlns:nest="urn:virt-nest:1"><nest:peer subnet="10.99.0.0/24"/></nest:network></metadata></network>|' "$T/net.xml"
lab_virsh "$L0" net-define "$T/net.xml" > /dev/null
lab_exec "$L0" "$VN" status -c "$U0" --json > "$T/st.json" 2> "$T/st.err"
check "status: the running network's persistent metadata differs, with the fix (text and JSON)" \
    "grep -q \"^virt-nest: network 'default': its persistent <nest:network> metadata differs from the running one .*virsh net-destroy default; virsh net-start default\" '$T/st.err' &&
     jq -e '[.problems[] | select(.object == \"network '\"'\"'default'\"'\"'\" and (.message | test(\"persistent <nest:network>\")))] | length == 1' '$T/st.json' > /dev/null"
if lab_virsh "$L0" start debian > /dev/null 2> "$T/start.err"; then
    lab_virsh "$L0" metadata debian urn:virt-nest:1 --key nest --live \
        --set '<guest><route subnet="192.168.124.0/24"/><route subnet="192.168.127.0/24"/></guest>' > /dev/null
    lab_exec "$L0" "$VN" status -c "$U0" > /dev/null 2> "$T/st2.err"
    check "status: the running guest's live metadata differs, with the fix" \
        "grep -q \"^virt-nest: domain 'debian': its live <nest:guest> metadata differs from its persistent one .*run 'virt-nest reconcile'.*--live --config\" '$T/st2.err'"
    lab_virsh "$L0" destroy debian > /dev/null
else
    echo "FAIL: virsh start debian: $(cat "$T/start.err")"; fail=1
fi
exit $fail
