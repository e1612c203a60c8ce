#!/bin/bash
# Bad input to `virt-nest status`: each problem is one clear line on stderr
# that names the object, the exit status says what kind of failure it was,
# and nothing crashes.
# Usage: status-bad.sh VIRT_NEST SRCDIR
set -u
VN=$1
SRC=$2
BAD=$SRC/tests/data/bad
fail=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# expect RC STDERR-LINE... -- ARGS...: run, check the exit status, and that
# every given line appears on stderr as a whole line.
expect() {
    local rc=$1; shift
    local lines=()
    while [ "$1" != -- ]; do lines+=("$1"); shift; done
    shift
    ${VN_VALGRIND:-} "$VN" "$@" >"$out" 2>"$err"
    local got=$?
    if [ $got -ne "$rc" ]; then
        echo "FAIL: virt-nest $*: exit $got, expected $rc"; cat "$err"; fail=1; return
    fi
    if [ $got -ge 128 ]; then
        echo "FAIL: virt-nest $*: killed by a signal"; fail=1; return
    fi
    for l in "${lines[@]}"; do
        if ! grep -qxF -- "$l" "$err"; then
            echo "FAIL: virt-nest $*: stderr lacks the line: $l"
            sed 's/^/  | /' "$err"
            fail=1
        fi
    done
    # every stderr line is one message from virt-nest
    if grep -qv '^virt-nest: ' "$err"; then
        echo "FAIL: virt-nest $*: stray stderr output:"; sed 's/^/  | /' "$err"; fail=1
    fi
    echo "ok: virt-nest $*"
}

# an unreachable URI: one line, exit 1
expect 1 "virt-nest: cannot connect to 'qemu+unix:///system?socket=/nonexistent/libvirt-sock': Failed to connect socket to '/nonexistent/libvirt-sock': No such file or directory; is libvirtd running? (-c URI picks another connection)" -- \
    status -c 'qemu+unix:///system?socket=/nonexistent/libvirt-sock'
expect 1 -- status -c 'nosuchdriver:///x'
grep -q "cannot connect to 'nosuchdriver:///x'" "$err" || { echo "FAIL: bad driver message"; fail=1; }
# a relative test-driver path is a remote host to libvirt: no word of
# libvirtd, the form of a test-driver URI instead
expect 1 -- status -c 'test://relative/x.xml'
if grep -q 'is libvirtd running' "$err" ||
   ! grep -qF "; a test-driver file is test:///ABS/PATH/node.xml, with three slashes and an absolute path" "$err"; then
    echo "FAIL: test://relative/x.xml: libvirtd named, or no test-driver hint:"
    sed 's/^/  | /' "$err"; fail=1
fi

# malformed XML (the test driver refuses the node file)
expect 1 "virt-nest: cannot connect to 'test://$BAD/malformed.xml': $BAD/malformed.xml:5: expected '>'" -- \
    status -c "test://$BAD/malformed.xml"

# one defect per object; the rest of the layer is still shown
for fmt in "" --json --mermaid --dot; do
    expect 1 \
        "virt-nest: domain 'badcidr': <nest:route subnet='192.168.300.0/24'>: '192.168.300.0/24' is not an IPv4 or IPv6 address" \
        "virt-nest: domain 'wrongns': <guest xmlns='urn:virt-nest:2'>: unsupported namespace; this virt-nest reads xmlns:nest='urn:virt-nest:1'" \
        "virt-nest: domain 'unknownelem': <nest:gateway subnet='192.168.125.0/24'>: unknown element in <nest:guest> (known: <nest:route>, <nest:uplink>)" \
        "virt-nest: domain 'dupmac': MAC 52:54:00:00:00:01 is also used by domain 'badcidr'; give one of them a new <mac address=...>" \
        "virt-nest: network 'noip': <nest:network> has peers but the network has no <ip>; give it a subnet for the peers to reach" \
        "virt-nest: domain 'refused': <nest:route subnet='0.0.0.0/0'>: a default route is never delegated; name the nested subnets" \
        -- status -c "test://$BAD/metadata.xml" $fmt
    n=$(wc -l < "$err")
    [ "$n" -eq 6 ] || { echo "FAIL: $n stderr lines, expected 6"; fail=1; }
    for name in badcidr wrongns unknownelem dupmac refused noip default; do
        grep -q "$name" "$out" || { echo "FAIL: $name missing from the output ($fmt)"; fail=1; }
    done
done

# usage errors: exit 2, one line
expect 2 "virt-nest: status: unknown option or missing argument '--bogus'; see 'virt-nest status --help'" -- status --bogus
expect 2 "virt-nest: status: option '-c' needs an argument" -- status -c
expect 2 "virt-nest: status: --json, --mermaid, --dot and --svg exclude each other" -- status --json --dot
expect 2 "virt-nest: status: unexpected argument 'extra'" -- status extra
expect 2 "virt-nest: unknown command 'bogus'; run 'virt-nest --help' for the list" -- bogus
expect 0 -- --version
expect 0 -- status --help

# a bad configuration file names the file, the key and the fix
cfg=$(mktemp)
printf '[limits]\nmin_prefix_v4=abc\n' > "$cfg"
VIRT_NEST_CONFIG=$cfg expect 1 "virt-nest: $cfg: [limits] min_prefix_v4=abc: expected a number from 0 to 32" -- \
    status -c "test://$SRC/xml/examples/seed-l0.xml"
printf '[limits]\nmin_prefix=8\n' > "$cfg"
VIRT_NEST_CONFIG=$cfg expect 1 "virt-nest: $cfg: unknown key [limits] min_prefix; see virt-nest.conf(5)" -- \
    status -c "test://$SRC/xml/examples/seed-l0.xml"
rm -f "$cfg"
# a VIRT_NEST_CONFIG that names no file is an error, not the defaults
# (the default file missing is fine: every other test here runs so)
msg="virt-nest: configuration file $cfg (VIRT_NEST_CONFIG) does not exist;"
msg+=" create it, or unset VIRT_NEST_CONFIG to use /etc/virt-nest/virt-nest.conf"
VIRT_NEST_CONFIG=$cfg expect 1 "$msg" -- \
    status -c "test://$SRC/xml/examples/seed-l0.xml"
VIRT_NEST_CONFIG=$cfg expect 1 "$msg" -- \
    reconcile --dry-run -c "test://$SRC/xml/examples/seed-l0.xml"
exit $fail
