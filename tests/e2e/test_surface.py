"""The AGCOD surface: amounts as the service prints them, currencies per
region, mock ids, programId/productType, cancel without a gc id."""
import json
import os
import re
from decimal import Decimal as D

from conftest import ROOT


def test_funds_reads_java_exponent(agcod, emu):
    # the service is Java: a JPY balance of 10 million prints as 1.0E7
    emu.state.currency = "JPY"
    emu.state.funds = D("10000000")
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    assert '"amount":1.0E7' in r.out        # passed through exactly
    r = agcod("funds", "--below", "20000000", "-o", "json")
    assert r.rc == 1, r
    assert "below" in r.err
    r = agcod("funds", "--below", "500", "-o", "json")
    assert r.rc == 0, r
    r = agcod("funds", "--below", "10000000", "-o", "json")
    assert r.rc == 0, r                     # equal is not below
    r = agcod("funds", "--below", "10000000.01", "-o", "json")
    assert r.rc == 1, r


def test_funds_reads_small_exponent(agcod, emu):
    emu.state.funds = D("0.0005")            # Java: 5.0E-4
    r = agcod("funds", "-o", "json")
    assert r.rc == 0 and '"amount":5.0E-4' in r.out, r
    assert agcod("funds", "--below", "0.001").rc == 1
    assert agcod("funds", "--below", "0.0005").rc == 0


REGION_CURRENCIES = {
    "na": ["USD", "CAD", "MXN"],
    "eu": ["EUR", "GBP", "TRY", "AED", "SAR", "PLN", "SEK", "EGP", "ZAR"],
    "fe": ["JPY", "AUD", "SGD"],
}


def test_currency_of_another_region_refused_before_sending(agcod, emu):
    for region, curs in REGION_CURRENCIES.items():
        for cur in curs:
            for other in REGION_CURRENCIES:
                if other == region:
                    continue
                r = agcod("--region", other, "create", "--amount", "10",
                          "--currency", cur)
                assert r.rc == 64, (cur, other, r)
                assert f"'{cur}'" in r.err and f"the {region} region" in r.err, r
                assert r.err.count("\n") <= 3, r
    # the profile's default currency is checked the same way
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=agcod_ca(agcod),
                       currency="EUR")
    r = agcod("create", "--amount", "10")
    assert r.rc == 64 and "the eu region" in r.err and "USD" in r.err, r
    assert emu.requests() == []


def agcod_ca(agcod):
    for line in agcod.config.read_text().splitlines():
        if line.startswith("ca_bundle"):
            return line.split("=", 1)[1].strip()
    raise AssertionError("no ca_bundle")


def test_currencies_each_region_serves_are_sent(agcod, emu):
    for region, curs in REGION_CURRENCIES.items():
        for cur in curs:
            r = agcod("--region", region, "sign-debug", "create", "--amount",
                      "10", "--currency", cur, "-o", "json")
            assert r.rc == 0, (region, cur, r)
            assert f'"currencyCode": "{cur}"' in json.loads(r.out)["body"]


def test_egp_and_zar_are_served_by_the_eu_region(agcod, emu):
    # Egypt and South Africa are among the EU endpoint's countries; the codes
    # are ISO 4217's (both with two decimals), inferred: the man page says so
    r = agcod("--region", "eu", "sign-debug", "create", "--amount", "150.25",
              "--currency", "ZAR", "-o", "json")
    assert r.rc == 0, r
    assert json.loads(json.loads(r.out)["body"])["value"] == {
        "currencyCode": "ZAR", "amount": 150.25}
    for cur in ("EGP", "ZAR"):
        r = agcod("--region", "eu", "sign-debug", "create", "--amount", "10.125",
                  "--currency", cur)
        assert r.rc == 64 and "more decimals" in r.err, r
        r = agcod("--region", "na", "create", "--amount", "10", "--currency", cur)
        assert r.rc == 64 and "the eu region" in r.err, r
    assert emu.requests() == []
    man = open(os.path.join(ROOT, "man", "agcod.1")).read()
    assert re.search(r"EGP and ZAR[^.]*inferred", " ".join(man.split())), \
        "the man page says the EGP and ZAR codes are inferred"


def test_sandbox_mock_ids_agree_with_the_service(agcod, emu):
    # F0000 is the success mock; F1000 answers F100 GeneralError (not success)
    r = agcod("create", "--amount", "1", "--request-id", "F0000", "-o", "json")
    assert r.rc == 0 and r.json()["status"] == "SUCCESS", r
    r = agcod("create", "--amount", "1", "--request-id", "F1000", "-o", "json")
    assert r.rc == 69, r
    out = r.json()
    assert (out["errorCode"], out["errorType"]) == ("F100", "GeneralError")
    assert out["agcodResponse"]["status"] == "FAILURE"
    r = agcod("cancel", "--request-id", "F0000", "--gc-id", "ABC123ZYX987", "-o", "json")
    assert r.rc == 0, r
    # the docs say the same
    man = open(os.path.join(ROOT, "man", "agcod.1")).read()
    readme = open(os.path.join(ROOT, "README.md")).read()
    for text in (man, readme):
        assert "F0000" in text and "F1000" in text
    assert "F1000 for success" not in readme
    i = man.index(".Ql F1000")
    assert "GeneralError" in man[i:i + 80] and "F100" in man[i:i + 80]


CARD = "1400000005567585358"


def test_program_id_and_product_type_on_create(agcod, emu):
    r = agcod("create", "--amount", "5", "--program-id", "Prog42",
              "--product-type", "hwPV", "-o", "json")
    assert r.rc == 0, r
    body = emu.requests("CreateGiftCard")[0]["body"].decode()
    assert body.endswith('"programId": "Prog42", "productType": "hwPV"}'), body
    assert json.loads(body)["productType"] == "hwPV"


def test_program_id_and_product_type_on_activate(agcod, emu):
    emu.program_ids = {"Prog42"}
    r = agcod("activate", "--card-number", CARD, "--amount", "20",
              "--program-id", "Prog42", "--product-type", "bookPV", "-o", "json")
    assert r.rc == 0, r
    body = emu.requests("ActivateGiftCard")[0]["body"].decode()
    assert '"programId": "Prog42"' in body and '"productType": "bookPV"' in body, body
    # a reseller that forgets it: the service says ProgramIdNotPresent
    r = agcod("activate", "--card-number", "1400000005567585359", "--amount",
              "20", "-o", "json")
    assert r.rc == 65, r
    assert r.json()["errorType"] == "ProgramIdNotPresent"
    body = emu.requests("ActivateGiftCard")[1]["body"].decode()
    assert "programId" not in body and "productType" not in body


def test_program_id_and_product_type_checked_before_sending(agcod, emu):
    for args in (["--product-type", "hw-PV"], ["--product-type", "x" * 51],
                 ["--program-id", "a b"]):
        r = agcod("activate", "--card-number", CARD, "--amount", "20", *args)
        assert r.rc == 64, (args, r)
    r = agcod("funds", "--product-type", "hwPV")
    assert r.rc == 64, r
    assert emu.requests() == []


def test_cancel_without_gc_id_sends_and_warns(agcod, emu):
    # the create's answer was lost: the journal knows the request, not its gcId
    emu.fault("drop", op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "5", "-o", "json")
    assert r.rc == 75, r
    rid = json.loads(emu.requests("CreateGiftCard")[0]["body"])["creationRequestId"]
    r = agcod("cancel", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    assert "no gcId" in r.err and "without it" in r.err and rid in r.err, r
    body = json.loads(emu.requests("CancelGiftCard")[0]["body"])
    assert body == {"creationRequestId": rid, "partnerId": "Acme1"}
    assert r.json()["status"] == "SUCCESS"
    # with the journal's gc id nothing is said and gcId is sent
    r = agcod("create", "--amount", "5", "-o", "json")
    rid2, gcid = r.json()["creationRequestId"], r.json()["gcId"]
    r = agcod("cancel", "--request-id", rid2, "-o", "json")
    assert r.rc == 0 and "without" not in r.err, r
    assert json.loads(emu.requests("CancelGiftCard")[1]["body"])["gcId"] == gcid


def test_man_page_says_balance_load_units_are_unconfirmed():
    man = open(os.path.join(ROOT, "man", "agcod.1")).read()
    i = man.index(".It Cm load")
    section = man[i:man.index(".It Cm void", i)]
    assert "major units" in section and "No second source confirms" in section


def test_amount_ceiling_whatever_the_scale_typed(agcod, emu):
    for args in (["--amount", "50000"], ["--amount", "50000.00"],
                 ["--amount", "10000.01"], ["--amount", "0010000.5"]):
        r = agcod("create", *args)
        assert r.rc == 64 and "ceiling" in r.err, (args, r)
    r = agcod("--region", "eu", "create", "--amount", "10000.5", "--currency", "EUR")
    assert r.rc == 64 and "ceiling" in r.err, r
    assert emu.requests() == []
