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
