"""What the README, the man pages and the Debian package say about the
package itself agrees with what is built (issue 19 item 11)."""
import glob
import os
import re
import subprocess

from conftest import AGCOD, ROOT


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


def needed():
    """the shared libraries the built binary links"""
    binary = os.environ.get("AGCOD_BINARY", AGCOD)
    out = subprocess.run(["objdump", "-p", binary], capture_output=True,
                         text=True, check=True).stdout
    return [lib for lib in re.findall(r"NEEDED\s+(\S+)", out)
            if not lib.startswith(("libc.so", "ld-linux", "libasan",
                                   "libubsan", "libm.so", "libgcc_s",
                                   "libstdc++"))]


def package_of(lib):
    """the Debian package of a shared library (libfoo.so.N or -lfoo)"""
    if lib.startswith("-l"):        # -lfoo's shared library, libfoo.so.N
        found = sorted(glob.glob(f"/usr/lib/*/lib{lib[2:]}.so.[0-9]*"))
        if not found:
            return None
        lib = os.path.basename(found[0])
    s = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True,
                       text=True)
    return s.stdout.split(":")[0] if s.returncode == 0 else None


def bundled():
    """the libraries make links from their static archives (-lfoo)"""
    out = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT,
                          "print-bundled"], capture_output=True, text=True,
                         check=True).stdout
    return out.split()


def needed_packages():
    """the Debian packages of the libraries agcod links, shared or from
    their static archives: what the package (linked all shared) Depends on"""
    pkgs = {package_of(lib) for lib in needed() + bundled()}
    pkgs.discard(None)
    pkgs.discard("libmd0")          # libbsd0's own dependency
    return pkgs


def test_only_the_network_facing_libraries_are_shared():
    """SQLite, Jansson, libbsd and mbedTLS come from their static archives
    (loading them cost more instructions than curl's whole request);
    libcurl and OpenSSL stay shared, updated with the system (libpq is
    loaded at run time, for a PostgreSQL journal only)"""
    libs = needed()
    for lib in ("libsqlite3", "libjansson", "libbsd", "libmd",
                "libmbedcrypto"):
        assert not any(n.startswith(lib + ".") for n in libs), libs
    assert any(n.startswith("libcurl.") for n in libs), libs
    assert set(bundled()) >= {"-lsqlite3", "-ljansson", "-lbsd",
                              "-lmbedcrypto"}, bundled()


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


def test_the_benchmarks_build(tmp_path):
    """make bench compiles its C helpers from today's sources: a source
    file the journal gained (pq.c) broke bench/journal.py unnoticed"""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import journal
    import run
    journal.build(str(tmp_path / "journal-bench"))
    run.build_signing(str(tmp_path / "sign-bench"), ROOT)
    assert os.access(tmp_path / "journal-bench", os.X_OK)
    assert os.access(tmp_path / "sign-bench", os.X_OK)
