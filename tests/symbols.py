#!/usr/bin/env python3
"""The exports of libvirt-nest.so are exactly its public API.

Usage: symbols.py LIBRARY MAP HEADER...

HEADER... are the installed public headers (src/meson.build's
public_headers, virt-nest.h among them). The check:

  - the headers, staged as they are installed (flat under virt-nest/), are
    preprocessed through virt-nest.h with the compiler ($CC, else cc) and
    every function and variable named vn_* that they declare extern (not
    static inline) is collected; virt-nest.h must reach every header;
  - the map (the linker version script) lists exactly those, in its global:
    part, and hides everything else (local: *);
  - `nm -D --defined-only LIBRARY` exports exactly the map's symbols, each
    with the map's version node, and nothing else.

Exit 0 when all agree; 1 with one line per difference and the fix.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile


def fail(msg):
    print('FAIL: ' + msg)
    return 1


def read_map(path):
    """(node, globals, has_local_star) of a GNU ld version script."""
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'#[^\n]*', ' ', text)
    m = re.search(r'([A-Za-z_][A-Za-z0-9_.]*)\s*\{\s*global\s*:(.*?)local\s*:\s*\*\s*;\s*\}\s*;',
                  text, flags=re.S)
    if not m:
        return None, set(), False
    names = set(n.strip() for n in m.group(2).split(';') if n.strip())
    return m.group(1), names, True


def tokens(text):
    return re.findall(r'[A-Za-z_][A-Za-z0-9_]*|"(?:\\.|[^"\\])*"|'
                      r"'(?:\\.|[^'\\])*'|\S", text)


def declared(text):
    """Names of the vn_* functions and variables declared at file scope,
    not static, not typedefs, not struct members."""
    names = set()
    stmt = []
    depth = 0           # braces
    for tok in tokens(text):
        if tok == '{':
            depth += 1
            stmt.append(tok)
            continue
        if tok == '}':
            depth -= 1
            stmt.append(tok)
            if depth == 0 and stmt and '(' in stmt and 'typedef' not in stmt[:1]:
                # a function definition ends here (static inline)
                stmt = []
            continue
        if tok == ';' and depth == 0:
            take(stmt, names)
            stmt = []
            continue
        stmt.append(tok)
    return names


def take(stmt, names):
    if not stmt or stmt[0] in ('typedef', 'static'):
        return
    # drop braced parts: struct/enum bodies of a declaration
    flat, d = [], 0
    for t in stmt:
        if t == '{':
            d += 1
        elif t == '}':
            d -= 1
        elif d == 0:
            flat.append(t)
    if flat and flat[0] in ('struct', 'union', 'enum') and len(flat) <= 2:
        return          # struct X; or a bare struct definition
    paren = 0
    for i, t in enumerate(flat):
        if t == '(':
            paren += 1
        elif t == ')':
            paren -= 1
        elif paren == 0 and t.startswith('vn_'):
            nxt = flat[i + 1] if i + 1 < len(flat) else ';'
            if nxt in ('(', ';', ',', '[', '=', ')') or nxt.startswith('__'):
                names.add(t)


def header_symbols(headers, tmp):
    inc = os.path.join(tmp, 'virt-nest')
    os.makedirs(inc)
    staged = {}
    for h in headers:
        base = os.path.basename(h)
        if base in staged:
            raise SystemExit(fail('two public headers named %s: they are '
                                  'installed flat under virt-nest/' % base))
        shutil.copy(h, os.path.join(inc, base))
        staged[base] = os.path.join(inc, base)
    if 'virt-nest.h' not in staged:
        raise SystemExit(fail('virt-nest.h is not among the public headers'))
    cc = shlex.split(os.environ.get('CC') or 'cc')
    cflags = subprocess.run(['pkg-config', '--cflags', 'glib-2.0', 'libvirt'],
                            check=True, capture_output=True, text=True).stdout.split()
    src = os.path.join(tmp, 'all.c')
    with open(src, 'w') as f:
        f.write('#include <virt-nest.h>\n')
    out = subprocess.run(cc + ['-E', '-I', tmp, '-I', inc] + cflags + [src],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(fail('the public headers do not compile on their own '
                              '(staged as installed):\n' + out.stderr))
    # keep the text that comes from our headers, by line marker
    ours, seen, cur = [], set(), None
    for line in out.stdout.splitlines():
        m = re.match(r'# \d+ "([^"]+)"', line)
        if m:
            cur = m.group(1)
            if cur.startswith(inc + '/'):
                seen.add(os.path.basename(cur))
            continue
        if cur and cur.startswith(inc + '/'):
            ours.append(line)
    missing = sorted(set(staged) - seen)
    return declared('\n'.join(ours)), missing


def exports(library):
    out = subprocess.run(['nm', '-D', '--defined-only', library], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[1], parts[2]
        if kind == 'A':
            continue    # the version node itself
        name, _, version = name.partition('@')
        syms[name] = version.lstrip('@')
    return syms


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    library, mapfile, headers = argv[1], argv[2], argv[3:]
    rc = 0
    node, mapped, hides = read_map(mapfile)
    if not hides:
        return fail('%s: no "NODE { global: ...; local: *; };" block; the map '
                    'must list the exports and hide the rest' % mapfile)
    with tempfile.TemporaryDirectory() as tmp:
        public, unreached = header_symbols(headers, tmp)
    for h in unreached:
        rc = fail('virt-nest.h does not include %s, an installed header; '
                  'add #include <virt-nest/%s>' % (h, h))
    for s in sorted(public - mapped):
        rc = fail('%s is declared in a public header but not in %s; add it '
                  'to the map (or move its declaration to a private header)'
                  % (s, os.path.basename(mapfile)))
    for s in sorted(mapped - public):
        rc = fail('%s is in %s but no public header declares it; remove it '
                  'from the map' % (s, os.path.basename(mapfile)))
    got = exports(library)
    for s in sorted(set(got) - mapped):
        rc = fail('%s exports %s, which the map does not list; is the map '
                  'passed to the linker (-Wl,--version-script)?'
                  % (os.path.basename(library), s))
    for s in sorted(mapped - set(got)):
        rc = fail('%s does not export %s, which the map lists; define it or '
                  'remove it from the map' % (os.path.basename(library), s))
    for s in sorted(set(got) & mapped):
        if got[s] != node:
            rc = fail('%s exports %s with version "%s", not %s'
                      % (os.path.basename(library), s, got[s], node))
    if rc == 0:
        print('ok: %d public functions, %d in the map, %d exported as %s'
              % (len(public), len(mapped), len(got), node))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv))
