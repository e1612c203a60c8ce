#!/bin/bash
# `virt-nest graph --svg` and `virt-nest status --svg`: the SVG that
# Graphviz's C library writes from the --dot text, checked without a
# browser and without the dot binary: it parses with xmllint, and it has
# one node group per node and one edge group per edge of the dot source,
# under the same names. On the bundled seed nest and on the seed's layers
# through libvirt's test driver. Root is not needed.
# Usage: svg-check.sh VIRT_NEST SRCDIR
set -u
VN=$(realpath "$1")
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

command -v xmllint >/dev/null || { echo "SKIP: no xmllint (libxml2-utils)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

# The names of the nodes and of the edges ("A->B") of dot text, one a
# line, sorted: each node statement is "  NAME [...];", each edge
# "  A -> B [...];" (the dot writer's own form, picture.c); "node [...]"
# and "edge [...]" set defaults and are no node.
dot_names() {
    sed -n -E 's/^[[:space:]]*([A-Za-z0-9_]+) -> ([A-Za-z0-9_]+)( \[.*)?;$/edge \1->\2/p;
               s/^[[:space:]]*([A-Za-z0-9_]+) \[.*\];$/node \1/p' "$1" |
        grep -v -E '^node (node|edge|graph)$' | sort
}

# The same from the SVG: each <g class="node|edge"> and its <title>.
svg_names() {
    python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
out = []
for g in ET.parse(sys.argv[1]).iter(ns + 'g'):
    kind = g.get('class')
    if kind in ('node', 'edge'):
        out.append('%s %s' % (kind, g.find(ns + 'title').text.replace('&#45;', '-')))
for line in sorted(out):
    print(line)
PY
}

check() { # NAME CMD... (the command prints dot with --dot, SVG with --svg)
    local name=$1
    shift
    if ! "$@" --dot > "$T/$name.dot" 2>"$T/$name.err"; then
        echo "FAIL: $name: --dot: $(cat "$T/$name.err")"; fail=1; return
    fi
    if ! "$@" --svg > "$T/$name.svg" 2>"$T/$name.err"; then
        echo "FAIL: $name: --svg: $(cat "$T/$name.err")"; fail=1; return
    fi
    if ! xmllint --noout "$T/$name.svg"; then
        echo "FAIL: $name: the SVG does not parse"; fail=1; return
    fi
    root=$(xmllint --xpath 'local-name(/*)' "$T/$name.svg")
    [ "$root" = svg ] || { echo "FAIL: $name: root element '$root', not svg"; fail=1; return; }
    dot_names "$T/$name.dot" > "$T/$name.dot.names"
    svg_names "$T/$name.svg" > "$T/$name.svg.names"
    nodes=$(grep -c '^node ' "$T/$name.dot.names")
    edges=$(grep -c '^edge ' "$T/$name.dot.names")
    if [ "$nodes" -eq 0 ] || [ "$edges" -eq 0 ]; then
        echo "FAIL: $name: the dot source has $nodes nodes and $edges edges"; fail=1; return
    fi
    if diff -u "$T/$name.dot.names" "$T/$name.svg.names"; then
        echo "ok: $name: the SVG parses and draws the $nodes nodes and $edges edges of the dot source"
    else
        echo "FAIL: $name: the SVG's nodes and edges differ from the dot source's (above)"; fail=1
    fi
}

for n in 0 1 2; do cp "$SRC/xml/examples/seed-nest-l$n.json" "$T/l$n.json"; done
cd "$T"
check seed-nest "$VN" graph l0.json l1.json l2.json
for layer in seed-l0 seed-l1; do
    check "$layer" "$VN" status --no-host -c "test://$SRC/xml/examples/$layer.xml"
done

# --svg is one more format: with another it is a usage error
"$VN" graph --svg --dot l0.json l1.json l2.json >/dev/null 2>"$T/excl.err"
rc=$?
if [ $rc -eq 2 ] && grep -q -- '--svg exclude each other' "$T/excl.err"; then
    echo "ok: --svg and --dot exclude each other"
else
    echo "FAIL: graph --svg --dot: exit $rc: $(cat "$T/excl.err")"; fail=1
fi
exit $fail
