#!/bin/bash
# The walk (virt-nest status --json --host --walk) from a real lab's
# libvirtd into real guests booted under TCG (tests/libvirt/guest.sh),
# through their QEMU agents: a guest with virt-nest inside gives its own
# snapshot, taken inside it against its inner layer (an /etc/libvirt/
# libvirt.conf in its image names that layer's URI as uri_default, as a
# real inner host's libvirt would default); graph draws both layers from
# that one bundle and from --walk; doctor --walk agrees with a ping into
# the guest; a guest with guest-exec blocked gives a partial layer with
# its reason, and so do one without virt-nest, one whose virt-nest does
# not finish in --walk-timeout and one whose output is over the cap; a
# guest without an agent is a leaf; --walk-timeout bounds a guest whose
# agent stopped answering.
# The three guests boot at once.
# Usage: walk.sh BUILDDIR SRCDIR. Exit 77 without root, libvirtd, qemu,
# tini, dnsmasq or jq, or when the image's packages cannot be downloaded.
# shellcheck source=testlib.sh
. "$(dirname "$0")/testlib.sh"
lab_need libvirtd qemu-system-x86_64 tini dnsmasq jq
# shellcheck source=guest.sh
. "$HERE/guest.sh"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-walk.XXXXXX)
# the inner layer, and libvirt's default URI inside pointing at it
mkdir -p "$LAB_ROOT/extra/etc/vn-guest" "$LAB_ROOT/extra/etc/libvirt"
cp "$HERE/xml/guest-inner.xml" "$LAB_ROOT/extra/etc/vn-guest/inner.xml"
echo 'uri_default = "test:///etc/vn-guest/inner.xml"' \
    > "$LAB_ROOT/extra/etc/libvirt/libvirt.conf"
GUEST_EXTRA=$LAB_ROOT/extra guest_image "$BUILD"
rc=$?
[ $rc = 0 ] || { rm -rf "$LAB_ROOT"; exit $rc; }
LAB_HOOK=
VN=$BUILD/src/virt-nest
L=vnW$$
our_qemus() { guest_qemus vnW; }
cleanup() {
    lab_stop "$L"
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
console() { guest_show_console "$L" "$1" 30; }  # NAME
URI=$(_lab_uri "$L")
# virt-nest in the lab's network namespace, against its libvirtd
vn() { lab_net "$L" "$VN" "$@"; }
# jq on a file is true only when it prints true
is() { [ "$(jq -c "$2" "$1" 2>/dev/null)" = true ]; }

lab_start "$L" || { bad "the lab did not start"; exit 1; }
lab_virsh "$L" net-define "$HERE/xml/net-walk.xml" >/dev/null
lab_virsh "$L" net-start walknet >/dev/null || { bad "net-start walknet"; exit 1; }

G=vnWfull-$$ MAC=52:54:00:17:00:60
GX=vnWnoexec-$$ MACX=52:54:00:17:00:61
GN=vnWnoagent-$$ MACN=52:54:00:17:00:62
guest_define "$L" "$G" "$MAC" walknet || { bad "define $G"; exit 1; }
guest_define "$L" "$GX" "$MACX" walknet vn.noexec=1 vn.bridge=10.88.0.1/24 ||
    { bad "define $GX"; exit 1; }
guest_define "$L" "$GN" "$MACN" walknet vn.agent=0 vn.bridge=none ||
    { bad "define $GN"; exit 1; }
for g in "$G" "$GX" "$GN"; do
    guest_start "$L" "$g" || { bad "start $g"; exit 1; }
done
for g in "$G" "$GX"; do
    if t=$(guest_wait_agent "$L" "$g" 150); then
        ok "$g: its agent answers (after $t s)"
    else
        bad "$g: its agent never answered"
        console "$g"
        exit 1
    fi
done
addr=$(guest_wait_address "$L" "$G" 60)
check "$G: its lease is the reserved address ($addr)" "[ '$addr' = 192.168.161.60 ]"
guest_wait_address "$L" "$GN" 60 >/dev/null || bad "$GN: no lease"
for i in $(seq 60); do
    guest_console "$L" "$GN" | grep -q 'no agent (vn.agent=0)' && break
    sleep 0.5
done

# inside, virt-nest's default URI is libvirt's: uri_default of libvirt.conf
guest_exec "$L" "$G" /usr/bin/virt-nest status --json > "$LAB_ROOT/default.json" 2>&1
check "inside $G, 'virt-nest status' with no -c reads uri_default of /etc/libvirt/libvirt.conf" \
    "is '$LAB_ROOT/default.json' '.uri == \"test:///etc/vn-guest/inner.xml\"'"
jq -e .format "$LAB_ROOT/default.json" >/dev/null 2>&1 ||
    head -n 5 "$LAB_ROOT/default.json" | sed 's/^/    | /' 

# the walk
s=$(date +%s)
vn status --json --host --walk -c "$URI" > "$LAB_ROOT/walk.json" 2> "$LAB_ROOT/walk.err"
rc=$?
e=$(($(date +%s) - s))
sed 's/^/    | /' "$LAB_ROOT/walk.err"
W=$LAB_ROOT/walk.json
check "status --json --host --walk: a bundle (exit $rc, ${e} s)" \
    "[ $rc = 0 ] && is '$W' '.format == \"virt-nest-bundle\" and .version == 1'"
check "its layer 0 is this lab: walknet on vnWbr0" \
    "is '$W' '.layers[0].parent == null and ([.layers[0].snapshot.networks[] | select(.name == \"walknet\" and .bridge == \"vnWbr0\")] | length == 1)'"
full=".layers[] | select(.guest.name == \"$G\")"
check "$G: a layer of its own, tied to layer 0 by its name and uplink MAC" \
    "is '$W' '[$full | select(.parent == 0 and .guest.mac == \"$MAC\")] | length == 1'"
check "$G: its own snapshot, taken inside it (its hostname, the inner default network)" \
    "is '$W' '[$full | .snapshot | select(.host.hostname == \"$G\" and .uri == \"test:///etc/vn-guest/inner.xml\" and ([.networks[] | select(.name == \"default\")] | length == 1))] | length == 1'"
check "$G: virbr0 with 192.168.124.1/24 and eth0 with $addr/24, seen inside" \
    "is '$W' '[$full | .snapshot.host.links[] | select(.name == \"virbr0\" and .kind == \"bridge\" and (.addresses | index(\"192.168.124.1/24\")))] | length == 1' &&
     is '$W' '[$full | .snapshot.host.links[] | select(.name == \"eth0\" and .mac == \"$MAC\" and (.addresses | index(\"$addr/24\")))] | length == 1'"
part=".layers[] | select(.guest.name == \"$GX\")"
check "$GX: a partial layer: \"guest-exec is disabled in the guest's agent\"" \
    "is '$W' '[$part | select(.parent == 0 and .partial.reason == \"guest-exec is disabled in the guest'\"'\"'s agent\")] | length == 1'"
check "$GX: the agent's interfaces: eth0 with $MACX, virbr0 with 10.88.0.1/24" \
    "is '$W' '[$part | .partial.interfaces[] | select(.name == \"eth0\" and .mac == \"$MACX\")] | length == 1' &&
     is '$W' '[$part | .partial.interfaces[] | select(.name == \"virbr0\" and (.addresses | index(\"10.88.0.1/24\")))] | length == 1'"
check "$GN: no agent, a leaf with libvirt's reason, no layer" \
    "is '$W' '([.leaves[] | select(.guest == \"$GN\" and .parent == 0 and (.reason | test(\"agent\")))] | length == 1) and ([.layers[] | select(.guest.name == \"$GN\")] | length == 0)'"
jq -r '.leaves[] | "    | leaf: \(.guest): \(.reason)"' "$W"

# graph: both layers from that one bundle, and from --walk itself
"$VN" graph "$W" > "$LAB_ROOT/graph.txt" 2> "$LAB_ROOT/graph.err"
rc=$?
sed 's/^/    | /' "$LAB_ROOT/graph.txt" | head -n 30
check "graph BUNDLE (exit $rc): L0, and L1 for $G with its virbr0 192.168.124.1/24" \
    "[ $rc = 0 ] && grep -q '^L0 ' '$LAB_ROOT/graph.txt' && grep -Eq '^ +L1[^ ]* · host $G' '$LAB_ROOT/graph.txt' && grep -Eq 'virbr0 .*192.168.124.1/24' '$LAB_ROOT/graph.txt'"
check "graph BUNDLE: the partial layer of $GX, with its reason" \
    "grep -Eq '^ +L1[^ ]* · .*guest $GX, partial: guest-exec is disabled' '$LAB_ROOT/graph.txt'"
check "graph BUNDLE: the leaf $GN, one line on stderr" \
    "grep -q \"guest '$GN' was not entered\" '$LAB_ROOT/graph.err'"
vn graph --walk -c "$URI" > "$LAB_ROOT/graph-walk.txt" 2>/dev/null
rc=$?
check "graph --walk -c URI (exit $rc) draws the same layers" \
    "[ $rc = 0 ] && grep -Eq '^ +L1[^ ]* · host $G' '$LAB_ROOT/graph-walk.txt' && grep -Eq 'virbr0 .*192.168.124.1/24' '$LAB_ROOT/graph-walk.txt'"

# doctor --walk and a ping agree
vn doctor --walk -c "$URI" --from 192.168.161.1 --to "$addr" > "$LAB_ROOT/doctor.txt" 2>&1
drc=$?
sed 's/^/    | /' "$LAB_ROOT/doctor.txt"
lab_net "$L" ping -c 1 -W 5 "$addr" >/dev/null
prc=$?
check "doctor --walk --from 192.168.161.1 --to $addr (exit $drc) agrees with a ping (exit $prc)" \
    "[ $drc = 0 ] && [ $prc = 0 ] && grep -q '$addr (L1' '$LAB_ROOT/doctor.txt'"

# a guest without virt-nest: the agent's interfaces, and the reason
guest_exec "$L" "$G" /bin/rm /usr/bin/virt-nest || bad "rm /usr/bin/virt-nest inside $G"
vn status --json --host --walk -c "$URI" > "$LAB_ROOT/nonest.json" 2>/dev/null
check "$G without virt-nest: a partial layer, \"virt-nest is not installed in the guest\", eth0 with $addr/24" \
    "is '$LAB_ROOT/nonest.json' '[$full | select(.partial.reason == \"virt-nest is not installed in the guest\") | .partial.interfaces[] | select(.name == \"eth0\" and (.addresses | index(\"$addr/24\")))] | length == 1'"

# a virt-nest inside that does not finish, and one that prints too much:
# partial layers with their reasons, in bounded time
guest_exec "$L" "$G" /bin/sh -c 'printf "#!/bin/sh\nsleep 30\n" > /usr/bin/virt-nest && chmod 755 /usr/bin/virt-nest' ||
    bad "a slow virt-nest inside $G"
s=$(date +%s)
vn status --json --host --walk --walk-timeout 3 -c "$URI" > "$LAB_ROOT/slow.json" 2>/dev/null
e=$(($(date +%s) - s))
check "$G with a virt-nest that sleeps: \"did not finish in 3 s\", a partial layer (${e} s in all)" \
    "[ $e -le 10 ] && is '$LAB_ROOT/slow.json' '[$full | select(.partial.reason == \"virt-nest in the guest did not finish in 3 s\")] | length == 1'"
guest_exec "$L" "$G" /bin/sh -c 'printf "#!/bin/sh\nyes x | head -c 3100000\n" > /usr/bin/virt-nest' ||
    bad "a talkative virt-nest inside $G"
vn status --json --host --walk -c "$URI" > "$LAB_ROOT/big.json" 2>/dev/null
jq -r "$full | .partial.reason // empty" "$LAB_ROOT/big.json" | sed 's/^/    | /'
check "$G with a virt-nest that prints 3100000 bytes: \"output over 3000000 bytes\"" \
    "is '$LAB_ROOT/big.json' '[$full | select(.partial.reason == \"output over 3000000 bytes\")] | length == 1'"

# an agent that stops answering: the walk leaves it after --walk-timeout
guest_agent "$L" "$G" '{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","sleep 1; kill -STOP $(pidof qemu-ga)"]}}' >/dev/null
sleep 2
s=$(date +%s.%N)
vn status --json --host --walk --walk-timeout 2 -c "$URI" > "$LAB_ROOT/hung.json" 2>/dev/null
rc=$?
e=$(echo "$(date +%s.%N) $s" | awk '{ printf "%.1f", $1 - $2 }')
jq -r '.leaves[] | "    | leaf: \(.guest): \(.reason)"' "$LAB_ROOT/hung.json"
check "--walk-timeout 2: $G, whose agent is stopped, is a leaf (exit $rc, ${e} s in all)" \
    "[ $rc = 0 ] && is '$LAB_ROOT/hung.json' '[.leaves[] | select(.guest == \"$G\" and (.reason | test(\"no agent answered in [0-9]+ s\")))] | length == 1'"
check "--walk-timeout 2: the whole walk took under 12 s (three guests, one hung)" \
    "awk 'BEGIN { exit !($e < 12) }'"

lab_stop "$L"
left=$(our_qemus)
check "no qemu of this test is left after lab_stop" "[ -z '$left' ]"
exit $fail
