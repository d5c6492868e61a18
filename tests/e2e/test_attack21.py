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


@pytest.mark.parametrize("uri,secret", [
    ("postgresql://agcod:Pa55wSecret@db.example/agcod?nosuchkey=1",
     "Pa55wSecret"),
    ("host=/tmp/none dbname=agcod password=Pa55w Secret-Tail",
     "Secret-Tail"),
])
def test_a_profile_whose_journal_libpq_cannot_read_is_held_private(
        agcod, emu, certs, uri, secret):
    """a journal string libpq cannot read may still hold a password: the
    profile file is held to mode 600 as if it did (it was let through,
    readable by all, with only the parse error said)"""
    agcod.env.pop("AGCOD_JOURNAL", None)
    from conftest import SECRET
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=certs[0],
                       journal=uri, secret_access_key=None, mode=0o644)
    r = agcod("create", "--amount", "1",
              env={"AGCOD_SECRET_ACCESS_KEY": SECRET})
    assert r.rc == 78 and "chmod 600" in r.err, r
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
    from conftest import PG_PASSWORD
    from test_journal_move import sql
    a = agcod
    a.env.pop("AGCOD_JOURNAL", None)
    a.pg = None
    if PG_PASSWORD:     # pg-run's cluster: the copy's target needs it
        a.env["PGPASSWORD"] = PG_PASSWORD
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


def killed_once(uri, table):
    """the first INSERT into table ends its own session (a reset, a
    failover), before anything is committed; the next ones go through"""
    from test_journal_pg import sql
    sql(uri, "CREATE SEQUENCE killed; CREATE FUNCTION die() RETURNS "
        "trigger AS $$ BEGIN IF nextval('killed') = 1 THEN PERFORM "
        "pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END "
        f"$$ LANGUAGE plpgsql; CREATE TRIGGER die BEFORE INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION die()")


@needs_pg
def test_a_session_lost_before_the_pending_commit_is_tried_on_a_new_one(
        agcod, emu, pgdb):
    """nothing was committed (the server rolled the transaction back with
    the session) and nothing sent: the record is written on a new
    session and the request goes, rather than a 75 for a request that
    never left"""
    from test_journal_pg import on, sql
    assert agcod("create", "--amount", "1", env=on(pgdb)).rc == 0
    killed_once(pgdb, "requests")
    rid = "Acme1KilledBefore"
    r = agcod("create", "--amount", "2", "--request-id", rid, "-o", "json",
              env=on(pgdb))
    assert r.rc == 0, r
    assert r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert sql(pgdb, "SELECT nextval('killed')") == "3"
    assert sql(pgdb, "SELECT state || ' ' || open FROM requests WHERE "
               f"request_id = '{rid}'") == "succeeded 0"
    assert emu.state.creates == 2


@needs_pg
def test_history_with_nothing_to_show_names_the_database_it_read(
        agcod, emu, pgdb):
    """with the journal in PostgreSQL, not the state directory's"""
    from test_journal_pg import on
    assert agcod("create", "--amount", "1", env=on(pgdb)).rc == 0
    r = agcod("history", "--request-id", "Acme1NoSuch", env=on(pgdb))
    assert r.rc == 0, r
    assert "no matching journal entries" in r.err, r
    assert str(agcod.state) not in r.err, r
    assert "postgresql://" in r.err, r


@needs_pg
def test_two_partners_batches_of_one_name_do_not_lock_each_other(
        agcod, emu, certs, pgdb, tmp_path):
    """several partners share one database: the batch lock is one
    partner's and environment's, as the batch's request ids are"""
    from conftest import Agcod
    from test_journal_pg import on
    other = tmp_path / "partner-b"
    other.mkdir()
    b = Agcod(other, emu, certs)
    b.write_config(endpoint=emu.endpoint, ca_bundle=certs[0],
                   partner_id="Zeta9")
    mine = tmp_path / "a"
    mine.mkdir()
    f = mine / "orders.csv"
    f.write_text("amount\n1\n")
    theirs = other / "orders.csv"
    theirs.write_text("amount\n2\n")
    seen = []

    def hook(entry):
        emu.on_request = None
        seen.append(b("batch", "create", str(theirs), env=on(pgdb)))
    emu.on_request = hook
    r = agcod("batch", "create", str(f), env=on(pgdb))
    emu.on_request = None
    assert r.rc == 0, r
    assert seen and "being run by another agcod process" not in seen[0].err, \
        seen


def test_a_long_uri_password_in_a_string_libpq_cannot_read_is_not_printed(
        agcod, emu):
    """a token as long as a cloud's IAM one (hundreds of characters)"""
    secret = "Tok" + "x9" * 400
    uri = f"postgresql://agcod:{secret}@[::1/agcod"
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 78, r
    assert "not one libpq reads" in r.err
    assert "x9x9x9" not in r.err + r.out
    assert emu.requests() == []


def test_a_password_with_an_unencoded_at_sign_is_not_printed_as_host(
        agcod, emu):
    """user:Pa55@Secret-Tail@host: libpq ends the password at the first
    '@', so the rest of it reads as the host, which a message names"""
    uri = "postgresql://agcod:Pa55@Secret-Tail@localhost/agcod"
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc in (74, 78), r
    assert "Secret-Tail" not in r.err + r.out
    assert emu.requests() == []


def test_a_password_with_an_unencoded_at_sign_is_not_in_libpqs_reason(
        agcod, emu):
    """with sslmode=verify-full the host is tried, and libpq's reason
    quotes it: the password's rest before the host's last '@'"""
    uri = ("postgresql://agcod:Pa55@Secret-Tail@db.invalid/agcod"
           "?sslmode=verify-full")
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 74, r
    assert "db.invalid" in r.err
    assert "Secret-Tail" not in r.err + r.out
    assert emu.requests() == []
