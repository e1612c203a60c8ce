#!/bin/bash
# The examples of README.md and man/virt-nest.1.scd, run: every line
# "$ COMMAND" in a code block (README's indented blocks, the manual's
# fenced ones), with a trailing backslash joining the next line, is run
# with bash in a scratch copy of xml/examples (the manual's
# /usr/share/doc/virt-nest/examples is that copy), virt-nest being the one
# built, and what it prints on stdout and stderr must be the lines shown
# under it, up to the next "$ " line or the end of the block. The
# documents' elision: a line that is only "…" stands for any number of
# lines, and "…" inside a line for any text (a path, the rest of a long
# line). No output shown means none printed. "$ cd DIR" alone changes the
# directory of the examples after it in the same block.
#
# An example that needs root, a daemon or the real host is marked just
# before its block, and skipped by that name (the list is printed):
#   README.md:            <!-- docs-example skip NAME: REASON -->
#   man/virt-nest.1.scd:  ; docs-example skip NAME: REASON
# A mark applies to the "$ " lines of the next code block.
#
# Usage: docs-examples.sh VIRT_NEST SRCDIR
set -u
VN=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/work/xml"
# virt-nest on PATH is the one built (under valgrind when VN_VALGRIND says)
printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${VN_VALGRIND:-}" "$VN" \
    > "$T/bin/virt-nest"
chmod +x "$T/bin/virt-nest"
cp -r "$SRC/xml/examples" "$T/work/xml/examples"
exec env -u LIBVIRT_DEFAULT_URI -u VIRT_NEST_CONFIG PATH="$T/bin:$PATH" \
    python3 - "$SRC" "$T/work" <<'PY'
import os
import re
import subprocess
import sys

SRC, WORK = sys.argv[1], sys.argv[2]
DOCDIR = '/usr/share/doc/virt-nest/examples'
ELL = '\u2026'
DOCS = [('README.md', 'md'), ('man/virt-nest.1.scd', 'scd')]


class Example:
    def __init__(self, doc, line, text, cmd, out, cwd, skip):
        self.doc, self.line, self.text, self.cmd = doc, line, text, cmd
        self.out, self.cwd, self.skip = out, cwd, skip

    def where(self):
        return '%s:%d' % (self.doc, self.line)


def md_blocks(lines):
    """(first line number, lines de-indented, mark) of indented blocks."""
    blocks, mark, i = [], None, 0
    while i < len(lines):
        m = re.match(r'\s*<!-- docs-example skip (\S+): (.*?) -->\s*$',
                     lines[i])
        if m:
            mark = (m.group(1), m.group(2), i + 1)
            i += 1
            continue
        prev_blank = i == 0 or not lines[i - 1].strip()
        if lines[i].startswith('    ') and prev_blank:
            start, body = i, []
            while i < len(lines) and (lines[i].startswith('    ') or
                                      not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            blocks.append((start + 1, body, mark))
            mark = None
            continue
        i += 1
    return blocks, mark


def scd_blocks(lines):
    """The same for the manual's ``` blocks; scdoc's \\\\ is one \\."""
    blocks, mark, i = [], None, 0
    while i < len(lines):
        m = re.match(r'; docs-example skip (\S+): (.*)$', lines[i])
        if m:
            mark = (m.group(1), m.group(2).strip(), i + 1)
        elif lines[i].strip() == '```':
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != '```':
                body.append(lines[i].replace('\\\\', '\\'))
                i += 1
            blocks.append((start + 1, body, mark))
            mark = None
        i += 1
    return blocks, mark


def examples(doc, kind, problems):
    lines = open(os.path.join(SRC, doc), encoding='utf-8').read().split('\n')
    blocks, dangling = (md_blocks if kind == 'md' else scd_blocks)(lines)
    if dangling:
        problems.append('%s:%d: mark "%s" is followed by no code block' %
                        (doc, dangling[2], dangling[0]))
    found = []
    for first, body, mark in blocks:
        cwd, i, got = WORK, 0, 0
        while i < len(body):
            if not body[i].startswith('$ '):
                i += 1
                continue
            line = first + i
            cmd = body[i][2:]
            while cmd.endswith('\\') and i + 1 < len(body):
                i += 1
                cmd = cmd[:-1].rstrip() + ' ' + body[i].strip()
            i += 1
            out = []
            while i < len(body) and not body[i].startswith('$ '):
                out.append(body[i].rstrip())
                i += 1
            while out and not out[-1]:
                out.pop()
            text = cmd
            cmd = cmd.replace(DOCDIR, os.path.join(WORK, 'xml/examples'))
            m = re.fullmatch(r'cd (\S+)', cmd.strip())
            if m and not out:
                cwd = os.path.join(cwd, m.group(1))
                continue
            found.append(Example(doc, line, text, cmd, out, cwd, mark))
            got += 1
        if mark and not got:
            problems.append('%s:%d: mark "%s" is followed by a block with no '
                            '"$ " example' % (doc, mark[2], mark[0]))
    return found


def line_re(text):
    return re.compile('.*'.join(re.escape(p) for p in text.split(ELL)) + r'\Z',
                      re.S)


def matches(want, got):
    """want (with the elisions) against got, line by line."""
    pats = [None if w.strip() == ELL else line_re(w) for w in want]
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(pats):
            r = j == len(got)
        elif pats[i] is None:
            r = any(m(i + 1, k) for k in range(j, len(got) + 1))
        else:
            r = j < len(got) and bool(pats[i].match(got[j])) and m(i + 1, j + 1)
        memo[(i, j)] = r
        return r
    return m(0, 0)


def run(ex):
    p = subprocess.run(['bash', '-c', ex.cmd], cwd=ex.cwd, text=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    got = [l.rstrip() for l in p.stdout.split('\n')]
    while got and not got[-1]:
        got.pop()
    return got


def main():
    problems, fail, ran, skipped = [], 0, 0, []
    all_ex = []
    for doc, kind in DOCS:
        all_ex += examples(doc, kind, problems)
    names = {}
    for ex in all_ex:
        if ex.skip:
            names.setdefault(ex.skip[0], []).append(ex)
    for ex in all_ex:
        if ex.skip:
            skipped.append(ex)
            continue
        got = run(ex)
        ran += 1
        if matches(ex.out, got):
            print('ok: %s: $ %s' % (ex.where(), ex.text))
            continue
        fail = 1
        print('FAIL: %s: $ %s' % (ex.where(), ex.text))
        print('  shown:')
        for l in ex.out:
            print('  | ' + l)
        print('  printed:')
        for l in got:
            print('  | ' + l)
    # the comparison itself: a shown line changed must not match
    checked = [e for e in all_ex if not e.skip and
               any(l.strip() not in ('', ELL) for l in e.out)]
    if checked:
        e = checked[0]
        k = next(i for i, l in enumerate(e.out) if l.strip() not in ('', ELL))
        bad = list(e.out)
        bad[k] = bad[k].replace(ELL, '') + ' (not printed)'
        if matches(bad, run(e)):
            print('FAIL: a changed line of %s still matches' % e.where())
            fail = 1
        else:
            print('ok: a changed line of %s does not match' % e.where())
    for p in problems:
        print('FAIL: ' + p)
        fail = 1
    print('skipped (marked in the text):')
    for name in sorted(names):
        for ex in names[name]:
            print('  %s (%s): %s: $ %s' % (name, ex.where(), ex.skip[1],
                                           ex.text))
    if not ran:
        print('FAIL: no example ran')
        fail = 1
    print('%d examples run, %d skipped' % (ran, len(skipped)))
    return fail


sys.exit(main())
PY
