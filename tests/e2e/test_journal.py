"""The write-ahead journal (STATE_DIR/journal.db): durability, the state of
each money object, history's filters and formats, journal upkeep, import of
agcod 0.1's journal.jsonl, and the state directory's hygiene."""
import csv
import io
import json
import os
import signal
import sqlite3
import stat
import subprocess
import time

import pytest

from conftest import AGCOD, KEY_ID, PARTNER, ROOT, SECRET, STORE

LEGACY = os.path.join(ROOT, "tests", "data", "journal-0.1.jsonl")
LEGACY_ENDPOINT = "https://127.0.0.1:33005"


def last(agcod, rid, op="CreateGiftCard"):
    return [r for r in agcod.journal()
            if r["request_id"] == rid and r["operation"] == op][-1]


def obj(agcod, rid):
    return [o for o in agcod.objects() if o["request_id"] == rid][-1]


# ---- write-ahead ----

def test_pending_is_committed_before_the_request_arrives(agcod, emu):
    seen = []

    def check(entry):
        body = json.loads(entry["body"])
        rid = body.get("creationRequestId")
        seen.append([(r["state"], r.get("amount")) for r in agcod.journal()
                     if r["request_id"] == rid])
    emu.on_request = check
    r = agcod("create", "--amount", "4.56", "-o", "json")
    assert r.rc == 0, r
    assert seen == [[("pending", "4.56")]]
    row = agcod.journal()[0]
    assert row["state"] == "succeeded" and row["amount"] == "4.56"
    assert row["currency"] == "USD" and row["partner"] == PARTNER
    assert row["operation"] == "CreateGiftCard" and row["environment"] == "sandbox"
    assert row["gc_id"] == r.json()["gcId"]
    assert row["amazon_request_id"] and row["http_status"] == 200
    assert "error" not in row


@pytest.mark.sqlite_file
def test_pending_reaches_the_disk_before_the_connection(agcod, emu, tmp_path):
    """strace: the journal's fsync/fdatasync comes before connect()"""
    log = tmp_path / "strace.log"
    # LeakSanitizer cannot run under ptrace; an ASan build still checks
    asan = os.environ.get("ASAN_OPTIONS", "")
    r = agcod("create", "--amount", "1", "-o", "json",
              env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "detect_leaks=0"},
              binary="strace", prefix=["-f", "-qq", "-o", str(log), "-e",
                                       "trace=fsync,fdatasync,connect", AGCOD])
    assert r.rc == 0, r
    calls = [l.split(None, 1)[1] for l in log.read_text().splitlines()
             if "(" in l and "resumed" not in l]
    syncs = [i for i, c in enumerate(calls) if c.startswith(("fsync", "fdatasync"))]
    conns = [i for i, c in enumerate(calls) if c.startswith("connect(") and "AF_INET" in c]
    assert syncs and conns, calls
    assert syncs[0] < conns[0], calls


@pytest.mark.sqlite_file
def test_modes_and_no_secrets_or_claim_codes_anywhere(agcod, emu):
    codes = [agcod("create", "--amount", a, "-o", "json").json()["gcClaimCode"]
             for a in ("1", "2.50")]
    db = agcod.state / "journal.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(agcod.state.stat().st_mode) == 0o700
    # while another connection holds it open, -wal and -shm exist: 0600 too
    con = sqlite3.connect(str(db))
    con.execute("SELECT count(*) FROM requests").fetchone()
    assert agcod("create", "--amount", "3", "-o", "json").rc == 0
    for f in agcod.state.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    con.close()
    blob = b"".join(f.read_bytes() for f in agcod.state.iterdir())
    for secret in codes + [SECRET]:
        assert secret.encode() not in blob
    cols = [c[1] for c in sqlite3.connect(str(db)).execute(
        "PRAGMA table_info(requests)")]
    assert not any("claim" in c for c in cols)


@pytest.mark.sqlite_file
def test_journal_that_cannot_be_written_is_74_and_nothing_sent(agcod, emu, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    r = agcod("--state-dir", blocker, "create", "--amount", "1")
    assert r.rc == 74, r
    assert "nothing was sent" in r.err
    agcod.state.mkdir(mode=0o700)
    os.symlink("/tmp/elsewhere", agcod.state / "journal.db")
    r = agcod("create", "--amount", "1")
    assert r.rc == 74 and "regular file" in r.err, r
    assert emu.requests() == [] and emu.connections == 0


@pytest.mark.sqlite_file
def test_full_filesystem_sends_nothing_and_loses_nothing(agcod, emu):
    """RLIMIT_FSIZE: the journal's write fails (EFBIG), as on a full disk"""
    first = agcod("create", "--amount", "1", "-o", "json").json()
    size = max(f.stat().st_size for f in agcod.state.iterdir())
    r = agcod("create", "--amount", "2", limit_fsize=1024)
    assert r.rc == 74, r
    assert "nothing was sent" in r.err
    assert len(emu.requests()) == 1
    # what was acknowledged before is all there, and the journal is sound
    h = agcod("history", "-o", "json").jsonl()
    assert [(o["request_id"], o["state"]) for o in h] == [
        (first["creationRequestId"], "issued")]
    assert agcod("journal", "check").rc == 0
    assert size > 1024


@pytest.mark.sqlite_file
def test_fifo_at_the_journal_is_refused_at_once(agcod, emu):
    agcod.state.mkdir(mode=0o700)
    os.mkfifo(agcod.state / "journal.db", 0o600)
    for args in (["create", "--amount", "1"], ["history"],
                 ["cancel", "--request-id", PARTNER + "X1"]):
        r = agcod(*args, timeout=10)
        assert r.rc in (64, 74) and "regular file" in r.err, (args, r)
    assert emu.requests() == []


@pytest.mark.sqlite_file
def test_fifo_at_the_wal_is_refused(agcod, emu):
    assert agcod("create", "--amount", "1").rc == 0
    os.unlink(agcod.state / "journal.db-wal")  # kept at exit: no checkpoint
    os.mkfifo(agcod.state / "journal.db-wal", 0o600)
    r = agcod("create", "--amount", "1", timeout=10)
    assert r.rc == 74 and "journal.db-wal" in r.err, r
    assert len(emu.requests()) == 1


@pytest.mark.parametrize("name", ["journal.db", "journal.db-wal",
                                  "ratelimit-" + PARTNER])
@pytest.mark.sqlite_file
def test_hard_link_in_the_state_dir_is_refused(agcod, emu, tmp_path, name):
    """a second name would let agcod write through to another file"""
    agcod.state.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o600)
    os.link(victim, agcod.state / name)
    r = agcod("create", "--amount", "1", timeout=10)
    assert r.rc == 74 and "regular file" in r.err, r
    assert victim.read_bytes() == b"precious"
    assert emu.requests() == []


@pytest.mark.sqlite_file
def test_state_dir_others_can_write_is_refused(agcod, emu):
    agcod.state.mkdir(mode=0o700)
    os.chmod(agcod.state, 0o777)
    r = agcod("create", "--amount", "1")
    assert r.rc == 74 and "chmod go-w" in r.err, r
    os.chmod(agcod.state, 0o700)
    os.chown(agcod.state, 65534, 65534)
    r = agcod("create", "--amount", "1")
    assert r.rc == 74 and "not by you" in r.err, r
    assert emu.requests() == []


def test_three_processes_at_once_lose_nothing(agcod, emu):
    procs = [subprocess.Popen([AGCOD, "create", "--amount", "1", "-o", "json"],
                              env=agcod.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    procs += [subprocess.Popen([AGCOD, "history"], env=agcod.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    rows = agcod.journal()
    assert len(rows) == 3 and all(r["state"] == "succeeded" for r in rows)
    assert {r["request_id"] for r in rows} == {
        json.loads(o)["creationRequestId"] for o, _ in outs[:3]}


def test_kill_9_mid_batch_then_rerun_issues_every_row_once(agcod, emu, tmp_path):
    f = tmp_path / "rows.csv"
    f.write_text("amount\n" + "".join(f"{i}\n" for i in range(1, 13)))
    for delay in (0.15, 0.45, 0.8):
        p = subprocess.Popen([AGCOD, "batch", "create", str(f), "-o", "json"],
                             env=agcod.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait(timeout=10)
    r = agcod("batch", "create", f, "-o", "json", timeout=120)
    assert r.rc in (0, 75), r
    if r.rc == 75:      # a row killed in flight: reconcile settles it
        assert agcod("reconcile", "-o", "json").rc == 0
    assert emu.state.creates == 12
    cards = {c["amount"] for c in emu.state.cards.values()}
    assert len(cards) == 12
    issued = [o for o in agcod.objects() if o["state"] == "issued"]
    assert len(issued) == 12
    assert agcod("journal", "check").rc == 0


# ---- one state per money object ----

def test_cancel_takes_gc_id_from_the_journal_and_the_card_is_cancelled(agcod, emu):
    c = agcod("create", "--amount", "8", "-o", "json").json()
    rid = c["creationRequestId"]
    r = agcod("cancel", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    assert json.loads(emu.requests("CancelGiftCard")[0]["body"])["gcId"] == c["gcId"]
    h = agcod("history", "-o", "json").jsonl()
    assert [(o["kind"], o["request_id"], o["state"], o["gc_id"], o["amount"])
            for o in h] == [("card", rid, "cancelled", c["gcId"], "8")]
    reqs = agcod("history", "--requests", "--reverse", "-o", "json").jsonl()
    assert [(q["operation"], q["state"]) for q in reqs] == [
        ("CreateGiftCard", "succeeded"), ("CancelGiftCard", "succeeded")]
    # neither --gc-id nor the journal: sent without it, with a warning
    r = agcod("cancel", "--request-id", PARTNER + "Unknown1")
    assert r.rc == 65 and "without it" in r.err, r
    assert "gcId" not in json.loads(emu.requests("CancelGiftCard")[-1]["body"])


def test_cancel_warns_on_an_old_card(agcod, emu):
    c = agcod("create", "--amount", "8", "-o", "json").json()
    agcod.tamper("UPDATE requests SET time = '2020-01-01T00:00:00Z'")
    r = agcod("cancel", "--request-id", c["creationRequestId"], "-o", "json")
    assert (f"the journal says card '{c['creationRequestId']}' was created at "
            "2020-01-01T00:00:00Z, more than 15 minutes ago: Amazon will likely "
            "refuse to cancel it") in r.err, r.err
    assert r.rc == 0    # the emulator created it just now


def test_a_long_bad_value_keeps_the_journal_hint(agcod, emu):
    """The reason a value is refused and the note that the journal has no
    such request both reach the operator, however long the value."""
    r = agcod("cancel", "--request-id", PARTNER + "Nope1", "--gc-id", "x" * 480)
    assert r.rc == 64, r
    assert f"(the journal has no CreateGiftCard with request id '{PARTNER}Nope1')" \
        in r.err, r.err
    assert len(emu.requests("CancelGiftCard")) == 0


def test_void_takes_the_load_from_the_journal_and_voids_it(agcod, emu):
    r = agcod("load", "--amount", "30.00", "--account-id", "amz1.account.Q",
              "--account-type", "3", "--source-id", "Store 7", "-o", "json")
    rid = r.json()["loadBalanceRequestId"]
    assert obj(agcod, rid)["state"] == "loaded"
    v = agcod("void", "--request-id", rid, "-o", "json")
    assert v.rc == 0, v
    load, void = (json.loads(q["body"]) for q in emu.requests())
    for k in ("amount", "account", "transactionSource"):
        assert void[k] == load[k]
    assert void["account"] == {"id": "amz1.account.Q", "type": "3"}
    o = obj(agcod, rid)
    assert (o["kind"], o["state"], o["amount"]) == ("load", "voided", "30.00")


def test_activate_then_deactivate_moves_the_physical_card(agcod, emu):
    a = agcod("activate", "--card-number", "1400000005567585358", "--amount", "20",
              "-o", "json")
    assert a.rc == 0, a
    rid = a.json()["activationRequestId"]
    assert obj(agcod, rid)["state"] == "activated"
    d = agcod("deactivate", "--card-number", "1400000005567585358", "--request-id", rid,
              "-o", "json")
    assert d.rc == 0, d
    o = obj(agcod, rid)
    assert (o["kind"], o["state"], o["card_number"]) == (
        "physical", "deactivated", "1400000005567585358")


def test_refused_repeat_leaves_the_card_issued(agcod, emu):
    rid = PARTNER + "Repeat1"
    assert agcod("create", "--amount", "5", "--request-id", rid).rc == 0
    r = agcod("create", "--amount", "50", "--request-id", rid, "-o", "json")
    assert r.rc == 65, r
    h = agcod("history", "--request-id", rid, "-o", "json").json()
    assert (h["state"], h["amount"]) == ("issued", "5")
    assert "error_code" not in h
    reqs = agcod("history", "--requests", "--reverse", "--request-id", rid,
                 "-o", "json").jsonl()
    assert [(q["state"], q["amount"]) for q in reqs] == [
        ("succeeded", "5"), ("failed", "50")]
    # an outcome carries only its own fields
    assert "error_code" not in reqs[0] and reqs[1]["error_code"] == "F200"


def test_failed_then_succeeded_keeps_each_outcome_to_itself(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "3", "-o", "json")
    assert r.rc == 75
    rid = agcod.journal()[0]["request_id"]
    assert agcod("create", "--amount", "3", "--request-id", rid).rc == 0
    reqs = agcod("history", "--requests", "--reverse", "-o", "json").jsonl()
    assert [q["state"] for q in reqs] == ["unknown", "succeeded"]
    assert "error" in reqs[0] and "error" not in reqs[1]
    assert agcod("history", "-o", "json").json()["state"] == "issued"
    assert agcod("history", "--pending", "-o", "json").out == ""


# ---- history: filters and formats ----

def test_history_filters(agcod, emu):
    a = agcod("create", "--amount", "1.10", "--external-reference", "order-7",
              "-o", "json").json()
    b = agcod("create", "--amount", "2.20", "--request-id", "F3003", "-o", "json")
    assert b.rc == 77
    ld = agcod("load", "--amount", "3", "--account-id", "amz1.account.Z",
               "-o", "json").json()
    h = agcod("history", "--reverse", "-o", "json").jsonl()
    assert [(o["request_id"], o["state"]) for o in h] == [
        (a["creationRequestId"], "issued"), ("F3003", "failed"),
        (ld["loadBalanceRequestId"], "loaded")]
    assert h[1]["error_code"] == "F300" and h[1]["error_type"] == "InsufficientFunds"
    assert h[0]["time"] <= h[0]["updated"]

    def ids(*args):     # oldest first, as they were made
        r = agcod("history", "--reverse", *args, "-o", "json")
        assert r.rc == 0, r
        return [o["request_id"] for o in r.jsonl()]
    assert ids("--request-id", "F3003") == ["F3003"]
    assert ids("--state", "failed") == ["F3003"]
    assert ids("--operation", "load") == [ld["loadBalanceRequestId"]]
    assert ids("--operation", "CreateGiftCard") == [a["creationRequestId"], "F3003"]
    assert ids("--external-reference", "order-7") == [a["creationRequestId"]]
    assert ids("--limit", "2") == [a["creationRequestId"], "F3003"]
    assert ids("--since", "2000-01-01") == [o["request_id"] for o in h]
    assert ids("--since", "2999-01-01") == []
    assert ids("--until", "2000-01-01") == []
    assert len(ids("--since", "1h", "--until", "2999-01-01T00:00:00Z")) == 3
    assert ids("--pending") == []
    assert ids("--requests", "--state", "failed") == ["F3003"]
    for bad in (["--since", "yesterday"], ["--until", "soon"],
                ["--limit", "0"], ["--limit", "x"], ["--state", "lost"],
                ["--operation", "fly"], ["--operation", "funds"],
                ["--pending", "--requests"]):
        r = agcod("history", *bad)
        assert r.rc == 64 and r.out == "", (bad, r)


def test_history_table_and_csv(agcod, emu):
    agcod("create", "--amount", "19.99", "--external-reference", "=cmd|x,\"y\"",
          "-o", "json")
    assert agcod("create", "--amount", "2", "--request-id", "F3003").rc == 77
    t = agcod("history", "-o", "table")
    assert t.rc == 0 and "REQUEST ID" in t.out and "InsufficientFunds" in t.out
    c = agcod("history", "--reverse", "-o", "csv")
    assert c.rc == 0, c
    rows = list(csv.DictReader(io.StringIO(c.out)))
    assert [(r["state"], r["amount"], r["currency"]) for r in rows] == [
        ("issued", "19.99", "USD"), ("failed", "2", "USD")]
    # a formula is text to a spreadsheet, quotes and commas survive
    assert rows[0]["external_reference"] == "'=cmd|x,\"y\""
    assert c.out.splitlines()[0].startswith("time,updated,kind,state")
    r = agcod("create", "--amount", "1", "-o", "csv")
    assert r.rc == 64 and "json or table" in r.err


def test_history_table_shows_no_control_characters(agcod, emu):
    """gc_id and error_type come from the service: never raw on a terminal"""
    agcod("create", "--amount", "5", "-o", "json")
    agcod.tamper("UPDATE objects SET gc_id = ?", "\x1b]0;owned\x07GC1")
    r = agcod("history", "-o", "table")
    assert r.rc == 0, r
    assert "\x1b" not in r.out and "\x07" not in r.out and "GC1" in r.out


def test_history_without_a_journal_is_empty(offline):
    r = offline("history", "-o", "json")
    assert r.rc == 0 and r.out == "" and "no matching" in r.err
    assert not (offline.state / "journal.db").exists()


# ---- reconcile ----

def test_lost_create_is_unknown_then_reconciled(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "12.34", "-o", "json")
    assert r.rc == 75, r
    pending = agcod("history", "--pending", "-o", "json").jsonl()
    assert len(pending) == 1 and pending[0]["state"] == "unknown"
    rid = pending[0]["request_id"]
    assert agcod("history", "-o", "json").json()["state"] == "unknown"
    card = emu.state.cards[rid]
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    out = rec.json()
    assert out["gcClaimCode"] == card["claim"] and out["gcId"] == card["gcId"]
    assert emu.state.creates == 1
    assert b'"amount": 12.34}' in emu.requests("CreateGiftCard")[-1]["body"]
    assert agcod("history", "--pending", "-o", "json").out == ""
    h = agcod("history", "--request-id", rid, "-o", "json").json()
    assert (h["state"], h["gc_id"]) == ("issued", card["gcId"])
    again = agcod("reconcile")
    assert again.rc == 0 and "nothing to reconcile" in again.err
    blob = b"".join(f.read_bytes() for f in agcod.state.iterdir())
    assert card["claim"].encode() not in blob


def test_reconcile_still_unreachable_stays_unknown(agcod, emu):
    emu.fault("drop", count=2, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "1").rc == 75
    r = agcod("--retry-for", "0", "reconcile", "-o", "json")
    assert r.rc == 75
    assert len(agcod("history", "--pending", "-o", "json").jsonl()) == 1


def test_reconcile_never_resends_another_endpoints_entry(agcod, emu, certs):
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "1").rc == 75
    sent = len(emu.requests())
    # the profile now points elsewhere (a sandbox entry, a production profile)
    import agcod_emulator
    other = agcod_emulator.Emulator(certs, partner=PARTNER,
                                    access_key_id=KEY_ID,
                                    secret=SECRET).start()
    try:
        agcod.write_config(endpoint=other.endpoint, ca_bundle=certs[0])
        r = agcod("reconcile")
        assert r.rc == 75, r
        assert "not settling" in r.err and emu.endpoint in r.err
        assert other.requests() == [] and len(emu.requests()) == sent
        assert len(agcod("history", "--pending", "-o", "json").jsonl()) == 1
    finally:
        other.stop()


def test_reconcile_settles_a_bare_pending_entry(agcod, emu):
    """killed after sending, before any outcome was journaled"""
    state = {}

    def hold(entry):
        state["arrived"] = True
        time.sleep(3)
    emu.on_request = hold
    p = subprocess.Popen([AGCOD, "create", "--amount", "6", "-o", "json"],
                         env=agcod.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not state.get("arrived") and time.time() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    emu.on_request = None
    rows = agcod.journal()
    assert [r["state"] for r in rows] == ["pending"]
    rid = rows[0]["request_id"]
    time.sleep(3)       # the emulator finishes the request it was holding
    r = agcod("reconcile", "-o", "json")
    assert r.rc == 0, r
    assert r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert emu.state.creates == 1
    assert obj(agcod, rid)["state"] == "issued"


# ---- journal export | check | prune | settle ----

def test_export_check_prune(agcod, emu):
    a = agcod("create", "--amount", "1", "-o", "json").json()
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "2").rc == 75
    ex = agcod("journal", "export")
    assert ex.rc == 0, ex
    rows = ex.jsonl()
    assert [r["state"] for r in rows] == ["succeeded", "unknown"]
    assert rows[0]["request_id"] == a["creationRequestId"]
    c = agcod("journal", "export", "-o", "csv")
    assert len(list(csv.DictReader(io.StringIO(c.out)))) == 2
    assert agcod("journal", "check").rc == 0
    # prune: settled records before a date go, unknown ones never
    dry = agcod("journal", "prune", "--before", "2999-01-01", "--dry-run")
    assert dry.rc == 0 and dry.out.strip() == "2"   # the request and its card
    assert len(agcod.journal()) == 2
    p = agcod("journal", "prune", "--before", "2999-01-01")
    assert p.rc == 0 and p.out.strip() == "2"
    assert [r["state"] for r in agcod.journal()] == ["unknown"]
    assert agcod("journal", "prune").rc == 64
    assert agcod("journal", "prune", "--before", "later").rc == 64
    assert agcod("journal", "frobnicate").rc == 64
    assert agcod("journal").rc == 64


def test_check_finds_a_broken_invariant(agcod, emu):
    agcod("create", "--amount", "1", "-o", "json")
    agcod.tamper("UPDATE requests SET state = 'lost'")
    r = agcod("journal", "check")
    assert r.rc == 65 and "state 'lost'" in r.out, r


def test_check_finds_broken_object_and_open_invariants(agcod, emu):
    assert agcod("create", "--amount", "2", "--request-id", "F3003").rc == 77
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "1").rc == 75
    # a refused card shown as issued
    agcod.tamper("UPDATE objects SET state = 'issued' WHERE request_id = 'F3003'")
    # the schema refuses a second open record for one id (issue 18)
    with pytest.raises(sqlite3.IntegrityError):
        agcod.tamper("INSERT INTO requests (time, state, operation, request_id, open) "
                     "SELECT time, state, operation, request_id, 1 FROM requests "
                     "WHERE state = 'unknown'")
    # an unknown card nobody will ask about again
    agcod.tamper("UPDATE requests SET open = 0 WHERE state = 'unknown'")
    r = agcod("journal", "check")
    assert r.rc == 65, r
    assert "1 money objects are in a state no successful request put them in" in r.out
    assert "1 money objects are unknown with no open request to settle them" in r.out


def test_settle_by_hand(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "2").rc == 75
    rid = agcod.journal()[0]["request_id"]
    assert agcod("journal", "settle", "--request-id", rid).rc == 64
    assert agcod("journal", "settle", "--request-id", rid, "--state", "lost",
                 "--reason", "x").rc == 64
    r = agcod("journal", "settle", "--request-id", rid, "--state", "succeeded",
              "--gc-id", "GCBYHAND", "--reason", "Amazon case 123 confirmed it")
    assert r.rc == 0, r
    row = last(agcod, rid)
    assert (row["state"], row["settled"], row["settle_reason"]) == (
        "succeeded", "manual", "Amazon case 123 confirmed it")
    assert row["error"]         # what happened at the time stays on record
    o = obj(agcod, rid)
    assert (o["state"], o["gc_id"]) == ("issued", "GCBYHAND")
    assert agcod("history", "--pending", "-o", "json").out == ""
    r = agcod("journal", "settle", "--request-id", rid, "--state", "failed",
              "--reason", "again")
    assert r.rc == 65 and "no pending or unknown" in r.err


# ---- agcod 0.1's journal.jsonl ----

@pytest.mark.sqlite_file
def test_import_of_a_journal_written_by_agcod_0_1(agcod, emu):
    agcod.state.mkdir(mode=0o700)
    legacy = agcod.state / "journal.jsonl"
    legacy.write_text(open(LEGACY).read().replace(LEGACY_ENDPOINT, emu.endpoint))
    legacy.chmod(0o600)
    r = agcod("history", "-o", "json")
    assert r.rc == 0, r
    assert "imported 12 records" in r.err
    assert "1 line of the old journal could not be read" in r.err
    assert "last line was incomplete" in r.err
    assert not legacy.exists()
    kept = [p for p in agcod.state.iterdir() if p.name.startswith("journal.jsonl.imported-")]
    assert len(kept) == 1 and stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    got = {o["request_id"]: o["state"] for o in r.jsonl()}
    assert got == {"Acme1Legacy1": "issued", "Acme1Legacy2": "cancelled",
                   "Acme1Legacy3": "loaded", "F3003": "failed",
                   "Acme1Legacy4": "unknown"}
    one = agcod("history", "--request-id", "Acme1Legacy1", "-o", "json").json()
    assert (one["amount"], one["external_reference"]) == ("5", "order-1")
    # exactly once: a second run imports nothing
    again = agcod("history", "-o", "json")
    assert "imported" not in again.err and len(again.jsonl()) == 5
    # the unknown create of 0.1 is settled by reconcile with its own id
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    assert rec.json()["creationRequestId"] == "Acme1Legacy4"
    assert json.loads(emu.requests()[-1]["body"])["value"] == {
        "currencyCode": "USD", "amount": 12.34}
    assert obj(agcod, "Acme1Legacy4")["state"] == "issued"
    assert agcod("journal", "check").rc == 0


@pytest.mark.sqlite_file
def test_import_happens_once_even_if_the_rename_was_lost(agcod, emu):
    agcod.state.mkdir(mode=0o700)
    text = open(LEGACY).read().replace(LEGACY_ENDPOINT, emu.endpoint)
    legacy = agcod.state / "journal.jsonl"
    legacy.write_text(text)
    legacy.chmod(0o600)
    assert agcod("history").rc == 0
    kept = next(p for p in agcod.state.iterdir() if p.name.startswith("journal.jsonl."))
    os.rename(kept, legacy)     # as if agcod died between commit and rename
    r = agcod("history", "--requests", "-o", "json")
    assert r.rc == 0 and "imported 12" not in r.err and "already" in r.err, r
    assert len(r.jsonl()) == 6


@pytest.mark.sqlite_file
def test_a_journal_from_a_newer_agcod_is_refused_and_nothing_is_sent(agcod, emu):
    agcod("create", "--amount", "5", "-o", "json")
    agcod.tamper("PRAGMA user_version = 99")
    sent = len(emu.requests("CreateGiftCard"))
    r = agcod("create", "--amount", "5", "-o", "json")
    assert r.rc == 74 and "newer than this agcod" in r.err, r
    assert len(emu.requests("CreateGiftCard")) == sent


@pytest.mark.sqlite_file
def test_reading_the_journal_does_not_write_it(agcod, emu):
    """Opening a journal whose schema is current is a read: history leaves
    journal.db as it was (no migration commit, no checkpoint)."""
    agcod("create", "--amount", "5", "-o", "json")
    db = agcod.state / "journal.db"
    before = os.stat(db)
    time.sleep(0.05)
    assert agcod("history", "-o", "json").rc == 0
    after = os.stat(db)
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


@pytest.mark.sqlite_file
def test_a_command_does_not_checkpoint_at_exit(agcod, emu):
    """issue 20 item 8: both commits of a create are durable in the WAL
    (synchronous=FULL); copying them into journal.db at every exit is work
    SQLite's checkpoint by size does later.  history reads; it writes
    neither file."""
    rid = PARTNER + "NoCheckpoint"
    assert agcod("create", "--amount", "5", "--request-id", rid).rc == 0
    db, wal = agcod.state / "journal.db", agcod.state / "journal.db-wal"
    assert wal.exists() and wal.stat().st_size > 0
    before = [(os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in (db, wal)]
    time.sleep(0.05)
    assert agcod("history", "-o", "json").rc == 0
    assert [(os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in (db, wal)] == before
    assert last(agcod, rid)["state"] == "succeeded"


def test_the_wal_a_command_leaves_stays_small(agcod, emu):
    """the next process reads all of the WAL it finds to rebuild its index:
    past 64 pages, a command checkpoints as it exits"""
    wal = agcod.state / "journal.db-wal"
    for i in range(10):
        assert agcod("create", "--amount", "1", "--request-id",
                     PARTNER + "Wal%d" % i).rc == 0
        assert not wal.exists() or wal.stat().st_size < 400 * 1024, i


def test_an_import_or_a_prune_leaves_no_large_wal(agcod, emu):
    """the exception: a command that wrote much checkpoints as it closes"""
    assert agcod("create", "--amount", "5").rc == 0
    assert agcod("journal", "prune", "--before", "2999-01-01").rc == 0
    assert not (agcod.state / "journal.db-wal").exists()


def test_a_long_request_id_keeps_its_reason_and_the_hint(agcod, emu):
    rid = PARTNER + "x" * 600
    r = agcod("cancel", "--request-id", rid)
    assert r.rc == 64, r
    assert "is longer than 40 characters" in r.err, r.err
    assert "(the journal has no CreateGiftCard with request id" in r.err, r.err
    assert "x" * 100 not in r.err    # a long value is shown by its start
    assert len(emu.requests("CancelGiftCard")) == 0


def test_settling_an_undo_closes_what_it_undid(agcod, emu):
    """issue 18 defect 6: a cancel settled by hand as succeeded left its
    create open, so reconcile sent the create again (for an activation, the
    RESEND activation that must never be sent again)"""
    rid = PARTNER + "SettleUndo"
    emu.fault("drop", count=2)
    assert agcod("--retry-for", "0", "create", "--amount", "2",
                 "--request-id", rid).rc == 75
    assert agcod("--retry-for", "0", "cancel", "--request-id", rid).rc == 75
    r = agcod("journal", "settle", "--request-id", rid, "--operation", "cancel",
              "--state", "succeeded", "--reason", "Amazon case 7: refunded")
    assert r.rc == 0, r
    assert agcod("history", "--pending", "-o", "json").out == ""
    assert [o["state"] for o in agcod.objects() if o["request_id"] == rid] == ["cancelled"]
    sent = len(emu.requests())
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert len(emu.requests()) == sent
    assert agcod("journal", "check").rc == 0


def test_settle_without_operation_does_not_settle_an_undo(agcod, emu):
    """sim N2: the card's create is issued and only its cancel is open;
    'journal settle --state succeeded' without --operation meant the card
    and must not settle the cancel as succeeded (the card as cancelled)"""
    rid = PARTNER + "SettleWhich"
    assert agcod("create", "--amount", "2", "--request-id", rid).rc == 0
    emu.fault("drop", count=1)
    assert agcod("--retry-for", "0", "cancel", "--request-id", rid).rc == 75
    r = agcod("journal", "settle", "--request-id", rid, "--state",
              "succeeded", "--reason", "Amazon holds the card")
    assert r.rc == 64, r
    assert "--operation cancel" in r.err, r.err
    assert [o["state"] for o in agcod.objects() if o["request_id"] == rid] == ["issued"]
    assert len(agcod("history", "--pending", "-o", "json").jsonl()) == 1


@pytest.mark.parametrize("broken", ["DROP TABLE objects",
                                    "ALTER TABLE requests RENAME TO gone"])
@pytest.mark.parametrize("cmd", ["reprint", "cancel", "batch"])
def test_a_journal_error_is_not_not_found(agcod, emu, tmp_path, broken, cmd):
    """issue 18 defect 7: journal_lookup answered a database error as "not
    found": reprint said there was no card, cancel went out without its
    gcId, a batch row was taken for never issued.  Each now exits 74 and
    sends nothing"""
    f = tmp_path / "b.csv"
    f.write_text("amount\n1\n")
    if cmd == "batch":
        assert agcod("batch", "create", str(f), "-o", "json").rc == 0
        rid = None
    else:
        rid = agcod("create", "--amount", "1", "-o", "json").json()["creationRequestId"]
    agcod.tamper(broken)
    sent = len(emu.requests())
    args = {"reprint": ["reprint", "--request-id", rid],
            "cancel": ["cancel", "--request-id", rid],
            "batch": ["batch", "create", str(f), "-o", "json"]}[cmd]
    r = agcod(*args)
    assert r.rc == 74, r
    assert "journal" in r.err and r.out == "", r
    assert len(emu.requests()) == sent


def test_reconcile_resends_a_cancel_with_its_gc_id(agcod, emu):
    """issue 18 defect 8: cancel rows were journaled without their gcId, so
    reconcile re-sent a cancel that had reached the service without it (the
    service refuses that, F200, and the card stayed issued in the journal
    while the service held it refunded)"""
    rid = agcod("create", "--amount", "1", "-o", "json").json()["creationRequestId"]
    emu.fault("drop", count=1, op="CancelGiftCard")
    assert agcod("--retry-for", "0", "cancel", "--request-id", rid).rc == 75
    row = [x for x in agcod.journal() if x["operation"] == "CancelGiftCard"][-1]
    assert row.get("gc_id") == emu.state.cards[rid]["gcId"], row
    r = agcod("reconcile")
    assert r.rc == 0, r
    sent = [q["body"] for q in emu.requests("CancelGiftCard")]
    assert len(sent) == 2 and sent[0] == sent[1], sent
    assert [o["state"] for o in agcod.objects() if o["request_id"] == rid] == ["cancelled"]


def test_prune_keeps_what_the_batch_guards_need(agcod, emu, tmp_path):
    """issue 18 defect 4: after 'journal prune' a completed file run again
    printed its old (likely redeemed) claim codes as newly issued, and
    --new-batch picked a pruned generation again"""
    f = tmp_path / "monthly.csv"
    f.write_text("amount\n1\n2\n")
    first = agcod("batch", "create", str(f), "-o", "json")
    assert first.rc == 0, first
    assert agcod("journal", "prune", "--before", "2999-01-01").rc == 0
    assert [o for o in agcod.objects()] == []
    again = agcod("batch", "create", str(f), "-o", "json")
    assert again.rc == 65 and "completed" in again.err, again
    assert emu.state.creates == 2
    nb = agcod("batch", "create", str(f), "--new-batch", "-o", "json")
    assert nb.rc == 0, nb
    assert emu.state.creates == 4
    old = {x["request_id"] for x in first.jsonl()}
    assert not old & {x["request_id"] for x in nb.jsonl()}
    assert all(not x.get("issued_before") for x in nb.jsonl())


SCHEMA_V1 = """
CREATE TABLE requests (id INTEGER PRIMARY KEY, time TEXT NOT NULL, updated TEXT,
 state TEXT NOT NULL, operation TEXT NOT NULL, request_id TEXT NOT NULL,
 profile TEXT, partner TEXT, environment TEXT, endpoint TEXT, amount TEXT,
 currency TEXT, gc_id TEXT, card_number TEXT, account TEXT, account_type TEXT,
 source_id TEXT, external_reference TEXT, program_id TEXT, product_type TEXT,
 batch TEXT, amazon_request_id TEXT, http_status INTEGER, error_code TEXT,
 error_type TEXT, error TEXT, diagnosis TEXT, clock_skew_s INTEGER,
 attempts INTEGER, delivered INTEGER, settled TEXT, settle_reason TEXT,
 settled_time TEXT, pid INTEGER, open INTEGER NOT NULL DEFAULT 1);
CREATE INDEX requests_id ON requests (operation, request_id);
CREATE INDEX requests_open ON requests (open) WHERE open = 1;
CREATE INDEX requests_time ON requests (time);
CREATE INDEX requests_extref ON requests (external_reference)
 WHERE external_reference IS NOT NULL;
CREATE TABLE objects (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
 key TEXT NOT NULL, state TEXT NOT NULL, time TEXT NOT NULL,
 updated TEXT NOT NULL, operation TEXT, request_id TEXT, profile TEXT,
 partner TEXT, environment TEXT, endpoint TEXT, amount TEXT, currency TEXT,
 gc_id TEXT, card_number TEXT, account TEXT, account_type TEXT,
 source_id TEXT, external_reference TEXT, program_id TEXT,
 product_type TEXT, batch TEXT, error_code TEXT, error_type TEXT,
 last_request INTEGER, UNIQUE (kind, key));
CREATE INDEX objects_rid ON objects (request_id);
CREATE INDEX objects_time ON objects (time);
CREATE INDEX objects_extref ON objects (external_reference)
 WHERE external_reference IS NOT NULL;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
PRAGMA user_version = 1;
"""


@pytest.mark.sqlite_file
def test_a_version_1_journal_is_mended_on_migration(agcod, emu):
    """issue 18: a journal written before one open record per id was a rule
    may hold two (defect 5); the migration closes the older as retried, and
    the id's unknown card is still reconciled once"""
    rid = PARTNER + "Twice1"
    agcod.state.mkdir(mode=0o700, exist_ok=True)
    db = sqlite3.connect(agcod.state / "journal.db")
    db.executescript(SCHEMA_V1)
    for t in ("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"):
        db.execute("INSERT INTO requests (time, state, operation, request_id,"
                   " partner, environment, endpoint, amount, currency, open)"
                   " VALUES (?, 'unknown', 'CreateGiftCard', ?, ?, 'sandbox',"
                   " ?, '4', 'USD', 1)", (t, rid, PARTNER, emu.endpoint))
    db.execute("INSERT INTO objects (kind, key, state, time, updated, operation,"
               " request_id, partner, environment, endpoint, amount, currency)"
               " VALUES ('card', ?, 'unknown', 't', 't', 'CreateGiftCard', ?,"
               " ?, 'sandbox', ?, '4', 'USD')", (rid, rid, PARTNER, emu.endpoint))
    db.commit()
    db.close()
    os.chmod(agcod.state / "journal.db", 0o600)
    r = agcod("journal", "check")
    assert r.rc == 0, r
    rows = [x for x in agcod.journal() if x["request_id"] == rid]
    assert [x["open"] for x in rows] == [0, 1]
    assert rows[0]["settled"] == "retried" and rows[0]["acted"] == 1
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    assert emu.state.creates == 1 and len(emu.requests("CreateGiftCard")) == 1
    assert agcod("history", "--pending", "-o", "json").out == ""


# On the PostgreSQL store the state directory keeps nothing a send needs
# (the journal, the rate slots and the batch lock are the database's): an
# unsafe one is not refused, but nothing is written there (key reminders
# and failure traces check it just the same and do without it).
def unsafe_state_dir(agcod, emu, r, where):
    if STORE == "postgresql":
        assert r.rc == 0, r
        assert not where.exists()
        assert len(emu.requests()) == 1
        return True
    assert r.rc == 74 and "cannot be used" in r.err, r
    assert emu.requests() == []
    return False


def test_a_group_writable_parent_of_the_state_dir_is_refused(agcod, emu):
    """another member of the group could rename the state directory away"""
    shared = agcod.tmp / "shared"
    shared.mkdir(mode=0o700)
    os.chmod(shared, 0o770)
    r = agcod("create", "--amount", "1",
              env={"AGCOD_STATE_DIR": str(shared / "state")})
    if unsafe_state_dir(agcod, emu, r, shared / "state"):
        return
    assert str(shared) in r.err, r
    os.chmod(shared, 0o750)             # readable by the group is fine
    r = agcod("create", "--amount", "1",
              env={"AGCOD_STATE_DIR": str(shared / "state")})
    assert r.rc == 0, r


def test_a_symlinked_parent_others_could_swap_is_refused(agcod, emu):
    """the link lives in a directory others can write: they could repoint it"""
    real = agcod.tmp / "real"
    real.mkdir(mode=0o700)
    open_dir = agcod.tmp / "open"
    open_dir.mkdir(mode=0o700)
    os.chmod(open_dir, 0o777)
    os.symlink(real, open_dir / "link")
    r = agcod("create", "--amount", "1",
              env={"AGCOD_STATE_DIR": str(open_dir / "link" / "state")})
    if unsafe_state_dir(agcod, emu, r, real / "state"):
        return
    # the same link in a directory of the user's alone is followed
    os.chmod(open_dir, 0o700)
    r = agcod("create", "--amount", "1",
              env={"AGCOD_STATE_DIR": str(open_dir / "link" / "state")})
    assert r.rc == 0, r
    assert (real / "state" / "journal.db").exists()


def test_a_link_owned_by_another_user_in_a_sticky_dir_is_refused(agcod, emu):
    """in /tmp-like directories, only links of root's or the user's count"""
    sticky = agcod.tmp / "sticky"
    sticky.mkdir(mode=0o700)
    os.chmod(sticky, 0o1777)
    real = agcod.tmp / "real"
    real.mkdir(mode=0o700)
    os.symlink(real, sticky / "link")
    os.lchown(sticky / "link", 65534, 65534)
    r = agcod("create", "--amount", "1",
              env={"AGCOD_STATE_DIR": str(sticky / "link" / "state")})
    unsafe_state_dir(agcod, emu, r, real / "state")


def test_settle_refuses_a_request_another_process_is_sending(agcod, emu):
    """a record a live agcod is sending is not settled by hand (75, the
    journal unchanged): its outcome is on its way"""
    rid = "Acme1SettleLive"
    seen = []

    def settle(entry):
        seen.append(agcod("journal", "settle", "--request-id", rid,
                          "--state", "failed", "--reason", "by hand"))
    emu.on_request = settle
    try:
        r = agcod("create", "--amount", "2", "--request-id", rid)
    finally:
        emu.on_request = None
    assert r.rc == 0, r
    assert len(seen) == 1
    assert seen[0].rc == 75, seen[0]
    assert "another agcod process" in seen[0].err, seen[0].err
    assert [o["state"] for o in agcod.objects()
            if o["request_id"] == rid] == ["issued"]
