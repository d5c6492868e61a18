"""Every operation against the emulator, over HTTPS, with exact bytes."""
import json
import re

import pytest

from conftest import PARTNER



def test_create_json_output_and_exact_amount(agcod, emu):
    r = agcod("create", "--amount", "19.99", "-o", "json")
    assert r.rc == 0, r
    out = r.json()
    assert out["status"] == "SUCCESS"
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{6}-[A-Z0-9]{4}", out["gcClaimCode"])
    assert out["creationRequestId"].startswith(PARTNER)
    # the body carried 19.99 as typed, and the answer's number is passed through
    body = emu.requests("CreateGiftCard")[0]["body"]
    assert b'"amount": 19.99}' in body
    assert '"amount":19.99' in r.out
    assert r.err == ""          # nothing but the result, nothing on stderr


def test_small_amount_and_funds_debit(agcod, emu):
    before = emu.state.funds
    r = agcod("create", "--amount", "0.15", "-o", "json")
    assert r.rc == 0, r
    assert b'"amount": 0.15}' in emu.requests("CreateGiftCard")[0]["body"]
    assert before - emu.state.funds == __import__("decimal").Decimal("0.15")


def test_table_output_shows_code_and_environment(agcod, emu):
    r = agcod("create", "--amount", "5", "-o", "table")
    assert r.rc == 0, r
    rows = dict(re.split(r"\s{2,}", l.strip(), 1) for l in r.out.splitlines())
    assert rows["environment"] == "SANDBOX"
    assert re.fullmatch(r"[A-Z0-9-]{16}", rows["gcClaimCode"])
    assert rows["cardInfo.value.amount"] == "5.0"
    assert rows["cardInfo.value.currencyCode"] == "USD"


def test_idempotent_repeat_same_card_no_second_debit(agcod, emu):
    rid = PARTNER + "Repeat0001"
    a = agcod("create", "--amount", "25.00", "--request-id", rid, "-o", "json")
    funds = emu.state.funds
    b = agcod("create", "--amount", "25.00", "--request-id", rid, "-o", "json")
    assert a.rc == b.rc == 0
    assert a.json()["gcId"] == b.json()["gcId"]
    assert a.json()["gcClaimCode"] == b.json()["gcClaimCode"]
    assert emu.state.funds == funds and emu.state.creates == 1


def test_cancel(agcod, emu):
    c = agcod("create", "--amount", "10", "-o", "json").json()
    r = agcod("cancel", "--request-id", c["creationRequestId"], "--gc-id", c["gcId"],
              "-o", "json")
    assert r.rc == 0, r
    assert r.json()["status"] == "SUCCESS"
    assert json.loads(emu.requests("CancelGiftCard")[0]["body"]) == {
        "creationRequestId": c["creationRequestId"], "partnerId": PARTNER,
        "gcId": c["gcId"]}
    assert emu.state.cards[c["creationRequestId"]]["status"] == "RefundedToPurchaser"


def test_cancel_too_late_is_refused_65(agcod, emu):
    emu.cancel_window = 0
    c = agcod("create", "--amount", "10", "-o", "json").json()
    r = agcod("cancel", "--request-id", c["creationRequestId"], "--gc-id", c["gcId"],
              "-o", "json")
    assert r.rc == 65, r
    assert r.json()["errorType"] == "CancelRequestArrivedAfterTimeLimit"
    assert "CancelRequestArrivedAfterTimeLimit" in r.err


def test_funds_and_below(agcod, emu):
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    assert r.json()["availableFunds"]["amount"] == 100000.0
    assert '"amount":100000.00' in r.out     # exactly as the service wrote it
    assert agcod("funds", "--below", "100000.01", "-o", "json").rc == 1
    assert agcod("funds", "--below", "100000", "-o", "json").rc == 0
    assert agcod("funds", "--below", "abc").rc == 64


def test_load_and_void(agcod, emu):
    r = agcod("load", "--amount", "12.34", "--account-id", "amz1.account.XYZ",
              "--source-id", "Customer Service", "-o", "json")
    assert r.rc == 0, r
    rid = r.json()["loadBalanceRequestId"]
    body = json.loads(emu.requests("LoadAmazonBalance")[0]["body"])
    assert body["amount"] == {"currencyCode": "USD", "value": "12.34"}
    assert body["account"] == {"id": "amz1.account.XYZ", "type": "2"}
    assert body["transactionSource"] == {"sourceId": "Customer Service"}
    v = agcod("void", "--request-id", rid, "--amount", "12.34",
              "--account-id", "amz1.account.XYZ", "-o", "json")
    assert v.rc == 0, v
    assert emu.state.loads[rid]["status"] == "Voided"
    w = agcod("void", "--request-id", rid, "--amount", "1.00",
              "--account-id", "amz1.account.XYZ", "-o", "json")
    assert w.rc == 65, w


def test_activate_status_deactivate(agcod, emu):
    card = "1400000005567585358"
    a = agcod("activate", "--card-number", card, "--amount", "20", "-o", "json")
    assert a.rc == 0, a
    rid = a.json()["activationRequestId"]
    s = agcod("activation-status", "--card-number", card, "-o", "json")
    assert s.rc == 0 and s.json()["cardInfo"]["cardStatus"] == "Activated", s
    d = agcod("deactivate", "--card-number", card, "--request-id", rid, "-o", "json")
    assert d.rc == 0, d
    s = agcod("activation-status", "--card-number", card, "-o", "json")
    assert s.json()["cardInfo"]["cardStatus"] == "Deactivated"


def test_unknown_response_fields_pass_through(agcod, emu):
    emu.extra_fields = {"newField": {"nested": [1, __import__("decimal").Decimal("2.50")]}, "zeta": None}
    r = agcod("create", "--amount", "1", "-o", "json")
    assert r.rc == 0
    assert '"newField":{"nested":[1,2.50]}' in r.out
    assert r.json()["zeta"] is None


def test_production_notice_on_stderr(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       environment="production", assume_yes="yes")
    r = agcod("create", "--amount", "1", "-o", "json")
    assert r.rc == 0, r
    assert "PRODUCTION" in r.err and PARTNER in r.err
    q = agcod("-q", "create", "--amount", "1", "-o", "json")
    assert q.rc == 0 and q.err == ""


def test_signed_headers_and_fresh_dates(agcod, emu):
    agcod("funds", "-o", "json")
    h = {k.lower(): v for k, v in emu.requests()[0]["headers"]}
    assert h["x-amz-target"] == "com.amazonaws.agcod.AGCODService.GetAvailableFunds"
    assert h["accept"] == "application/json"
    assert h["content-type"] == "application/json"
    assert "SignedHeaders=accept;content-type;host;x-amz-date;x-amz-target" in h["authorization"]
    assert h["host"] == emu.endpoint[len("https://"):]
    assert h["user-agent"].startswith("agcod/")


def test_a_lower_case_currency_is_sent_in_upper_case(agcod, emu):
    """--currency usd, as a batch file's currency cell may be: the body
    and the journal carry the ISO code, USD"""
    r = agcod("create", "--amount", "1.25", "--currency", "usd", "-o", "json")
    assert r.rc == 0, r
    body = json.loads(emu.requests("CreateGiftCard")[0]["body"])
    assert body["value"] == {"currencyCode": "USD", "amount": 1.25}
    assert agcod.journal()[-1]["currency"] == "USD"
