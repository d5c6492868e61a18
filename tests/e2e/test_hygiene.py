"""Secret hygiene: every command runs with a known secret; every byte agcod
writes (stdout, stderr, state directory, traces) is searched for it, for the
signing keys derived from it, and for claim codes outside the stdout of the
command that obtained them."""
import datetime
import os
import re
import stat
import subprocess
import sys

import sigv4ref
from conftest import ROOT, SECRET, pg_sql


def derived_keys():
    today = datetime.datetime.now(datetime.timezone.utc)
    return [sigv4ref.signing_key(SECRET, (today + datetime.timedelta(days=d)).strftime("%Y%m%d"),
                                 "us-east-1", "AGCODService").hex() for d in (-1, 0, 1)]


def test_every_command_keeps_secrets(agcod, emu, tmp_path):
    trace = tmp_path / "all.trace"
    csv = tmp_path / "b.csv"
    csv.write_text("amount\n1\n2\n")
    raw = tmp_path / "raw.req"
    raw.write_text("POST /GetAvailableFunds HTTP/1.1\nhost: h\nx-amz-date: 20240101T000000Z\n\n{}")
    card = "1400000005567585358"
    runs, codes = [], []

    def run(*args):
        r = agcod("-v", "--trace", trace, *args, "-o", "json")
        runs.append((args, r))
        return r

    c = run("create", "--amount", "19.99")
    codes.append(c.json()["gcClaimCode"])
    run("cancel", "--request-id", c.json()["creationRequestId"])
    run("funds")
    ld = run("load", "--amount", "3", "--account-id", "amz1.account.A")
    run("void", "--request-id", ld.json()["loadBalanceRequestId"])
    a = run("activate", "--card-number", card, "--amount", "5")
    run("activation-status", "--card-number", card)
    run("deactivate", "--card-number", card, "--request-id", a.json()["activationRequestId"])
    run("sign-debug", "create", "--amount", "1", "--date", "20240101T000000Z")
    s = run("sign-debug", "create", "--amount", "2", "--send")
    run("sign-debug", "--request", raw)
    b = run("batch", "create", csv)
    codes += [row["gcClaimCode"] for row in b.jsonl()]
    emu.fault("drop", count=1, op="CreateGiftCard")
    run("--retry-for", "0", "create", "--amount", "4")
    rec = run("reconcile")
    codes.append(rec.json()["gcClaimCode"])
    run("history")
    run("support-draft", "--request-id", rec.json()["creationRequestId"])
    run("create", "--amount", "1", "--request-id", "F3003")
    run("support-draft")

    forbidden = [SECRET] + derived_keys()
    for args, r in runs:
        for f in forbidden:
            assert f not in r.out and f not in r.err, (args, f)
        for code in codes:
            assert code not in r.err, (args, code)
    # claim codes: only on the stdout of create, batch and reconcile
    for args, r in runs:
        if args[0] not in ("create", "batch", "reconcile", "--retry-for"):
            for code in codes:
                assert code not in r.out, (args, code)
    written = [trace] + [p for p in agcod.state.rglob("*") if p.is_file()]
    if agcod.pg:
        # the journal is the database's: every row of it, as text
        rows = pg_sql(agcod.pg, "SELECT t::text FROM requests t UNION ALL "
                      "SELECT t::text FROM objects t UNION ALL "
                      "SELECT t::text FROM pruned t")
        assert rows.count("\n") >= 10
        for f in forbidden + codes:
            assert f not in rows, ("journal", f)
    # the trace, failures.trace, and on SQLite journal.db and the
    # rate-limit file (on PostgreSQL the database keeps both)
    assert len(written) >= (2 if agcod.pg else 4)
    for p in written:
        data = p.read_bytes()
        for f in forbidden + codes:
            assert f.encode() not in data, (p, f)
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert "[REDACTED]" in trace.read_text()
    assert s.rc == 0


def test_secret_command_gets_no_extra_descriptors_and_no_core(agcod, emu, tmp_path):
    out = tmp_path / "fds"
    script = tmp_path / "secret.sh"
    script.write_text(f"#!/bin/sh\nls /proc/$$/fd > {out}\n"
                      f"grep 'core file' /proc/$PPID/limits >> {out}\n"
                      f"echo '{SECRET}'\n")
    script.chmod(0o700)
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, secret_access_key=None,
                       secret_access_key_command=str(script))
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    lines = out.read_text().split("\n")
    fds = sorted(int(x) for x in lines if x.strip().isdigit())
    assert [f for f in fds if f < 10] == [0, 1, 2], fds   # sh keeps its own at 10+
    core = [l for l in lines if "core file" in l][0].split()
    assert core[4] == "0" and core[5] == "0", core       # soft and hard limit 0


# ---- make check itself (issue 19): a skip fails it, and it leaves no
# temporary directory behind

def run_pytest(tmp_path, env_extra):
    lib = os.path.join(ROOT, "tests", "lib")
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {lib!r})\n"
        "from noskip import pytest_configure, pytest_runtest_makereport\n")
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\n"
        "def test_needs_a_tool():\n    pytest.skip('no such tool')\n\n"
        "@pytest.mark.allow_skip\n"
        "def test_needs_root():\n    pytest.skip('needs root')\n")
    env = {k: v for k, v in os.environ.items() if k != "AGCOD_NO_SKIP"}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'base'}", str(tmp_path / "test_probe.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_skip_fails_under_make_check(tmp_path):
    p = run_pytest(tmp_path, {"AGCOD_NO_SKIP": "1"})
    assert p.returncode == 1, p.stdout + p.stderr
    assert "1 failed, 1 skipped" in p.stdout, p.stdout
    assert "make check allows no skip" in p.stdout and "no such tool" in p.stdout
    p = run_pytest(tmp_path, {})
    assert p.returncode == 0 and "2 skipped" in p.stdout, p.stdout


def read_makefile():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return f.read()


def test_make_check_runs_in_one_temporary_directory_and_allows_no_skip():
    mk = read_makefile()
    check = re.search(r"^check: deps\n((?:\t.*\n)+)", mk, re.M).group(1)
    assert "mktemp -d" in check and "rm -rf" in check, check
    assert "TMPDIR=" in check and "AGCOD_NO_SKIP=1" in check, check
    deb_pkgs = re.search(r"^DEB_PKGS = ((?:.*\\\n)*.*)", mk, re.M).group(1)
    assert "gdb" in (deb_pkgs + " " + " ".join(re.findall(r"^DEB_PKGS \+= (.*)", mk, re.M))).split()
    test = re.search(r"^test: .*\n((?:\t.*\n)+)", mk, re.M).group(1)
    assert "-rs" in test, test


def test_make_test_leaves_nothing_in_tmpdir(tmp_path):
    """the run's own directory under TMPDIR is removed: nothing is left
    there (the unit tests, mandoc and one e2e file, not the whole suite)"""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    p = subprocess.run(["make", "-s", "--no-print-directory", "test",
                        "E2E=tests/e2e/test_package.py"],
                       cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert os.listdir(tmp) == [], os.listdir(tmp)
