"""The PostgreSQL journal store (AGCOD_JOURNAL): the connection's rules
(a server over a network only with sslmode=verify-full, nothing sent when
the database is unreachable, never a password printed) and the schema it
creates (versioned, its unique partial indexes).  Against a real server:
AGCOD_TEST_PG, a throwaway cluster that tests/pg/pg-run starts (make check
runs every suite inside one); each test gets a database of its own."""
import os
import subprocess
import uuid
from urllib.parse import urlsplit

import pytest

from conftest import pg_uri

PG = os.environ.get("AGCOD_TEST_PG")
PW = os.environ.get("AGCOD_TEST_PG_PASSWORD")

needs_pg = pytest.mark.skipif(
    not PG, reason="AGCOD_TEST_PG is unset (tests/pg/pg-run sets it)")


def psql(uri, sql):
    env = dict(os.environ)
    if PW:
        env["PGPASSWORD"] = PW
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                        "-d", uri, "-c", sql], env=env, capture_output=True,
                       text=True, timeout=60)
    return p


def sql(uri, text):
    p = psql(uri, text)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.fixture
def pgdb():
    """a database of its own on AGCOD_TEST_PG: its connection string"""
    name = "agcod_t_" + uuid.uuid4().hex[:12]
    sql(PG, f"CREATE DATABASE {name}")
    uri = pg_uri(PG, path="/" + name)
    yield uri
    psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def on(uri):
    """the environment that points agcod at the database"""
    e = {"AGCOD_JOURNAL": uri}
    if PW:
        e["PGPASSWORD"] = PW
    return e


@needs_pg
def test_schema_is_created_versioned_with_its_unique_rules(agcod, pgdb):
    agcod("history", env=on(pgdb))
    assert sql(pgdb, "SELECT value FROM meta WHERE key = 'schema'") == "3"
    tables = sql(pgdb, "SELECT string_agg(tablename, ',' ORDER BY tablename)"
                 " FROM pg_tables WHERE schemaname = 'public'")
    assert tables == "meta,objects,pruned,rate,requests"
    # one open record per (operation, request id); closed ones any number
    row = ("INSERT INTO requests (time, state, operation, request_id, open)"
           " VALUES ('2026-01-01T00:00:00Z', 'pending', 'CreateGiftCard',"
           " 'Acme1abc', {})")
    sql(pgdb, row.format(0))
    sql(pgdb, row.format(0))
    sql(pgdb, row.format(1))
    p = psql(pgdb, row.format(1))
    assert p.returncode != 0 and "requests_one_open" in p.stderr
    # one live object per external reference of a partner and environment
    obj = ("INSERT INTO objects (kind, key, state, time, updated, partner,"
           " environment, external_reference, reserved) VALUES ('card',"
           " '{}', '{}', 't', 't', 'Acme1', 'sandbox', 'ref-1', 1)")
    sql(pgdb, obj.format("k1", "cancelled"))
    sql(pgdb, obj.format("k2", "issued"))
    p = psql(pgdb, obj.format("k3", "pending"))
    assert p.returncode != 0 and "objects_live_ref" in p.stderr
    # a second open finds the schema there and changes nothing
    agcod("history", env=on(pgdb))
    assert sql(pgdb, "SELECT count(*) FROM requests") == "3"


@needs_pg
def test_a_newer_schema_is_refused_and_nothing_is_sent(agcod, emu, pgdb):
    agcod("history", env=on(pgdb))
    sql(pgdb, "UPDATE meta SET value = '4' WHERE key = 'schema'")
    r = agcod("create", "--amount", "1", env=on(pgdb))
    assert r.rc == 74, r
    assert "schema version 4, newer than this agcod knows (3)" in r.err
    assert "use a newer agcod" in r.err
    assert emu.requests() == []


def test_an_unreachable_database_sends_nothing_and_hides_the_password(
        agcod, emu):
    uri = "postgresql://agcod:Pa55word-Secret@127.0.0.1:1/agcod"
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 74, r
    assert "cannot connect to the PostgreSQL journal" in r.err
    assert "Connection refused" in r.err       # libpq's reason
    assert "nothing was sent" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert "Pa55word-Secret" not in r.err + r.out
    assert emu.requests() == []


@pytest.mark.parametrize("uri", [
    "postgresql://agcod:Pa55word-Secret@203.0.113.7/agcod",
    "postgresql://agcod@203.0.113.7/agcod?sslmode=require",
    "host=db.example.com dbname=agcod sslmode=verify-ca",
    "postgresql://agcod@localhost,203.0.113.7/agcod",
])
def test_a_server_over_a_network_needs_verify_full(agcod, emu, uri):
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 78, r
    assert "is not on this machine: add sslmode=verify-full" in r.err
    assert "Pa55word-Secret" not in r.err + r.out
    assert emu.requests() == []


def test_a_service_over_a_network_needs_verify_full(agcod, emu, tmp_path):
    svc = tmp_path / "pg_service.conf"
    svc.write_text("[shared]\nhost=203.0.113.7\ndbname=agcod\n"
                   "connect_timeout=2\n")
    r = agcod("create", "--amount", "1", env={
        "AGCOD_JOURNAL": "shared", "PGSERVICEFILE": str(svc)})
    assert r.rc == 78, r
    assert "'203.0.113.7' is not on this machine" in r.err
    assert emu.requests() == []


def test_without_agcod_journal_the_state_directory_keeps_it(agcod, emu):
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": ""})
    assert r.rc == 0, r
    assert (agcod.state / "journal.db").exists()


@needs_pg
def test_the_connection_lost_after_the_pending_commit_is_retried(agcod, emu,
                                                                 pgdb):
    """the server drops agcod's session while the request is out (a
    reset, a restart): the pending record was committed before it left;
    the outcome is held and recorded on a new session"""
    rid = "Acme1LostSession"
    seen = []

    def drop(entry):
        seen.append(sql(pgdb, "SELECT state FROM requests WHERE request_id"
                        f" = '{rid}'"))
        sql(pgdb, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = "
            "'agcod'")
    emu.on_request = drop
    r = agcod("create", "--amount", "3", "--request-id", rid, "-o", "json",
              env=on(pgdb))
    emu.on_request = None
    assert seen == ["pending"]
    assert r.rc == 0, r
    assert r.err == ""
    assert r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert sql(pgdb, "SELECT state || ' ' || open FROM requests WHERE "
               f"request_id = '{rid}'") == "succeeded 0"
    assert sql(pgdb, "SELECT state FROM objects WHERE request_id = "
               f"'{rid}'") == "issued"
    assert agcod("reconcile", "-o", "json", env=on(pgdb)).rc == 0
    assert emu.state.creates == 1


@needs_pg
def test_messages_name_the_database_without_the_password(agcod, emu, pgdb):
    from urllib.parse import urlsplit
    u = urlsplit(pgdb)
    # the password in the connection string itself, as an operator might
    netloc = u.netloc
    if PW and "@" in netloc:
        user, rest = netloc.split("@", 1)
        netloc = f"{user}:{PW}@{rest}"
    uri = pg_uri(pgdb, netloc=netloc)
    agcod("history", env={"AGCOD_JOURNAL": uri})
    sql(pgdb, "UPDATE meta SET value = '4' WHERE key = 'schema'")
    r = agcod("journal", "check", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 74, r
    assert "newer than this agcod knows" in r.err
    if PW:
        assert PW not in r.err + r.out
    assert "cannot read the journal in AGCOD_JOURNAL's database" in r.err
    assert "@" not in r.err


@needs_pg
def test_two_hosts_on_one_database_give_a_reference_one_card(
        agcod, emu, certs, pgdb, tmp_path):
    """two hosts (state directories of their own) and one database: a
    reference reserved on one is taken on the other, and the same orders
    file run on both at once issues one card per reference"""
    from conftest import AGCOD, Agcod
    other = tmp_path / "host-b"
    other.mkdir()
    b = Agcod(other, emu, certs)
    assert agcod("create", "--amount", "5", "--external-reference",
                 "order-7", env=on(pgdb)).rc == 0
    f = tmp_path / "o.csv"
    f.write_text("amount,external_reference\n5,order-7\n")
    r = b("batch", "create", str(f), "-o", "json", env=on(pgdb))
    assert r.rc == 65 and "order-7" in r.err, r
    assert emu.state.creates == 1
    rows = "".join(f"{i},ref-{i}\n" for i in range(1, 9))
    orders = tmp_path / "orders.csv"
    orders.write_text("amount,external_reference\n" + rows)
    procs = [subprocess.Popen([AGCOD, "batch",
                               "create", str(orders), "-o", "json"],
                              env={**h.env, **on(pgdb)}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
             for h in (agcod, b)]
    for p in procs:
        p.communicate(timeout=120)
    assert emu.state.creates == 1 + 8
    assert sql(pgdb, "SELECT count(*) FROM objects WHERE state = 'issued' "
               "AND external_reference LIKE 'ref-%'") == "8"
    assert sql(pgdb, "SELECT count(*) FROM (SELECT external_reference FROM "
               "objects WHERE state = 'issued' GROUP BY external_reference "
               "HAVING count(*) > 1) t") == "0"
    assert agcod("journal", "check", env=on(pgdb)).rc == 0


@needs_pg
def test_the_batch_lock_is_the_databases_and_goes_with_a_dead_run(
        agcod, emu, certs, pgdb, tmp_path):
    """a batch running on one host is refused on another (75, nothing
    sent); the lock is the session's, so a run killed with -9 leaves none"""
    from conftest import AGCOD, Agcod
    import signal
    other = tmp_path / "host-b"
    other.mkdir()
    b = Agcod(other, emu, certs)
    f = tmp_path / "o.csv"
    f.write_text("amount\n1\n2\n")
    # another host's run holds batch wk1: a session with its lock
    env = dict(os.environ, PGAPPNAME="holder")
    if PW:
        env["PGPASSWORD"] = PW
    holder = subprocess.Popen(
        ["psql", "-X", "-q", "-At", "-d", pgdb, "-c",
         "SELECT pg_advisory_lock(hashtextextended('agcod batch Acme1 sandbox wk1', 0))",
         "-c", "SELECT 'held'", "-c", "SELECT pg_sleep(60)"],
        env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == ""  # the lock's void
        assert holder.stdout.readline().strip() == "held"
        r = b("batch", "create", str(f), "--batch-id", "wk1", env=on(pgdb))
        assert r.rc == 75, r
        assert "batch 'wk1' is being run by another agcod process" in r.err
        assert emu.requests() == []
    finally:
        # its session ends (a crash): the server drops the lock with it
        sql(pgdb, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = "
            "'holder'")
        holder.kill()
        holder.wait()
    r = agcod("batch", "create", str(f), "--batch-id", "wk1", env=on(pgdb))
    assert r.rc == 0, r
    assert emu.state.creates == 2
    # a run that dies holding the lock: the server drops it with the session
    g = tmp_path / "g.csv"
    g.write_text("amount\n3\n")
    held = {}

    def kill(entry):
        os.killpg(held["p"].pid, signal.SIGKILL)
    emu.on_request = kill
    held["p"] = subprocess.Popen([AGCOD, "batch", "create", str(g),
                                  "--batch-id", "wk2"],
                                 env={**agcod.env, **on(pgdb)},
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE,
                                 start_new_session=True)
    held["p"].communicate(timeout=60)
    emu.on_request = None
    r = b("batch", "create", str(g), "--batch-id", "wk2", env=on(pgdb))
    assert "being run by another" not in r.err, r
    assert r.rc in (0, 75), r


# ---- one rate limit across hosts (the rate table) ----

def holding(pgdb, *statements):
    """another session, its statements run (the last one sleeps): the
    Popen, once the one before the sleep has printed 'held'"""
    env = dict(os.environ, PGAPPNAME="holder")
    if PW:
        env["PGPASSWORD"] = PW
    args = ["psql", "-X", "-q", "-At", "-d", pgdb]
    for s in statements + ("SELECT 'held'", "SELECT pg_sleep(60)"):
        args += ["-c", s]
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    while p.stdout.readline().strip() != "held":
        assert p.poll() is None, "the holder ended"
    return p


def release(pgdb, p):
    sql(pgdb, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = "
        "'holder'")
    p.kill()
    p.wait()


@needs_pg
@pytest.mark.serial
def test_two_hosts_on_one_database_share_one_rate_limit(
        agcod, emu, certs, pgdb, tmp_path):
    """two hosts (state directories of their own) with one database: at
    max_rps = 2 each alone would send up to 4 a second between them, which
    a service allowing 3 throttles; their slots come from one row of the
    rate table, so together they send 2 a second and none is throttled.
    No state directory keeps a rate-limit file."""
    from conftest import AGCOD, Agcod
    other = tmp_path / "host-b"
    other.mkdir()
    b = Agcod(other, emu, certs)
    for h in (agcod, b):
        h.write_config(endpoint=emu.endpoint, ca_bundle=certs[0], max_rps=2)
    emu.max_rps = 3
    files = []
    for name in ("a", "b"):
        f = tmp_path / f"{name}.csv"
        f.write_text("amount\n" + "".join(f"{i}\n" for i in range(1, 7)))
        files.append(f)
    procs = [subprocess.Popen([AGCOD, "batch", "create", str(f), "-o",
                               "json"], env={**h.env, **on(pgdb)}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
             for h, f in ((agcod, files[0]), (b, files[1]))]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert emu.throttled == 0
    assert len(emu.requests("CreateGiftCard")) == 12
    assert sql(pgdb, "SELECT partner || ' ' || environment FROM rate") == \
        "Acme1 sandbox"
    for h in (agcod, b):
        assert not any(p.name.startswith("ratelimit-")
                       for p in h.state.iterdir()) \
            if h.state.exists() else True


@needs_pg
def test_a_version_2_database_gains_the_rate_table(agcod, emu, pgdb):
    """the migration to schema 3 adds the rate table to a journal written
    before it, and keeps what the journal holds"""
    assert agcod("create", "--amount", "1", env=on(pgdb)).rc == 0
    sql(pgdb, "DROP TABLE rate; UPDATE meta SET value = '2' "
        "WHERE key = 'schema'")
    r = agcod("create", "--amount", "2", env=on(pgdb))
    assert r.rc == 0, r
    assert sql(pgdb, "SELECT value FROM meta WHERE key = 'schema'") == "3"
    assert sql(pgdb, "SELECT count(*) FROM rate") == "1"
    assert sql(pgdb, "SELECT count(*) FROM requests WHERE state = "
               "'succeeded'") == "2"


@needs_pg
def test_no_rate_slot_from_the_database_sends_nothing(agcod, emu, pgdb):
    """the pending record is committed, then the slot cannot be taken (the
    rate table locked past agcod's bound): the request is not sent
    unpaced; the record is closed as not sent, so 74 is honest"""
    rid = "Acme1NoSlot"
    agcod("history", env=on(pgdb))
    holder = holding(pgdb, "BEGIN", "LOCK TABLE rate IN ACCESS EXCLUSIVE "
                     "MODE")
    try:
        r = agcod("create", "--amount", "1", "--request-id", rid,
                  env=on(pgdb))
    finally:
        release(pgdb, holder)
    assert r.rc == 74, r
    assert "cannot take a rate slot in the PostgreSQL journal" in r.err
    assert "nothing sent" in r.err
    assert emu.requests() == [] and emu.connections <= 1
    assert sql(pgdb, "SELECT state || ' ' || open FROM requests WHERE "
               f"request_id = '{rid}'") == "not sent 0"


@needs_pg
def test_a_session_lost_at_the_rate_slot_is_taken_on_a_new_one(
        agcod, emu, pgdb):
    """the server drops agcod's session while it waits for its slot (a
    restart): the slot is asked again on a new session and the request
    goes out once"""
    from conftest import AGCOD
    rid = "Acme1SlotAgain"
    agcod("history", env=on(pgdb))
    holder = holding(pgdb, "BEGIN", "LOCK TABLE rate IN ACCESS EXCLUSIVE "
                     "MODE")
    p = subprocess.Popen([AGCOD, "create", "--amount", "1", "--request-id",
                          rid, "-o", "json"], env={**agcod.env, **on(pgdb)},
                         text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        waiting = "0"
        for _ in range(2000):       # until agcod waits for the table
            waiting = sql(pgdb, "SELECT count(*) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND "
                          "application_name = 'agcod' AND "
                          "wait_event_type = 'Lock'")
            if waiting == "1" or p.poll() is not None:
                break
        assert waiting == "1"
        sql(pgdb, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = "
            "'agcod'")
    finally:
        release(pgdb, holder)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, (out, err)
    assert len(emu.requests("CreateGiftCard")) == 1
    assert sql(pgdb, "SELECT state FROM requests WHERE request_id = "
               f"'{rid}'") == "succeeded"
    assert sql(pgdb, "SELECT count(*) FROM rate") == "1"


@needs_pg
def test_funds_takes_its_slot_from_the_database(agcod, emu, pgdb):
    """GetAvailableFunds journals nothing, but its one-a-second slot is the
    database's too, so every host keeps to it"""
    assert agcod("history", env=on(pgdb)).rc == 0
    for _ in range(2):
        r = agcod("funds", env=on(pgdb))
        assert r.rc == 0, r
    assert sql(pgdb, "SELECT count(*) FROM rate WHERE partner = 'Acme1' AND "
               "environment = 'sandbox' AND funds_next IS NOT NULL") == "1"


def flaky(uri, table, when, sqlstate, times):
    """a trigger on table that fails the statement `when` (INSERT, UPDATE)
    with sqlstate the first `times` times (a sequence counts them: a
    rolled-back transaction does not give its number back)"""
    sql(uri, f"""
        CREATE SEQUENCE flaky_{table};
        CREATE FUNCTION flaky_{table}() RETURNS trigger AS $$
        BEGIN
          IF nextval('flaky_{table}') <= {times} THEN
            RAISE EXCEPTION 'flaky' USING ERRCODE = '{sqlstate}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER flaky_{table} AFTER {when} ON {table}
          FOR EACH ROW EXECUTE FUNCTION flaky_{table}();""")


def tries(uri, table):
    return int(sql(uri, f"SELECT last_value FROM flaky_{table}"))


@needs_pg
@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_a_serialization_failure_or_deadlock_is_run_again(agcod, emu, pgdb,
                                                         sqlstate):
    """the server refused a transaction it did nothing of (a serialization
    failure, a deadlock): the pending record and the outcome are each
    written on another try"""
    assert agcod("history", env=on(pgdb)).rc == 0
    flaky(pgdb, "requests", "INSERT", sqlstate, 2)
    flaky(pgdb, "objects", "UPDATE", sqlstate, 2)
    rid = "Acme1Flaky" + sqlstate
    r = agcod("create", "--amount", "4", "--request-id", rid, "-o", "json",
              env=on(pgdb))
    assert r.rc == 0, r
    assert r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert emu.state.creates == 1
    assert tries(pgdb, "requests") == 3 and tries(pgdb, "objects") == 3
    assert sql(pgdb, "SELECT state || ' ' || open FROM requests WHERE "
               f"request_id = '{rid}'") == "succeeded 0"
    assert sql(pgdb, "SELECT state FROM objects WHERE request_id = "
               f"'{rid}'") == "issued"


@needs_pg
def test_serialization_failures_are_tried_three_times_then_nothing_is_sent(
        agcod, emu, pgdb):
    """bounded: a pending record the server keeps refusing is tried three
    times, then nothing is sent (74), and nothing is left open"""
    assert agcod("history", env=on(pgdb)).rc == 0
    flaky(pgdb, "requests", "INSERT", "40001", 1000)
    rid = "Acme1AlwaysFlaky"
    r = agcod("create", "--amount", "4", "--request-id", rid, env=on(pgdb))
    assert r.rc == 74, r
    assert "nothing was sent" in r.err, r.err
    assert tries(pgdb, "requests") == 3
    assert emu.requests() == []
    assert sql(pgdb, "SELECT count(*) FROM requests") == "0"


@needs_pg
@pytest.mark.parametrize("answer", ["issued", "refused"])
def test_an_outcome_whose_session_cannot_be_made_again_stays_open(
        agcod, emu, pgdb, answer):
    """the session is lost after the pending commit and the database then
    takes no connection: the outcome is tried on a new session and cannot
    be recorded, so the record stays open for reconcile, as a lost SQLite
    commit leaves it.  A card issued is still printed (its code is the
    result); a refusal is not the promise 77 makes (reconcile would send
    it again): 75.  reconcile settles it once the database is back,
    without a second card"""
    rid = "Acme1NoSession" + answer
    db = urlsplit(pgdb).path.lstrip("/")

    def drop(entry):
        sql(PG, f"ALTER DATABASE {db} ALLOW_CONNECTIONS false")
        sql(PG, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{db}' AND application_name = 'agcod'")
    if answer == "refused":
        agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                           access_key_id="AKIDUNKNOWN")
    emu.on_request = drop
    try:
        r = agcod("create", "--amount", "3", "--request-id", rid, "-o",
                  "json", env=on(pgdb))
    finally:
        emu.on_request = None
        sql(PG, f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
    assert "not currently accepting connections" in r.err, r.err
    assert "reconcile" in r.err and "nothing was sent" not in r.err, r.err
    if answer == "issued":
        assert r.rc == 0, r
        assert r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    else:
        assert r.rc == 75, r
        assert "could not record" in r.err, r.err
        assert emu.state.creates == 0
        agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca)
    assert sql(pgdb, "SELECT state || ' ' || open FROM requests WHERE "
               f"request_id = '{rid}'") == "pending 1"
    assert agcod("reconcile", env=on(pgdb)).rc == 0
    assert emu.state.creates == 1
    assert sql(pgdb, "SELECT state FROM objects WHERE request_id = "
               f"'{rid}'") == "issued"


@needs_pg
def test_a_server_warning_reaches_the_terminal_only_shown(agcod, emu, pgdb):
    """A notice or warning the server sends (a trigger's RAISE WARNING, an
    extension's) went to stderr through libpq's default processor, raw: a
    hostile or compromised database could drive the operator's terminal
    (OSC 52 writes the clipboard).  It goes through agcod's sink, escaped,
    as a warning that says where it came from."""
    assert agcod("history", env=on(pgdb)).rc == 0
    sql(pgdb, r"""
        CREATE FUNCTION loud() RETURNS trigger AS $$
        BEGIN
          RAISE WARNING E'disk \x1b]52;c;ZXZpbA==\x07 almost full';
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER loud AFTER INSERT ON requests
          FOR EACH ROW EXECUTE FUNCTION loud();""")
    r = agcod("create", "--amount", "2", "--request-id", "Acme1Loud1",
              env=on(pgdb))
    assert r.rc == 0, r
    assert "\x1b" not in r.err and "\x07" not in r.err, r.err
    assert "warning: the journal's database says: WARNING:  disk" in r.err, r.err
    assert "almost full" in r.err, r.err
