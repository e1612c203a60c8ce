# testlib.sh: what every test of tests/libvirt begins with. Its first two
# arguments are BUILDDIR and SRCDIR (as tests/meson.build passes them);
# source this file first, with no arguments (it reads the test's own):
#
#   # shellcheck source=testlib.sh
#   . "$(dirname "$0")/testlib.sh"
#   lab_need CMD...
#
# It sets -u, and
#   BUILD, SRC      the test's BUILDDIR and SRCDIR, as absolute paths
#   HERE, XML       tests/libvirt of SRCDIR and its xml/
#   LAB_HOOK        the build's virt-nest-hook (set it empty for no hooks)
#   LAB_VN          the build's virt-nest
#   fail            0; bad sets it to 1 (the test exits with it)
# sources lab.sh, and defines
#   lab_need CMD...       exit 77 (skip) unless root and every CMD is on
#                         PATH
#   lab_use_libvirt WHICH FW
#                         the test's libvirt by its arguments: system
#                         iptables (the system's libvirt), backports
#                         iptables|nftables (lab_use_backports with that
#                         firewall_backend); exit with lab_use_backports'
#                         status when it fails (77: it cannot be had), 2
#                         for anything else
#   ok TEXT, bad TEXT, note TEXT
#                         print "ok: TEXT", "FAIL: TEXT" (and fail=1),
#                         "note: TEXT"
#   check TEXT CMD        eval CMD: ok TEXT when it succeeds, else bad TEXT
#                         and status 1
#   lab_l2 L1 L2 PORT     the namespace L2 as the seed's L2 guest on lab
#                         L1's virbr0: a veth from PORT, on virbr0, to ens3
#                         in L2 (52:54:00:5a:1a:8e, 192.168.124.91/24,
#                         default via 192.168.124.1), and a ping each way
#                         to warm up the neighbours on both of L1's links
set -u
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
HERE=$SRC/tests/libvirt
XML=$HERE/xml
LAB_HOOK=$BUILD/hooks/virt-nest-hook
LAB_VN=$BUILD/src/virt-nest
# shellcheck source=lab.sh
. "$HERE/lab.sh"

lab_need() {
    local b
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    for b in "$@"; do
        command -v "$b" >/dev/null || {
            echo "SKIP: $b is not installed (scripts/dev test installs it)"
            exit 77
        }
    done
}

lab_use_libvirt() {
    local rc
    case $1:$2 in
    system:iptables) ;;
    backports:iptables|backports:nftables)
        lab_use_backports "$BUILD/libvirt-backports" "$2"
        rc=$?
        [ $rc = 0 ] || exit $rc
        ;;
    *)
        echo "usage: $0 BUILDDIR SRCDIR [backports iptables|nftables]" >&2
        exit 2
        ;;
    esac
}

fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
note() { echo "note: $*"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; return 1; fi; }

lab_l2() {
    local l1=$1 l2=$2 port=$3
    # made in the namespaces: no name of the test's in the host's own
    ip link add "$port" netns "$l1" type veth peer name ens3 netns "$l2"
    lab_net "$l1" ip link set "$port" master virbr0 up
    ip -n "$l2" link set lo up
    ip -n "$l2" link set ens3 address 52:54:00:5a:1a:8e up
    ip -n "$l2" addr add 192.168.124.91/24 dev ens3
    ip -n "$l2" route add default via 192.168.124.1
    lab_net "$l1" ping -c1 -W2 192.168.122.1 >/dev/null
    ip netns exec "$l2" ping -c1 -W2 192.168.124.1 >/dev/null
}
