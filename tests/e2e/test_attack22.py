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


def stopped_agcod(marker, tries=400):
    """the pid of the agcod process whose argv holds marker, once stopped"""
    import os
    import time
    for _ in range(tries):
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                with open(f"/proc/{d}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if marker.encode() in argv and not argv[0].endswith(b"strace") \
                    and state in ("T", "t"):
                return int(d)
        time.sleep(0.05)
    return None


@pytest.mark.xfail(strict=True, reason=(
    "attack22 defect 2, open: a physical card's outcomes are applied in the "
    "order they are recorded, not the order the service acted; two of its "
    "requests in flight at once need the card 'unknown' and a reconcile "
    "that asks ActivationStatusCheck (see the 2026-12-07 closing note)"))
def test_a_deactivation_recorded_after_a_later_activation_is_not_the_state(
        agcod, emu, tmp_path):
    """Two processes on one physical card: a deactivation is processed by
    the service, and before its process records the answer (here: stopped
    at its --trace write, as a slow disk, a busy journal or a scheduler
    would hold it), another process activates the card again under a new
    request id, start to finish.  The service now has the card activated
    (value live); the deactivation's late outcome is applied last and the
    journal says 'deactivated', with nothing open and 'journal check'
    content.  Money: a card carrying value is recorded as dead (and the
    reverse order records a dead card as live).  The journal applies
    outcomes in the order they are recorded, not the order the service
    acted; an outcome older than the object's last decided request should
    leave the card unknown for reconcile (ActivationStatusCheck), not
    overwrite it.  (Also in c4f0bb4: not a regression of today's
    changes.)"""
    import os
    import signal
    import subprocess
    from conftest import AGCOD
    card = "1234567890123456777"
    a = agcod("activate", "--card-number", card, "--amount", "5",
              "--request-id", "Acme1A0")
    assert a.rc == 0, a
    trace = tmp_path / "deactivate.trace"
    d = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", "/dev/null", "-P", str(trace),
         "-e", "trace=write", "-e", "inject=write:signal=STOP:when=1",
         AGCOD, "--trace", str(trace), "deactivate", "--request-id",
         "Acme1A0", "--card-number", card],
        env=dict(agcod.env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    pid = stopped_agcod(str(trace))
    try:
        assert pid, "the deactivation never stopped at its trace write"
        assert [r["op"] for r in emu.requests()] == [
            "ActivateGiftCard", "DeactivateGiftCard"]
        assert emu.state.activations[card]["status"] == "Deactivated"
        b = agcod("activate", "--card-number", card, "--amount", "5",
                  "--request-id", "Acme1A1")
        assert b.rc == 0, b
        assert emu.state.activations[card]["status"] == "Activated"
    finally:
        if pid:
            os.kill(pid, signal.SIGCONT)
        out, err = d.communicate(timeout=60)
    assert d.returncode == 0, err
    assert [x for x in agcod.journal() if x.get("open") == 1] == []
    states = [o["state"] for o in agcod.objects()]
    # the service says activated: activated, or unknown until reconcile
    # asks it; never deactivated
    assert states in (["activated"], ["unknown"]), states
