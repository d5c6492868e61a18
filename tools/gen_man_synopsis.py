#!/usr/bin/python3
"""Write the operations' lines of man/agcod.1's SYNOPSIS from agcod's own
synopses (agcod --list-table), which the binary generates from the option
table (src/options.h), so the man page cannot drift from the code.
tests/e2e/test_docs.py fails when the committed page differs from what this
script writes.

    /usr/bin/python3 tools/gen_man_synopsis.py ./agcod man/agcod.1

The generated lines follow the comment MARK after '.Sh SYNOPSIS' and end
where the first command that is not an operation begins.
"""
import subprocess
import sys

MARK = ('.\\" The operations\' lines are generated from the option table: '
        'make man-synopsis')


def synopses(agcod):
    """[(command, [synopsis line, ...])] of the operations, in table order"""
    out = subprocess.run([agcod, "--list-table"], capture_output=True,
                         text=True, check=True).stdout
    ops, usage = [], {}
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "command" and f[3] == "operation":
            ops.append(f[1])
        elif f[0] == "usage":
            usage.setdefault(f[1], []).append(f[2])
    return [(op, usage[op]) for op in ops]


def mdoc(line, first):
    """'create --amount A [--currency C]' as mdoc lines"""
    words = line.split()
    out = [".Nm"] + ([".Op Ar global options"] if first else [])
    out.append(".Cm " + words[0])
    i = 1
    while i < len(words):
        w, optional = words[i], words[i].startswith("[")
        name = w.strip("[]")
        arg = None
        if not w.endswith("]") and i + 1 < len(words) and \
                not words[i + 1].startswith(("-", "[")):
            i += 1
            arg = words[i].rstrip("]")
        item = "Fl " + name[1:] + (" Ar " + arg if arg else "")
        out.append((".Op " if optional else ".") + item)
        i += 1
    return out


def generate(agcod, page):
    lines = page.split("\n")
    start = lines.index(MARK) + 1
    ops = synopses(agcod)
    names = {op for op, _ in ops}
    end = start
    while end < len(lines):     # past every operation's block
        if lines[end] == ".Nm" and lines[end + 1].startswith(".Cm ") and \
                lines[end + 1].split()[1] not in names:
            break
        end += 1
    gen = []
    for op, syn in ops:
        for line in syn:
            gen += mdoc(line, not gen)
    return "\n".join(lines[:start] + gen + lines[end:])


def main():
    agcod, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        page = f.read()
    new = generate(agcod, page)
    if new != page:
        with open(path, "w") as f:
            f.write(new)


if __name__ == "__main__":
    main()
