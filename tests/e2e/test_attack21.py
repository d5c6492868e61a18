"""Attacks on the PostgreSQL journal (issue 21) that found defects: a
host name that only looks like loopback, and a password inside a
connection string libpq cannot read."""
import pytest

from conftest import PG

needs_pg = pytest.mark.skipif(
    not PG, reason="AGCOD_TEST_PG is unset (tests/pg/pg-run sets it)")


@pytest.mark.parametrize("uri", [
    "host=127.attacker.example dbname=agcod",
    "postgresql://agcod@127.0.0.1.attacker.example/agcod",
])
def test_a_host_name_that_begins_like_loopback_needs_verify_full(
        agcod, emu, uri):
    """127.x.example is a name DNS resolves anywhere, not 127.0.0.0/8"""
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 78, r
    assert "is not on this machine: add sslmode=verify-full" in r.err
    assert emu.requests() == []


@pytest.mark.parametrize("uri,secret", [
    ("postgresql:///agcod?host=/tmp/none&password=Pa55w%zzSecret",
     "Pa55w"),
    ("host=/tmp/none dbname=agcod password=Pa55w Secret-Tail",
     "Secret-Tail"),
])
def test_a_password_in_a_string_libpq_cannot_read_is_not_printed(
        agcod, emu, uri, secret):
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 78, r
    assert "not one libpq reads" in r.err
    assert secret not in r.err + r.out
    assert emu.requests() == []


# ---- journal copy: a record the target has, changed since ----

@pytest.fixture
def pgdb():
    from test_journal_move import newdb, psql, PG
    name, uri = newdb()
    yield uri
    psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@needs_pg
def test_a_card_cancelled_after_its_copy_is_not_left_issued(agcod, emu,
                                                            certs, pgdb):
    """copied while issued, cancelled in journal.db after: a second copy
    must not leave the shared journal saying the card is issued"""
    from test_journal_move import sql
    a = agcod
    a.env.pop("AGCOD_JOURNAL", None)
    a.pg = None
    card = a("create", "--amount", "2", "-o", "json")
    assert card.rc == 0, card
    rid = card.json()["creationRequestId"]
    assert a("journal", "copy", "--to", pgdb).rc == 0
    c = a("cancel", "--request-id", rid)
    assert c.rc == 0, c
    assert [o["state"] for o in a.objects()] == ["cancelled"]
    r = a("journal", "copy", "--to", pgdb)
    state = sql(pgdb, f"SELECT state FROM objects WHERE request_id = "
                f"'{rid}'")
    # either the copy brings the cancel over, or it refuses to say all is
    # copied; never a success that leaves the card issued there
    assert r.rc != 0 or state == "cancelled", (r, state)
    assert r.rc == 0 or (r.rc == 65 and "state" in r.err), r
