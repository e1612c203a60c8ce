#!/bin/bash
# A guest that is not running needs nothing (issue 12 item 1): status shows
# its routes as pending ("installed when it starts"), as it shows an
# inactive network's rules, `reconcile_needed` is false, and status and
# `reconcile -n` agree, on every seed layer with its guests running and
# with them shut off.
# Usage: status-stopped.sh VIRT_NEST SRCDIR
# Runs in a network namespace of its own (unshare -n), so that --host reads
# no route or rule of this machine's: root only, else skipped (77).
set -u
VN=$1
SRC=$2
# shellcheck source=unshare-lib.sh
. "$(dirname "$0")/unshare-lib.sh" vnS-stopped

ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
vn()  { ${VN_VALGRIND:-} unshare -n "$VN" "$@"; }

for layer in seed-l0 seed-l1 seed-l2; do
    cp "$SRC/xml/examples/$layer.xml" "$T/$layer-running.xml"
    shut_off "$SRC/xml/examples/$layer.xml" > "$T/$layer-off.xml"
    # the test driver reads relative lease files next to the node file
    [ -e "$SRC/xml/examples/$layer.leases" ] && cp "$SRC/xml/examples/$layer.leases" "$T/"
    for run in running off; do
        uri=test://$T/$layer-$run.xml
        what="$layer, guests $run"
        vn status --host --json -c "$uri" > "$T/s.json" 2> "$T/s.err" ||
            { bad "$what: status exit $?: $(cat "$T/s.err")"; continue; }
        vn reconcile -n -c "$uri" > "$T/r.out" 2>&1 ||
            { bad "$what: reconcile -n exit $?: $(cat "$T/r.out")"; continue; }
        needed=$(jq -r '.installed.reconcile_needed' "$T/s.json")
        if grep -qx 'nothing to change: this layer has what it needs' "$T/r.out"; then
            would=false
        else
            would=true
        fi
        if [ "$needed" = "$would" ]; then
            ok "$what: status (reconcile_needed $needed) and reconcile -n agree"
        else
            bad "$what: status says reconcile_needed $needed, reconcile -n says:"
            sed 's/^/  # /' "$T/r.out"
        fi
        [ "$run" = off ] || continue
        # every route of a shut-off guest: pending, with the reason
        n=$(jq '[.installed.items[] | select(.what | startswith("route "))] | length' "$T/s.json")
        if [ "$needed" = false ] &&
           jq -e '[.installed.items[] | select(.what | startswith("route "))] |
                  all(.state == "pending" and
                      .where == "the guest is shut off: installed when it starts")' \
              "$T/s.json" > /dev/null; then
            ok "$what: its $n route(s) pending, nothing to reconcile"
        else
            bad "$what: routes of shut-off guests not pending:"
            jq -c '.installed' "$T/s.json" | sed 's/^/  # /'
        fi
        if [ "$n" -gt 0 ]; then
            vn status --host -c "$uri" > "$T/s.txt" 2>&1
            if grep -q '^Drift' "$T/s.txt" ||
               ! grep -qx '      the guest is shut off: installed when it starts' "$T/s.txt"; then
                bad "$what: the text status still reports drift:"
                sed 's/^/  # /' "$T/s.txt"
            else
                ok "$what: the text status says when the routes are installed"
            fi
        fi
    done
done
# a route left in the kernel after the guest stopped (a stop the hook did
# not see): stale, and both status and reconcile -n say it goes; then
# reconcile removes it and status is clean. One namespace for the whole
# story, with the seed's bridge renamed into this test's prefix.
sed 's/virbr0/vnSbr0/g' "$T/seed-l0-running.xml" > "$T/left-running.xml"
sed 's/virbr0/vnSbr0/g' "$T/seed-l0-off.xml" > "$T/left-off.xml"
export VN T
VIRT_NEST_STATE_DIR=$T/state-left unshare -n bash -c '
    set -u
    mkdir -p "$VIRT_NEST_STATE_DIR"
    ip link set lo up && ip link add vnSbr0 type bridge &&
        ip addr add 192.168.122.1/24 dev vnSbr0 && ip link set vnSbr0 up || exit 2
    "$VN" reconcile -c "test://$T/left-running.xml" > "$T/left.1" 2>&1 || exit 3
    ip route show 192.168.124.0/24 proto 155 > "$T/left.route1"
    "$VN" status --host --json -c "test://$T/left-off.xml" > "$T/left.s1" || exit 4
    "$VN" reconcile -n -c "test://$T/left-off.xml" > "$T/left.2" 2>&1 || exit 5
    "$VN" reconcile -c "test://$T/left-off.xml" > "$T/left.3" 2>&1 || exit 6
    ip route show 192.168.124.0/24 proto 155 > "$T/left.route2"
    "$VN" status --host --json -c "test://$T/left-off.xml" > "$T/left.s2" || exit 7
'
rc=$?
if [ $rc -ne 0 ]; then
    bad "route left after a stop: step $rc failed"
    cat "$T"/left.[123] 2>/dev/null | sed 's/^/  # /'
else
    route="route 192.168.124.0/24 via 192.168.122.191 dev vnSbr0 proto 155"
    del="domain 'debian': delete $route"
    # dry, the verb first: "would delete route ... for domain 'debian'"
    would="would delete $route for domain 'debian'"
    grep -q . "$T/left.route1" || bad "route left after a stop: reconcile of the running guest added no route"
    if jq -e '.installed.reconcile_needed == true and
              any(.installed.items[]; .state == "stale" and
                  .note == "left after the guest stopped: reconcile removes it")'            "$T/left.s1" > /dev/null && grep -qxF "$would" "$T/left.2"; then
        ok "route left after a stop: stale in status, and reconcile -n would delete it"
    else
        bad "route left after a stop: status and reconcile -n do not agree:"
        { jq -c .installed "$T/left.s1"; cat "$T/left.2"; } | sed 's/^/  # /'
    fi
    if grep -qxF "$del" "$T/left.3" && ! grep -q . "$T/left.route2" &&
       jq -e '.installed.reconcile_needed == false' "$T/left.s2" > /dev/null; then
        ok "route left after a stop: reconcile removes it, status is clean after"
    else
        bad "route left after a stop: reconcile did not clean up:"
        { cat "$T/left.3" "$T/left.route2"; jq -c .installed "$T/left.s2"; } | sed 's/^/  # /'
    fi
fi

# the test must have seen a shut-off guest with routes at all
grep -q '<nest:route ' "$T/seed-l0-off.xml" || bad "seed-l0 has no guest with routes any more"
exit $fail
