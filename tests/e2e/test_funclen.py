"""tools/funclen.py (make lint): no function in src/ over 80 lines."""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "tools", "funclen.py")


def funclen(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def c_function(name, body_lines):
    """a KNF function whose body, braces included, is body_lines long"""
    return ("static int\n%s(int a,\n    int b)\n{\n" % name +
            "\ta += b;\n" * (body_lines - 3) + "\treturn a;\n}\n")


def test_a_function_over_80_lines_fails_and_is_named(tmp_path):
    f = tmp_path / "long.c"
    f.write_text("/* x */\n" + c_function("short_one", 80) + "\n" +
                 c_function("long_one", 81))
    r = funclen(f)
    assert r.returncode == 1, r
    assert "81 long.c:" in r.stdout and "long_one" in r.stdout, r
    assert "short_one" not in r.stdout, r
    assert "1 function over 80 lines" in r.stdout, r


def test_every_function_within_the_limit_passes(tmp_path):
    f = tmp_path / "fine.c"
    f.write_text(c_function("a", 80) + c_function("b", 3))
    r = funclen(f)
    assert r.returncode == 0 and r.stdout == "", r
    assert funclen("--limit", 79, f).returncode == 1


def test_the_tree_passes_and_its_allowlist_is_not_stale():
    r = funclen()
    assert r.returncode == 0, r.stdout
