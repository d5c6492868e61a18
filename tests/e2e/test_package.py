"""What the README, the man pages and the Debian package say about the
package itself agrees with what is built (issue 19 item 11)."""
import os
import re
import subprocess

from conftest import AGCOD, ROOT


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


def needed_packages():
    """the Debian packages of the libraries the built binary links"""
    binary = os.environ.get("AGCOD_BINARY", AGCOD)
    out = subprocess.run(["objdump", "-p", binary], capture_output=True,
                         text=True, check=True).stdout
    pkgs = set()
    for lib in re.findall(r"NEEDED\s+(\S+)", out):
        if lib.startswith(("libc.so", "ld-linux", "libasan", "libubsan",
                           "libm.so", "libgcc_s", "libstdc++")):
            continue
        s = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True,
                           text=True)
        if s.returncode == 0:
            pkgs.add(s.stdout.split(":")[0])
    return pkgs


def test_readme_names_the_depends_the_binary_has():
    text = " ".join(read("README.md").split())
    m = re.search(r"The package's `Depends` come from the libraries agcod "
                  r"links \(([^)]*)\)", text)
    assert m, "README: the Depends sentence"
    named = {p.strip() for p in m.group(1).split(",")}
    assert "libinih1" not in named
    assert named == needed_packages(), (named, needed_packages())


def test_package_recommends_bash_completion():
    control = read("debian", "control")
    rec = re.search(r"^Recommends:(.*(?:\n .*)*)", control, re.M).group(1)
    assert "bash-completion" in rec, rec


def test_man_pages_carry_no_internal_notes():
    for page in ("agcod.1", "agcod.ini.5", "agcod-journal.5"):
        text = read("man", page)
        assert not re.search(r"open question \d", text), page
        assert "agcod-api.md" not in text, page
