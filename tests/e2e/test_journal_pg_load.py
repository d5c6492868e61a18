"""libpq is loaded at run time, and only for a PostgreSQL journal (src/pq.c):
a SQLite journal's process never maps it (the loader's own report,
LD_DEBUG=libs, on stderr); a PostgreSQL journal loads it and works; and a
libpq that cannot be loaded is one error line naming it, exit 74, with
nothing sent."""
import os
import subprocess

import pytest

from conftest import PG, PG_PASSWORD, pg_database, pg_psql

needs_pg = pytest.mark.skipif(
    not PG, reason="AGCOD_TEST_PG is unset (tests/pg/pg-run sets it)")

# a preloaded dlopen that hides libpq: it asks the real dlopen for a
# library that is not there, so the error is the loader's own
HIDE_LIBPQ = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

void *
dlopen(const char *name, int flags)
{
	void *(*real)(const char *, int) =
	    (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");

	if (name && strstr(name, "libpq"))
		name = "libpq-hidden-by-the-test.so.5";
	return real(name, flags);
}
"""


@pytest.fixture
def hide_libpq(tmp_path):
    src = tmp_path / "hide_libpq.c"
    so = tmp_path / "hide_libpq.so"
    src.write_text(HIDE_LIBPQ)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)],
                   check=True, timeout=60)
    # an ASan build's runtime wants to be first; the shim goes before it
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": str(so),
            "ASAN_OPTIONS": (asan + ":" if asan else "") +
            "verify_asan_link_order=0"}


def loaded(err):
    """the libraries the loader opened, from LD_DEBUG=libs"""
    return [l.split("file=", 1)[1].split()[0] for l in err.splitlines()
            if "calling init: " not in l and " file=" in l]


def test_a_sqlite_journal_never_loads_libpq(agcod, emu):
    r = agcod("create", "--amount", "1",
              env={"AGCOD_JOURNAL": None, "LD_DEBUG": "libs"})
    assert r.rc == 0, r
    libs = loaded(r.err)
    assert any("libcurl" in l for l in libs), r.err    # the report is there
    assert not [l for l in libs if "libpq" in l], libs
    assert len(emu.requests()) == 1


@needs_pg
def test_a_postgresql_journal_loads_libpq_and_works(agcod, emu):
    name, uri = pg_database()
    try:
        env = {"AGCOD_JOURNAL": uri, "LD_DEBUG": "libs"}
        if PG_PASSWORD:
            env["PGPASSWORD"] = PG_PASSWORD
        r = agcod("create", "--amount", "1", env=env)
        assert r.rc == 0, r
        assert [l for l in loaded(r.err) if "libpq.so.5" in l], r.err
        assert len(emu.requests()) == 1
    finally:
        pg_psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_libpq_that_cannot_be_loaded_stops_before_sending(agcod, emu,
                                                           hide_libpq):
    env = dict(hide_libpq, AGCOD_JOURNAL="postgresql:///agcod?host=/nowhere")
    r = agcod("create", "--amount", "1", env=env)
    assert r.rc == 74, r
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert "the PostgreSQL journal needs libpq (Debian: libpq5): " \
        "libpq-hidden-by-the-test.so.5: cannot open shared object file" \
        in r.err, r.err
    assert "nothing was sent" in r.err
    assert r.out == ""
    assert emu.requests() == []


def test_config_list_says_libpq_cannot_be_loaded(agcod, hide_libpq):
    """where the journal is cannot be read without libpq: said so, not
    called a string libpq does not read"""
    env = dict(hide_libpq, AGCOD_JOURNAL="postgresql:///agcod?host=/nowhere")
    r = agcod("config", "list", "-o", "json", env=env)
    assert r.rc == 0, r
    assert r.json()["journal"]["value"] == "(libpq cannot be loaded)", r
