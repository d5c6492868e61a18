#!/usr/bin/python3
"""funclen: no function in src/ longer than LIMIT lines (make lint).

A function's length is its body's lines, from the opening brace to the
closing one (both at column 0, as KNF writes them).  A function that
truly cannot be split, or one another change is splitting, is named in
tools/funclen-allow.txt ("file.c function  # why"); a name there that is
no longer over the limit fails too, so the list only shrinks.

  tools/funclen.py [--limit N] [--all] [src/*.c ...]
"""
import os
import re
import sys

LIMIT = 80
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOW = os.path.join(ROOT, "tools", "funclen-allow.txt")
NAME = re.compile(r"^(?:[A-Za-z_][\w \t\*]*?[\s\*])?([A-Za-z_]\w*)\s*\(")


def functions(path):
    """(name, first line, length) of each function defined in path."""
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("{"):
            name = None
            # the name: the nearest line above starting at column 0 with
            # an identifier followed by '(' (KNF: the return type above it)
            for j in range(i - 1, max(-1, i - 12), -1):
                m = NAME.match(lines[j])
                if m and not lines[j][:1].isspace():
                    name = m.group(1)
                    break
            k = i + 1
            while k < len(lines) and not lines[k].startswith("}"):
                k += 1
            if name:
                out.append((name, i + 1, k - i + 1))
            i = k
        i += 1
    return out


def allowlist():
    allow = {}
    if os.path.exists(ALLOW):
        for line in open(ALLOW):
            text = line.split("#", 1)[0].split()
            if len(text) == 2:
                allow[(text[0], text[1])] = line.strip()
    return allow


def main(argv):
    limit, show_all, files = LIMIT, False, []
    args = iter(argv)
    for a in args:
        if a == "--limit":
            limit = int(next(args))
        elif a == "--all":
            show_all = True
        else:
            files.append(a)
    if not files:
        src = os.path.join(ROOT, "src")
        files = sorted(os.path.join(src, f) for f in os.listdir(src)
                       if f.endswith(".c"))
    allow, bad, long_ = allowlist(), 0, []
    for path in files:
        base = os.path.basename(path)
        for name, line, n in functions(path):
            if n > limit or show_all:
                long_.append((n, base, name, line))
    long_.sort(reverse=True)
    over = set()
    for n, base, name, line in long_:
        if n <= limit:
            print("%4d %s:%d %s" % (n, base, line, name))
            continue
        over.add((base, name))
        allowed = (base, name) in allow
        if show_all or not allowed:
            print("%4d %s:%d %s%s" % (n, base, line, name,
                                      " (allowed)" if allowed else ""))
        if not allowed:
            bad += 1
    stale = [k for k in allow if k not in over and
             any(os.path.basename(f) == k[0] for f in files)]
    for base, name in sorted(stale):
        print("funclen: %s %s is in %s but not over %d lines: remove it"
              % (base, name, os.path.relpath(ALLOW, ROOT), limit))
    if bad:
        print("funclen: %d function%s over %d lines: split %s into named "
              "steps" % (bad, "" if bad == 1 else "s", limit,
                         "it" if bad == 1 else "them"))
    return 1 if bad or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
