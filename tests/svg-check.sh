#!/bin/bash
# `virt-nest graph --svg` and `virt-nest status --svg`: the SVG that
# Graphviz's C library writes from the --dot text, checked without a
# browser and without the dot binary: it parses with xmllint, and it has
# one node group per node and one edge group per edge of the dot source,
# under the same names. On the bundled seed nest and on the seed's layers
# through libvirt's test driver; and the nest's layout from the SVG's
# coordinates. Root is not needed.
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

# The layout, from the SVG's own coordinates (y grows downwards): in
# each layer its uplink (or the way out its NAT edge points to) above
# its bridges, its bridges above its TAPs, and every layer below the
# layer that holds it, so that each wire between layers runs down.
geometry() { # DOT SVG
    python3 - "$1" "$2" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
dot = open(sys.argv[1]).read()
label = dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', dot, re.M))
up = set(re.findall(r'^\s*(\w+) -> \w+ \[.*dir=back', dot, re.M))
ns = '{http://www.w3.org/2000/svg}'
box = {}
for g in ET.parse(sys.argv[2]).iter(ns + 'g'):
    if g.get('class') == 'node':
        ys = []
        for e in g:
            d = e.get('points') or e.get('d')
            if e.get('ry'):
                cy, ry = float(e.get('cy')), float(e.get('ry'))
                ys += [cy - ry, cy + ry]
            elif d:
                ys += [float(x) for x in re.findall(r'-?[0-9.]+', d)][1::2]
        box[g.find(ns + 'title').text] = (min(ys), max(ys))
def role(n):
    l = label.get(n, '')
    if '(TAP)' in l:
        return 2
    if ' · network ' in l:
        return 1
    if '(uplink)' in l or n in up:
        return 0
    return None
bad = 0
# the outside world is no layer: it is above the outermost one
layers = sorted({n.split('_')[0] for n in box} - {'outside'})
for L in layers:
    by = {0: [], 1: [], 2: []}
    for n in box:
        if n.split('_')[0] == L and role(n) is not None:
            by[role(n)].append(n)
    for hi, lo in ((0, 1), (1, 2)):
        for a in by[hi]:
            for b in by[lo]:
                if not box[a][1] < box[b][0]:
                    print('FAIL: %s: %s is not above %s' % (L, a, b)); bad = 1
for i in range(len(layers) - 1):
    above = [n for n in box if n.split('_')[0] == layers[i]]
    below = [n for n in box if n.split('_')[0] == layers[i + 1]]
    if not max(box[n][1] for n in above) < min(box[n][0] for n in below):
        print('FAIL: %s is not below %s' % (layers[i + 1], layers[i])); bad = 1
for a, b in re.findall(r'^\s*(\w+) -> (\w+)', dot, re.M):
    if a.split('_')[0] != b.split('_')[0] and not box[a][1] < box[b][0]:
        print('FAIL: the wire %s -> %s goes up' % (a, b)); bad = 1
for o in (n for n in box if n.startswith('outside_')):
    top = min(box[n][0] for n in box if n.split('_')[0] == layers[0])
    if not box[o][1] < top:
        print('FAIL: %s is not above %s' % (o, layers[0])); bad = 1
n = sum(1 for x in box if role(x) is not None)
if not bad:
    print('ok: %d layers top-down, uplink above bridge above TAPs (%d nodes placed)' % (len(layers), n))
sys.exit(bad)
PY
}
geometry "$T/seed-nest.dot" "$T/seed-nest.svg" || fail=1

# --html: one page with the SVG, doctor's walk and the text view, with
# nothing to fetch and no script; the SVG in it is the one --svg writes
jq '(.host.firewall[].rules) |= map(select((.comment // "") |
        startswith("virt-nest") | not)) | (.networks[].nest) = null' \
    l1.json > l1-norules.json
walk=(--from 192.168.122.1 --to 192.168.124.91 l0.json l1-norules.json l2.json)
if "$VN" graph --html "${walk[@]}" > page.html 2>page.err &&
   "$VN" graph --svg "${walk[@]}" > walk.svg &&
   "$VN" doctor "${walk[@]}" > walk.txt; [ -s page.html ]; then
    "$VN" graph l0.json l1-norules.json l2.json > text.txt
    if python3 - page.html walk.svg walk.txt text.txt <<'PY'
import html, html.parser, re, sys
import xml.etree.ElementTree as ET
page, svg, walk, text = (open(f, encoding='utf-8').read() for f in sys.argv[1:])
class P(html.parser.HTMLParser):
    tags, refs = [], []
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ('src', 'href', 'xlink:href')]
p = P()
p.feed(page)
bad = []
if p.tags.count('svg') != 1:
    bad.append('%d <svg> elements' % p.tags.count('svg'))
if 'script' in p.tags or p.refs:
    bad.append('a script or a reference: %s' % p.refs)
inline = page[page.index('<svg'):page.index('</svg>') + 6]
drawn = svg[svg.index('<svg'):]
if inline.strip() != drawn.strip():
    bad.append('the SVG in the page is not the one --svg writes')
ET.fromstring(inline)
pres = [html.unescape(x) for x in re.findall(r'<pre>(.*?)</pre>', page, re.S)]
if pres != [walk, text]:
    bad.append('the page does not hold the doctor walk and the text view')
if 'stroke="#dc2626"' not in inline:
    bad.append('no red element where the packet dies')
print('FAIL: --html: ' + '; '.join(bad) if bad else
      'ok: --html: one page (%d bytes): the SVG --svg writes, the doctor walk, '
      'the text view, no script, nothing to fetch' % len(page))
sys.exit(1 if bad else 0)
PY
    then :; else fail=1; fi
else
    echo "FAIL: graph --html: $(cat page.err)"; fail=1
fi

# hostile names (tests/data/hostile/) stay text in the page: no markup of
# theirs and no escape byte reaches it
hn=$SRC/tests/data/hostile
for n in 0 1; do
    jq --slurpfile names "$hn/names-l$n.json" -f "$hn/names.jq" \
        l$n.json > n$n.json
done
if "$VN" graph --html n0.json n1.json l2.json > names.html &&
   python3 - names.html <<'PY'
import html.parser, sys
page = open(sys.argv[1], encoding='utf-8').read()
class P(html.parser.HTMLParser):
    tags = []
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
p = P()
p.feed(page)
body = p.tags[p.tags.index('body'):]
known = {'body', 'h1', 'h2', 'pre', 'svg', 'g', 'title', 'polygon', 'path',
         'text', 'ellipse', 'a', 'polyline'}
odd = sorted(set(body) - known)
if odd or '\x1b' in page or '\x9b' in page:
    print('FAIL: --html with hostile names: tags %s, or an escape byte' % odd)
    sys.exit(1)
print('ok: --html with hostile names: only the page\'s own markup')
PY
then :; else fail=1; fi

# --svg is one more format: with another it is a usage error
"$VN" graph --svg --dot l0.json l1.json l2.json >/dev/null 2>"$T/excl.err"
rc=$?
if [ $rc -eq 2 ] && grep -q -- 'exclude each other' "$T/excl.err"; then
    echo "ok: --svg and --dot exclude each other"
else
    echo "FAIL: graph --svg --dot: exit $rc: $(cat "$T/excl.err")"; fail=1
fi
exit $fail
