"""Attacks on the money-evidence rule (issue 18) by a stranger: each test
names the way a card could be lost, double-issued, wrongly failed, left
open forever, or an exit code could lie."""
import os
import sqlite3
import subprocess

import pytest

from conftest import PARTNER
from test_journal import SCHEMA_V1


def pending_ids(agcod, *args):
    r = agcod("history", "--pending", "-o", "json", *args)
    return [o["request_id"] for o in r.jsonl()]


def v1_journal(agcod, emu, rid, pid, state="pending"):
    agcod.state.mkdir(mode=0o700, exist_ok=True)
    db = sqlite3.connect(agcod.state / "journal.db")
    db.executescript(SCHEMA_V1)
    db.execute("INSERT INTO requests (time, state, operation, request_id,"
               " partner, environment, endpoint, amount, currency, pid, open)"
               " VALUES ('2026-01-01T00:00:00Z', ?, 'CreateGiftCard', ?, ?,"
               " 'sandbox', ?, '4', 'USD', ?, 1)",
               (state, rid, PARTNER, emu.endpoint, pid))
    db.execute("INSERT INTO objects (kind, key, state, time, updated, operation,"
               " request_id, partner, environment, endpoint, amount, currency)"
               " VALUES ('card', ?, ?, '2026-01-01T00:00:00Z',"
               " '2026-01-01T00:00:00Z', 'CreateGiftCard', ?, ?, 'sandbox', ?,"
               " '4', 'USD')", (rid, state, rid, PARTNER, emu.endpoint))
    db.commit()
    db.close()
    os.chmod(agcod.state / "journal.db", 0o600)


@pytest.mark.parametrize("via", ["reconcile", "settle"])
def test_a_migrated_pending_record_whose_pid_was_reused_is_not_live(agcod, emu, via):
    """a version 1 record has a pid but no start time; after a reboot that
    pid belongs to some other process.  It was taken for the writer, still
    sending, forever: reconcile refused it and journal settle too"""
    rid = PARTNER + "ReusedPid"
    other = subprocess.Popen(["sleep", "60"])
    try:
        v1_journal(agcod, emu, rid, other.pid)
        if via == "settle":
            r = agcod("journal", "settle", "--request-id", rid, "--state",
                      "failed", "--reason", "checked with Amazon")
            assert r.rc == 0, r
            assert emu.state.creates == 0
        else:
            r = agcod("reconcile", "-o", "json")
            assert r.rc == 0, r
            assert emu.state.creates == 1
        assert pending_ids(agcod) == []
    finally:
        other.kill()
        other.wait()
