"""support-draft: the error in the subject and the error line (also for a
gateway 403 without an AGCOD body), the service's line breaks kept and
cleaned, and no draft claiming a failure for a request that succeeded."""
import re
import subprocess

import agcod_emulator
from conftest import AGCOD


def draft_lines(text):
    return text.splitlines()


def test_invalid_signature_403_names_status_and_exception(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, secret_access_key="nope")
    r = agcod("create", "--amount", "3", "-o", "json")
    assert r.rc == 65, r
    d = agcod("support-draft")
    assert d.rc == 0, d
    lines = draft_lines(d.out)
    assert lines[0] == ("Subject: [AGCOD] CreateGiftCard failed: HTTP 403 "
                        "InvalidSignatureException (partner Acme1)"), lines[0]
    assert "Error code and type:   HTTP 403 InvalidSignatureException" in lines
    assert "- -" not in d.out and "failed:   " not in d.out
    # the service's message keeps its line breaks, one line each
    i = next(n for n, l in enumerate(lines) if l.startswith("Error message:"))
    assert "The request signature we calculated does not match" in lines[i]
    assert " " * 23 + "The Canonical String for this request should have been" in lines
    assert " " * 23 + "/CreateGiftCard" in lines
    assert "??" not in "\n".join(lines[i:i + 20])


def test_agcod_error_in_subject_and_error_line(agcod, emu):
    r = agcod("create", "--amount", "7", "--request-id", "F3003", "-o", "json")
    assert r.rc == 77
    d = agcod("support-draft")
    assert d.out.startswith("Subject: [AGCOD] CreateGiftCard failed: F300 "
                            "InsufficientFunds (partner Acme1)\n"), d.out[:200]
    assert "Error code and type:   F300 InsufficientFunds\n" in d.out
    assert "Error message:         Insufficient Funds\n" in d.out


def test_service_newlines_kept_and_sanitised(agcod, emu, monkeypatch):
    monkeypatch.setitem(agcod_emulator.MOCKS, "F2005", (
        "F200", "InvalidCurrencyCodeInput",
        "first line\nsecond \x1b[2Jline\r\nthird\x07 line", "FAILURE"))
    r = agcod("create", "--amount", "7", "--request-id", "F2005", "-o", "json")
    assert r.rc == 65
    d = agcod("support-draft")
    lines = draft_lines(d.out)
    assert "Error message:         first line" in lines
    assert " " * 23 + "second \\x1B[2Jline" in lines
    assert " " * 23 + "third\\x07 line" in lines
    assert "\x1b" not in d.out and "\x07" not in d.out and "\r" not in d.out


def test_no_failure_claimed_for_a_request_that_succeeded(agcod, emu):
    r = agcod("create", "--amount", "5", "-o", "json")
    assert r.rc == 0
    rid, code = r.json()["creationRequestId"], r.json()["gcClaimCode"]
    d = agcod("support-draft", "--request-id", rid)
    assert d.rc == 0, d
    assert d.out.startswith(f"Subject: [AGCOD] CreateGiftCard succeeded: a question "
                            f"about request {rid} (partner Acme1)\n"), d.out[:200]
    assert not re.search(r"\bfail", d.out.split("Does it still happen")[0], re.I), d.out
    assert "Error code and type" not in d.out
    assert "Outcome:               succeeded" in d.out
    assert code not in d.out


def test_response_headers_are_quoted_with_lf_only(agcod, emu):
    """HTTP ends header lines with CRLF; the draft pastes into an e-mail, so
    each header is one line ended by LF alone (issue 19 item 11)"""
    r = agcod("create", "--amount", "7", "--request-id", "F3003", "-o", "json")
    assert r.rc == 77
    # bytes: text mode would turn CRLF into LF before the test could see it
    p = subprocess.run([AGCOD, "support-draft"], env=agcod.env,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p
    assert b"\r" not in p.stdout, [l for l in p.stdout.splitlines(True)
                                   if b"\r" in l][:3]
    assert b"\\x0D" not in p.stdout
    assert re.search(rb"(?im)^x-amzn-RequestId: \S+\n", p.stdout), p.stdout


def test_without_an_id_the_draft_is_about_this_profiles_environment(agcod, emu,
                                                                  certs):
    """support-draft without --request-id picks the latest failure of the
    profile's partner and environment, as history does: a production
    profile's draft was about a sandbox failure, under the production
    profile's region line, to be sent to Amazon as production's problem"""
    bad = agcod("create", "--amount", "7", "--request-id", "F2017")
    assert bad.rc == 65, bad
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=certs[0],
                       environment="production")
    d = agcod("support-draft")
    assert d.rc == 64 and "F2017" not in d.out + d.err, d
    assert "no failed request" in d.err, d
    named = agcod("support-draft", "--request-id", "F2017")
    assert named.rc == 0 and "F2017" in named.out, named
