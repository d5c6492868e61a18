"""The API as Amazon's service and its clients see it (issue 19, 14-17) and
the 4xx pages that prove nothing (issue 18's pins).

- operator-given request ids take '_' and '-' (the live sandbox does);
  ids agcod generates stay alphanumeric;
- throttling is recognised whatever else the body carries;
- a repeated id of an Expired card hands out no claim code;
- a gateway refusal that proves the request was not understood is failed,
  while a proxy's 4xx page after the request may have acted stays unknown.
"""
import json
import re

import pytest

from conftest import PARTNER


def final(agcod, rid, op):
    recs = [r for r in agcod.journal() if r.get("request_id") == rid
            and r.get("operation") == op]
    return recs[-1] if recs else {}


def pending_ids(agcod):
    r = agcod("history", "--pending", "-o", "json")
    assert r.rc == 0, r
    return [e["request_id"] for e in r.jsonl()]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


# ---- 14: request ids with '_' and '-' ----

def test_operator_ids_with_underscore_and_dash(agcod, emu, tmp_path):
    rid = PARTNER + "_62a309167e7a4-x"
    r = agcod("create", "--amount", "5", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    assert json.loads(emu.requests("CreateGiftCard")[-1]["body"])[
        "creationRequestId"] == rid
    code = r.json()["gcClaimCode"]
    r = agcod("reprint", "--request-id", rid, "-o", "json")
    assert r.rc == 0 and r.json()["gcClaimCode"] == code, r
    r = agcod("cancel", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    assert emu.state.cards[rid]["status"] == "RefundedToPurchaser"

    # reconcile re-sends such an id as it was
    rid2 = PARTNER + "-recon_1"
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "5", "--request-id", rid2)
    assert r.rc == 75, r
    r = agcod("reconcile", "-o", "json")
    assert r.rc == 0 and r.json()["creationRequestId"] == rid2, r

    # a batch's request_id column
    f = write(tmp_path, "ids.csv", f"amount,request_id\n5,{PARTNER}_row-1\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0 and r.jsonl()[0]["request_id"] == PARTNER + "_row-1", r


def test_ids_agcod_generates_stay_alphanumeric(agcod, emu):
    for _ in range(3):
        r = agcod("create", "--amount", "1", "-o", "json")
        assert r.rc == 0, r
        assert re.fullmatch(r"[A-Za-z0-9]+", r.json()["creationRequestId"]), r


@pytest.mark.parametrize("rid", [PARTNER + ".x", PARTNER + " x", PARTNER + "/x",
                                 PARTNER + "\u00e9", "x_" + PARTNER,
                                 PARTNER + "-" * 36])
def test_other_ids_are_still_refused(agcod, emu, rid):
    r = agcod("create", "--amount", "1", "--request-id", rid)
    assert r.rc == 64, r
    assert emu.requests() == []


# ---- 15: a throttle answer with an errorCode ----

def test_throttled_with_an_error_code_is_retried(agcod, emu):
    emu.fault("throttled_code", count=1, op="CreateGiftCard")
    r = agcod("create", "--amount", "5", "-o", "json")
    assert r.rc == 0, r
    assert len(emu.requests("CreateGiftCard")) == 2
    assert "throttled" in r.err and emu.state.creates == 1


def test_throttled_with_an_error_code_until_the_budget_ends_is_75(agcod, emu):
    emu.fault("throttled_code", count=50, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "5")
    assert r.rc == 75 and "throttled" in r.err, r
    # nothing was done: not "failed" for good, and no card
    assert emu.state.creates == 0


# ---- 16: cardStatus Expired ----

def _expired_card(agcod, emu):
    c = agcod("create", "--amount", "10", "-o", "json")
    assert c.rc == 0, c
    c = c.json()
    emu.state.cards[c["creationRequestId"]]["status"] = "Expired"
    return c


def _no_code(r, c):
    assert c["gcClaimCode"] not in r.out and c["gcClaimCode"] not in r.err, r
    assert "Expired" in r.err and "expired" in r.err, r


def test_repeated_create_of_an_expired_card(agcod, emu):
    c = _expired_card(agcod, emu)
    rid = c["creationRequestId"]
    for fmt in ("json", "table"):
        r = agcod("create", "--amount", "10", "--request-id", rid, "-o", fmt)
        assert r.rc == 65, r
        _no_code(r, c)


def test_reprint_of_an_expired_card(agcod, emu):
    c = _expired_card(agcod, emu)
    r = agcod("reprint", "--request-id", c["creationRequestId"], "-o", "json")
    assert r.rc == 65, r
    _no_code(r, c)


def test_reconcile_of_an_expired_card(agcod, emu):
    rid = PARTNER + "Expired01"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "10",
                 "--request-id", rid).rc == 75
    emu.state.cards[rid]["status"] = "Expired"
    r = agcod("reconcile", "-o", "json")
    assert r.rc == 65, r
    _no_code(r, {"gcClaimCode": emu.state.cards[rid]["claim"]})


def test_batch_reprint_of_an_expired_card(agcod, emu, tmp_path):
    f = write(tmp_path, "gifts.csv", "amount,email\n5,a@example.com\n6,b@example.com\n")
    first = agcod("batch", "create", f, "-o", "json")
    assert first.rc == 0, first
    row = first.jsonl()[0]
    emu.state.cards[row["request_id"]]["status"] = "Expired"
    r = agcod("batch", "create", f, "--reprint", "-o", "json")
    assert r.rc == 65, r
    out = r.jsonl()
    assert out[0]["status"] == "EXPIRED" and not out[0].get("gcClaimCode"), out
    assert out[1]["gcClaimCode"] == first.jsonl()[1]["gcClaimCode"]
    assert row["gcClaimCode"] not in r.out and "Expired" in r.err


# ---- 17: a gateway refusal that proves nothing was done ----

@pytest.mark.parametrize("fault,words", [
    ("gw_not_json_type", "is not an expected Json type"),
    ("gw_unknown_operation", "UnknownOperationException"),
    ("gw_unsupported_media", "content-type must be application/json"),
])
def test_gateway_refusal_is_failed_with_its_message(agcod, emu, fault, words):
    rid = PARTNER + "Gw" + fault.replace("_", "")
    emu.fault(fault, count=1, op="CreateGiftCard")
    r = agcod("create", "--amount", "5", "--request-id", rid, "-o", "json")
    assert r.rc == 65, r
    assert len(emu.requests("CreateGiftCard")) == 1       # not retried
    assert words in r.err and "nothing was done" in r.err, r
    assert "likely cause" in r.err, r
    rec = final(agcod, rid, "CreateGiftCard")
    assert rec["state"] == "failed" and words in rec["error"], rec
    assert rid not in pending_ids(agcod)
    assert emu.state.creates == 0


# ---- issue 18: a proxy's 4xx page proves nothing ----

@pytest.mark.parametrize("fault", ["acted_html400", "acted_html404", "acted_html413"])
@pytest.mark.parametrize("op,args", [
    ("CreateGiftCard", ["create", "--amount", "9"]),
    ("LoadAmazonBalance", ["load", "--amount", "5", "--account-id", "amz1.account.A"]),
])
def test_a_proxy_4xx_page_after_the_request_acted_stays_unknown(agcod, emu, fault, op, args):
    rid = PARTNER + "Page" + fault[-3:] + op[:4]
    emu.fault(fault, count=1, op=op)
    r = agcod("--retry-for", "0", *args, "--request-id", rid, "-o", "json")
    assert r.rc == 75, r
    assert [q for q in emu.requests(op) if q.get("acted")]
    assert r.out == "" and "unknown" in r.err
    assert final(agcod, rid, op)["state"] == "unknown"
    assert rid in pending_ids(agcod)
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    assert final(agcod, rid, op)["state"] == "succeeded"
    if op == "CreateGiftCard":
        assert emu.state.creates == 1
        assert rec.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]


def test_a_proxy_4xx_page_is_unknown_even_when_nothing_was_forwarded(agcod, emu):
    """agcod cannot tell a page from before the service from one after it"""
    rid = PARTNER + "Page400x"
    emu.fault("html400", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "9", "--request-id", rid)
    assert r.rc == 75, r
    assert final(agcod, rid, "CreateGiftCard")["state"] == "unknown"
