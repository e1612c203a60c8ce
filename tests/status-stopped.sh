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
fail=0

if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
    echo "SKIP: needs root and unshare -n (a network namespace of its own)"
    exit 77
fi
command -v jq >/dev/null || { echo "SKIP: needs jq"; exit 77; }

T=$(mktemp -d /tmp/vnS-stopped.XXXXXX)
trap 'rm -rf "$T"' EXIT
export VIRT_NEST_STATE_DIR=$T/state
mkdir -p "$VIRT_NEST_STATE_DIR"

ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
vn()  { ${VN_VALGRIND:-} unshare -n "$VN" "$@"; }

# LAYER.xml with every guest shut off: the test driver's runstate 5
shut_off() {
    sed -e "s|<domain type='test'>|<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>|" \
        -e "s|</devices>|</devices>\n    <test:runstate>5</test:runstate>|" "$1"
}

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
# the test must have seen a shut-off guest with routes at all
grep -q '<nest:route ' "$T/seed-l0-off.xml" || bad "seed-l0 has no guest with routes any more"
exit $fail
