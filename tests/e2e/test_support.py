"""Support diagnostics: --trace, support-draft, triage verdicts.  Each test
searches what agcod wrote for the run's secret, signing key and claim codes."""
import datetime
import os
import re
import stat
import subprocess

import sigv4ref
from conftest import AGCOD, KEY_ID, PARTNER, SECRET


def signing_keys():
    today = datetime.datetime.now(datetime.timezone.utc)
    days = {(today + datetime.timedelta(days=d)).strftime("%Y%m%d") for d in (-1, 0, 1)}
    return [sigv4ref.signing_key(SECRET, d, "us-east-1", "AGCODService").hex() for d in days]


def assert_clean(text, claim_codes):
    for s in [SECRET] + signing_keys() + list(claim_codes):
        assert s not in text, s


def test_trace_has_every_item_and_nothing_secret(agcod, emu, tmp_path):
    trace = tmp_path / "agcod.trace"
    ok = agcod("--trace", trace, "create", "--amount", "19.99", "-o", "json")
    assert ok.rc == 0
    code = ok.json()["gcClaimCode"]
    emu.fault("resend", count=1)
    again = agcod("--trace", trace, "funds", "-o", "json")
    assert again.rc == 0
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600
    text = trace.read_text()
    assert text.count("### agcod exchange ") == 3
    for piece in ("time (UTC):", "time (local):", "endpoint:        " + emu.endpoint,
                  "Authorization: AWS4-HMAC-SHA256 Credential=" + KEY_ID,
                  '"amount": 19.99}', "== canonical request\nPOST\n/CreateGiftCard",
                  "== string to sign\nAWS4-HMAC-SHA256", "== signature\n",
                  "== response (HTTP 200,", "x-amzn-RequestId:", "attempt:         2",
                  '"gcClaimCode": "[REDACTED]"', "SystemTemporarilyUnavailable"):
        assert piece in text, piece
    assert re.search(r"time \(local\):    \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)", text)
    assert_clean(text, [code])
    assert_clean(ok.err + again.err, [code])


def test_trace_refuses_a_symlink(agcod, emu, tmp_path):
    link = tmp_path / "link.trace"
    os.symlink(tmp_path / "target", link)
    r = agcod("--trace", link, "funds", "-o", "json")
    assert r.rc == 74 and "cannot write the trace" in r.err   # refused before sending
    assert not (tmp_path / "target").exists() and emu.requests() == []


def test_trace_dash_is_not_a_file_named_dash(agcod, emu, tmp_path):
    """curl's --trace - is standard output; agcod's results (claim codes)
    are there, so '-' is refused, not taken for a file named '-' in the
    current directory"""
    r = subprocess.run([AGCOD, "--trace", "-", "funds", "-o", "json"],
                       env=agcod.env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 64 and "--trace" in r.stderr, r
    assert "standard output" in r.stderr, r
    assert not (tmp_path / "-").exists() and emu.requests() == []


def test_support_draft_covers_the_checklist(agcod, emu):
    good = agcod("create", "--amount", "5", "-o", "json").json()["gcClaimCode"]
    bad = agcod("create", "--amount", "7", "--request-id", "F3003", "-o", "json")
    assert bad.rc == 77
    d = agcod("support-draft", env={"TZ": "Europe/Berlin"})
    assert d.rc == 0, d
    text = d.out
    amazon_id = agcod.journal()[-1]["amazon_request_id"]
    for piece in ("Subject: [AGCOD] CreateGiftCard failed: F300 InsufficientFunds",
                  f"Partner id:            {PARTNER}", "Operation:             CreateGiftCard",
                  "Region / marketplace:  na (signing region us-east-1), sandbox",
                  f"Endpoint:              {emu.endpoint}/CreateGiftCard",
                  " UTC", "+0100 (CET)", "Our request id:        F3003",
                  f"Amazon request id:     {amazon_id}", "Error code and type:   F300 InsufficientFunds",
                  "Insufficient Funds", "Does it still happen:  a GetAvailableFunds at",
                  "succeeded", "Tool:                  agcod ", "libcurl", "mbedTLS", "Jansson",
                  "Operating system:", "Linux", "### agcod exchange ", "== string to sign",
                  "== response (HTTP 400"):
        assert piece in text, piece
    assert_clean(text, [good])
    assert_clean((agcod.state / "failures.trace").read_text(), [good])


def test_support_draft_names_a_request(agcod, emu):
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "3", "-o", "json")
    assert r.rc == 75
    rid = agcod.journal()[-1]["request_id"]
    d = agcod("support-draft", "--request-id", rid)
    assert d.rc == 0 and f"Our request id:        {rid}" in d.out
    assert "unknown" in d.out


def test_support_draft_without_failures(agcod, emu):
    agcod("funds", "-o", "json")
    r = agcod("support-draft")
    assert r.rc == 64 and "no failed request" in r.err


def test_triage_clock_skew(agcod, emu):
    emu.clock_offset = 1800
    r = agcod("funds", "-o", "json")
    assert r.rc == 65, r
    m = re.search(r"likely cause: clock skew: the local clock is (\d+) s behind", r.err)
    assert m and abs(int(m.group(1)) - 1800) <= 2, r.err


def test_clock_warning_after_any_response(agcod, emu):
    emu.clock_offset = -400
    r = agcod("funds", "-o", "json")
    assert r.rc == 0
    m = re.search(r"warning: the local clock is (\d+) s ahead of the service's", r.err)
    assert m and abs(int(m.group(1)) - 400) <= 2, r.err


def test_triage_region(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, region="fe")
    r = agcod("funds", "-o", "json")
    assert r.rc == 65
    assert "likely cause: region mismatch: signed for 'us-west-2'" in r.err


def test_triage_unknown_key(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, access_key_id="AKIDPROD")
    r = agcod("create", "--amount", "1", "-o", "json")
    assert r.rc == 77
    assert "likely cause: unknown access key: 'AKIDPROD'" in r.err
    assert "sandbox and production keys are different" in r.err
    assert agcod.journal()[-1]["diagnosis"].startswith("unknown access key")


def test_triage_wrong_secret(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, secret_access_key="nope")
    r = agcod("funds", "-o", "json")
    assert r.rc == 65
    assert "likely cause: signature mismatch: the secret key does not belong" in r.err


def test_failures_trace_with_a_second_name_is_not_written(agcod, emu, tmp_path):
    """failures.trace is opened through the held state directory, as the
    journal is: a hard link there would write the trace into another file"""
    agcod.state.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o600)
    os.link(victim, agcod.state / "failures.trace")
    bad = agcod("create", "--amount", "7", "--request-id", "F3003", "-o", "json")
    assert bad.rc == 77, bad
    assert victim.read_bytes() == b"precious"
