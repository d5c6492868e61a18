"""Defects found by attacking agcod as a stranger would: one test each.

Each test failed on the code before its fix (or is marked xfail, strict,
with the reason it is still open)."""
import sqlite3

import pytest

HOSTILE = "\x1b]0;pwn\x07\x1b[2J\r\u009bX"
RAW = ("\x1b", "\x07", "\r", "\u009b")


def tamper(agcod, sql, *args):
    db = sqlite3.connect(agcod.state / "journal.db", timeout=30)
    try:
        db.execute(sql, args)
        db.commit()
    finally:
        db.close()


def test_journal_check_shows_hostile_fields_not_obeyed(agcod):
    """journal check names a bad state and key from the database itself:
    they are shown as \\xNN, never written raw to the terminal"""
    assert agcod("create", "--amount", "5", "--request-id", "Acme1R1").rc == 0
    tamper(agcod, "UPDATE requests SET state = ? WHERE request_id = ?",
           "pend" + HOSTILE, "Acme1R1")
    tamper(agcod, "UPDATE objects SET state = ?, key = ? "
           "WHERE request_id = ?", "st" + HOSTILE, "k" + HOSTILE, "Acme1R1")
    r = agcod("journal", "check")
    assert r.rc == 65, r
    assert "has state 'pend\\x1B]0;pwn" in r.out, r
    for c in RAW:
        assert c not in r.out and c not in r.err, (c, r)
