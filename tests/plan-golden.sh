#!/bin/bash
# `virt-nest plan` on the seed examples: golden plans (text and JSON), the
# files of --output-dir, and bad input. VN_REGENERATE=1 rewrites the golden
# files; review the diff like code.
# Usage: plan-golden.sh VIRT_NEST SRCDIR
set -u
VN=$1
SRC=$2
X=$SRC/xml/examples
GOLD=$SRC/tests/golden/plan
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

vn() { ${VN_VALGRIND:-} "$VN" "$@"; }

. "$SRC/tests/golden-lib.sh"

# a snapshot of L0 as `status --json` takes it there
vn status -c "test://$X/seed-l0.xml" --json > "$T/seed-l0.json"

# L0: a new guest two levels deep, next to the seed's debian, with the WSL2
# host's own routes and addresses from its snapshot
golden l0-fedora-depth2.txt vn plan -c "test://$X/seed-l0.xml" --network default \
    --guest fedora --depth 2 --layer "$X/seed-wsl2.json"
golden l0-fedora-depth2.json vn plan -c "test://$X/seed-l0.xml" --network default \
    --guest fedora --depth 2 --layer "$X/seed-wsl2.json" --json
# L1: the L2 guest's own nest, knowing L0 and WSL2
golden l1-debian-l2.txt vn plan -c "test://$X/seed-l1.xml" --network default \
    --guest debian-l2 --layer "$T/seed-l0.json" --layer "$X/seed-wsl2.json"
# a pool of the user's, a longer prefix
golden l0-pool.txt vn plan -c "test://$X/seed-l0.xml" --network default \
    --guest fedora --depth 3 --pool 10.113.0.0/16 --pool 10.114.0.0/23 --prefix 25 \
    --layer "$X/seed-wsl2.json"

# deterministic: the same input, the same plan (MACs included)
a=$(vn plan -c "test://$X/seed-l0.xml" --network default --guest fedora --depth 3 --json)
b=$(vn plan -c "test://$X/seed-l0.xml" --network default --guest fedora --depth 3 --json)
[ "$a" = "$b" ] && echo "ok: deterministic" || { echo "FAIL: two plans differ"; fail=1; }
printf '%s\n' "$a" | jq -e '.levels | length == 3' >/dev/null &&
    echo "ok: the JSON parses" || { echo "FAIL: plan JSON"; fail=1; }

# --output-dir: every XML file, each well-formed, the levels' networks
# accepted by the schema of their metadata
vn plan -c "test://$X/seed-l0.xml" --network default --guest fedora --depth 2 \
    --output-dir "$T/out" > /dev/null
files=$(cd "$T/out" && ls | tr '\n' ' ')
[ "$files" = "L0-default-dhcp-host.xml L0-fedora-metadata.xml L1-fedora-l2-metadata.xml L1-network-default.xml L2-network-default.xml " ] &&
    echo "ok: --output-dir wrote $files" || { echo "FAIL: --output-dir wrote $files"; fail=1; }
for f in "$T"/out/*.xml; do
    xmllint --noout "$f" || { echo "FAIL: $f is not well-formed"; fail=1; }
done
for f in "$T"/out/*metadata.xml; do
    xmllint --noout --relaxng "$SRC/xml/nest.rng" "$f" 2>/dev/null ||
        { echo "FAIL: $f does not validate"; fail=1; }
done
# libvirt itself accepts the networks (the test driver parses them fully)
echo '<node/>' > "$T/empty.xml"
for f in "$T"/out/L*-network-*.xml; do
    virsh -q -c "test://$T/empty.xml" net-define "$f" >/dev/null 2>"$T/virsh.err" ||
        { echo "FAIL: libvirt refuses $f: $(cat "$T/virsh.err")"; fail=1; }
done
golden l0-output-L1-network.xml.txt sh -c "cat '$T/out/L1-network-default.xml'"
# names make file names, not paths: every file stays in --output-dir
mkdir -p "$T/o/L0-x" "$T/o/L1-x"
vn plan -c "test://$X/seed-l0.xml" --network default --guest 'x/../../evil' --depth 2 \
    --output-dir "$T/o/out" > /dev/null 2>&1
files=$(cd "$T/o" && find . -type f | sort | tr '\n' ' ')
[ "$files" = "./out/L0-default-dhcp-host.xml ./out/L0-x%2F..%2F..%2Fevil-metadata.xml ./out/L1-network-default.xml ./out/L1-x%2F..%2F..%2Fevil-l2-metadata.xml ./out/L2-network-default.xml " ] &&
    echo "ok: a guest 'x/../../evil' writes into --output-dir only" ||
    { echo "FAIL: a guest 'x/../../evil' wrote $files"; fail=1; }

# names XML must escape (issue 12 item 14): every file parses, and libvirt
# (the test driver) reads the name back as it was given
# (libvirt sets no length on a domain name; 200 keeps --output-dir's file
# names under NAME_MAX)
long=$(printf 'n%.0s' $(seq 1 200))
for g in "o'brien" 'a&b<c>"d' 'ünïcødé-名前' "$long"; do
    rm -rf "$T/esc"
    vn plan -c "test://$X/seed-l0.xml" --network default --guest "$g" --depth 2 \
        --output-dir "$T/esc" > "$T/esc.txt" 2>&1 || { echo "FAIL: plan --guest '$g'"; fail=1; }
    vn plan -c "test://$X/seed-l0.xml" --network default --guest "$g" --depth 2 \
        --json | jq -e . > /dev/null || { echo "FAIL: --json for '$g'"; fail=1; }
    bad=0
    for f in "$T"/esc/*.xml; do
        xmllint --noout "$f" 2>/dev/null || { echo "FAIL: $f for '$g' is not well-formed"; bad=1; }
    done
    # the text plan's <host .../> line parses as well
    grep -o "<host [^>]*/>" "$T/esc.txt" | head -1 | xmllint --noout - 2>/dev/null ||
        { echo "FAIL: the text plan's <host/> for '$g'"; bad=1; }
    # libvirt's parser takes them (the test driver; one virsh session each,
    # as it forgets between connections): L1's network, validated against
    # libvirt's schema, and L0's reservation added to the seed's network
    virsh -q -c "test://$T/empty.xml" "net-define $T/esc/L1-network-default.xml --validate" \
        > /dev/null 2> "$T/virsh.err" &&
    virsh -q -c "test://$X/seed-l0.xml" "net-update default add ip-dhcp-host \
        $T/esc/L0-default-dhcp-host.xml --live" > /dev/null 2>> "$T/virsh.err" ||
        { echo "FAIL: libvirt refuses the XML for '$g': $(cat "$T/virsh.err")"; bad=1; }
    # and an XML parser reads the names back as they were given
    got=$(xmllint --xpath "string(//host/@name)" "$T/esc/L0-default-dhcp-host.xml" 2>/dev/null)
    l2=$(xmllint --xpath "string(//host/@name)" "$T/esc/L1-network-default.xml" 2>/dev/null)
    # a name libvirt cannot take as a DNS name (an ASCII letter first, then
    # letters, digits, '-', '.') is left out of the reservation
    case $g in
    [A-Za-z]*) want=$g; case $g in *[!A-Za-z0-9.-]*) want= ;; esac ;;
    *) want= ;;
    esac
    [ "$got" = "$want" ] && [ "$l2" = "${want:+$want-l2}" ] ||
        { echo "FAIL: '$g' reads back as '$got', '$l2' (want '$want')"; bad=1; }
    [ $bad = 0 ] && echo "ok: guest '${g:0:20}' (${#g} characters): XML parses, names read back" || fail=1
done

# plan never writes what the hooks refuse (issue 12 items 3 and 14)
vn plan -c "test://$X/seed-l0.xml" --network default --guest f --depth 40 \
    > /dev/null 2> "$T/err"
rc=$?
[ $rc = 2 ] && grep -q "at most 32 <nest:route> entries" "$T/err" &&
    echo "ok: --depth 40 is refused (exit 2), naming the limit" ||
    { echo "FAIL: --depth 40: exit $rc, $(cat "$T/err")"; fail=1; }
printf '[limits]\nmax_entries=64\n' > "$T/64.conf"
n=$(VIRT_NEST_CONFIG="$T/64.conf" vn plan -c "test://$X/seed-l0.xml" --network default \
    --guest f --depth 40 | grep -c "^  L0: route")
[ "$n" = 40 ] && echo "ok: with max_entries=64, --depth 40 installs 40 routes at L0" ||
    { echo "FAIL: max_entries=64 --depth 40: $n routes at L0"; fail=1; }
printf '[limits]\nmin_prefix_v4=25\n' > "$T/25.conf"
VIRT_NEST_CONFIG="$T/25.conf" vn plan -c "test://$X/seed-l0.xml" --network default \
    --guest f --depth 2 > "$T/out.txt" 2> "$T/err"
rc=$?
[ $rc = 1 ] && [ ! -s "$T/out.txt" ] &&
    grep -q "the L0 hook would refuse this plan: .*192.168.125.0/24 is wider than /25" "$T/err" &&
    echo "ok: a plan the hooks' limits refuse fails (exit 1), nothing left out silently" ||
    { echo "FAIL: min_prefix_v4=25: exit $rc, $(cat "$T/err")"; fail=1; }

# bad input: one line, exit 1; usage: exit 2
printf 'not json' > "$T/bad.json"
printf '{"format": "something-else", "version": 1}' > "$T/other.json"
printf '{"format": "virt-nest-status", "version": 9}' > "$T/newer.json"
golden bad-input.txt sh -c "
    for args in \
        '--network nope --guest x' \
        '--network default --guest debian --depth 2' \
        '--network default --guest x --mac 52:54:00:fc:38:e0' \
        '--network default --guest x --pool 192.168.122.0/24' \
        '--network default --guest x --depth 3 --pool 192.168.124.0/23' \
        '--network default --guest x --layer $T/bad.json' \
        '--network default --guest x --layer $T/other.json' \
        '--network default --guest x --layer $T/newer.json' \
        '--network default' \
        '--network default --guest x --connect-inner test:///default' \
        '--network default --guest x --depth 0' \
        '--network default --guest x --pool 10.0.0.1/8'; do
        echo \"\\\$ plan \$args\"
        ${VN_VALGRIND:-} '$VN' plan -c 'test://$X/seed-l0.xml' \$args >/dev/null 2>'$T/err'
        echo \"exit \$?\"
        cat '$T/err'
    done"
exit $fail
