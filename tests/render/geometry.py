#!/usr/bin/env python3
# The layout of a `virt-nest graph` picture, from the renderer's own
# output: Graphviz's SVG (its coordinates), or the boxes mermaid.js drew in
# Chromium (getBoundingClientRect of each node and subgraph, written by the
# render page as "node ID TOP BOTTOM" / "cluster ID TOP BOTTOM" lines).
# y grows downwards in both.
#
# Usage: geometry.py dot SOURCE.dot RENDERED.svg MAX_LINES
#        geometry.py mermaid SOURCE.mmd BOXES MAX_LINES
#
# Checks, on every layer of the source (a "subgraph cluster_layer_X" or
# "subgraph layer_X[...]", nested in the one of the layer that holds it):
#  - each layer box is below the nodes of the layer that holds it;
#  - in each layer its uplink (the link "(uplink)", or the way out a NAT
#    edge or the outside world points to) is above its bridges (" · network
#    "), and those are above its TAPs ("(TAP)");
#  - no wire between two layers goes up: the end in the outer layer (or
#    the outside world) is above the end in the inner one;
#  - no node is taller than MAX_LINES lines of text, in the source, nor,
#    as drawn, than MAX_LINES times the height of the renderer's one-line
#    node plus its padding.
# Prints "ok: ..." or one "FAIL: ..." per problem; exits 1 on any.
import re
import sys
import xml.etree.ElementTree as ET

fmt, src_path, out_path, max_lines = sys.argv[1:5]
max_lines = int(max_lines)
src = open(src_path, encoding='utf-8').read()

# ---------------------------------------------------------------- source
layer_of = {}       # node id -> the layer (cluster id) it is declared in
parent = {}         # layer -> the layer that holds it, or None
labels = {}         # node id -> its text, lines separated by '\n'
edges = []          # (a, b) in the source's order
up_targets = set()  # nodes a NAT edge points up to
stack = []
if fmt == 'dot':
    for line in src.splitlines():
        m = re.match(r'\s*subgraph cluster_(\w+) \{', line)
        if m:
            parent[m.group(1)] = stack[-1] if stack else None
            stack.append(m.group(1))
            continue
        if re.match(r'\s*\}$', line) and stack:
            stack.pop()
            continue
        m = re.match(r'\s*(\w+) -> (\w+)', line)
        if m:
            a, b = m.groups()
            edges.append((a, b))
            if 'dir=back' in line:
                up_targets.add(a)
            continue
        m = re.match(r'\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', line)
        if m and m.group(1) not in ('node', 'edge', 'graph'):
            layer_of[m.group(1)] = stack[-1] if stack else None
            labels[m.group(1)] = m.group(2).replace('\\n', '\n')
else:
    for line in src.splitlines():
        m = re.match(r'\s*subgraph (\w+)\[', line)
        if m:
            parent[m.group(1)] = stack[-1] if stack else None
            stack.append(m.group(1))
            continue
        if re.match(r'\s*end$', line) and stack:
            stack.pop()
            continue
        m = re.match(r'\s*(\w+) (---|-\.-|-\.->|===|==>)'
                     r'(\|"([^"]*)"\|)? (\w+)$', line)
        if m:
            a, b = m.group(1), m.group(5)
            edges.append((a, b))
            if m.group(2) in ('-.-', '===') and \
               (m.group(4) or '').startswith('↑'):
                up_targets.add(a)
            continue
        m = re.match(r'\s*(\w+)[\[({>]+"([^"]*)"', line)
        if m:
            layer_of[m.group(1)] = stack[-1] if stack else None
            labels[m.group(1)] = m.group(2).replace('<br/>', '\n')

# ---------------------------------------------------------------- boxes
box = {}            # node id -> (top, bottom)
cbox = {}           # layer -> (top, bottom)
if fmt == 'dot':
    ns = '{http://www.w3.org/2000/svg}'

    def extent(g):
        ys = []
        for e in g.iter():
            if e.get('ry'):
                cy, ry = float(e.get('cy')), float(e.get('ry'))
                ys += [cy - ry, cy + ry]
            elif e.get('points') or e.get('d'):
                d = e.get('points') or e.get('d')
                ys += [float(x) for x in re.findall(r'-?[0-9.]+', d)][1::2]
        return (min(ys), max(ys)) if ys else None

    for g in ET.parse(out_path).iter(ns + 'g'):
        title = g.find(ns + 'title')
        if title is None:
            continue
        if g.get('class') == 'node':
            box[title.text] = extent(g)
        elif g.get('class') == 'cluster':
            cbox[title.text.replace('cluster_', '', 1)] = extent(g)
else:
    for line in open(out_path, encoding='utf-8'):
        kind, ident, top, bottom = line.split()
        # mermaid names a node's group "<diagram>-flowchart-<id>-<n>"
        m = re.match(r'.*?-flowchart-(\w+?)-\d+$', ident)
        if kind == 'node':
            box[m.group(1) if m else ident] = (float(top), float(bottom))
        else:
            # and a subgraph's "<diagram>-<id>"
            cbox[re.sub(r'^vn\d+-', '', ident)] = (float(top), float(bottom))

bad = []
missing = [n for n in labels if n not in box]
if missing:
    bad.append('nodes not drawn: %s' % ' '.join(missing))
    missing = set(missing)


def placed(n):
    return n in box and n not in missing


# ---------------------------------------------------------------- checks
def role(n):
    t = labels.get(n, '')
    if '(TAP)' in t:
        return 2
    if ' · network ' in t:
        return 1
    if '(uplink)' in t or n in up_targets:
        return 0
    return None


layers = list(parent)
for L in layers:
    by = {0: [], 1: [], 2: []}
    for n, l in layer_of.items():
        if l == L and role(n) is not None and placed(n):
            by[role(n)].append(n)
    for hi, lo in ((0, 1), (1, 2)):
        for a in by[hi]:
            for b in by[lo]:
                if not box[a][1] < box[b][0]:
                    bad.append('%s: %s is not above %s' % (L, a, b))
    P = parent[L]
    if P is not None:
        if L not in cbox:
            bad.append('layer box %s not drawn' % L)
            continue
        own = [n for n, l in layer_of.items() if l == P and placed(n)]
        if own and not max(box[n][1] for n in own) < cbox[L][0]:
            bad.append('the box of %s is not below the nodes of %s' % (L, P))
        if P in cbox and not cbox[P][0] < cbox[L][0]:
            bad.append('the box of %s starts above the box of %s' % (L, P))


def depth(n):
    d, l = 0, layer_of.get(n)
    if l is None:
        return -1      # the outside world, a legend
    while parent.get(l) is not None:
        d, l = d + 1, parent[l]
    return d


wires = 0
for a, b in edges:
    if layer_of.get(a) == layer_of.get(b) or not (placed(a) and placed(b)):
        continue
    if labels.get(a, '').startswith('doctor ') or \
       labels.get(b, '').startswith('doctor '):
        continue
    outer, inner = (a, b) if depth(a) < depth(b) else (b, a)
    if depth(a) == depth(b):
        continue        # siblings: side by side is fine
    wires += 1
    if not box[outer][1] < box[inner][0]:
        bad.append('the wire %s -- %s goes up' % (a, b))

# how tall a node may be: the text, and as drawn
tallest = max(len(t.split('\n')) for t in labels.values())
if tallest > max_lines:
    bad.append('a node of %d lines in the source (at most %d)' %
               (tallest, max_lines))
lines = {n: len(t.split('\n')) for n, t in labels.items() if placed(n)}
height = {n: box[n][1] - box[n][0] for n in lines}
if len(set(lines.values())) > 1:
    # a line's height as drawn, the least between the node with the fewest
    # lines and any with more: a node drawn taller than MAX_LINES lines at
    # that rate (its text wrapped, say) fails
    ref = min(lines, key=lambda n: (lines[n], height[n]))
    per = min((height[n] - height[ref]) / (lines[n] - lines[ref])
              for n in lines if lines[n] > lines[ref])
    per = max(per, 1.0)
    bound = height[ref] + per * (max_lines - lines[ref])
    for n in lines:
        if height[n] > bound * 1.15:
            bad.append('%s is drawn %.0f high, more than %d lines take '
                       '(%.0f)' % (n, height[n], max_lines, bound))

for b in bad:
    print('FAIL: %s' % b)
if not bad:
    print('ok: %d layers layer in layer, uplink above bridge above TAPs, '
          '%d wires between layers all down, no node over %d lines'
          % (len(layers), wires, max_lines))
sys.exit(1 if bad else 0)
