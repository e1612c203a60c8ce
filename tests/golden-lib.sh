# tests/golden-lib.sh: golden output for the shell tests; source it.
#
#   golden NAME COMMAND...
#
# runs COMMAND (in $GOLDEN_CWD when set), takes "exit N" and everything it
# printed on stdout and stderr, replaces $SRC by @SRCDIR@ and $T by @TMP@,
# and compares with $GOLD/NAME. With VN_REGENERATE=1 it rewrites the file
# instead; review the diff like code. A difference sets fail=1.

golden() {
    local name=$1; shift
    local out rc
    out=$(cd "${GOLDEN_CWD:-.}" && "$@" 2>&1)
    rc=$?
    out=$(printf '%s\n' "exit $rc" "$out" | sed -e "s|$SRC|@SRCDIR@|g" -e "s|$T|@TMP@|g")
    if [ "${VN_REGENERATE:-0}" = 1 ]; then
        printf '%s\n' "$out" > "$GOLD/$name"
        echo "regenerated $name"
    elif printf '%s\n' "$out" | diff -u "$GOLD/$name" -; then
        echo "ok: $name"
    else
        echo "FAIL: $name differs (VN_REGENERATE=1 rewrites it)"
        fail=1
    fi
}
