"""libpq is loaded (dlopen) only when a PostgreSQL journal is configured
(AGCOD_JOURNAL): a run on the SQLite journal does not map it, a run on
PostgreSQL does, and a libpq that cannot be loaded is one clear error,
with nothing sent.  The loader's own trace (LD_DEBUG=files) tells which
libraries a run loaded."""
import os
import uuid
from urllib.parse import urlsplit

import pytest

from conftest import STORE, pg_psql, pg_rows, pg_sql

PG = os.environ.get("AGCOD_TEST_PG")
PW = os.environ.get("AGCOD_TEST_PG_PASSWORD")


def loaded(stderr):
    """the libraries the dynamic loader opened, by file name"""
    return {line.split("file=", 1)[1].split()[0].rstrip(";")
            for line in stderr.splitlines() if "file=" in line}


@pytest.mark.skipif(STORE == "postgresql", reason="the SQLite journal's run")
def test_the_sqlite_journal_does_not_load_libpq(agcod, emu):
    r = agcod("create", "--amount", "1", env={"LD_DEBUG": "files"})
    assert r.rc == 0, r
    libs = loaded(r.err)
    assert any(n.startswith("libsqlite3.so") for n in libs), libs
    assert not any(n.startswith("libpq.so") for n in libs), libs
    assert agcod.journal()[-1]["state"] == "succeeded"


def database():
    """a database of its own on AGCOD_TEST_PG (which may name no host)"""
    name = "agcod_t_" + uuid.uuid4().hex[:12]
    pg_sql(PG, f"CREATE DATABASE {name}")
    u = urlsplit(PG)
    return name, f"{u.scheme}://{u.netloc}/{name}" + (
        "?" + u.query if u.query else "")


@pytest.mark.skipif(not PG, reason="AGCOD_TEST_PG is unset")
def test_a_postgresql_journal_loads_libpq_and_records(agcod, emu):
    name, uri = (None, agcod.pg) if agcod.pg else database()
    try:
        env = {"LD_DEBUG": "files", "AGCOD_JOURNAL": uri}
        if PW:
            env["PGPASSWORD"] = PW
        r = agcod("create", "--amount", "1", env=env)
        assert r.rc == 0, [l for l in r.err.splitlines() if "agcod:" in l]
        assert any(n.startswith("libpq.so") for n in loaded(r.err))
        assert pg_rows(uri)[-1]["state"] == "succeeded"
    finally:
        if name:
            pg_psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_libpq_that_cannot_be_loaded_sends_nothing(agcod, emu, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "libpq.so.5").write_bytes(b"not a shared library\n")
    r = agcod("create", "--amount", "1", env={
        "AGCOD_JOURNAL": "postgresql:///agcod?host=/nonexistent",
        "LD_LIBRARY_PATH": str(lib)})
    assert r.rc == 74, r
    assert "PostgreSQL's client library (libpq.so.5) cannot be loaded" in r.err
    assert "install libpq5" in r.err
    assert "nothing was sent" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert emu.requests() == []
