"""The man page, the completions and the README cover every command and
option in the binary's own tables."""
import os
import re
import subprocess
import sys

from conftest import AGCOD, ROOT

sys.path.insert(0, os.path.join(ROOT, "tests"))
import gen_completions as generate  # noqa: E402


def listing():
    run = lambda *a: subprocess.run([AGCOD, *a], capture_output=True, text=True,
                                    check=True).stdout.split()
    cmds = run("--list-commands")
    return cmds, {c: run("--list-options", c) for c in cmds}


def test_completions_match_the_command_table():
    for name, text in generate.generate(AGCOD).items():
        with open(os.path.join(ROOT, "completions", name)) as f:
            assert f.read() == text, f"completions/{name} is stale: run 'make completions'"


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
    assert len(keys) == 13
    for k in keys:
        assert re.search(rf"^[#;]? *{k}\s*=", text, re.M), k
