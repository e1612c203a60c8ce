#!/bin/bash
# Colour in status and doctor text (issue 12 item 12), as ls and git and
# https://no-color.org have it: --color=auto (the default) colours only on
# a terminal (a pty from script(1) here), with NO_COLOR unset or empty and
# TERM not dumb; --color=always colours anyway, NO_COLOR set or not (the
# command line wins over the environment); --color=never and a pipe never.
# Coloured text is the plain text plus SGR sequences: stripped, it is
# byte for byte what the goldens compare. Problems red, drift yellow, ok
# green. The status part with drift needs root (unshare -n: the seed's
# L0 in an empty network namespace, where its route is missing).
# Usage: color.sh VIRT_NEST SRCDIR
set -u
VN=$1
SRC=$2
EX=$SRC/xml/examples
T=$(mktemp -d /tmp/vnL-color.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
ESC=$'\033'
RED="${ESC}[31m" YELLOW="${ESC}[33m" GREEN="${ESC}[32m" RESET="${ESC}[0m"
strip() { sed "s/${ESC}\[[0-9;]*m//g"; }
has_color() { grep -q "$ESC" "$1"; }

SNAP=("$EX/seed-nest-l0.json" "$EX/seed-nest-l1.json" "$EX/seed-nest-l2.json")
DOC=(doctor --from 192.168.122.1 --to 192.168.124.91)
# a packet that dies: 9000 bytes that must not be fragmented (red)
"$VN" "${DOC[@]}" --size 9000 "${SNAP[@]}" > "$T/plain" 2>&1
"$VN" "${DOC[@]}" --size 9000 --color=always "${SNAP[@]}" > "$T/always" 2>&1
if has_color "$T/plain"; then bad "doctor into a pipe is coloured"
else ok "doctor into a pipe: no colour"; fi
if strip < "$T/always" | cmp -s - "$T/plain"; then
    ok "doctor --color=always, stripped: the plain text byte for byte"
else
    bad "doctor --color=always differs from the plain text beyond colours"
    diff <(strip < "$T/always") "$T/plain" | sed 's/^/  # /' | head
fi
grep -qF "${RED}NOT REACHABLE: " "$T/always" &&
    grep -qF "${RED}  L0     mtu        FAILS: " "$T/always" &&
    ok "doctor --color=always: NOT REACHABLE and the failing hop in red" ||
    bad "doctor --color=always: no red NOT REACHABLE or FAILS line"
NO_COLOR=1 "$VN" "${DOC[@]}" --color=always "${SNAP[@]}" > "$T/nc-always"
grep -qF "${GREEN}reachable: " "$T/nc-always" &&
    ok "doctor --color=always with NO_COLOR=1: coloured (reachable in green)" ||
    bad "doctor --color=always with NO_COLOR=1: no green reachable line"

# on a terminal (a pty): auto colours unless NO_COLOR or TERM=dumb
pty() {  # OUT ENV... -- ARGS...: virt-nest ARGS on a pty
    local out=$1 envs=()
    shift
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env -u NO_COLOR TERM=xterm "${envs[@]}" \
        script -qec "$(printf '%q ' "$VN" "$@")" /dev/null < /dev/null |
        tr -d '\r' > "$out"
}
if script -qec true /dev/null < /dev/null > /dev/null 2>&1; then
    pty "$T/tty" -- "${DOC[@]}" "${SNAP[@]}"
    grep -qF "${GREEN}reachable: " "$T/tty" &&
        ok "doctor on a terminal: coloured" ||
        bad "doctor on a terminal: no colour"
    pty "$T/tty-nc" NO_COLOR=1 -- "${DOC[@]}" "${SNAP[@]}"
    if has_color "$T/tty-nc"; then bad "NO_COLOR=1 on a terminal: coloured"
    else ok "NO_COLOR=1 on a terminal: no colour"; fi
    pty "$T/tty-empty" NO_COLOR= -- "${DOC[@]}" "${SNAP[@]}"
    has_color "$T/tty-empty" && ok "NO_COLOR empty on a terminal: coloured" ||
        bad "NO_COLOR empty (which no-color.org ignores): no colour"
    pty "$T/tty-dumb" TERM=dumb -- "${DOC[@]}" "${SNAP[@]}"
    if has_color "$T/tty-dumb"; then bad "TERM=dumb on a terminal: coloured"
    else ok "TERM=dumb on a terminal: no colour"; fi
    pty "$T/tty-never" -- "${DOC[@]}" --color=never "${SNAP[@]}"
    if has_color "$T/tty-never"; then
        bad "--color=never on a terminal: coloured"
    else
        ok "--color=never on a terminal: no colour"
    fi
else
    echo "# script(1) cannot make a pty here: the terminal cases are not run"
fi

# status: the golden text stays plain; with drift, missing and Drift yellow
"$VN" status -c "test://$EX/seed-l0.xml" > "$T/st-plain"
"$VN" status --color=always -c "test://$EX/seed-l0.xml" > "$T/st-always"
if has_color "$T/st-plain"; then bad "status into a pipe is coloured"
else ok "status into a pipe: no colour"; fi
strip < "$T/st-always" | cmp -s - "$T/st-plain" &&
    ok "status --color=always, stripped: the plain text byte for byte" ||
    bad "status --color=always differs from the plain text beyond colours"
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
    export VIRT_NEST_STATE_DIR=$T/state
    unshare -n "$VN" status --host --color=always -c "test://$EX/seed-l0.xml" \
        > "$T/drift" 2> /dev/null
    grep -qF "  ${YELLOW}missing${RESET}" "$T/drift" &&
        ok "status --color=always: the missing route's state in yellow" ||
        bad "status --color=always: no yellow 'missing'"
    grep -qF "${YELLOW}Drift: " "$T/drift" &&
        ok "status --color=always: the Drift line in yellow" ||
        bad "status --color=always: no yellow Drift line"
    unshare -n "$VN" status --host -c "test://$EX/seed-l0.xml" > "$T/drift-p" \
        2> /dev/null
    strip < "$T/drift" | cmp -s - "$T/drift-p" &&
        ok "... and stripped, the plain text" ||
        bad "status --host --color=always differs beyond colours"
else
    echo "# not root: the status case with drift is not run"
fi
for c in status doctor; do
    "$VN" $c --color=sometimes > /dev/null 2> "$T/err"
    [ $? = 2 ] && grep -qx "virt-nest: $c: --color=sometimes: give auto, \
always or never" "$T/err" && ok "$c --color=sometimes: usage error" ||
        bad "$c --color=sometimes: $(cat "$T/err")"
done
exit $fail
