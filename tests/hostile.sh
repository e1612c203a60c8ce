#!/bin/bash
# Snapshots and names from others (issue 11): what another layer's user
# controls must not hang status, graph or doctor, nor reach the terminal
# or break a picture.
#
#  - firewalls whose jumps loop back (tests/data/hostile/selfjump.jq): a
#    chain of k rules that jump to itself, k of them at the head of each
#    base chain, k = 2..16; doctor decides k=2 and says "too complex to
#    evaluate" for the rest, graph draws them, each in seconds; a nest
#    whose firewalls together exceed one doctor run's budget;
#  - a snapshot of thousands of guests, TAPs, leases and rules: graph in
#    every format and doctor in seconds; one past the limits is refused;
#  - hostile names (tests/data/hostile/names*.json through names.jq, and
#    names.xml for status through the test driver): escape sequences,
#    C1 controls, bidirectional overrides, newlines, quotes, backslashes,
#    brackets, markup; no raw control character in text, Mermaid or dot,
#    dot parses what it is given, JSON parses and gives the names back;
#  - doctor with a route whose device is not in the snapshot, under
#    valgrind (it leaked the route's text).
#
# Golden outputs in tests/golden/hostile/; VN_REGENERATE=1 rewrites them.
# Usage: hostile.sh VIRT_NEST SRCDIR
set -u
VN=$(realpath "$1")
SRC=$(realpath "$2")
GOLD=$SRC/tests/golden/hostile
DATA=$SRC/tests/data/hostile
EX=$SRC/xml/examples
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

. "$SRC/tests/golden-lib.sh"
GOLDEN_CWD=$T

# Each command gets LIMIT seconds (ten times that under valgrind): a hang
# is a failure, not a stuck test.
LIMIT=${VN_HOSTILE_LIMIT:-30}
[ -n "${VN_VALGRIND:-}" ] && LIMIT=$((LIMIT * 10))
vn() {
    timeout "$LIMIT" ${VN_VALGRIND:-} "$VN" "$@"
    local rc=$?
    [ $rc -eq 124 ] && echo "TIMEOUT: virt-nest $* took more than ${LIMIT}s"
    return $rc
}
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

for n in 0 1 2; do cp "$EX/seed-nest-l$n.json" "$T/l$n.json"; done
SEED="l0.json l1.json l2.json"
FROM=192.168.122.1 TO=192.168.124.91

# ------------------------------------------------------------------
# firewalls whose jumps loop back

selfjump() {  # IN OUT K N
    jq --argjson k "$3" --argjson n "$4" -f "$DATA/selfjump.jq" "$T/$1" > "$T/$2"
}
for k in 2 3 4 6 16; do
    selfjump l1.json l1-k$k.json $k $k
done
# Under valgrind (memory, not time: a million rule evaluations is a
# minute there), k=3's text is enough.
MORE="4 6 16"
[ -n "${VN_VALGRIND:-}" ] && MORE=
golden doctor-selfjump-k3.txt vn doctor --from $FROM --to $TO l0.json l1-k3.json l2.json
if [ -n "$MORE" ]; then
    golden doctor-selfjump-k2.txt vn doctor --from $FROM --to $TO l0.json l1-k2.json l2.json
    golden doctor-selfjump-k3.json vn doctor --json --from $FROM --to $TO l0.json l1-k3.json l2.json
fi
for k in $MORE; do
    a=$(cd "$T" && vn doctor --from $FROM --to $TO l0.json l1-k$k.json l2.json 2>&1)
    rc=$?
    b=$(cd "$T" && vn doctor --from $FROM --to $TO l0.json l1-k3.json l2.json 2>&1)
    if [ $rc -eq 1 ] && [ "$a" = "$b" ]; then
        ok "doctor, k=$k: too complex to evaluate, as k=3"
    else
        bad "doctor, k=$k: exit $rc, or not what k=3 says:"; printf '%s\n' "$a" | tail -3
    fi
done
golden graph-selfjump-k16.txt vn graph l0.json l1-k16.json l2.json
for fmt in ${MORE:+--json --mermaid --dot}; do
    if (cd "$T" && vn graph $fmt l0.json l1-k16.json l2.json > /dev/null); then
        ok "graph $fmt, k=16"
    else
        bad "graph $fmt, k=16"
    fi
done
# each packet within its budget, the run beyond its own: every layer's
# every base chain costs some 400000 evaluations
for n in 0 1; do selfjump l$n.json l$n-run.json 2 3; done
jq '.host.firewall = [
      {family: "ip", table: "filter", chain: "INPUT", hook: "input",
       type: "filter", priority: 0, policy: "accept", rules: []},
      {family: "ip", table: "filter", chain: "OUTPUT", hook: "output",
       type: "filter", priority: 0, policy: "accept", rules: []}]' \
    "$T/l2.json" > "$T/l2-fw.json"
selfjump l2-fw.json l2-run.json 2 3
[ -z "$MORE" ] ||
    golden doctor-run-budget.txt vn doctor --from $FROM --to $TO l0-run.json l1-run.json l2-run.json

# ------------------------------------------------------------------
# big snapshots

big() {  # OUT GUESTS RESERVATIONS RULES
    python3 - "$T/l1.json" "$T/$1" "$2" "$3" "$4" <<'EOF'
import json, sys
src, out, n, nres, nrules = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
s = json.load(open(src))
links = s['host']['links']
base = max(l['ifindex'] for l in links)
mac = lambda p, i: '%s:%02x:%02x:%02x' % (p, i >> 16 & 255, i >> 8 & 255, i & 255)
for i in range(n):
    links.append({'ifindex': base + 1 + i, 'name': 'vnet%d' % (i + 10),
                  'kind': 'tun', 'mac': mac('fe:54:01', i), 'master': 'virbr0',
                  'mtu': 1500, 'up': True, 'rp_filter': 0, 'addresses': []})
    s['guests'].append({'name': 'g%05d' % i, 'uuid': None, 'state': 'running',
                        'persistent': True, 'nest': None,
                        'interfaces': [{'type': 'network', 'mac': mac('52:54:01', i),
                                        'network': 'default', 'bridge': 'virbr0',
                                        'tap': 'vnet%d' % (i + 10), 'tap_mac': None,
                                        'uplink': False, 'addresses': []}]})
    s['leases'].append({'mac': mac('52:54:01', i), 'ip': '10.%d.%d.%d' % (i >> 16 & 255, i >> 8 & 255, i & 255),
                        'hostname': None, 'bridge': 'virbr0', 'expiry': 0})
hosts = s['networks'][0]['ips'][0]['reservations']
for i in range(nres):
    hosts.append({'mac': mac('52:54:01', i), 'name': 'r%d' % i, 'ip': '10.200.%d.%d' % (i >> 8 & 255, i & 255)})
fw = [c for c in s['host']['firewall'] if c['chain'] == 'LIBVIRT_FWI'][0]
for i in range(nrules):
    fw['rules'].insert(0, {'handle': 100000 + i, 'text': '-j ACCEPT', 'iif': None,
        'oif': {'name': 'eth%d' % i, 'not': False, 'prefix': False},
        'source': None, 'destination': None, 'protocol': None, 'ct_state': 0,
        'verdict': 'accept', 'target': None,
        'comment': 'virt-nest default in 10.%d.0.0/16>10.1.0.0/16' % (i % 256),
        'opaque': None})
json.dump(s, open(out, 'w'))
EOF
}
# 8000 guests: quadratic work (graph's old TAP and reservation lookups)
# takes minutes there; under valgrind, fewer make the same checks
N=8000 RULES=50000
[ -n "${VN_VALGRIND:-}" ] && N=300 RULES=1000
big l1-big.json $N $N $RULES
for fmt in "" --json --mermaid --dot; do
    out=$(cd "$T" && vn graph $fmt l0.json l1-big.json l2.json 2>&1)
    rc=$?
    if [ "$fmt" = --json ]; then    # it lists no guests: the TAPs' layer
        n=$(printf '%s\n' "$out" | jq '.layers | length' 2>/dev/null)
        [ "$n" = 3 ] && n=$N
    else
        n=$(printf '%s\n' "$out" | grep -c 'g0[0-9]\{4\}')
    fi
    if [ $rc -eq 0 ] && [ "$n" -ge $N ]; then
        ok "graph ${fmt:---text}: $N guests, $N reservations, $RULES rules"
    else
        bad "graph ${fmt:---text} on the big snapshot: exit $rc, $n guests shown"
        printf '%s\n' "$out" | tail -3
    fi
done
if (cd "$T" && vn doctor --from $FROM --to $TO l0.json l1-big.json l2.json > "$T/big.txt"); then
    ok "doctor on the big snapshot"
else
    bad "doctor on the big snapshot"; tail -3 "$T/big.txt"
fi
if [ -z "${VN_VALGRIND:-}" ]; then     # 10 MB of JSON: minutes under valgrind
    big l1-toobig.json 1 65537 0
    golden graph-too-big.txt vn graph l0.json l1-toobig.json l2.json
fi

# ------------------------------------------------------------------
# hostile names

rename() {  # IN OUT NAMES
    jq --slurpfile names "$DATA/$3" -f "$DATA/names.jq" "$T/$1" > "$T/$2"
}
rename l0.json n0.json names-l0.json
rename l1.json n1.json names-l1.json
jq '(.host.firewall[].rules) |= map(select((.comment // "") | startswith("virt-nest") | not))' \
    "$T/n1.json" > "$T/n1-norules.json"
NAMES="n0.json n1.json l2.json"
NODE="test://$DATA/names.xml"

golden status-names.txt vn status -c "$NODE"
golden status-names.mmd vn status -c "$NODE" --mermaid
golden status-names.dot vn status -c "$NODE" --dot
golden status-names.json vn status -c "$NODE" --json
golden graph-names.txt vn graph $NAMES
golden graph-names.mmd vn graph --mermaid $NAMES
golden graph-names.dot vn graph --dot $NAMES
golden graph-names.json vn graph --json $NAMES
golden doctor-names.txt vn doctor --from $FROM --to $TO $NAMES
golden doctor-names-norules.txt vn doctor --tcp --from $FROM --to $TO n0.json n1-norules.json l2.json
golden doctor-names-norules.json vn doctor --json --from $FROM --to $TO n0.json n1-norules.json l2.json

# What a terminal would act on: C0 but newline, DEL, C1 (UTF-8 c2 80-9f),
# zero-width and bidirectional format characters, line separators.
raw='[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]'
# The outputs are the golden files (the comparisons above fail when they
# differ): they are checked, less their first line, "exit N".
out() { tail -n +2 "$GOLD/$1"; }
for f in status-names.txt status-names.mmd status-names.dot status-names.json \
         graph-names.txt graph-names.mmd graph-names.dot graph-names.json \
         doctor-names.txt doctor-names-norules.txt doctor-names-norules.json; do
    out $f > "$T/$f"
    if LC_ALL=C grep -qP "$raw" "$T/$f"; then
        bad "$f: a raw control character reaches the output:"
        LC_ALL=C grep -nP "$raw" "$T/$f" | head -3 | cat -v
    else
        ok "$f: no raw control character"
    fi
done
# the names the outputs were made from really have them
grep -q '\\u001b' "$T/n0.json" && grep -q '\\u001b' "$T/n1.json" &&
    LC_ALL=C grep -qP '\xc2\x9b' "$DATA/names.xml" ||
    bad "the hostile inputs have no hostile names"

if command -v dot > /dev/null; then
    for f in status-names.dot graph-names.dot; do
        if dot -Tsvg "$T/$f" -o "$T/$f.svg" 2> "$T/$f.err" && [ ! -s "$T/$f.err" ]; then
            ok "$f: dot parses it"
        else
            bad "$f: dot does not take it:"; head -3 "$T/$f.err"
        fi
    done
else
    bad "dot (graphviz) is missing: scripts/dev test installs it"
fi

# JSON gives the names back as they were
want=$(jq -r '.debian' "$DATA/names-l0.json")
got=$(jq -r '.layers[1].guest' "$T/graph-names.json")
[ "$got" = "$want" ] && ok "graph --json: guest name as it was" ||
    bad "graph --json: guest name $(printf %q "$got"), not $(printf %q "$want")"
want=$(jq -r '.["debian-l2"]' "$DATA/names-l1.json")
got=$(jq -r '.layers[2].guest' "$T/graph-names.json")
[ "$got" = "$want" ] && ok "graph --json: second guest name as it was" ||
    bad "graph --json: second guest name $(printf %q "$got")"
want=$(python3 -c 'import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1])
print(d.getElementsByTagName("network")[0].getElementsByTagName("name")[0].firstChild.data)' "$DATA/names.xml")
got=$(jq -r '.networks[0].name' "$T/status-names.json")
[ "$got" = "$want" ] && ok "status --json: network name as it was" ||
    bad "status --json: network name $(printf %q "$got"), not $(printf %q "$want")"

# ------------------------------------------------------------------
# doctor's walk when a route's device is not in the snapshot

jq '(.host.routes[] | select(.protocol == 155) | .dev) = "gone0"' "$T/l0.json" > "$T/l0-nodev.json"
golden doctor-route-nodev.txt vn doctor --from $FROM --to $TO l0-nodev.json l1.json l2.json
if [ -n "${VN_VALGRIND:-}" ]; then
    ok "doctor, unknown device: under valgrind above"
elif ldd "$VN" 2>/dev/null | grep -q libasan; then
    ok "doctor, unknown device: LeakSanitizer's run above"
elif command -v valgrind > /dev/null; then
    out=$(cd "$T" && valgrind --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --error-exitcode=99 --quiet \
        "$VN" doctor --from $FROM --to $TO l0-nodev.json l1.json l2.json 2>&1 >/dev/null)
    rc=$?
    if [ $rc -eq 1 ]; then
        ok "doctor, unknown device: no leak (valgrind)"
    else
        bad "doctor, unknown device: exit $rc under valgrind:"; printf '%s\n' "$out" | head -12
    fi
else
    bad "valgrind is missing: scripts/dev test installs it"
fi

exit $fail
