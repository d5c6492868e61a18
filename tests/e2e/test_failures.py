"""Exit codes, mock ids, injected faults and retries against the emulator."""
import json
import subprocess

import pytest

from conftest import AGCOD, PARTNER

MOCK_EXITS = {
    "F1000": (69, "GeneralError"), "F2003": (65, "InvalidAmountInput"),
    "F2004": (65, "InvalidAmountValue"), "F2005": (65, "InvalidCurrencyCodeInput"),
    "F2010": (65, "CardAlreadyActivatedWithDifferentRequestId"),
    "F2015": (65, "MaxAmountExceeded"), "F2016": (65, "CurrencyCodeMismatch"),
    "F2017": (65, "FractionalAmountNotAllowed"),
    "F2047": (65, "CancelRequestArrivedAfterTimeLimit"),
    "F3003": (77, "InsufficientFunds"), "F3005": (77, "GeneralError"),
    "F3010": (77, "CustomerSurpassedDailyVelocityLimit"),
    "F5000": (69, "GeneralError"),
}


@pytest.mark.parametrize("mock", sorted(MOCK_EXITS))
def test_mock_ids(agcod, emu, mock):
    code, etype = MOCK_EXITS[mock]
    r = agcod("create", "--amount", "1", "--request-id", mock, "-o", "json")
    assert r.rc == code, r
    out = r.json()                        # the service's error body on stdout
    assert out["errorType"] == etype and out["agcodResponse"]["status"] == "FAILURE"
    assert etype in r.err
    assert len(emu.requests()) == 1       # FAILURE is never retried


def test_mock_success_F0000(agcod, emu):
    r = agcod("create", "--amount", "3.00", "--request-id", "F0000", "-o", "json")
    assert r.rc == 0, r
    assert r.json()["gcClaimCode"] == "ZYXW-VUTS-RQPO"
    assert r.json()["cardInfo"]["value"]["amount"] == 3.0


def test_mock_F4000_resend_until_budget_then_75(agcod, emu):
    r = agcod("--retry-for", "2", "create", "--amount", "1", "--request-id", "F4000",
              "-o", "json")
    assert r.rc == 75, r
    reqs = emu.requests("CreateGiftCard")
    assert len(reqs) >= 2                  # retried, 1 s apart
    assert len({q["body"] for q in reqs}) == 1   # the same body and id each time
    assert "unknown" in r.err and "F4000" in r.err


def test_mock_ids_in_production_refused(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    r = agcod("create", "--amount", "1", "--request-id", "F0000")
    assert r.rc == 64 and "mock" in r.err
    assert emu.requests() == []


def test_resend_then_success_same_id_fresh_signature(agcod, emu):
    emu.fault("resend", count=2, op="CreateGiftCard")
    r = agcod("create", "--amount", "7", "-o", "json")
    assert r.rc == 0, r
    reqs = emu.requests("CreateGiftCard")
    assert len(reqs) == 3
    assert len({q["body"] for q in reqs}) == 1
    sigs = {dict((k.lower(), v) for k, v in q["headers"])["authorization"] for q in reqs}
    dates = [dict((k.lower(), v) for k, v in q["headers"])["x-amz-date"] for q in reqs]
    assert len(sigs) == 3 and dates[0] != dates[2]   # re-signed each attempt
    assert emu.state.creates == 1
    assert r.err.count("retrying") == 2


def test_throttle_json_and_xml_are_retried(agcod, emu):
    emu.fault("throttle", count=1)
    emu.fault("throttle_xml", count=1)
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    assert len(emu.requests()) == 3
    assert "throttled" in r.err


def test_html_500_is_75_unknown_with_clear_message(agcod, emu):
    emu.fault("html500", count=5)
    r = agcod("--retry-for", "0", "funds", "-o", "json")
    assert r.rc == 75, r                  # a 5xx proves no refusal
    assert r.out == ""
    assert "not JSON" in r.err and "unknown" in r.err


def test_html_500_retried_then_success(agcod, emu):
    emu.fault("html500", count=1)
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    assert len(emu.requests()) == 2


def test_garbage_200_is_75_unknown(agcod, emu):
    emu.fault("garbage", count=10)
    r = agcod("--retry-for", "0", "funds", "-o", "json")
    assert r.rc == 75 and r.out == "", r
    assert "unknown" in r.err


def test_dropped_after_processing_is_75_then_repeat_recovers(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    rid = PARTNER + "Drop0001"
    r = agcod("--retry-for", "0", "create", "--amount", "9", "--request-id", rid,
              "-o", "json")
    assert r.rc == 75, r
    assert "unknown" in r.err and rid in r.err
    assert emu.state.creates == 1          # the card exists although no answer came
    again = agcod("create", "--amount", "9", "--request-id", rid, "-o", "json")
    assert again.rc == 0
    assert again.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert emu.state.creates == 1


def test_dropped_connection_retried_within_budget(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("create", "--amount", "9", "-o", "json")
    assert r.rc == 0, r
    assert emu.state.creates == 1 and len(emu.requests("CreateGiftCard")) == 2


def test_truncated_body_is_75(agcod, emu):
    emu.fault("truncate", count=1)
    r = agcod("--retry-for", "0", "funds", "-o", "json")
    assert r.rc == 75, r


def test_timeout_is_75(agcod, emu):
    emu.fault("delay", count=1, seconds=3)
    r = agcod("--timeout", "1", "--retry-for", "0", "create", "--amount", "1",
              "-o", "json")
    assert r.rc == 75, r
    assert "unknown" in r.err


def test_wrong_secret_is_65_signature(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       secret_access_key="not-the-secret")
    r = agcod("funds", "-o", "json")
    assert r.rc == 65, r
    assert "signature" in r.err
    assert len(emu.requests()) == 1


def test_unknown_key_is_77(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       access_key_id="AKIDUNKNOWN")
    r = agcod("funds", "-o", "json")
    assert r.rc == 77, r
    assert "security token" in r.err


def test_wrong_region_is_refused(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, region="eu")
    r = agcod("funds", "-o", "json")
    assert r.rc == 65, r
    assert "region" in r.err


def test_clock_skew_is_refused(agcod, emu):
    emu.clock_offset = 3600
    r = agcod("funds", "-o", "json")
    assert r.rc == 65, r
    assert "Signature expired" in r.err


def test_tls_unknown_ca_is_69_not_retried(agcod, emu, tmp_path):
    agcod.write_config(endpoint=emu.endpoint)     # system CAs: emulator not trusted
    r = agcod("funds", "-o", "json")
    assert r.rc == 69, r
    assert "TLS" in r.err
    assert emu.requests() == [] and emu.connections == 1


def test_connection_refused_is_75(offline):
    r = offline("--retry-for", "0", "funds", "-o", "json")
    assert r.rc == 75, r
    assert "connect" in r.err


@pytest.mark.parametrize("args,needle", [
    (["create"], "--amount"),
    (["create", "--amount", "19.999"], "decimals"),
    (["create", "--amount", "-5"], "positive"),
    (["create", "--amount", "0"], "larger than 0"),
    (["create", "--amount", "1e3"], "decimal number"),
    (["create", "--amount", "99999999"], "ceiling"),
    (["create", "--amount", "10", "--currency", "XYZ"], "currency 'XYZ'"),
    (["create", "--amount", "10.5", "--currency", "JPY"], "no decimals"),
    (["create", "--amount", "1", "--request-id", "Other123"], "partner id"),
    (["create", "--amount", "1", "--request-id", "Acme1.x"], "letters, digits"),
    (["create", "--amount", "1", "--request-id", "Acme1" + "x" * 36], "40"),
    (["create", "--amount", "1", "--external-reference", "x" * 101], "too long"),
    (["create", "--amount", "1", "--external-reference", "a\x01b"], "control"),
    (["create", "--amount", "1", "--bogus"], "unknown option '--bogus'"),
    (["create", "--amount"], "needs a value"),
    (["create", "--gc-id", "X", "--amount", "1"], "unknown option '--gc-id'"),
    (["cancel", "--gc-id", "X"], "--request-id"),
    (["load", "--amount", "1"], "--account-id"),
    (["void", "--amount", "1", "--account-id", "a"], "--request-id"),
    (["activate", "--amount", "1"], "--card-number"),
    (["activate", "--amount", "1", "--card-number", "12ab"], "digits"),
    (["deactivate", "--card-number", "1400000005567585358"], "--request-id"),
    (["activation-status"], "--card-number"),
    (["funds", "extra"], "unexpected argument"),
    (["-o", "yaml", "funds"], "json or table"),
    (["--timeout", "0", "funds"], "--timeout"),
    (["--retry-for", "-1", "funds"], "--retry-for"),
    (["bogus"], "unknown command 'bogus'"),
    ([], "no command"),
])
def test_bad_input_sends_nothing(agcod, emu, args, needle):
    r = agcod(*args)
    assert r.rc == 64, r
    assert needle in r.err, r
    assert r.out == ""
    assert r.err.startswith("agcod: ")
    assert emu.requests() == [] and emu.connections == 0


def test_stdout_closed_is_an_error(agcod, emu):
    p = subprocess.run(f"'{AGCOD}' funds -o json >&-", shell=True, env=agcod.env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "standard output" in p.stderr


def test_stdout_full_is_an_error(agcod, emu):
    p = subprocess.run(f"'{AGCOD}' create --amount 1 -o json > /dev/full", shell=True,
                       env=agcod.env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 75, p.stderr
    assert "not delivered" in p.stderr


@pytest.mark.parametrize("args,host", [
    # issue 19 item 18: signed for us-east-1, sent to the Far East sandbox
    (["--region", "na"], "agcod-v2-fe-gamma.amazon.com"),
    (["--region", "eu"], "agcod-v2-gamma.amazon.com"),
    (["--region", "fe", "--environment", "production"], "agcod-v2-eu.amazon.com:443"),
    (["--region", "na", "--environment", "production"], "AGCOD-V2-FE.amazon.com."),
])
def test_amazon_host_of_another_region_is_refused(agcod, emu, args, host):
    region = args[1]
    for cmd in (["funds"], ["create", "--amount", "1", "--yes"],
                ["sign-debug", "funds", "--send"]):
        r = agcod(*args, "--endpoint", f"https://{host}", *cmd)
        assert r.rc == 78, (cmd, r)
        assert r.err.startswith("agcod: ") and r.out == ""
        assert len(r.err.splitlines()) == 1, r.err
        assert "region" in r.err and f"'{region}'" in r.err, r.err
        assert "nothing was sent" in r.err, r.err
    assert agcod.journal() == []
    assert emu.requests() == [] and emu.connections == 0


def test_other_hosts_are_taken_as_given(agcod, emu):
    """a proxy or the emulator: any region signs for it as asked"""
    r = agcod("--region", "fe", "--endpoint", emu.endpoint, "funds", "-o", "json")
    assert r.rc != 78, r
    assert len(emu.requests()) == 1
