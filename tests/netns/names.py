#!/usr/bin/env python3
"""names.py: the hostile names of hook-names.sh, and what the test expects of
them, computed here independently of virt-nest's C.

  names.py list              the names, each followed by a NUL
  names.py show NAME         NAME as a printable Python literal
  names.py prefix NAME       the comment prefix virt-nest gives NAME's rules:
                             "virt-nest ESCAPED " (every byte but letters,
                             digits and -_.:+@,=[]~^ as %XX), or
                             "virt-nest #HASH " when ESCAPED is longer than
                             64 bytes (HASH: the first 16 hex digits of the
                             SHA-256 of NAME)
  names.py comments iptables|nft
                             the virt-nest comments in iptables-save or
                             nft list ruleset text on stdin, one a line
  names.py network|node|domain NAME
                             stdin (hook network XML, a test-driver node
                             file, hook domain XML) with the network or
                             domain renamed to NAME, XML-escaped
"""
import hashlib
import re
import sys

NAMES = [
    "[x]",
    "a]b",
    "a=b",
    "#net",
    "it's \"q\"",
    "a b",
    "back\\slash",
    "r\u00e9seau",
    "tab\there",
    "new\nline",
    "cr\rlf",
    "[rule x] k=v ;#",
    "%41",
    ".hidden",
    "\u7f51\u7edc-\u7f51\u7edc-\u7f51\u7edc-\u7f51\u7edc-\u7f51\u7edc-\u7f51\u7edc",
    "$(touch vns-pwned)`id`;x",
]

SAFE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:+@,=[]~^")


def prefix(name):
    raw = name.encode()
    esc = "".join(chr(c) if c in SAFE else "%%%02X" % c for c in raw)
    if len(esc) <= 64:
        return "virt-nest %s " % esc
    return "virt-nest #%s " % hashlib.sha256(raw).hexdigest()[:16]


def xml_escape(s):
    return "".join("&#%d;" % ord(c) if c in "&<>\"'" or ord(c) < 0x20 else c for c in s)


def comments(kind, text):
    if kind == "iptables":
        pat = re.compile(r'--comment ("(?:[^"\\]|\\.)*"|\S+)')
    else:
        pat = re.compile(r'comment ("(?:[^"\\]|\\.)*")')
    for m in pat.finditer(text):
        c = m.group(1)
        if c.startswith('"'):
            c = re.sub(r"\\(.)", r"\1", c[1:-1])
        if c.startswith("virt-nest "):
            print(c)


def main():
    cmd = sys.argv[1]
    if cmd == "list":
        sys.stdout.write("".join(n + "\0" for n in NAMES))
    elif cmd == "show":
        print(ascii(sys.argv[2]))
    elif cmd == "prefix":
        print(prefix(sys.argv[2]))
    elif cmd == "comments":
        comments(sys.argv[2], sys.stdin.read())
    elif cmd in ("network", "node", "domain"):
        text = sys.stdin.read()
        name = xml_escape(sys.argv[2])
        old = "nestguest" if cmd == "domain" else "default"
        new = text.replace("<name>%s</name>" % old, "<name>%s</name>" % name, 1)
        if cmd == "node":
            new = new.replace("<source network='default'/>",
                              "<source network='%s'/>" % name)
        if new == text:
            sys.exit("names.py: no <name>%s</name> in the input" % old)
        sys.stdout.write(new)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
