"""The write-ahead journal, cancel/void from it, history and reconcile."""
import json
import os
import re
import stat

from conftest import PARTNER, SECRET


def test_pending_is_on_disk_before_the_request_arrives(agcod, emu):
    seen = []

    def check(entry):
        body = json.loads(entry["body"])
        rid = body.get("creationRequestId")
        recs = agcod.journal()
        seen.append(any(r["request_id"] == rid and r["state"] == "pending" for r in recs))
    emu.on_request = check
    r = agcod("create", "--amount", "4.56", "-o", "json")
    assert r.rc == 0, r
    assert seen == [True]
    lines = (agcod.state / "journal.jsonl").read_text().splitlines()
    first, last = json.loads(lines[0]), json.loads(lines[1])
    assert first["state"] == "pending" and first["amount"] == "4.56"
    assert first["currency"] == "USD" and first["partner"] == PARTNER
    assert first["operation"] == "CreateGiftCard" and first["environment"] == "sandbox"
    assert last["state"] == "succeeded" and last["gc_id"] == r.json()["gcId"]
    assert last["amazon_request_id"] and last["http_status"] == 200


def test_journal_modes_and_no_secrets(agcod, emu):
    codes = [agcod("create", "--amount", a, "-o", "json").json()["gcClaimCode"]
             for a in ("1", "2.50")]
    j = agcod.state / "journal.jsonl"
    assert stat.S_IMODE(j.stat().st_mode) == 0o600
    assert stat.S_IMODE(agcod.state.stat().st_mode) == 0o700
    text = j.read_text()
    for secret in codes + [SECRET]:
        assert secret not in text
    assert all(json.loads(l) for l in text.splitlines())


def test_unwritable_journal_is_74_and_nothing_sent(agcod, emu, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    r = agcod("--state-dir", blocker, "create", "--amount", "1")
    assert r.rc == 74, r
    assert "nothing was sent" in r.err
    agcod.state.mkdir(mode=0o700)
    os.symlink("/tmp/elsewhere", agcod.state / "journal.jsonl")
    r = agcod("create", "--amount", "1")
    assert r.rc == 74, r
    assert emu.requests() == [] and emu.connections == 0


def test_cancel_takes_gc_id_from_the_journal(agcod, emu):
    c = agcod("create", "--amount", "8", "-o", "json").json()
    r = agcod("cancel", "--request-id", c["creationRequestId"], "-o", "json")
    assert r.rc == 0, r
    assert json.loads(emu.requests("CancelGiftCard")[0]["body"])["gcId"] == c["gcId"]
    r = agcod("cancel", "--request-id", PARTNER + "Unknown1")
    assert r.rc == 64 and "journal has no CreateGiftCard" in r.err


def test_cancel_warns_on_an_old_card(agcod, emu):
    c = agcod("create", "--amount", "8", "-o", "json").json()
    j = agcod.state / "journal.jsonl"
    text = re.sub(r'"time":"[^"]+"', '"time":"2020-01-01T00:00:00Z"', j.read_text())
    j.write_text(text)
    r = agcod("cancel", "--request-id", c["creationRequestId"], "-o", "json")
    assert "more than 15 minutes ago" in r.err
    assert r.rc == 0    # the emulator created it just now


def test_void_takes_the_load_from_the_journal(agcod, emu):
    r = agcod("load", "--amount", "30.00", "--account-id", "amz1.account.Q",
              "--account-type", "3", "--source-id", "Store 7", "-o", "json")
    rid = r.json()["loadBalanceRequestId"]
    v = agcod("void", "--request-id", rid, "-o", "json")
    assert v.rc == 0, v
    load, void = (json.loads(q["body"]) for q in emu.requests())
    for k in ("amount", "account", "transactionSource"):
        assert void[k] == load[k]
    assert void["account"] == {"id": "amz1.account.Q", "type": "3"}


def test_torn_and_bad_lines_are_tolerated(agcod, emu):
    c = agcod("create", "--amount", "1", "-o", "json").json()
    j = agcod.state / "journal.jsonl"
    with open(j, "a") as f:
        f.write("this is not json\n")
        f.write('{"time":"2026-01-01T00:00:00Z","state":"pend')
    r = agcod("history", "-o", "json")
    assert r.rc == 0, r
    assert "incomplete" in r.err and "could not be read" in r.err
    assert [e["request_id"] for e in r.jsonl()] == [c["creationRequestId"]]
    # and agcod keeps appending complete lines after it
    assert agcod("create", "--amount", "1", "-o", "json").rc == 0


def test_history_filters_and_table(agcod, emu):
    a = agcod("create", "--amount", "1.10", "-o", "json").json()
    b = agcod("create", "--amount", "2.20", "--request-id", "F3003", "-o", "json")
    assert b.rc == 77
    h = agcod("history", "-o", "json").jsonl()
    assert [(e["request_id"], e["state"]) for e in h] == [
        (a["creationRequestId"], "succeeded"), ("F3003", "failed")]
    assert h[1]["error_code"] == "F300" and h[1]["error_type"] == "InsufficientFunds"
    assert h[0]["time"] <= h[0]["updated"]
    one = agcod("history", "--request-id", "F3003", "-o", "json").jsonl()
    assert len(one) == 1 and one[0]["amount"] == "2.20"
    assert agcod("history", "--pending", "-o", "json").out == ""
    assert agcod("history", "--since", "2000-01-01", "-o", "json").jsonl() == h
    assert agcod("history", "--since", "2999-01-01", "-o", "json").out == ""
    assert len(agcod("history", "--since", "1h", "-o", "json").jsonl()) == 2
    assert agcod("history", "--since", "yesterday").rc == 64
    t = agcod("history", "-o", "table")
    assert t.rc == 0 and "REQUEST ID" in t.out and "InsufficientFunds" in t.out


def test_lost_create_is_unknown_then_reconciled(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "12.34", "-o", "json")
    assert r.rc == 75, r
    pending = agcod("history", "--pending", "-o", "json").jsonl()
    assert len(pending) == 1 and pending[0]["state"] == "unknown"
    rid = pending[0]["request_id"]
    card = emu.state.cards[rid]
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    out = rec.json()
    assert out["gcClaimCode"] == card["claim"] and out["gcId"] == card["gcId"]
    assert emu.state.creates == 1
    assert b'"amount": 12.34}' in emu.requests("CreateGiftCard")[-1]["body"]
    assert agcod("history", "--pending", "-o", "json").out == ""
    assert agcod("history", "--request-id", rid, "-o", "json").json()["state"] == "succeeded"
    again = agcod("reconcile")
    assert again.rc == 0 and "nothing to reconcile" in again.err
    assert card["claim"] not in (agcod.state / "journal.jsonl").read_text()


def test_reconcile_still_unreachable_stays_unknown(agcod, emu):
    emu.fault("drop", count=2, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "1").rc == 75
    r = agcod("--retry-for", "0", "reconcile", "-o", "json")
    assert r.rc == 75
    assert len(agcod("history", "--pending", "-o", "json").jsonl()) == 1


def test_reconcile_skips_other_partners(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "1").rc == 75
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, partner_id="Other")
    r = agcod("reconcile")
    assert r.rc == 0 and "skipping" in r.err and "nothing to reconcile" in r.err


def test_history_table_shows_no_control_characters(offline):
    """gc_id and error_type come from the service: never raw on a terminal"""
    offline.state.mkdir(mode=0o700, exist_ok=True)
    rec = {"time": "2026-11-22T10:00:00Z", "state": "succeeded",
           "operation": "CreateGiftCard", "request_id": "Acme1x1",
           "amount": "5.00", "currency": "USD", "gc_id": "\x1b]0;owned\x07GC1"}
    j = offline.state / "journal.jsonl"
    j.write_text(json.dumps(rec) + "\n")
    j.chmod(0o600)
    r = offline("history", "-o", "table")
    assert r.rc == 0, r
    assert "\x1b" not in r.out and "\x07" not in r.out
    assert "Acme1x1" in r.out and "GC1" in r.out
