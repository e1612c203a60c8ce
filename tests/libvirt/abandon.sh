#!/bin/bash
# Agent calls a caller leaves at its deadline, for real: one guest booted
# under TCG (tests/libvirt/guest.sh) whose qemu-ga is then stopped
# (SIGSTOP), so that libvirt waits its guest-sync time (5 s) longer than
# each call may take (1 s). tests/abandon.c (vn-abandon) makes the bounded
# interface read and the walk return at their deadlines, drops the domain,
# the layer and the connection the threads were given, and lives until
# the threads end on their own; it runs under valgrind when valgrind is
# installed, where a thread that touches what its caller freed is an error.
# Usage: abandon.sh BUILDDIR SRCDIR. Exit 77 without root, libvirtd, qemu,
# tini, dnsmasq, or when the image's packages cannot be downloaded.
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
HERE=$SRC/tests/libvirt
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for b in libvirtd qemu-system-x86_64 tini dnsmasq; do
    command -v $b >/dev/null ||
        { echo "SKIP: $b is not installed (scripts/dev test installs it)"
          exit 77; }
done
# shellcheck source=lab.sh
. "$HERE/lab.sh"
# shellcheck source=guest.sh
. "$HERE/guest.sh"
LAB_ROOT=$(mktemp -d /tmp/virt-nest-abandon.XXXXXX)
guest_image "$BUILD"
rc=$?
[ $rc = 0 ] || { rm -rf "$LAB_ROOT"; exit $rc; }
LAB_HOOK=
LAB_VN=$BUILD/src/virt-nest
L=vnV$$
G=vnVhung-$$
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
cleanup() {
    lab_stop "$L"
    rm -rf "$LAB_ROOT"
}
trap cleanup EXIT
URI=$(_lab_uri "$L")

lab_start "$L" || { bad "the lab did not start"; exit 1; }
cat > "$LAB_ROOT/net.xml" <<XML
<network>
  <name>vnVnet</name>
  <forward mode='nat'/>
  <bridge name='vnVbr0' stp='off' delay='0'/>
  <ip address='192.168.171.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.171.100' end='192.168.171.200'/></dhcp>
  </ip>
</network>
XML
lab_virsh "$L" net-define "$LAB_ROOT/net.xml" >/dev/null
lab_virsh "$L" net-start vnVnet >/dev/null ||
    { bad "net-start vnVnet"; exit 1; }
guest_define "$L" "$G" 52:54:00:17:00:70 vnVnet vn.bridge=none ||
    { bad "define $G"; exit 1; }
guest_start "$L" "$G" || { bad "start $G"; exit 1; }
if t=$(guest_wait_agent "$L" "$G" 150); then
    ok "$G: its agent answers (after $t s)"
else
    bad "$G: its agent never answered"
    guest_console "$L" "$G" | tail -n 30 | sed 's/^/    | /'
    exit 1
fi

# the agent stops answering (its guest-exec ends before qemu-ga stops)
stop='sleep 1; kill -STOP $(pidof qemu-ga)'
guest_agent "$L" "$G" '{"execute":"guest-exec","arguments":'"\
{\"path\":\"/bin/sh\",\"arg\":[\"-c\",\"$stop\"]}}" >/dev/null
sleep 2
if guest_agent "$L" "$G" '{"execute":"guest-ping"}' >/dev/null 2>&1; then
    bad "$G: its agent still answers after SIGSTOP"
fi

# valgrind as tests/vg-wrap runs it (--setup valgrind), or on its own
VG=${VN_VALGRIND:-}
if [ -z "$VG" ] && command -v valgrind >/dev/null; then
    VG="valgrind --error-exitcode=99 --leak-check=full"
    VG="$VG --errors-for-leak-kinds=definite --show-leak-kinds=definite"
    VG="$VG --track-origins=yes --quiet"
    VG="$VG --suppressions=$SRC/tests/valgrind.supp"
fi
# shellcheck disable=SC2086
lab_net "$L" $VG "$BUILD/tests/vn-abandon" "$URI" "$G" > "$LAB_ROOT/out" 2>&1
rc=$?
sed 's/^/    | /' "$LAB_ROOT/out"
if [ $rc = 0 ]; then
    ok "vn-abandon${VG:+ under valgrind}: the abandoned calls touched" \
       "nothing their caller freed, and ended"
else
    bad "vn-abandon${VG:+ under valgrind} (exit $rc)"
fi

exit $fail
