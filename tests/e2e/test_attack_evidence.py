"""Attacks on the money-evidence rule (issue 18) by a stranger: each test
names the way a card could be lost, double-issued, wrongly failed, left
open forever, or an exit code could lie."""
import os
import sqlite3
import subprocess

import pytest

import agcod_emulator
from conftest import KEY_ID, PARTNER, SECRET
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


def test_a_sandbox_send_of_an_id_never_settles_the_production_card(agcod, emu, certs):
    """the journal keys a request by its id alone: a production create R
    lost its answer (R open, the card held by the production service); the
    same id tried in sandbox (another service, another card) closed the
    production record as retried and marked its card issued with the
    sandbox card's gcId and amount.  reconcile then had nothing to ask and
    the production claim code was never shown"""
    rid = PARTNER + "BothEnvs"
    sandbox = agcod_emulator.Emulator(certs, partner=PARTNER, access_key_id=KEY_ID,
                                      secret=SECRET).start()
    try:
        prod = dict(endpoint=emu.endpoint, ca_bundle=emu.ca,
                    environment="production", assume_yes="yes")
        agcod.write_config(**prod)
        emu.fault("drop", count=1, op="CreateGiftCard")
        r = agcod("--retry-for", "0", "create", "--amount", "7", "--request-id", rid)
        assert r.rc == 75 and emu.state.creates == 1, r
        agcod.write_config(endpoint=sandbox.endpoint, ca_bundle=emu.ca)
        r = agcod("create", "--amount", "5", "--request-id", rid, "-o", "json")
        assert r.rc == 65 and r.out == "" and "production" in r.err, r
        assert sandbox.state.creates == 0
        agcod.write_config(**prod)
        assert pending_ids(agcod) == [rid]
        rec = agcod("reconcile", "-o", "json")
        assert rec.rc == 0, rec
        assert rec.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
        card = [o for o in agcod.objects() if o["request_id"] == rid]
        assert [(o["state"], o["amount"], o["gc_id"]) for o in card] == [
            ("issued", "7", emu.state.cards[rid]["gcId"])], card
    finally:
        sandbox.stop()
