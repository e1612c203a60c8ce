#!/bin/bash
# `virt-nest doctor` on the bundled snapshots of the seed's nest
# (xml/examples/, taken by tests/doctor/seed-nest.sh in namespaces with
# VN_SNAPSHOTS): as its author had it before the fixes the packet dies at
# L0 (no route on WSL2), with the route only at L1 (libvirt's REJECT), and
# fixed it is reachable. The output is the namespace test's own golden for
# the same state, so the bundled files cannot drift from what a live nest
# says. No root needed.
# Usage: seed-examples.sh VIRT_NEST SRCDIR
# VN_REGENERATE=1 rewrites the golden files (those of seed-nest.sh too).
set -u
VN=$(realpath "$1")
SRC=$(realpath "$2")
X=$SRC/xml/examples
GOLD=$SRC/tests/golden/doctor
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

vn() { ${VN_VALGRIND:-} "$VN" "$@"; }
. "$SRC/tests/golden-lib.sh"
GOLDEN_CWD=$X

doctor() {  # SET: the manual's command on seed-SET-l*.json
    vn doctor --from 192.168.122.1 --to 192.168.124.91 \
        "$1-l0.json" "$1-l1.json" "$1-l2.json"
}

# the verdict each set must give, whatever the golden files say
expect() {  # SET RC TEXT
    local out rc
    out=$(cd "$X" && doctor "$1" 2>&1)
    rc=$?
    if [ "$rc" = "$2" ] && printf '%s\n' "$out" | grep -qF -- "$3"; then
        echo "ok: $1: exit $rc, '$3'"
    else
        echo "FAIL: $1: expected exit $2 and '$3', got exit $rc:"
        printf '%s\n' "$out"
        fail=1
    fi
}

for set in seed-before-nest seed-route-nest seed-nest; do
    for n in 0 1 2; do
        [ -r "$X/$set-l$n.json" ] ||
            { echo "FAIL: no $X/$set-l$n.json"; fail=1; }
    done
done

# real status --json --host output: host.firewall_error is there, null
# where the firewall was read
for set in seed-before-nest seed-route-nest seed-nest; do
    for n in 0 1 2; do
        jq -e '.format == "virt-nest-status" and (.host.firewall | type) ==
               "array" and (.host | has("firewall_error")) and
               .host.firewall_error == null' "$X/$set-l$n.json" > /dev/null ||
            { echo "FAIL: $set-l$n.json: not a host snapshot with" \
                   "firewall_error null"; fail=1; }
    done
done

expect seed-before-nest 1 "NOT REACHABLE: L0: the route 'default via \
172.24.21.254 dev eth1' takes 192.168.124.91 out of the nest"
expect seed-route-nest 1 "NOT REACHABLE: L1: libvirt's REJECT in \
LIBVIRT_FWI drops 192.168.122.1 -> 192.168.124.91"
expect seed-nest 0 "reachable: there and back"

golden doctor-none.txt doctor seed-before-nest
golden doctor-route.txt doctor seed-route-nest
golden doctor-fixed.txt doctor seed-nest

# the manual's glob takes the fixed set only (the others' names differ)
n=$(cd "$X" && printf '%s\n' seed-nest-l*.json | wc -l)
[ "$n" = 3 ] && echo "ok: seed-nest-l*.json: the three fixed layers" ||
    { echo "FAIL: seed-nest-l*.json matches $n files"; fail=1; }

exit $fail
