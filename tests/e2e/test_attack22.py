"""Attacks on the 2026-12-07 CPU cuts (c4f0bb4..460a33a) that held, kept as
guards of the two new paths no other test reaches: the WAL pragma skipped
when journal.db's header says WAL (sq_open's in_wal), and pq.c's table
filled by dlsym from a libpq that lacks a function."""
import sqlite3
import subprocess

import pytest


@pytest.mark.sqlite_file
def test_a_journal_put_back_in_rollback_mode_is_in_wal_again(agcod, emu):
    """someone with sqlite3 sets journal_mode=DELETE: the header no longer
    says WAL, so the next open sets it again (a rollback journal would make
    'the latest commits live in journal.db-wal' untrue)"""
    assert agcod("create", "--amount", "1").rc == 0
    db = sqlite3.connect(agcod.state / "journal.db")
    assert db.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == \
        "delete"
    db.close()
    assert (agcod.state / "journal.db").read_bytes()[18:20] == b"\x01\x01"
    assert agcod("create", "--amount", "2").rc == 0
    assert (agcod.state / "journal.db").read_bytes()[18:20] == b"\x02\x02"
    db = sqlite3.connect(agcod.state / "journal.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
    assert [r["state"] for r in agcod.journal()] == ["succeeded"] * 2


@pytest.mark.sqlite_file
def test_a_header_that_says_wal_over_garbage_sends_nothing(agcod, emu):
    """bytes 18/19 say WAL, so no PRAGMA runs first: the first statement
    that reads it must still refuse the file before anything is sent"""
    agcod.state.mkdir(mode=0o700)
    h = bytearray(b"SQLite format 3\x00" + bytes(84))
    h[16], h[18], h[19] = 16, 2, 2
    path = agcod.state / "journal.db"
    path.write_bytes(bytes(h) + bytes(4096 - 100))
    path.chmod(0o600)
    r = agcod("create", "--amount", "1")
    assert r.rc == 74, r
    assert "file is not a database; nothing was sent" in r.err, r.err
    assert emu.requests() == []


FAKE_LIBPQ = "void PQclear(void *r) { (void)r; }\n"


def test_a_libpq_without_every_function_stops_before_sending(agcod, emu,
                                                             tmp_path):
    """an old or foreign libpq.so.5 first in LD_LIBRARY_PATH: dlsym fails
    part way through pq.c's table; one line naming the symbol, 74, nothing
    sent, and a later use (config list) neither crashes on the half-filled
    table nor says libpq was loaded"""
    (tmp_path / "pq.c").write_text(FAKE_LIBPQ)
    subprocess.run(["cc", "-shared", "-fPIC", "-o",
                    str(tmp_path / "libpq.so.5"), str(tmp_path / "pq.c")],
                   check=True, timeout=60)
    env = {"LD_LIBRARY_PATH": str(tmp_path),
           "AGCOD_JOURNAL": "postgresql:///agcod?host=/nowhere"}
    r = agcod("create", "--amount", "1", env=env)
    assert r.rc == 74, r
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert "the PostgreSQL journal needs libpq (Debian: libpq5): " in r.err
    assert "undefined symbol: PQcmdTuples" in r.err, r.err
    assert "nothing was sent" in r.err and r.out == ""
    assert emu.requests() == []
    c = agcod("config", "list", env=env)
    assert '"journal":{"value":"(libpq cannot be loaded)"' in c.out, c


# ---- defects ----

def test_a_killed_activation_refused_on_reconcile_leaves_no_stuck_unknown(
        agcod, emu):
    """An activation killed after its pending commit (kill -9, a crash, a
    power cut) is re-sent by reconcile with the same id and body; the
    service refuses it with an F2xx (CardNumberCheckSumError), which proves
    that id never activated the card.  The request is recorded failed and
    closed, but the physical card stays 'unknown' for ever: the killed
    attempt (closed as retried, acted=1, still 'pending') counts as "may
    have acted" in acted_before() by card, although it is the same id and
    body the F2xx just disproved.  Money: a card Amazon never activated is
    shown as maybe activated (value maybe live) with no open request:
    reconcile says there is nothing to do, 'journal settle' refuses (no
    open record), and 'journal check' reports the journal broken (65) from
    then on.  (Also in c4f0bb4: not a regression of today's changes.)"""
    import os
    import signal
    import subprocess
    import time
    from conftest import AGCOD
    card = "1234567890123456"   # 16 digits: the service refuses it, F200
    emu.fault("delay", count=1, seconds=5)
    p = subprocess.Popen([AGCOD, "activate", "--card-number", card,
                          "--amount", "5", "--request-id", "Acme1act1"],
                         env=dict(agcod.env), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(400):
        if emu.requests():
            break
        time.sleep(0.05)
    assert emu.requests(), "the activation never reached the emulator"
    os.killpg(p.pid, signal.SIGKILL)    # after the pending commit
    p.wait(timeout=60)
    assert [o["state"] for o in agcod.objects()] == ["pending"]
    r = agcod("reconcile")
    assert r.rc == 65 and "CardNumberCheckSumError" in r.out + r.err, r
    assert emu.state.activations == {}
    assert [x for x in agcod.journal() if x.get("open") == 1] == []
    # as a first refusal of the same body leaves it (failed), not unknown
    states = [o["state"] for o in agcod.objects()]
    assert states == ["failed"], states
    c = agcod("journal", "check")
    assert c.rc == 0, c
