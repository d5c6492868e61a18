"""Attacks on the money-evidence rule (issue 18) by a stranger: each test
names the way a card could be lost, double-issued, wrongly failed, left
open forever, or an exit code could lie."""
import os
import sqlite3
import subprocess

import pytest

import agcod_emulator
from conftest import AGCOD, KEY_ID, PARTNER, SECRET
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


@pytest.mark.sqlite_file
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


@pytest.mark.sqlite_file
def test_a_refusal_the_journal_could_not_record_is_not_a_promise(agcod, emu):
    """the service refused the create (F300, exit 77) but the disk filled
    before the journal recorded it: the pending record stays open and a
    later reconcile sends it.  Exit 77 said 'refused' and nothing more, so
    an operator who topped up the funds and issued again had two cards"""
    import resource
    rid = PARTNER + "RefusedUnrecorded"
    assert agcod("create", "--amount", "1").rc == 0     # the journal exists
    emu.state.funds = agcod_emulator.D("1")
    holder = {}

    def full(entry):
        resource.prlimit(holder["pid"], resource.RLIMIT_FSIZE, (512, 512))
    emu.on_request = full
    try:
        p = subprocess.Popen([AGCOD, "create", "--amount", "5", "--request-id",
                              rid], env=agcod.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        holder["pid"] = p.pid
        out, err = p.communicate(timeout=60)
    finally:
        emu.on_request = None
    assert "F300" in err, err
    assert rid in pending_ids(agcod)
    assert p.returncode == 75, (p.returncode, err)
    assert "agcod reconcile" in err and "journal settle" in err, err
    # what 75 warns of: once the funds are there, reconcile sends it
    emu.state.funds = agcod_emulator.D("100")
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0 and emu.state.cards[rid]["claim"] in rec.out, rec


def test_a_reactivation_lost_then_refused_stays_unknown(agcod, emu):
    """a physical card is one object for all its activations: deactivated,
    then activated anew under request id B, whose answer was lost (B may
    have activated it).  B sent again and refused for a reason that says
    nothing about B (a 403) was read as 'answered', since the card's object
    was settled (deactivated): B became failed and closed while the service
    holds the card activated"""
    card = "1400000005567585358"
    a, b = PARTNER + "ActA", PARTNER + "ActB"
    r = agcod("activate", "--card-number", card, "--amount", "20",
              "--request-id", a)
    assert r.rc == 0, r
    r = agcod("deactivate", "--card-number", card, "--request-id", a)
    assert r.rc == 0, r
    emu.fault("drop", count=1, op="ActivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", card,
              "--amount", "20", "--request-id", b)
    assert r.rc == 75, r
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       access_key_id="AKIDUNKNOWN")
    r = agcod("--retry-for", "0", "activate", "--card-number", card,
              "--amount", "20", "--request-id", b)
    assert r.rc == 75 and "unknown" in r.err, r
    assert b in pending_ids(agcod)
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca)
    assert agcod("reconcile").rc == 0
    assert [o["state"] for o in agcod.objects() if o.get("card_number") == card] == [
        "activated"]
    assert pending_ids(agcod) == []


def test_a_killed_writer_not_yet_reaped_is_not_live(agcod, emu):
    """kill -9 of a create in flight, by a parent that has not waited for
    it yet: its pid is a zombie, with the same start time.  It was taken
    for a live writer, and reconcile refused the card as 'being sent'"""
    import signal
    import time
    rid = PARTNER + "Zombie"
    emu.fault("delay", count=1, op="CreateGiftCard", seconds=3)
    p = subprocess.Popen([AGCOD, "create", "--amount", "3", "--request-id",
                          rid], env=agcod.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(200):
            if emu.requests("CreateGiftCard"):
                break
            time.sleep(0.05)
        os.kill(p.pid, signal.SIGKILL)
        for _ in range(200):    # dead, not reaped
            with open(f"/proc/{p.pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.05)
        rec = agcod("reconcile", "-o", "json")
        assert rec.rc == 0, rec
        assert rec.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
        assert emu.state.creates == 1
    finally:
        p.wait()


def test_another_activations_f2xx_does_not_fail_the_card(agcod, emu):
    """activation A of a physical card lost its answer (the card may be
    active).  Activation B of the same card is refused F200 'already
    activated with a different request id': that proves B did nothing, and
    says A did act.  The card's object went unknown -> failed"""
    card = "1400000005567585358"
    a, b = PARTNER + "ActF2A", PARTNER + "ActF2B"
    emu.fault("drop", count=1, op="ActivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", card,
              "--amount", "20", "--request-id", a)
    assert r.rc == 75, r
    r = agcod("activate", "--card-number", card, "--amount", "20",
              "--request-id", b)
    assert r.rc == 65 and "F200" in r.err, r
    assert [o["state"] for o in agcod.objects() if o.get("card_number") == card] == [
        "unknown"]
    assert pending_ids(agcod) == [a]
    assert agcod("reconcile").rc == 0
    assert [o["state"] for o in agcod.objects() if o.get("card_number") == card] == [
        "activated"]


def test_references_of_the_sandbox_do_not_block_production(agcod, emu, tmp_path):
    """references are reserved per partner and environment: the sandbox
    rehearsal of a file does not hold its references in production (the
    pre-scan read every environment's cards, and the operator's way out,
    --allow-reused-reference, turns the guard off in production)"""
    f = tmp_path / "refs.csv"
    f.write_text("amount,external_reference\n5,order-1\n6,order-2\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       environment="production", assume_yes="yes")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    assert len(r.jsonl()) == 2 and emu.state.creates == 4
    # and in production the guard still holds
    g = tmp_path / "again.csv"
    g.write_text("amount,external_reference\n7,order-2\n")
    r = agcod("batch", "create", g, "-o", "json")
    assert r.rc == 65 and "order-2" in r.err, r


def test_a_pruned_card_still_holds_its_external_reference(agcod, emu, tmp_path):
    """journal prune deleted the issued card and with it the reservation of
    its external reference: the next file with that reference (another
    name, a corrected export) gave the reference a second card"""
    a = tmp_path / "a.csv"
    a.write_text("amount,external_reference\n5,order-9\n")
    assert agcod("batch", "create", a, "-o", "json").rc == 0
    p = agcod("journal", "prune", "--before", "2999-01-01")
    assert p.rc == 0, p
    b = tmp_path / "b.csv"
    b.write_text("amount,external_reference\n5,order-9\n")
    r = agcod("batch", "create", b, "-o", "json")
    assert r.rc == 65 and "order-9" in r.err, r
    assert emu.state.creates == 1


def test_an_unrecorded_refusal_after_a_lost_answer_never_advises_failed(agcod, emu):
    """the first attempt's answer was lost (the card is issued), the retry
    was refused by the gateway, and the disk filled before the journal
    recorded it.  agcod advised 'journal settle --state failed': an
    operator who followed it lost track of an issued card"""
    import resource
    rid = PARTNER + "LostThenRefused"
    assert agcod("create", "--amount", "1").rc == 0     # the journal exists
    emu.fault("drop", count=1, op="CreateGiftCard")
    emu.fault("gw_unknown_operation", count=1, op="CreateGiftCard")
    holder = {"n": 0}

    def full(entry):
        if entry["op"] == "CreateGiftCard":
            holder["n"] += 1
            if holder["n"] == 2:    # the retry of rid
                resource.prlimit(holder["pid"], resource.RLIMIT_FSIZE,
                                 (512, 512))
    emu.on_request = full
    try:
        p = subprocess.Popen([AGCOD, "--retry-for", "5", "create", "--amount",
                              "5", "--request-id", rid], env=agcod.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        holder["pid"] = p.pid
        out, err = p.communicate(timeout=60)
    finally:
        emu.on_request = None
    assert emu.state.creates == 2 and holder["n"] == 2, (holder, err)
    assert p.returncode == 75, (p.returncode, err)
    assert "--state failed" not in err and "agcod reconcile" in err, err
    assert rid in pending_ids(agcod)
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0 and emu.state.cards[rid]["claim"] in rec.out, rec


def test_a_hidden_resend_by_libcurl_may_have_acted(agcod, emu):
    """libcurl sends a request again, on a fresh connection, when a reused
    connection closed without a byte of answer, and says nothing: here the
    service had processed it (the card is issued).  The re-send was
    throttled to the end of the budget, and agcod, that had seen no attempt
    that may have acted, journaled the card failed, closed"""
    rid = PARTNER + "HiddenResend"
    emu.fault("throttle", count=1, op="CreateGiftCard")  # keeps the connection
    emu.fault("drop", count=1, op="CreateGiftCard")      # acts, answers nothing
    emu.fault("throttle", count=1000, op="CreateGiftCard")
    r = agcod("--retry-for", "3", "create", "--amount", "4", "--request-id", rid)
    assert emu.state.creates == 1
    assert r.rc == 75, r
    assert rid in pending_ids(agcod), agcod.journal()
    emu.faults.clear()
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0 and emu.state.cards[rid]["claim"] in rec.out, rec
