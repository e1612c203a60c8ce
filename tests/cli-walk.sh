#!/bin/bash
# The walk's bundle on the command line, with no daemon: the bundled
# example (the seed's nest walked from L0) is what seed-nest-walk.sh makes
# of the three snapshots, and graph and doctor read it as they read them;
# a bundle they must refuse changes nothing and says why in one line;
# status --walk on the test driver, whose domains have no agent, is this
# layer with its guests as leaves, and graph draws that.
# Usage: cli-walk.sh VIRT_NEST SRCDIR (VN_VALGRIND: see tests/vg-wrap)
set -u
VN=$(realpath "$1")
# under `meson test --setup valgrind`, each virt-nest under valgrind
vn() { ${VN_VALGRIND:-} "$VN" "$@"; }
X=$2/xml/examples
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
cd "$X" || exit 1

# 1. the example is the script's output
./seed-nest-walk.sh . | jq -S . > "$T/made.json"
jq -S . seed-nest-walk.json > "$T/kept.json"
check "seed-nest-walk.json is what seed-nest-walk.sh makes of the snapshots" \
    "cmp -s '$T/made.json' '$T/kept.json'"

# 2. graph and doctor: the bundle is the three snapshots
vn graph seed-nest-walk.json > "$T/g-bundle.txt" 2> "$T/g-bundle.err"
rc=$?
vn graph seed-nest-l0.json seed-nest-l1.json seed-nest-l2.json > "$T/g-files.txt"
# only the layers' sources differ
strip() { sed -E 's/ · seed-nest-(walk\.json#[0-9]+( \(guest [^)]*\))?|l[0-9]\.json)$//' "$1"; }
check "graph BUNDLE (exit $rc, nothing on stderr) draws what graph L0 L1 L2 draws" \
    "[ $rc = 0 ] && [ ! -s '$T/g-bundle.err' ] && [ -s '$T/g-bundle.txt' ] && diff <(strip '$T/g-bundle.txt') <(strip '$T/g-files.txt') >/dev/null"
check "graph BUNDLE names each layer by its index and guest" \
    "grep -q '^    L2 · host debian-l2 · seed-nest-walk.json#2 (guest debian-l2)\$' '$T/g-bundle.txt'"
for q in "--from 192.168.122.1 --to 192.168.124.91" "--from 192.168.124.91 --to 172.24.21.254 --tcp"; do
    # shellcheck disable=SC2086
    vn doctor $q seed-nest-walk.json > "$T/d-bundle.txt" 2>&1
    r1=$?
    # shellcheck disable=SC2086
    vn doctor $q seed-nest-l0.json seed-nest-l1.json seed-nest-l2.json > "$T/d-files.txt" 2>&1
    r2=$?
    check "doctor $q: the bundle and the snapshots agree (exit $r1 and $r2)" \
        "[ $r1 = $r2 ] && cmp -s '$T/d-bundle.txt' '$T/d-files.txt' && grep -q '192.168.124.91 (L2)' '$T/d-bundle.txt'"
done
vn graph --json seed-nest-walk.json seed-nest-l0.json > /dev/null 2> "$T/twice.err"
rc=$?
check "graph BUNDLE L0.json: the layer given twice is refused (exit $rc)" \
    "[ $rc = 1 ] && [ \$(wc -l < '$T/twice.err') = 1 ]"

# 3. bundles graph must refuse: one line, nothing on stdout, exit 1
refuse() {  # WHAT WANT FILTER
    jq "$3" seed-nest-walk.json > "$T/bad.json"
    cp "$T/bad.json" "$T/bad.before"
    vn graph "$T/bad.json" > "$T/out" 2> "$T/err"
    local rc=$?
    printf '%s\n' "$2" > "$T/want"
    check "graph refuses a bundle with $1 (exit $rc): '$(head -c 150 "$T/err")'" \
        "[ $rc = 1 ] && [ ! -s '$T/out' ] && [ \$(wc -l < '$T/err') = 1 ] && grep -qF -f '$T/want' '$T/err' && cmp -s '$T/bad.json' '$T/bad.before'"
}
refuse "a newer version" "version 2 is newer than this virt-nest reads (1)" '.version = 2'
refuse "a cycle (a parent after its child)" "layer 1: \"parent\" is not the index of an earlier layer" '.layers[1].parent = 2'
refuse "a layer its own parent" "layer 2: \"parent\" is not the index of an earlier layer" '.layers[2].parent = 2'
refuse "a guest its parent has not" "layer 2: layer 0 has no guest 'debian-l2'" '.layers[2].parent = 0'
refuse "a guest given twice" "guest 'debian' of layer 0 is given twice" '.layers[2] = .layers[1]'
refuse "a bad snapshot inside" "layer 1: not a virt-nest status snapshot" '.layers[1].snapshot.format = "x"'
refuse "no layers" "no \"layers\" list" '.layers = []'
# the bundle's word against the MACs: L2 said to be L0's guest
refuse "a parent its MACs deny" "says it is guest 'debian-l2' of layer 0, but its MACs tie it to" \
    '.layers[2].parent = 0 | .layers[0].snapshot.guests += [{"name": "debian-l2", "state": "running"}]'

# a guest's name is whatever the guest above wrote (anyone root there):
# a newline and a terminal's escape in it stay one visible line
refuse "a name with a newline and an escape" \
    "layer 2: layer 1 has no guest 'x\\x0avirt-nest: forged \\x1b[31m'" \
    '.layers[2].guest.name = "x\nvirt-nest: forged \u001b[31m"'
jq '.leaves = [{"parent": 2, "guest": "l3\nvirt-nest: ok", "reason": "r\u001b]0;t\u0007"}]' \
    seed-nest-walk.json > "$T/leaf.json"
vn graph "$T/leaf.json" > /dev/null 2> "$T/leaf.err"
rc=$?
check "graph of a bundle whose leaf's name and reason hold a newline and escapes (exit $rc): one line, escaped" \
    "[ $rc = 0 ] && [ \$(wc -l < '$T/leaf.err') = 1 ] && ! grep -q \$'\\e' '$T/leaf.err' && grep -qF \"guest 'l3\\x0avirt-nest: ok' was not entered: r\\x1b]0;t\\x07\" '$T/leaf.err'"

# 4. status --walk on the test driver: debian has no agent there
vn status --json --walk -c "test://$X/seed-l0.xml" > "$T/walk.json" 2> "$T/walk.err"
rc=$?
check "status --json --walk -c test://...seed-l0.xml (exit $rc): one layer, debian a leaf with libvirt's reason" \
    "[ $rc = 0 ] && [ \"\$(jq -c '[(.layers | length), .leaves[0].guest, (.leaves[0].reason | test(\"^no agent: \"))]' '$T/walk.json')\" = '[1,\"debian\",true]' ]"
vn graph "$T/walk.json" > "$T/g.txt" 2> "$T/g.err"
rc=$?
check "graph of it (exit $rc): L0, and the leaf named on stderr" \
    "[ $rc = 0 ] && grep -q '^L0 ' '$T/g.txt' && grep -q \"guest 'debian' was not entered: no agent: \" '$T/g.err'"
exit $fail
