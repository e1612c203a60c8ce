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

# bad input: one line, exit 1; usage: exit 2
printf 'not json' > "$T/bad.json"
printf '{"format": "something-else", "version": 1}' > "$T/other.json"
printf '{"format": "virt-nest-status", "version": 9}' > "$T/newer.json"
golden bad-input.txt sh -c "
    for args in \
        '--network nope --guest x' \
        '--network default --guest debian' \
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
