#!/bin/bash
# Golden outputs of `virt-nest status` on the seed examples, in every format.
# Usage: status-golden.sh VIRT_NEST SRCDIR
# VN_REGENERATE=1 rewrites the golden files instead of comparing; review the
# diff like code.
set -u
VN=$1
SRC=$2
GOLD=$SRC/tests/golden/status
fail=0

json_ok() {
    if command -v jq >/dev/null; then
        jq -e . >/dev/null
    else
        python3 -c 'import json,sys; json.load(sys.stdin)'
    fi
}

for layer in seed-l0 seed-l1; do
    for fmt in text json mermaid dot; do
        flag=
        [ "$fmt" = text ] || flag=--$fmt
        out=$(${VN_VALGRIND:-} "$VN" status -c "test://$SRC/xml/examples/$layer.xml" $flag 2>&1)
        rc=$?
        out=$(printf '%s\n' "$out" | sed "s|$SRC|@SRCDIR@|g")
        if [ $rc -ne 0 ]; then
            echo "FAIL: $layer $fmt: exit $rc"
            printf '%s\n' "$out"
            fail=1
            continue
        fi
        if [ "$fmt" = json ] && ! printf '%s\n' "$out" | json_ok; then
            echo "FAIL: $layer json does not parse"
            fail=1
        fi
        gold=$GOLD/$layer.$fmt
        if [ "${VN_REGENERATE:-0}" = 1 ]; then
            printf '%s\n' "$out" > "$gold"
            echo "regenerated $gold"
            continue
        fi
        if ! printf '%s\n' "$out" | diff -u "$gold" - ; then
            echo "FAIL: $layer $fmt differs from $gold (VN_REGENERATE=1 rewrites it)"
            fail=1
        else
            echo "ok: $layer $fmt"
        fi
    done
done
# a guest whose subnets another's sort between: "This layer needs" names
# each guest once, with all its routes under it
out=$(${VN_VALGRIND:-} "$VN" status \
          -c "test://$SRC/tests/data/status/interleaved.xml" 2>&1 |
      sed "s|$SRC|@SRCDIR@|g")
if [ "$(printf '%s\n' "$out" | grep -c "^  domain 'debian'$")" != 1 ]; then
    echo "FAIL: interleaved: domain 'debian' is not listed once"
    fail=1
fi
if [ "${VN_REGENERATE:-0}" = 1 ]; then
    printf '%s\n' "$out" > "$GOLD/interleaved.text"
    echo "regenerated $GOLD/interleaved.text"
elif ! printf '%s\n' "$out" | diff -u "$GOLD/interleaved.text" -; then
    echo "FAIL: interleaved text differs (VN_REGENERATE=1 rewrites it)"
    fail=1
else
    echo "ok: interleaved text"
fi
exit $fail
