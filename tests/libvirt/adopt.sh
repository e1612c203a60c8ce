#!/bin/bash
# virt-nest adopt against a real L1 guest booted by the lab's libvirtd
# under TCG (tests/libvirt/guest.sh; guest-boot.sh is the model): the guest
# boots WITHOUT virt-nest's metadata; status proposes 192.168.124.0/24 (its
# bridge virbr0, as its agent reports it) with the exact metadata; `adopt
# -n` changes nothing; `adopt` writes the metadata (live and config), the
# route is installed at once, a ping from the lab reaches 192.168.124.1
# inside, and the inner layer's peer is written by virt-nest run inside
# through guest-exec (its libvirt is the test driver there, by
# uri_default in /etc/libvirt/libvirt.conf: the change lives as long as
# that connection, so its output is what is checked); a second adopt is a
# no-op. A guest whose agent blocks guest-exec gets the command to run
# inside. Then a guest with a static address inside (no reservation, no
# lease) whose route waits for a next hop until watch (when its agent
# connects) and reconcile take its agent's address, marked so in status.
# Usage: adopt.sh BUILDDIR SRCDIR. Exit 77 without root, libvirtd, qemu,
# tini or jq, or when the image's packages cannot be downloaded.
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
lab_need libvirtd qemu-system-x86_64 tini dnsmasq jq
# shellcheck source=guest.sh
. "$HERE/guest.sh"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-adopt.XXXXXX)
# the inner layer: the test driver's file, and libvirt's default URI there
mkdir -p "$LAB_ROOT/extra/etc/vn-guest" "$LAB_ROOT/extra/etc/libvirt"
cp "$HERE/xml/guest-inner.xml" "$LAB_ROOT/extra/etc/vn-guest/inner.xml"
echo 'uri_default = "test:///etc/vn-guest/inner.xml"' > "$LAB_ROOT/extra/etc/libvirt/libvirt.conf"
GUEST_EXTRA=$LAB_ROOT/extra guest_image "$BUILD"
rc=$?
[ $rc = 0 ] || { rm -rf "$LAB_ROOT"; exit $rc; }
VN=$LAB_VN
L=vnOad$$
G=vnOfull-$$
S=vnOstatic-$$
E=vnOnoexec-$$
MAC=52:54:00:17:00:50
SMAC=52:54:00:17:00:51
EMAC=52:54:00:17:00:52
# virt-nest on the lab's side (its namespaces: its libvirtd, its /run)
vn() { lab_exec "$L" "$VN" "$@"; }
our_qemus() { guest_qemus vnO; }
WPID=
cleanup() {
    [ -n "$WPID" ] && kill -TERM "$WPID" 2>/dev/null
    lab_stop "$L"
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
console() { guest_show_console "$L" "$1" 40; }  # NAME
show() { sed 's/^/    | /' "$1"; }

lab_start "$L" || { bad "the lab did not start"; exit 1; }
for n in net-adopt net-adopt-static; do
    lab_virsh "$L" net-define "$HERE/xml/$n.xml" >/dev/null
done
lab_virsh "$L" net-start adoptnet >/dev/null || { bad "net-start adoptnet"; exit 1; }
lab_virsh "$L" net-start staticnet >/dev/null || { bad "net-start staticnet"; exit 1; }

# both guests boot at once (TCG is slow): G without metadata; S with its
# route delegated already and another subnet on its bridge, on the network
# without DHCP
GUEST_METADATA=
guest_define "$L" "$G" "$MAC" adoptnet || { bad "define $G"; exit 1; }
GUEST_METADATA='<nest:guest xmlns:nest="urn:virt-nest:1"><nest:route subnet="192.168.125.0/24"/></nest:guest>'
guest_define "$L" "$S" "$SMAC" staticnet vn.bridge=192.168.125.1/24 || { bad "define $S"; exit 1; }
GUEST_METADATA=
# and one whose agent blocks guest-exec (RHEL's default), with another
# subnet on its bridge
guest_define "$L" "$E" "$EMAC" adoptnet vn.noexec=1 vn.bridge=10.88.0.1/24 ||
    { bad "define $E"; exit 1; }
guest_start "$L" "$G" || { bad "start $G"; console "$G"; exit 1; }
guest_start "$L" "$S" || { bad "start $S"; console "$S"; exit 1; }
guest_start "$L" "$E" || { bad "start $E"; console "$E"; exit 1; }
if t=$(guest_wait_agent "$L" "$G" 240); then
    ok "$G: its agent answers (after $t s)"
else
    bad "$G: its agent never answered"; console "$G"; exit 1
fi
addr=$(guest_wait_address "$L" "$G" 60)
check "$G: its lease is the reserved address ($addr)" "[ '$addr' = 192.168.170.50 ]"
# the bridge inside comes up after eth0: wait until the agent reports it
for i in $(seq 60); do
    lab_virsh "$L" domifaddr "$G" --source agent 2>/dev/null | grep -q 'virbr0.*192.168.124.1/24' && break
    sleep 0.5
done

# 1. status proposes the delegation, with the exact metadata
vn status -c qemu:///system > "$LAB_ROOT/status.txt" 2> "$LAB_ROOT/status.err"
show "$LAB_ROOT/status.txt" | sed -n '/Nested, as/,$p'
nested() { sed -n '/^Nested, as the guest agents report/,$p' "$LAB_ROOT/status.txt"; }
check "status: the Nested section says $G hosts 192.168.124.0/24 on virbr0, not delegated" \
    "nested | grep -qx '  guest $G hosts, as its guest agent says (never routed on that alone):' &&
     nested | grep -qx '    192.168.124.0/24 on virbr0 (192.168.124.1/24): not delegated'"
check "status: the exact metadata, and 'virt-nest adopt $G'" \
    "nested | grep -A3 -x '    the metadata that delegates them:' | sed 1d | tr -d ' ' |
        tr -d '\n' | grep -qx '<nest:guestxmlns:nest=\"urn:virt-nest:1\"><nest:routesubnet=\"192.168.124.0/24\"/></nest:guest>' &&
     nested | grep -qx '    to delegate: virt-nest adopt $G'"
vn status -c qemu:///system --json > "$LAB_ROOT/status.json" 2>/dev/null
js() { [ "$(jq -c "$1" "$2" 2>/dev/null)" = true ]; }
check "status --json: .nested.proposals has $G's 192.168.124.0/24, proposed, with metadata_set" \
    "js '[.nested.proposals[] | select(.guest == \"$G\" and .source == \"guest agent\" and
        .metadata_set == \"<guest><route subnet=\\\"192.168.124.0/24\\\"/></guest>\" and
        (.nested | map(select(.subnet == \"192.168.124.0/24\" and .state == \"proposed\" and .interface == \"virbr0\")) | length == 1))] | length == 1' '$LAB_ROOT/status.json'"

# 2. adopt -n changes nothing
before=$(lab_virsh "$L" dumpxml "$G"; lab_virsh "$L" dumpxml --inactive "$G")
vn adopt -c qemu:///system "$G" -n > "$LAB_ROOT/dry.txt" 2>&1
rc=$?
show "$LAB_ROOT/dry.txt"
after=$(lab_virsh "$L" dumpxml "$G"; lab_virsh "$L" dumpxml --inactive "$G")
check "adopt -n (exit $rc): says what it would write and run inside" \
    "[ $rc = 0 ] && grep -q \"^domain '$G': would write <nest:guest> metadata:\" '$LAB_ROOT/dry.txt' &&
     grep -qx \"inside '$G': would run through guest-exec: virt-nest adopt --peer 192.168.170.0/24 --subnet 192.168.124.0/24\" '$LAB_ROOT/dry.txt'"
check "adopt -n: the domain's XML is unchanged, no route" \
    "[ \"\$before\" = \"\$after\" ] && ! grep -q urn:virt-nest <<<\"\$after\" &&
     [ -z \"\$(lab_net '$L' ip route show proto 155)\" ]"

# 3. adopt writes it, installs the route, and the peer inside
vn adopt -c qemu:///system "$G" > "$LAB_ROOT/adopt.txt" 2>&1
rc=$?
show "$LAB_ROOT/adopt.txt"
check "adopt (exit $rc): metadata written live and config" \
    "[ $rc = 0 ] && grep -qx \"domain '$G': metadata written (live and config)\" '$LAB_ROOT/adopt.txt'"
for x in "" --inactive; do
    check "virsh dumpxml $x: <nest:route subnet='192.168.124.0/24'/>" \
        "lab_virsh '$L' dumpxml $x '$G' | grep -q '<nest:route subnet=.192.168.124.0/24./>'"
done
route=$(lab_net "$L" ip route show proto 155)
check "the route is installed at once ($route)" \
    "[ '$route' = '192.168.124.0/24 via 192.168.170.50 dev vnObr0 ' ]"
check "ping from the lab to 192.168.124.1 inside $G, through it" \
    "lab_net '$L' ping -c 1 -W 5 192.168.124.1 >/dev/null"
check "inside: virt-nest adopt --peer ran through guest-exec and wrote the peer" \
    "grep -qx \"inside '$G': virt-nest adopt --peer 192.168.170.0/24 --subnet 192.168.124.0/24 (exit 0)\" '$LAB_ROOT/adopt.txt' &&
     grep -q \"^  network 'default': its definition's peers now 192.168.170.0/24\" '$LAB_ROOT/adopt.txt'"

# 4. a second adopt is a no-op
x1=$(lab_virsh "$L" dumpxml --inactive "$G")
vn adopt -c qemu:///system "$G" > "$LAB_ROOT/again.txt" 2>&1
rc=$?
show "$LAB_ROOT/again.txt"
check "adopt again (exit $rc): already delegated, nothing else" \
    "[ $rc = 0 ] && [ \"\$(cat '$LAB_ROOT/again.txt')\" = \"domain '$G': already delegated: 192.168.124.0/24\" ] &&
     [ \"\$x1\" = \"\$(lab_virsh '$L' dumpxml --inactive '$G')\" ] &&
     [ \"\$(lab_net '$L' ip route show proto 155)\" = '$route' ]"
vn status -c qemu:///system > "$LAB_ROOT/status2.txt" 2>&1
check "status now: 192.168.124.0/24 delegated" \
    "grep -qx '    192.168.124.0/24 on virbr0 (192.168.124.1/24): delegated' '$LAB_ROOT/status2.txt'"
[ $fail = 0 ] || console "$G"

# 5. guest-exec blocked: the metadata and the route on this layer, and
# the exact command to run inside
if t=$(guest_wait_agent "$L" "$E" 240) && guest_wait_address "$L" "$E" 60 >/dev/null; then
    ok "$E: its agent answers (after $t s)"
    for i in $(seq 60); do
        lab_virsh "$L" domifaddr "$E" --source agent 2>/dev/null | grep -q 'virbr0.*10.88.0.1/24' && break
        sleep 0.5
    done
    vn adopt -c qemu:///system "$E" > "$LAB_ROOT/noexec.txt" 2>&1
    rc=$?
    show "$LAB_ROOT/noexec.txt"
    check "adopt $E (exit $rc): written, routed, and the command to run inside" \
        "[ $rc = 0 ] && grep -qx \"domain '$E': metadata written (live and config)\" '$LAB_ROOT/noexec.txt' &&
         lab_net '$L' ip route show proto 155 | grep -q '^10.88.0.0/24 via 192.168.170.1[0-9][0-9] dev vnObr0' &&
         grep -q \"^inside '$E': not written through guest-exec (.*has been disabled.*); run there: virt-nest adopt --peer 192.168.170.0/24 --subnet 10.88.0.0/24\$\" '$LAB_ROOT/noexec.txt'"
else
    bad "$E: its agent never answered"; console "$E"
fi
lab_virsh "$L" destroy "$E" >/dev/null

# 6. the guest with a static address: its route waits for a next hop;
# watch reconciles when its agent connects, and takes the agent's address
WLOG=$LAB_ROOT/watch.log
waitfor() {  # SECONDS CMD: poll CMD every 0.5 s
    local i
    for i in $(seq $(($1 * 2))); do eval "$2" && return 0; sleep 0.5; done
    return 1
}
watch_pid() {  # virt-nest watch's own PID, in the lab's namespaces
    local p
    for p in $(ip netns pids "$L" 2>/dev/null); do
        [ "$(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)" = "$VN watch -c qemu:///system " ] &&
            echo "$p"
    done
}
sroute() { lab_net "$L" ip route show proto 155 | grep 192.168.125.0/24; }
if t=$(guest_wait_agent "$L" "$S" 240); then
    ok "$S: its agent answers (after $t s)"
    check "$S: no lease, no reservation; the hook left its route pending" \
        "[ -z \"\$(lab_virsh '$L' domifaddr '$S' --source lease)\" ] && [ -z \"\$(sroute)\" ]"
    lab_exec "$L" "$VN" watch -c qemu:///system > "$WLOG" 2>&1 &
    waitfor 10 '[ -n "$(watch_pid)" ] && grep -q "reconcile: start" "$WLOG"'
    WPID=$(watch_pid)
    check "virt-nest watch runs in the lab (PID ${WPID:-none})" "[ -n '$WPID' ]"
    guest_exec "$L" "$S" /usr/bin/ip addr add 192.168.171.7/24 dev eth0 2> "$LAB_ROOT/ip.err"
    rc=$?
    check "$S: a static 192.168.171.7/24 on eth0 inside (exit $rc)" "[ $rc = 0 ]"
    # the agent goes and comes back (its init starts it again in 1 s)
    guest_exec "$L" "$S" /bin/sh -c '(sleep 1; kill $(pidof qemu-ga)) >/dev/null 2>&1 &'
    check "watch: the agent's return starts a reconcile that routes via its address" \
        "waitfor 40 '[ \"\$(sroute)\" = \"192.168.125.0/24 via 192.168.171.7 dev vnObr1 \" ]' &&
         grep -q \"reconcile: .*domain '$S': its guest agent connected\" '$WLOG'"
    show "$WLOG"
    [ -n "$WPID" ] && kill -TERM "$WPID"
    waitfor 10 "[ ! -e /proc/$WPID ]"
    vn reconcile -c qemu:///system > "$LAB_ROOT/reconcile1.txt" 2>&1
    rc=$?
    check "reconcile (exit $rc) keeps that route: nothing to change" \
        "[ $rc = 0 ] && grep -q '^nothing to change' '$LAB_ROOT/reconcile1.txt' && [ -n \"\$(sroute)\" ]"
    # taken away by hand, reconcile alone puts it back, through the agent
    lab_net "$L" ip route del 192.168.125.0/24
    vn reconcile -c qemu:///system > "$LAB_ROOT/reconcile.txt" 2>&1
    rc=$?
    show "$LAB_ROOT/reconcile.txt"
    r=$(sroute)
    check "reconcile (exit $rc): the route via the agent's address ($r)" \
        "[ $rc = 0 ] && [ '$r' = '192.168.125.0/24 via 192.168.171.7 dev vnObr1 ' ]"
    vn status -c qemu:///system > "$LAB_ROOT/status3.txt" 2>&1
    check "status: the route marked 'next hop from the guest agent'" \
        "grep -Eq '^ +route +192.168.125.0/24 via 192.168.171.7 dev vnObr1 \(next hop from the guest agent\)' '$LAB_ROOT/status3.txt'"
    check "ping from the lab to 192.168.125.1 inside $S, through it" \
        "lab_net '$L' ping -c 1 -W 5 192.168.125.1 >/dev/null"
    [ $fail = 0 ] || { sed -n '/needs/,$p' "$LAB_ROOT/status3.txt" | sed 's/^/    | /'; console "$S"; }
else
    bad "$S: its agent never answered"; console "$S"
fi

lab_stop "$L"
left=$(our_qemus)
check "no qemu of this test is left after lab_stop" "[ -z '$left' ]"
exit $fail
