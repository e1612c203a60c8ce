#!/bin/bash
# `virt-nest graph` and `virt-nest doctor` on the bundled snapshots of the
# seed's nest (xml/examples/seed-nest-l*.json, taken by
# tests/doctor/seed-nest.sh in namespaces), with variants made by jq: no
# root needed, so this also runs under valgrind. VN_REGENERATE=1 rewrites
# the golden files.
# Usage: graph-golden.sh VIRT_NEST SRCDIR
set -u
VN=$(realpath "$1")
SRC=$2
GOLD=$SRC/tests/golden/graph
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

vn() { ${VN_VALGRIND:-} "$VN" "$@"; }

. "$SRC/tests/golden-lib.sh"
GOLDEN_CWD=$T

for n in 0 1 2; do cp "$SRC/xml/examples/seed-nest-l$n.json" "$T/l$n.json"; done
ALL="l0.json l1.json l2.json"

golden seed.txt vn graph $ALL
golden seed.mmd vn graph --mermaid $ALL
golden seed.dot vn graph --dot $ALL
golden seed.json vn graph --json $ALL
# eth0 is no part of the nest: left out above, dimmed here
golden seed-all-links.dot vn graph --dot --all-links $ALL
golden seed-all-links.mmd vn graph --mermaid --all-links $ALL
# No node is taller than VN_PIC_MAX_LINES (picture.h) lines, however many
# rules, peers and addresses a bridge has: L1 with 40 peers, 40 more
# REJECTs and 12 more addresses on virbr0.
jq '(.networks[] | select(.name == "default") | .nest.peers) +=
        [range(40) | "10.\(.).0.0/16"]
    | (.host.firewall[] | select(.chain == "LIBVIRT_FWI") | .rules) +=
        [range(40) | {"handle": (1000 + .), "text": "-o virbr0 -j REJECT",
          "iif": null, "oif": {"name": "virbr0", "not": false,
          "prefix": false}, "source": null, "destination": null,
          "protocol": null, "ct_state": 0, "verdict": "reject",
          "target": null, "comment": null, "opaque": null}]
    | (.host.links[] | select(.name == "virbr0") | .addresses) +=
        [range(12) | "192.168.\(200 + .).1/24"]' \
    "$T/l1.json" > "$T/l1-big.json"
MAX_LINES=6
for fmt in dot mermaid; do
    out=$(cd "$T" && vn graph --$fmt l0.json l1-big.json l2.json)
    tallest=$(printf '%s\n' "$out" | python3 -c '
import re, sys
src = sys.stdin.read()
# a dot label and a Mermaid node text, with their line separators
texts = re.findall(r"label=\"((?:[^\"\\]|\\.)*)\"", src) or \
        re.findall(r"^ *\w+[\[({>]+\"([^\"]*)\"", src, re.M)
print(max(len(re.split(r"\\n|<br/>", t)) for t in texts))')
    if [ -n "$tallest" ] && [ "$tallest" -le $MAX_LINES ] &&
       printf '%s\n' "$out" | grep -q 'libvirt REJECT ×42' &&
       printf '%s\n' "$out" |
           grep -q 'peers 192.168.122.0/24, 10.0.0.0/16 +39 more'; then
        echo "ok: $fmt: no node taller than $MAX_LINES lines ($tallest)," \
             "42 REJECTs and 41 peers in one line each"
    else
        echo "FAIL: $fmt: a node of $tallest lines (at most $MAX_LINES)," \
             "or the badge is not there"
        fail=1
    fi
done
# the order of the snapshots does not matter
a=$(cd "$T" && vn graph l2.json l0.json l1.json)
b=$(cd "$T" && vn graph $ALL)
[ "$a" = "$b" ] && echo "ok: any order, the same nest" || { echo "FAIL: order matters"; fail=1; }
golden doctor-seed.txt vn doctor --from 192.168.122.1 --to 192.168.124.91 $ALL
golden doctor-seed.json vn doctor --json --from 192.168.122.1 --to 192.168.124.91 $ALL
golden doctor-seed-tcp.txt vn doctor --tcp --from 192.168.124.91 --to 192.168.122.1 $ALL
# two addresses of one layer: delivered there, no link and no MTU on the way
golden doctor-same-layer.txt vn doctor --from 192.168.122.1 --to 172.24.21.109 $ALL

# L0 without virt-nest's route: the seed's first problem
jq 'del(.host.routes[] | select(.protocol == 155))' "$T/l0.json" > "$T/l0-noroute.json"
golden doctor-noroute.txt vn doctor --from 192.168.122.1 --to 192.168.124.91 \
    l0-noroute.json l1.json l2.json
# L1 without virt-nest's exceptions and peers: the seed's second
jq '(.host.firewall[].rules) |= map(select((.comment // "") | startswith("virt-nest") | not))
    | (.networks[].nest) = null' "$T/l1.json" > "$T/l1-norules.json"
golden doctor-norules.txt vn doctor --from 192.168.122.1 --to 192.168.124.91 \
    l0.json l1-norules.json l2.json
# the doctor's walk on the picture: the way in bold, where it dies in red
# with the fix (tooltip and legend)
golden graph-doctor-norules.dot vn graph --dot --from 192.168.122.1 \
    --to 192.168.124.91 l0.json l1-norules.json l2.json
golden graph-doctor-norules.mmd vn graph --mermaid --from 192.168.122.1 \
    --to 192.168.124.91 l0.json l1-norules.json l2.json
golden graph-doctor-noroute.dot vn graph --dot --from 192.168.122.1 \
    --to 192.168.124.91 l0-noroute.json l1.json l2.json
golden graph-doctor-seed.mmd vn graph --mermaid --tcp --from 192.168.122.1 \
    --to 192.168.124.91 $ALL
# the peer is in the metadata, the rules are not: reconcile
jq '(.host.firewall[].rules) |= map(select((.comment // "") | startswith("virt-nest") | not))' \
    "$T/l1.json" > "$T/l1-drifted.json"
golden doctor-drifted.txt vn doctor --from 192.168.122.1 --to 192.168.124.91 \
    l0.json l1-drifted.json l2.json
# rp_filter strict on L1 with the way back through another link
jq '.host.rp_filter = 1 | .host.routes += [{"destination": "192.168.122.1/32",
      "gateway": "192.168.124.5", "dev": "virbr0", "protocol": 4, "scope": 0,
      "type": 1, "metric": 0}]' \
    "$T/l1.json" > "$T/l1-rpf.json"
golden doctor-rpfilter.txt vn doctor --from 192.168.122.1 --to 192.168.124.91 \
    l0.json l1-rpf.json l2.json
# a DROP policy on L2's INPUT, not libvirt's
jq '.host.firewall = [{"family": "inet", "table": "guest", "chain": "input",
      "hook": "input", "type": "filter", "priority": 0, "policy": "drop",
      "rules": []}]' "$T/l2.json" > "$T/l2-drop.json"
golden doctor-input-drop.txt vn doctor --from 192.168.122.1 --to 192.168.124.91 \
    l0.json l1.json l2-drop.json
# IPv6 alike: the same nest with fd00:122::/64 and fd00:124::/64
v6() {  # FILE JQ-PROGRAM
    jq "$2" "$T/$1.json" > "$T/$1-v6.json"
}
addr='def addr(l; a): (.host.links[] | select(.name == l) | .addresses) += [a];
      def rt(d; g; l; p): .host.routes += [{"destination": d, "gateway": g,
          "dev": l, "protocol": p, "scope": 0, "type": 1, "metric": 1024}];'
v6 l0 "$addr"' addr("virbr0"; "fd00:122::1/64") | .host.ip6_forward = 1
    | rt("fd00:122::/64"; null; "virbr0"; 2)
    | rt("fd00:124::/64"; "fd00:122::191"; "virbr0"; 155)'
v6 l1 "$addr"' addr("enp1s0"; "fd00:122::191/64") | addr("virbr0"; "fd00:124::1/64")
    | .host.ip6_forward = 1 | rt("fd00:122::/64"; null; "enp1s0"; 2)
    | rt("fd00:124::/64"; null; "virbr0"; 2)'
v6 l2 "$addr"' addr("ens3"; "fd00:124::91/64") | rt("::/0"; "fd00:124::1"; "ens3"; 3)'
golden doctor-ipv6.txt vn doctor --from fd00:122::1 --to fd00:124::91 l0-v6.json l1-v6.json l2-v6.json
jq '.host.ip6_forward = 0' "$T/l1-v6.json" > "$T/l1-v6-nofwd.json"
golden doctor-ipv6-noforward.txt vn doctor --from fd00:122::1 --to fd00:124::91 \
    l0-v6.json l1-v6-nofwd.json l2-v6.json

# from the LAN outside the nest: in through WSL2's eth1
golden doctor-from-lan.txt vn doctor --tcp --from 172.24.21.254 --to 192.168.124.91 $ALL
# only L0: the walk leaves the snapshots at debian
golden doctor-l0-only.txt vn doctor --from 192.168.122.1 --to 192.168.124.91 l0.json

# one snapshot without a host view: what libvirt says, and how to get more
vn status -c "test://$SRC/xml/examples/seed-l0.xml" --json > "$T/l0-libvirt.json"
golden libvirt-only.txt vn graph l0-libvirt.json
golden libvirt-only.mmd vn graph --mermaid l0-libvirt.json

# bad and mismatched snapshots: one line, no picture
sed 's/"format": "virt-nest-status"/"format": "something-else"/' "$T/l0.json" > "$T/other.json"
printf '{"format": "virt-nest-status", "version": 1, "host": {"links": 3}}' > "$T/badhost.json"
golden bad.txt bash -c '
    vn() { ${VN_VALGRIND:-} "$0" "$@"; echo "exit $?"; }
    vn graph l0.json l0.json
    vn graph l0.json l2.json
    vn graph other.json
    vn graph badhost.json
    vn graph --json --dot l0.json
    vn graph --bogus l0.json
    vn graph --all-links l0.json
    vn graph --from 192.168.122.1 --to 192.168.124.91 l0.json
    vn graph --dot --from 192.168.122.1 l0.json
    vn graph --dot --from 192.168.122.1 --to fd00::1 l0.json
    vn graph --dot --tcp --udp --from 192.168.122.1 --to 192.168.124.91 l0.json
    vn doctor --from 192.168.122.1 --to nonsense l0.json
    vn doctor --from 192.168.122.1 --to 192.168.124.91 -c test:///default l0.json
' "$VN"

exit $fail
