#!/bin/bash
# A real L1 guest booted by the lab's libvirtd under TCG (tests/libvirt/
# guest.sh, its image from tests/libvirt/guest-image.sh), checked from the
# outer lab: the agent's view of its interfaces (eth0 with its lease, the
# bridge virbr0 with 192.168.124.1/24 as an inner default network has it),
# guest-exec running virt-nest inside, a ping to eth0 and, through the
# route virt-nest's hook installs from the guest's metadata, to virbr0;
# then a guest without an agent and one whose agent refuses guest-exec,
# each failing with its reason, in bounded time. Prints the boot time
# (start to the agent's first answer): measured, not asserted.
# Usage: guest-boot.sh BUILDDIR SRCDIR. Exit 77 without root, libvirtd,
# qemu or tini, or when the image's packages cannot be downloaded.
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
lab_need libvirtd qemu-system-x86_64 tini dnsmasq
# shellcheck source=guest.sh
. "$HERE/guest.sh"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-guest.XXXXXX)
# an inner layer's libvirt, as a test-driver file in the image (GUEST_EXTRA)
mkdir -p "$LAB_ROOT/extra/etc/vn-guest"
cp "$HERE/xml/guest-inner.xml" "$LAB_ROOT/extra/etc/vn-guest/inner.xml"
GUEST_EXTRA=$LAB_ROOT/extra guest_image "$BUILD"
rc=$?
[ $rc = 0 ] || { rm -rf "$LAB_ROOT"; exit $rc; }
IMAGE1=$GUEST_INITRD
STAMP1=$(stat -c %Y.%s "$IMAGE1")
L=vnGboot$$
# our qemus: libvirt names each guest in qemu's command line (guest=NAME)
our_qemus() { guest_qemus vnG; }
cleanup() {
    lab_stop "$L"
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
# the first failure of a guest shows its console
console() { guest_show_console "$L" "$1" 40; }  # NAME

# the image is built once: asked again with the same inputs, it is the same
# file, not built again
GUEST_EXTRA=$LAB_ROOT/extra guest_image "$BUILD" 2> "$LAB_ROOT/image2.err"
check "guest_image again with the same inputs: the same image, not built again" \
    "[ '$GUEST_INITRD' = '$IMAGE1' ] && [ \"\$(stat -c %Y.%s '$IMAGE1')\" = '$STAMP1' ] && ! grep -q building '$LAB_ROOT/image2.err'"

lab_start "$L" || { bad "the lab did not start"; exit 1; }
lab_virsh "$L" net-define "$HERE/xml/net-guest.xml" >/dev/null
lab_virsh "$L" net-start guestnet >/dev/null || { bad "net-start guestnet"; exit 1; }

# 1. a guest with its agent, an inner bridge, and virt-nest inside
G=vnGfull-$$
MAC=52:54:00:16:00:50
GUEST_METADATA='<nest:guest xmlns:nest="urn:virt-nest:1"><nest:route subnet="192.168.124.0/24"/></nest:guest>'
guest_define "$L" "$G" "$MAC" guestnet || { bad "define $G"; exit 1; }
GUEST_METADATA=
guest_start "$L" "$G" || { bad "start $G"; console "$G"; exit 1; }
if t=$(guest_wait_agent "$L" "$G" 300); then
    ok "$G: its agent answers guest-ping"
    echo "boot time: $t s from virsh start to the agent's first answer (TCG, $(nproc) cores shared)"
else
    bad "$G: its agent never answered"
    console "$G"
    exit 1
fi
check "$G: its qemu is found by its name (as the last check looks for what is left)" \
    "[ -n \"\$(our_qemus)\" ]"
addr=$(guest_wait_address "$L" "$G" 60)
check "$G: its lease on guestnet is the reserved address ($addr)" "[ '$addr' = 192.168.160.50 ]"
lab_virsh "$L" domifaddr "$G" --source agent > "$LAB_ROOT/domifaddr.txt" 2>&1
sed 's/^/    | /' "$LAB_ROOT/domifaddr.txt"
check "domifaddr --source agent: eth0 with its MAC and its lease's address" \
    "grep -Eq '^ *eth0 +$MAC +ipv4 +$addr/24\$' '$LAB_ROOT/domifaddr.txt'"
check "domifaddr --source agent: virbr0 with 192.168.124.1/24" \
    "grep -Eq '^ *virbr0 +[0-9a-f:]{17} +ipv4 +192.168.124.1/24\$' '$LAB_ROOT/domifaddr.txt'"
out=$(guest_exec "$L" "$G" /usr/bin/virt-nest --version 2>"$LAB_ROOT/exec.err")
rc=$?
want="virt-nest $("$LAB_VN" --version | awk '{ print $2 }')"
check "guest-exec /usr/bin/virt-nest --version inside: '$out', exit $rc" \
    "[ $rc = 0 ] && [ '$out' = '$want' ]"
[ -s "$LAB_ROOT/exec.err" ] && sed 's/^/    | /' "$LAB_ROOT/exec.err"
# the guest's own snapshot, taken inside it against the inner layer's XML
# that GUEST_EXTRA put in its image
guest_exec "$L" "$G" /usr/bin/virt-nest status -c test:///etc/vn-guest/inner.xml --json --host \
    > "$LAB_ROOT/inner.json" 2> "$LAB_ROOT/inner.err"
rc=$?
[ -s "$LAB_ROOT/inner.err" ] && sed 's/^/    | /' "$LAB_ROOT/inner.err"
# (each is true only when jq prints true: an empty file yields nothing)
snap() { [ "$(jq -c "$1" "$LAB_ROOT/inner.json" 2>/dev/null)" = true ]; }
check "guest-exec virt-nest status --json --host inside (exit $rc): the guest's own snapshot" \
    "[ $rc = 0 ] && snap '.host.hostname == \"$G\" and .host.ip_forward == 1'"
check "its snapshot: eth0 with $MAC and $addr/24, virbr0 a bridge with 192.168.124.1/24" \
    "snap '[.host.links[] | select(.name == \"eth0\" and .mac == \"$MAC\" and (.addresses | index(\"$addr/24\")))] | length == 1' &&
     snap '[.host.links[] | select(.name == \"virbr0\" and .kind == \"bridge\" and (.addresses | index(\"192.168.124.1/24\")))] | length == 1'"
check "its snapshot: the inner network default on virbr0" \
    "snap '[.networks[] | select(.name == \"default\" and .bridge == \"virbr0\")] | length == 1'"
route=$(lab_net "$L" ip route show proto 155)
check "the hook routed the guest's nested subnet via its reservation ($route)" \
    "[ '$route' = '192.168.124.0/24 via 192.168.160.50 dev vnGbr0 ' ]"
check "ping from the lab to the guest's eth0 ($addr)" \
    "lab_net '$L' ping -c 1 -W 5 '$addr' >/dev/null"
check "ping from the lab to the guest's virbr0 (192.168.124.1), through that route" \
    "lab_net '$L' ping -c 1 -W 5 192.168.124.1 >/dev/null"
[ $fail = 0 ] || console "$G"
lab_virsh "$L" destroy "$G" >/dev/null
check "destroy: the route is gone with the guest" "[ -z \"\$(lab_net '$L' ip route show proto 155)\" ]"

# 2. a guest booted without its agent: agent commands fail, in bounded time
G=vnGnoagent-$$
guest_define "$L" "$G" 52:54:00:16:00:51 guestnet vn.agent=0 || bad "define $G"
guest_start "$L" "$G" || bad "start $G"
if a=$(guest_wait_address "$L" "$G" 300); then
    ok "$G: up (lease $a)"
    # until its console says the agent is not started, the agent's answer
    # could only be missing because it is still booting
    for i in $(seq 120); do guest_console "$L" "$G" | grep -q 'no agent (vn.agent=0)' && break; sleep 0.5; done
    s=$(date +%s)
    err=$(guest_agent "$L" "$G" '{"execute":"guest-ping"}' 2>&1 >/dev/null)
    rc=$?
    e=$(($(date +%s) - s))
    echo "    | $err"
    check "$G: guest-ping fails with libvirt's reason in ${e} s (at most 15)" \
        "[ $rc != 0 ] && [ $e -le 15 ] && echo '$err' | grep -qi 'agent'"
    err=$(lab_virsh "$L" domifaddr "$G" --source agent 2>&1 >/dev/null)
    check "$G: domifaddr --source agent fails the same way" "echo '$err' | grep -qi 'agent'"
else
    bad "$G: no lease"
    console "$G"
fi
lab_virsh "$L" destroy "$G" >/dev/null

# 3. a guest whose agent has guest-exec blocked: ping yes, exec no; and
# another address on its inner bridge. Its image has one more file in
# GUEST_EXTRA: another key, another image, built beside the first
echo changed > "$LAB_ROOT/extra/etc/vn-guest/changed"
GUEST_EXTRA=$LAB_ROOT/extra guest_image "$BUILD" || bad "guest_image with a changed GUEST_EXTRA"
check "a changed input gives another image ($(basename "$(dirname "$GUEST_INITRD")" | cut -c1-12)), and the first is kept" \
    "[ '$GUEST_INITRD' != '$IMAGE1' ] && [ -f '$GUEST_INITRD' ] && [ -f '$IMAGE1' ]"
G=vnGnoexec-$$
guest_define "$L" "$G" 52:54:00:16:00:52 guestnet vn.noexec=1 vn.bridge=10.88.0.1/24 ||
    bad "define $G"
guest_start "$L" "$G" || bad "start $G"
if t=$(guest_wait_agent "$L" "$G" 300); then
    ok "$G: its agent answers guest-ping (after $t s)"
    out=$(guest_exec "$L" "$G" /usr/bin/virt-nest --version 2>&1)
    rc=$?
    echo "    | $out"
    check "$G: guest-exec is refused: 'has been disabled'" \
        "[ $rc = 125 ] && echo '$out' | grep -q 'has been disabled'"
    check "$G: vn.bridge=10.88.0.1/24 is virbr0's address instead" \
        "lab_virsh '$L' domifaddr '$G' --source agent | grep -Eq '^ *virbr0 +[0-9a-f:]{17} +ipv4 +10.88.0.1/24\$'"
else
    bad "$G: its agent never answered"
    console "$G"
fi
lab_virsh "$L" destroy "$G" >/dev/null

lab_stop "$L"
left=$(our_qemus)
check "no qemu of this test is left after lab_stop" "[ -z '$left' ]"
exit $fail
