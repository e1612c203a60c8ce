#!/usr/bin/env python3
"""tests/arch-check.py SRCDIR: the include rules of ARCHITECTURE.md.

Every .c and .h under src/ and hooks/, with what it includes, directly or
through the project's own headers:
  - libnl (netlink/...), libnftnl, libmnl and GIO's D-Bus (gio/...) only
    from src/kernel/ and src/fw/: only the kernel and firewall backends
    open netlink or D-Bus sockets;
  - libvirt's headers only from src/libvirt/ and src/cli/: the hook
    never calls the libvirt API, and neither does the core it links;
  - Graphviz's (graphviz/...) only from src/cli/: only the command
    links libgvc, for --svg.
Prints each violation with the chain of includes that leads to it."""
import os
import re
import sys

RULES = [
    (re.compile(r'^(netlink|libnftnl|libmnl|gio)/'), ('src/kernel/', 'src/fw/'),
     'netlink and D-Bus belong to src/kernel/ and src/fw/'),
    (re.compile(r'^libvirt/'), ('src/libvirt/', 'src/cli/'),
     "libvirt's API belongs to src/libvirt/ and src/cli/"),
    (re.compile(r'^graphviz/'), ('src/cli/',),
     "Graphviz's library belongs to src/cli/ (the command only)"),
]
INC = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def main(src):
    files = {}
    for top in ('src', 'hooks'):
        for d, _, names in os.walk(os.path.join(src, top)):
            for n in names:
                if n.endswith(('.c', '.h')):
                    p = os.path.join(d, n)
                    files[os.path.relpath(p, src)] = p
    by_base = {}
    for rel in files:
        by_base.setdefault(os.path.basename(rel), []).append(rel)
    dups = [b for b, l in by_base.items() if len(l) > 1]
    if dups:
        print('FAIL: header names must be unique (flat includes): %s' % dups)
        return 1
    direct = {}
    for rel, p in files.items():
        inc = []
        with open(p, encoding='utf-8', errors='replace') as f:
            for line in f:
                m = INC.match(line)
                if m:
                    inc.append((m.group(1), m.group(2)))
        direct[rel] = inc

    def reach(rel, seen, path):
        for kind, name in direct.get(rel, []):
            target = by_base.get(os.path.basename(name), [None])[0] if kind == '"' else None
            if target:
                if target not in seen:
                    seen.add(target)
                    yield from reach(target, seen, path + [target])
            else:
                yield name, path

    bad = 0
    checked = 0
    for rel in sorted(files):
        checked += 1
        for name, path in reach(rel, {rel}, [rel]):
            for pat, allowed, why in RULES:
                if pat.match(name) and not rel.startswith(allowed):
                    print('FAIL: %s reaches <%s> via %s: %s' %
                          (rel, name, ' -> '.join(path), why))
                    bad += 1
    # the rules must bite: the kernel and firewall files do use them
    for pat, allowed, _ in RULES:
        if not any(pat.match(n) for rel in files if rel.startswith(allowed)
                   for n, _ in reach(rel, {rel}, [rel])):
            print('FAIL: no file under %s uses what the rule %s guards; '
                  'is the check still looking at the right files?' %
                  (allowed, pat.pattern))
            bad += 1
    print('%d files checked, %d violations' % (checked, bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
