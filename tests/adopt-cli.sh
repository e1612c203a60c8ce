#!/bin/bash
# virt-nest adopt on the libvirt test driver (the seed's layers, no
# daemon, no agent): --subnet names the subnets; each passes the hook's
# checks or nothing is written; what is delegated already is a no-op (the
# test driver keeps changes for the connection only, so each run starts
# from the file); adopt --peer adds a peer to the inner network, refuses
# what the hook would, and finds the network by its subnet.
# Usage: adopt-cli.sh VIRT_NEST SRCDIR
set -u
VN=$1
X=$2/xml/examples
L0="test://$X/seed-l0.xml"
L1="test://$X/seed-l1.xml"
T=$(mktemp -d /tmp/vnO-adopt-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
# run EXPECTED_RC ARGS...: stdout in $T/out, stderr in $T/err
run() {
    local want=$1; shift
    env -u LIBVIRT_DEFAULT_URI "$VN" "$@" > "$T/out" 2> "$T/err" < /dev/null
    rc=$?
    if [ $rc != "$want" ]; then
        bad "virt-nest $*: exit $rc, expected $want"
        sed 's/^/  | /' "$T/out" "$T/err"
        return 1
    fi
}
has() { grep -qxF -- "$2" "$T/$1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; sed 's/^/  | /' "$T/out" "$T/err"; fi; }

run 0 adopt -c "$L0" debian --subnet 192.168.124.0/24 &&
    check "delegated already: a no-op" \
        "has out \"domain 'debian': already delegated: 192.168.124.0/24\" && [ ! -s '$T/err' ]"

run 0 adopt -c "$L0" debian --subnet 192.168.125.0/24 -n &&
    check "--dry-run: the metadata, the routes kept, nothing written" \
        "has out \"domain 'debian': would write <nest:guest> metadata:\" &&
         has out '    <nest:route subnet=\"192.168.124.0/24\"/>' &&
         has out '    <nest:route subnet=\"192.168.125.0/24\"/>' &&
         ! grep -q written '$T/out'"

run 0 adopt -c "$L0" debian --subnet 192.168.125.0/24 &&
    check "written (live and config); the test driver installs no route" \
        "has out \"domain 'debian': metadata written (live and config)\" &&
         has out 'routes: none installed for the test driver'"

run 1 adopt -c "$L0" debian --subnet 192.168.125.0/24 --subnet 0.0.0.0/0 &&
    check "a subnet the hook refuses: nothing written, its reason" \
        "grep -q \"0.0.0.0/0 is not delegated: .*a default route is never delegated\" '$T/err' &&
         has err \"virt-nest: adopt: domain 'debian': nothing written\" && [ ! -s '$T/out' ]"

run 1 adopt -c "$L0" debian --subnet 192.168.122.128/25 &&
    check "a subnet of this layer's own network is refused" \
        "grep -q '192.168.122.128/25 is not delegated' '$T/err'"

run 1 adopt -c "$L0" debian &&
    check "no --subnet on the test driver: it has no agent" \
        "has err \"virt-nest: adopt: domain 'debian': the test driver has no guest agent; name the subnets with --subnet CIDR\""

run 1 adopt -c "$L0" nosuch --subnet 10.1.0.0/16 &&
    check "an unknown guest" "grep -q \"domain 'nosuch' not found on\" '$T/err'"

run 0 adopt -c "$L1" --peer 192.168.122.0/24 --subnet 192.168.124.0/24 &&
    check "--peer already there: a no-op" \
        "has out \"network 'default': already has peer 192.168.122.0/24\""

run 0 adopt -c "$L1" --peer 10.5.0.0/16 --subnet 192.168.124.0/24 &&
    check "--peer: the network found by its subnet, the peer added to the one there" \
        "grep -q \"^network 'default': its definition's peers now 10.5.0.0/16, 192.168.122.0/24\" '$T/out'"

run 1 adopt -c "$L1" --peer 192.168.124.0/25 --network default &&
    check "--peer inside the network's own subnet: the hook's refusal" \
        "grep -q \"the hook would refuse peer 192.168.124.0/25, nothing written\" '$T/err'"

run 1 adopt -c "$L1" --peer 10.5.0.0/16 --subnet 10.99.0.0/24 &&
    check "--peer with a subnet no network has" \
        "grep -q 'no network on .* has the subnet 10.99.0.0/24; name it with --network NET' '$T/err'"
exit $fail
