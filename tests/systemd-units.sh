#!/bin/bash
# The systemd units are valid: systemd-analyze verify finds nothing to say
# about them (with ExecStart pointed at the built virt-nest).
# Usage: systemd-units.sh BUILDDIR SRCDIR
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for u in virt-nest-reconcile.service virt-nest-leases.service; do
    sed "s|^\(Exec[A-Za-z]*=\).*/virt-nest |\1$BUILD/src/virt-nest |" "$BUILD/data/$u" > "$T/$u"
done
cp "$SRC/data/virt-nest-leases.path" "$T/"
out=$(cd "$T" && systemd-analyze verify --man=no ./*.service ./*.path 2>&1)
echo "$out"
grep -q "ExecStart=$BUILD/src/virt-nest reconcile" "$T/virt-nest-reconcile.service" || { echo "FAIL: ExecStart"; exit 1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify complained"; exit 1; }
echo "ok: units verify"
