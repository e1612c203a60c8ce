# unshare-lib.sh: the start of the shell tests that run virt-nest against
# the test driver in a network namespace of their own (unshare -n), so
# that --host reads no route or rule of this machine's. Source it with a
# name for the test's temporary directory:
#
#   . "$(dirname "$0")/unshare-lib.sh" NAME
#
# It exits 77 (skip) unless it runs as root where unshare -n works and jq
# is installed; makes T (/tmp/NAME.XXXXXX, removed at exit) and the state
# directory VIRT_NEST_STATE_DIR=$T/state (exported); sets fail=0; and
# defines
#
#   shut_off XML    print the test-driver file XML with every guest shut
#                   off (the test driver's runstate 5)
fail=0

if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
    echo "SKIP: needs root and unshare -n (a network namespace of its own)"
    exit 77
fi
command -v jq >/dev/null || { echo "SKIP: needs jq"; exit 77; }

T=$(mktemp -d "/tmp/$1.XXXXXX")
trap 'rm -rf "$T"' EXIT
export VIRT_NEST_STATE_DIR=$T/state
mkdir -p "$VIRT_NEST_STATE_DIR"

shut_off() {
    local ns=http://libvirt.org/schemas/domain/test/1.0
    sed -e "s|<domain type='test'>|<domain type='test' xmlns:test='$ns'>|" \
        -e "s|</devices>|</devices>\n    <test:runstate>5</test:runstate>|" \
        "$1"
}
