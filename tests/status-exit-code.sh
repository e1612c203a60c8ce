#!/bin/bash
# `virt-nest status --exit-code` (issue 12 item 12): 3 when what is
# installed drifted (reconcile would change something), 0 when it did not
# or when only pending routes remain, 1 for problems first; without the
# option drift still exits 0. The drift is real: the seed's L0 in a network
# namespace of its own (unshare -n), where its route is missing.
# Usage: status-exit-code.sh VIRT_NEST SRCDIR
set -u
VN=$1
SRC=$2
# shellcheck source=unshare-lib.sh
. "$(dirname "$0")/unshare-lib.sh" vnS-exitcode
EX=$SRC/xml/examples

expect() {  # RC WHAT ARGS...: status ARGS in an empty namespace exits RC
    local want=$1 what=$2; shift 2
    ${VN_VALGRIND:-} unshare -n "$VN" status "$@" > "$T/out" 2> "$T/err"
    local got=$?
    if [ $got -eq "$want" ]; then
        echo "ok - $what: exit $got"
    else
        echo "FAIL - $what: exit $got, expected $want"
        sed 's/^/  # /' "$T/out" "$T/err" | tail -8
        fail=1
    fi
}

# the seed's L0: debian runs, its route is missing here
expect 3 "drift, --exit-code" --host --exit-code -c "test://$EX/seed-l0.xml"
grep -q '^Drift: ' "$T/out" || { echo "FAIL - the drift is not shown with --exit-code"; fail=1; }
expect 3 "drift, --exit-code --json" --host --exit-code --json -c "test://$EX/seed-l0.xml"
jq -e '.installed.reconcile_needed == true' "$T/out" > /dev/null ||
    { echo "FAIL - exit 3 but reconcile_needed is not true"; fail=1; }
expect 0 "drift, no --exit-code" --host -c "test://$EX/seed-l0.xml"
# L1: everything it needs is there (no firewall to beat)
expect 0 "no drift, --exit-code" --host --exit-code -c "test://$EX/seed-l1.xml"
# debian shut off: its route is pending, which is not drift
shut_off "$EX/seed-l0.xml" > "$T/l0-off.xml"
expect 0 "only pending, --exit-code" --host --exit-code -c "test://$T/l0-off.xml"
# problems win over drift: metadata that status refuses
expect 1 "problems and --exit-code" --host --exit-code -c "test://$SRC/tests/data/bad/metadata.xml"
# no host read (the test driver's default): nothing checked, nothing drifted
expect 0 "--exit-code without the host" --exit-code -c "test://$EX/seed-l0.xml"
# an unknown option is still a usage error
expect 2 "--exit-code=x" --exit-code=x -c "test://$EX/seed-l0.xml"
exit $fail
