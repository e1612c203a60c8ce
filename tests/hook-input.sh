#!/bin/bash
# The hook's stdin is bounded (issue 11, point 6): libvirt's XML for one
# network or guest is far below a megabyte, so more than 4 MiB is refused
# in one line naming the object, before anything is read further or
# written; 4 MiB exactly is still read. No namespace, no kernel state: a
# plain network with a reservation, whose XML the hook only keeps. And
# metadata in a namespace that only looks like virt-nest's: a warning.
# Usage: hook-input.sh VIRT_NEST_HOOK SRCDIR
set -u
HOOK=$1
SRC=$2
NET=$SRC/tests/golden/hook/qemu-started-reservation/state/network/default.xml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/none.conf"  # an empty configuration: the defaults
fail=0
ok()  { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
grep -q '<host ' "$NET" || { echo "FAIL: $NET has no <host>; adapt hook-input.sh"; exit 1; }

run() {  # STATE: the network hook by hand, stdin from the caller
    VIRT_NEST_STATE_DIR=$1 VIRT_NEST_CONFIG=$T/none.conf \
        ${VN_VALGRIND:-} "$HOOK" network default started begin - > "$T/out" 2> "$T/err"
}
# the network XML, then a comment that pads it to SIZE bytes
padded() {
    local size=$1 n
    n=$(( size - $(wc -c < "$NET") - 8 ))
    cat "$NET"; printf '<!--'; head -c "$n" /dev/zero | tr '\0' x; printf -- '-->\n\n\n\n' | head -c 4
}

padded $((4 * 1024 * 1024)) > "$T/4m.xml"
padded $((4 * 1024 * 1024 + 1)) > "$T/4m1.xml"
[ "$(wc -c < "$T/4m.xml")" = 4194304 ] && [ "$(wc -c < "$T/4m1.xml")" = 4194305 ] ||
    { echo "FAIL: padded sizes"; exit 1; }

run "$T/s1" < "$T/4m.xml"
if [ $? = 0 ] && [ ! -s "$T/err" ] && cmp -s "$T/4m.xml" "$T/s1/network/default.xml"; then
    ok "4 MiB exactly is read and kept"
else
    bad "4 MiB: $(cat "$T/err")"
fi

for what in 4m1 stream; do
    mkdir -m 0755 "$T/$what"
    start=$(date +%s%N)
    if [ $what = 4m1 ]; then run "$T/$what" < "$T/4m1.xml"
    else head -c 100000000 /dev/zero | run "$T/$what"; fi
    rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ $rc = 1 ] && [ ! -s "$T/out" ] && [ "$(wc -l < "$T/err")" = 1 ] &&
       grep -q "^virt-nest: network 'default': the XML on stdin is larger than 4 MiB" "$T/err" &&
       [ -z "$(ls -A "$T/$what")" ] && [ $ms -lt 5000 ]; then
        ok "$what: refused in ${ms} ms, nothing written: $(cat "$T/err")"
    else
        bad "$what: exit $rc in ${ms} ms, stderr:"; sed 's/^/  # /' "$T/err"; ls -R "$T/$what"
    fi
done

# A namespace that only looks like virt-nest's (issue 12 item 6): the hook
# lets the object start, says why nothing is installed in one warning
# naming the object and the right namespace, and changes nothing; the
# first pass over the XML is libc's, as for every event
G=$SRC/tests/golden/hook
for c in "qemu nestguest started begin warn-namespace-lookalike
            urn:virtnest:1" \
         "network default started begin network-started-warn-namespace
            urn:Virt-Nest:1"; do
    read -r drv name op sub dir ns <<< "$(echo $c)"
    mkdir -m 0755 "$T/w-$dir"
    VIRT_NEST_STATE_DIR=$T/w-$dir VIRT_NEST_CONFIG=$T/none.conf \
        ${VN_VALGRIND:-} "$HOOK" $drv $name $op $sub - < "$G/$dir/stdin.xml" \
        > "$T/out" 2> "$T/err"
    rc=$?
    kind=domain el=guest; [ $drv = network ] && kind=network el=network
    want="^virt-nest: warning: $kind '$name': .* is ignored: '$ns' is not"
    want="$want virt-nest's namespace; write <nest:$el"
    want="$want xmlns:nest='urn:virt-nest:1'>\$"
    if [ $rc = 0 ] && [ ! -s "$T/out" ] && grep -q "$want" "$T/err" &&
       [ -z "$(ls -A "$T/w-$dir")" ]; then
        ok "$drv $name $op, namespace $ns: exit 0, $(cat "$T/err")"
    else
        bad "$drv $name $op, namespace $ns: exit $rc, stderr:"
        sed 's/^/  # /' "$T/err"; ls -R "$T/w-$dir"
    fi
done

[ $fail = 0 ] && echo "# PASS" || echo "# FAIL"
exit $fail
