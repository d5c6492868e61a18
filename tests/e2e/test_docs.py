"""The man page, the completions and the README cover every command and
option in the binary's own tables."""
import os
import re
import subprocess
import sys

from conftest import AGCOD, ROOT

sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_completions as generate  # noqa: E402
import gen_man_synopsis  # noqa: E402


def listing():
    run = lambda *a: subprocess.run([AGCOD, *a], capture_output=True, text=True,
                                    check=True).stdout.split()
    cmds = run("--list-commands")
    return cmds, {c: run("--list-options", c) for c in cmds}


def test_completions_match_the_command_table():
    for name, text in generate.generate(AGCOD).items():
        with open(os.path.join(ROOT, "completions", name)) as f:
            assert f.read() == text, f"completions/{name} is stale: run 'make completions'"


def test_man_synopsis_of_the_operations_is_the_generated_one():
    """as curl's docs: the operations' SYNOPSIS lines of agcod.1 are what
    the binary generates from its option table, byte for byte"""
    with open(MAN) as f:
        page = f.read()
    assert gen_man_synopsis.generate(AGCOD, page) == page, \
        "man/agcod.1's SYNOPSIS is stale: run 'make man-synopsis'"


def test_man_page_covers_commands_and_options():
    man = open(os.path.join(ROOT, "man", "agcod.1")).read()
    cmds, opts = listing()
    for c in cmds:
        assert re.search(rf"^\.Cm {re.escape(c)}\b", man, re.M), c
        for o in opts[c]:
            # ".Fl -amount" or ".It Fl p , -profile" both render --name
            assert re.search(rf"(Fl -|, -){re.escape(o[2:])}\b", man), (c, o)


def test_readme_mentions_every_command():
    readme = open(os.path.join(ROOT, "README.md")).read()
    cmds, _ = listing()
    for c in cmds:
        assert f"agcod {c}" in readme or f"`{c}`" in readme, c


def test_config_example_documents_every_key():
    text = open(os.path.join(ROOT, "config.example.ini")).read()
    man5 = open(os.path.join(ROOT, "man", "agcod.ini.5")).read()
    keys = re.findall(r"^\.It Cm ([a-z_]+)$", man5, re.M)
    assert len(keys) == 15
    for k in keys:
        assert re.search(rf"^[#;]? *{k}\s*=", text, re.M), k


# ---- --help and the man page say the same ----

MAN = os.path.join(ROOT, "man", "agcod.1")


def render(fmt="ascii"):
    text = subprocess.run(["mandoc", f"-T{fmt}", MAN], capture_output=True,
                          text=True, check=True).stdout
    return re.sub(r".\x08", "", text)    # overstrike bold and underline


def man_synopses():
    """every SYNOPSIS line of the rendered man page, without 'agcod '"""
    text = render()
    syn = text[text.index("\nSYNOPSIS\n") + 10:text.index("\nDESCRIPTION\n")]
    entries = []
    for line in syn.splitlines():
        if line.strip().startswith("agcod "):
            entries.append(line.strip()[6:])
        elif line.strip():
            entries[-1] += " " + line.strip()
    return [" ".join(e.replace("[global options] ", "").split()) for e in entries]


def help_synopses(c):
    out = subprocess.run([AGCOD, "help", c], capture_output=True, text=True,
                         check=True).stdout
    lines = out.split("\n\n")[0].splitlines()
    assert lines[0].startswith("usage: agcod ")
    return [" ".join(l.strip().removeprefix("usage: ").removeprefix("agcod ").split())
            for l in lines]


def help_options(args):
    """the left column of a --help option list: '-p, --profile NAME'"""
    out = subprocess.run([AGCOD, *args], capture_output=True, text=True,
                         check=True).stdout
    return [re.split(r"\s{2,}", l.strip())[0] for l in out.splitlines()
            if re.match(r"^  (-\w, |    )--", l)]


def test_help_synopsis_is_the_man_synopsis():
    man = man_synopses()
    cmds, _ = listing()
    for c in cmds:
        helped = help_synopses(c)
        first = [m for m in man if m.split()[0] == c]
        assert helped == first, (c, helped, first)


def test_help_options_are_the_man_synopsis_options():
    man = man_synopses()
    cmds, _ = listing()
    globals_ = set(help_options(["--help"]))
    for c in cmds:
        text = " ".join(m for m in man if m.split()[0] == c)
        for o in help_options(["help", c]):
            if o in globals_ or c == "sign-debug" and o not in text:
                continue    # sign-debug's operation options: the operation's
            assert o in text, (c, o, text)


def mdoc_tag(line):
    """'.It Fl p , -profile Ar NAME' -> '-p, --profile NAME'"""
    out, flag = [], False
    for tok in line.split()[1:]:
        if tok == "Fl":
            flag = True
        elif tok in ("Ar", "Cm"):
            flag = False
        elif tok == ",":
            out[-1] += ","
        else:
            out.append(("-" if flag else "") + tok)
    return " ".join(out).replace(" | ", "|")


def test_global_options_are_the_man_options():
    src = open(MAN).read()
    sect = src[src.index("\n.Sh OPTIONS\n"):]
    sect = sect[:sect.index("\n.El\n")]
    man = [mdoc_tag(l) for l in sect.splitlines() if l.startswith(".It Fl")]
    assert sorted(help_options(["--help"])) == sorted(man)


def test_man_page_quotes_are_never_nested():
    depth = 0
    for n, line in enumerate(render("utf8").splitlines()):
        for ch in line:
            depth += {"\u2018": 1, "\u2019": -1}.get(ch, 0)
            assert 0 <= depth <= 1, (n, line)
    assert depth == 0


def test_readme_source_layout_names_every_source_file():
    readme = open(os.path.join(ROOT, "README.md")).read()
    sect = readme[readme.index("\n## Source layout\n"):]
    sect = sect[:sect.find("\n## ", 1)] if "\n## " in sect[1:] else sect
    table = "\n".join(l for l in sect.splitlines() if l.startswith("| `"))
    named = set(re.findall(r"`([\w-]+\.c)`", table))
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "src")) if f.endswith(".c"))
    assert [f for f in files if f not in named] == []
    assert sorted(f for f in named if f not in files) == []


def _opts(line):
    """The options an mdoc line names: 'Fl -amount' is '--amount', 'Fl o'
    '-o', and '| -requests' after a flag '--requests'."""
    return ({"-" + o for o in re.findall(r"Fl (-[a-z][a-z-]*)", line)} |
            {"-" + o for o in re.findall(r"Fl ([a-zA-Z])\b", line)} |
            {"-" + o for o in re.findall(r"\| (-[a-z][a-z-]*)", line)})


def _man_synopses(man):
    """agcod.1's SYNOPSIS: each command's options, over all its blocks."""
    syn = man[man.index(".Sh SYNOPSIS"):man.index(".Sh DESCRIPTION")]
    blocks, cur = {}, None
    for line in syn.splitlines():
        if line == ".Nm":
            cur = None
            continue
        m = re.match(r"\.Cm (\S+)", line)
        if m and cur is None:
            cur = m.group(1)
            blocks.setdefault(cur, set())
        elif cur:
            blocks[cur] |= _opts(line)
    return blocks


def _usage():
    out = subprocess.run([AGCOD, "--list-table"], capture_output=True,
                         text=True, check=True).stdout
    usage = {}
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "usage":
            usage.setdefault(f[1], set()).update(
                re.findall(r"--[a-z][a-z-]*|-[a-zA-Z]\b", f[2]))
    return usage


def test_synopses_name_the_options_the_command_takes():
    """As git's t0450, both ways: each command's SYNOPSIS in agcod.1 names
    the options of its --help synopsis, no more and no fewer; that synopsis
    names every option of the command's own in the option table (the global
    ones and sign-debug's borrowed operation options aside) and none the
    command does not take."""
    man = open(os.path.join(ROOT, "man", "agcod.1")).read()
    blocks = _man_synopses(man)
    usage = _usage()
    cmds, opts = listing()
    glob = set.intersection(*(set(o) for o in opts.values())) | {"-o"}
    for c in cmds:
        assert c in blocks, f"agcod.1's SYNOPSIS has no '{c}'"
        got = blocks[c]
        want = usage.get(c, set())
        assert got == want, (c, "man only:", got - want, "binary only:",
                             want - got)
        takes = set(opts[c]) | {"-o"}
        assert want <= takes, (c, "synopsis names what it does not take",
                               want - takes)
        if c == "sign-debug":
            continue
        own = set(opts[c]) - glob
        assert own <= want, (c, "takes but its synopsis omits", own - want)
