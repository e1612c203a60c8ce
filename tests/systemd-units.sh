#!/bin/bash
# The systemd units are valid: systemd-analyze verify finds nothing to say
# about them (with ExecStart pointed at the built virt-nest), and
# virt-nest-watch.service runs `virt-nest watch`, as Type=notify, with
# the capabilities reconcile needs for netlink and iptables-legacy.
# Usage: systemd-units.sh BUILDDIR SRCDIR
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
for u in virt-nest-watch.service virt-nest-leases.service; do
    sed "s|^\(ExecStart=\).*/virt-nest |\1$BUILD/src/virt-nest |" "$BUILD/data/$u" > "$T/$u"
done
cp "$SRC/data/virt-nest-leases.path" "$T/"
out=$(cd "$T" && systemd-analyze verify --man=no ./*.service ./*.path 2>&1)
echo "$out"
W=$T/virt-nest-watch.service
grep -qx "ExecStart=$BUILD/src/virt-nest watch" "$W" || { echo "FAIL: ExecStart of virt-nest-watch.service"; fail=1; }
grep -qx "Type=notify" "$W" || { echo "FAIL: virt-nest-watch.service is not Type=notify"; fail=1; }
grep -qx "ExecReload=/bin/kill -HUP \$MAINPID" "$W" || { echo "FAIL: ExecReload does not send SIGHUP"; fail=1; }
grep -qx "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW" "$W" || { echo "FAIL: capabilities"; fail=1; }
grep -q "ExecStart=$BUILD/src/virt-nest reconcile" "$T/virt-nest-leases.service" || { echo "FAIL: ExecStart of virt-nest-leases.service"; fail=1; }
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify complained"; fail=1; }
[ $fail = 0 ] && echo "ok: units verify; virt-nest-watch.service runs virt-nest watch"
exit $fail
