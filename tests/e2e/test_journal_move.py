"""The PostgreSQL journal named in the profile (`journal =`, AGCOD_JOURNAL
overriding it) and `agcod journal copy --to`, which moves a journal.db into
PostgreSQL: idempotent, resumable, counted, refusing a conflicting record.
Against a real server: AGCOD_TEST_PG; each test gets a database of its own.
The journal.db side is the state directory's, so AGCOD_JOURNAL is unset."""
import os
import subprocess
import uuid
from urllib.parse import urlsplit

import pytest

from conftest import PG, PG_PASSWORD, pg_database, pg_psql, pg_sql

needs_pg = pytest.mark.skipif(
    not PG, reason="AGCOD_TEST_PG is unset (tests/pg/pg-run sets it)")
pytestmark = [needs_pg, pytest.mark.sqlite_file]


psql, sql = pg_psql, pg_sql


def newdb():
    """a database of its own (the conftest's, with a host-less URI too)"""
    name, uri = pg_database()
    u = urlsplit(PG)
    if not u.netloc:    # postgresql:///postgres?host=...: keep its query
        uri = f"{u.scheme}:///{name}" + (f"?{u.query}" if u.query else "")
    return name, uri


@pytest.fixture
def pgdb():
    name, uri = newdb()
    yield uri
    psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def local(agcod):
    """agcod with its journal in the state directory, whatever the store"""
    agcod.env.pop("AGCOD_JOURNAL", None)
    agcod.pg = None
    if PG_PASSWORD:
        agcod.env["PGPASSWORD"] = PG_PASSWORD
    return agcod


def profile(a, emu, certs, text_extra="", **keys):
    a.write_config(endpoint=emu.endpoint, ca_bundle=certs[0], **keys)
    if text_extra:
        with open(a.config, "a") as f:
            f.write(text_extra)


def count(uri, table="requests"):
    return int(sql(uri, f"SELECT count(*) FROM {table}"))


# ---- journal = in the profile ----

def test_profile_journal_key_selects_postgresql(local, emu, certs, pgdb):
    a = local
    profile(a, emu, certs, journal=pgdb)
    r = a("create", "--amount", "1", "-o", "json")
    assert r.rc == 0, r
    rid = r.json()["creationRequestId"]
    assert not (a.state / "journal.db").exists()
    assert sql(pgdb, "SELECT request_id || ' ' || state FROM requests") == \
        rid + " succeeded"
    # every command that reads the journal reads that one
    h = a("history", "-o", "json")
    assert h.rc == 0 and h.json()["request_id"] == rid, h
    ex = a("journal", "export", "--all-environments")
    assert ex.rc == 0 and [x["request_id"] for x in ex.jsonl()] == [rid], ex
    c = a("journal", "check")
    assert c.rc == 0 and "postgresql://" in c.err, c
    # AGCOD_JOURNAL overrides the profile's
    name, other = newdb()
    try:
        r = a("create", "--amount", "2", env={"AGCOD_JOURNAL": other})
        assert r.rc == 0, r
        assert count(other) == 1 and count(pgdb) == 1
    finally:
        psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_named_profile_picks_its_journal(local, emu, certs, pgdb):
    a = local
    profile(a, emu, certs, text_extra=f"[team]\njournal = {pgdb}\n")
    sql_ok = a("-p", "team", "journal", "export", "--all-environments")
    assert sql_ok.rc == 0 and sql_ok.out == "", sql_ok
    assert count(pgdb) == 0     # migrated: the team's database was opened
    assert a("create", "--amount", "1").rc == 0
    assert count(pgdb) == 0 and (a.state / "journal.db").exists()
    # a -p that names no profile is an error, not the state directory's
    r = a("-p", "nosuch", "history", "--all-environments")
    assert r.rc == 78 and "nosuch" in r.err, r


def test_journal_password_is_a_secret(local, emu, certs, pgdb):
    a = local
    u = urlsplit(pgdb)
    pw = "Pw" + uuid.uuid4().hex[:10]
    query = "&".join(q for q in u.query.split("&")
                     if q and not q.startswith("user="))
    host = u.netloc.rsplit("@", 1)[-1]     # pg-run's has a user in it
    secret_uri = (f"{u.scheme}://nosuchrole:{pw}@{host}{u.path}" +
                  (f"?{query}" if query else ""))
    profile(a, emu, certs, journal=secret_uri)
    os.chmod(a.config, 0o644)
    for args in (("history",), ("journal", "check"),
                 ("create", "--amount", "1")):
        r = a(*args)
        assert r.rc == 78 and "chmod 600" in r.err, r
        assert pw not in r.out + r.err
    os.chmod(a.config, 0o600)
    r = a("history", "--all-environments")
    assert r.rc == 74 and "nosuchrole" in r.err, r
    assert pw not in r.out + r.err
    for fmt in ("table", "json"):
        r = a("config", "list", "-o", fmt)
        assert r.rc == 0 and "journal" in r.out, r
        assert pw not in r.out + r.err
    # libpq quotes what it cannot read: a password never
    bad = secret_uri.replace(pw, pw + "%zz")
    profile(a, emu, certs, journal=bad)
    r = a("history", "--all-environments")
    assert r.rc == 78 and "percent" in r.err and pw not in r.err, r
    # a password on the command line is refused before anything is read
    r = a("journal", "copy", "--to", secret_uri)
    assert r.rc == 64 and pw not in r.out + r.err, r
    assert ".pgpass" in r.err


# ---- journal copy --to ----

def rows_of(a, pgdb, table):
    """the rows of both stores, without their ids, in order"""
    drop = {"id", "last_request"}
    mine = [{k: v for k, v in r.items() if k not in drop}
            for r in (a.journal() if table == "requests" else a.objects())]
    from conftest import pg_rows
    theirs = [{k: v for k, v in r.items() if k not in drop}
              for r in pg_rows(pgdb, table)]
    return mine, theirs


def filled(a, emu):
    """a journal.db with a pruned card, a card, an unknown create and a
    batch: every kind of row"""
    assert a("create", "--amount", "1").rc == 0
    assert a("journal", "prune", "--before", "2999-01-01").rc == 0
    card = a("create", "--amount", "2", "--external-reference", "ref-1",
             "-o", "json")
    assert card.rc == 0, card
    # as a batch reserves it: one live card per external reference
    a.tamper("UPDATE objects SET reserved = 1 WHERE external_reference = "
             "'ref-1'")
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert a("--retry-for", "0", "create", "--amount", "3").rc == 75
    return card.json()


def test_copy_moves_everything_once(local, emu, certs, pgdb):
    a = local
    filled(a, emu)
    r = a("journal", "copy", "--to", pgdb, "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"requests": {"copied": 2, "skipped": 0},
                        "objects": {"copied": 2, "skipped": 0},
                        "pruned": {"copied": 1, "skipped": 0}}, r
    for t in ("requests", "objects"):
        mine, theirs = rows_of(a, pgdb, t)
        assert mine == theirs
    assert sql(pgdb, "SELECT kind || ' ' || state FROM pruned") == \
        "card issued"
    # each object points at its own request, renumbered
    assert sql(pgdb, "SELECT count(*) FROM objects o JOIN requests r ON "
               "r.id = o.last_request AND r.request_id = o.request_id") == "2"
    # a second run copies nothing, and says so
    again = a("journal", "copy", "--to", pgdb)
    assert again.rc == 0, again
    assert "nothing to copy" in again.err, again
    assert again.json()["requests"] == {"copied": 0, "skipped": 2}
    text = a("journal", "copy", "--to", pgdb, "-o", "table")
    assert text.rc == 0 and "2 requests" in text.out, text
    assert count(pgdb) == 2 and count(pgdb, "objects") == 2
    assert count(pgdb, "pruned") == 1
    assert a("journal", "check", env={"AGCOD_JOURNAL": pgdb}).rc == 0
    # the open record stays open, and reconcile settles it from PostgreSQL
    on = {"AGCOD_JOURNAL": pgdb}
    h = a("history", "--state", "unknown", "-o", "json", env=on)
    assert h.rc == 0 and h.json()["state"] == "unknown", h
    rc = a("reconcile", env=on)
    assert rc.rc == 0, rc
    assert sql(pgdb, "SELECT count(*) FROM requests WHERE open = 1") == "0"
    # the reserved reference still holds its unique live-reference index
    p = psql(pgdb, "INSERT INTO objects (kind, key, state, time, updated, "
             "partner, environment, external_reference, reserved) VALUES "
             "('card', 'other', 'issued', 't', 't', 'Acme1', 'sandbox', "
             "'ref-1', 1)")
    assert p.returncode != 0 and "objects_live_ref" in p.stderr, p


def test_copy_stops_on_a_conflicting_record_and_resumes(local, emu, certs,
                                                        pgdb):
    a = local
    card = filled(a, emu)
    rid = card["creationRequestId"]
    assert a("history", env={"AGCOD_JOURNAL": pgdb}).rc in (0, 78)
    # another host's record of the same id, with other terms
    sql(pgdb, "INSERT INTO requests (time, state, operation, request_id, "
        "partner, environment, amount, currency, open) VALUES "
        f"('2026-01-01T00:00:00Z', 'succeeded', 'CreateGiftCard', '{rid}', "
        "'Acme1', 'sandbox', '9.00', 'USD', 0)")
    r = a("journal", "copy", "--to", pgdb)
    assert r.rc == 65 and rid in r.err and "other terms" in r.err, r
    # nothing of it stayed: the copy is one transaction
    assert count(pgdb) == 1 and count(pgdb, "objects") == 0
    assert count(pgdb, "pruned") == 0
    sql(pgdb, "DELETE FROM requests")
    r = a("journal", "copy", "--to", pgdb, "-o", "json")
    assert r.rc == 0 and r.json()["requests"]["copied"] == 2, r
    assert count(pgdb) == 2 and count(pgdb, "objects") == 2


def test_copy_killed_midway_finishes_on_rerun(local, emu, certs, pgdb):
    a = local
    filled(a, emu)
    # the copy holds the journal's write lock until it commits: killed
    # while it waits for it, it leaves nothing, and the re-run copies all
    sql(pgdb, "SELECT 1")
    assert a("journal", "check", env={"AGCOD_JOURNAL": pgdb}).rc == 0
    env = dict(a.env)
    p = subprocess.Popen(["psql", "-X", "-q", "-d", pgdb, "-c",
                          "BEGIN; SELECT pg_advisory_xact_lock("
                          "6775567472733249); SELECT pg_sleep(30);"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sql(pgdb, "SELECT count(*) FROM pg_locks WHERE "
                   "locktype = 'advisory' AND granted") != "0":
                break
            subprocess.run(["sleep", "0.1"])
        from conftest import AGCOD
        c = subprocess.Popen([AGCOD, "journal", "copy", "--to", pgdb],
                             env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        for _ in range(100):
            if sql(pgdb, "SELECT count(*) FROM pg_locks WHERE "
                   "locktype = 'advisory' AND NOT granted") != "0":
                break
            subprocess.run(["sleep", "0.1"])
        c.kill()
        c.communicate(timeout=30)
    finally:
        p.kill()
        p.wait(timeout=30)
    assert count(pgdb) == 0
    r = a("journal", "copy", "--to", pgdb, "-o", "json")
    assert r.rc == 0 and r.json()["requests"] == {"copied": 2, "skipped": 0}
    assert count(pgdb) == 2


def test_copy_needs_a_journal_and_a_target(local, emu, certs, pgdb):
    a = local
    r = a("journal", "copy", "--to", pgdb)
    assert r.rc == 65 and "journal.db" in r.err, r
    assert a("create", "--amount", "1").rc == 0
    r = a("journal", "copy")
    assert r.rc == 64 and "--to" in r.err, r
    r = a("journal", "copy", "--to", str(a.tmp / "x.db"))
    assert r.rc in (64, 74, 78) and "x.db" in r.err, r


def test_copy_carries_agcod_0_1s_journal(local, emu, certs, pgdb):
    """journal.jsonl is imported into journal.db as copy opens it, and
    goes on into PostgreSQL with the rest"""
    from test_journal import LEGACY, LEGACY_ENDPOINT
    a = local
    a.state.mkdir(mode=0o700)
    legacy = a.state / "journal.jsonl"
    legacy.write_text(open(LEGACY).read().replace(LEGACY_ENDPOINT,
                                                  emu.endpoint))
    legacy.chmod(0o600)
    r = a("journal", "copy", "--to", pgdb, "-o", "json")
    assert r.rc == 0 and "imported 12 records" in r.err, r
    mine = a.journal()
    assert r.json()["requests"] == {"copied": len(mine), "skipped": 0}
    h = a("history", "-o", "json", env={"AGCOD_JOURNAL": pgdb})
    got = {o["request_id"]: o["state"] for o in h.jsonl()}
    assert got == {"Acme1Legacy1": "issued", "Acme1Legacy2": "cancelled",
                   "Acme1Legacy3": "loaded", "F3003": "failed",
                   "Acme1Legacy4": "unknown"}


def test_copy_waits_for_a_live_sender(local, emu, certs, pgdb):
    """a pending record whose process still runs may be sending now: the
    copy is refused (75) rather than moving a record that is changing"""
    a = local
    filled(a, emu)
    with open("/proc/self/stat") as f:
        start = int(f.read().rsplit(")", 1)[1].split()[19])
    a.tamper("UPDATE requests SET state = 'pending', pid = ?, pid_start = ? "
             "WHERE open = 1", os.getpid(), start)
    r = a("journal", "copy", "--to", pgdb)
    assert r.rc == 75 and f"process {os.getpid()}" in r.err, r
    assert count(pgdb) == 0


def test_copy_reads_journal_db_under_its_write_lock(local, emu, certs, pgdb):
    """the copy reads journal.db's three tables as one snapshot, holding its
    write lock: while another writer holds that lock the copy waits (and
    copies nothing), and goes on once it is released"""
    import sqlite3
    import time
    from conftest import AGCOD
    a = local
    filled(a, emu)
    db = sqlite3.connect(str(a.state / "journal.db"), isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    p = subprocess.Popen([AGCOD, "journal", "copy", "--to", pgdb],
                         env=a.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(30):         # 3 s: the copy waits for the lock
            assert p.poll() is None, p.communicate()
            if sql(pgdb, "SELECT to_regclass('requests') IS NOT NULL") == "t":
                assert count(pgdb) == 0
            time.sleep(0.1)
    finally:
        db.execute("ROLLBACK")
        db.close()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert count(pgdb) > 0
