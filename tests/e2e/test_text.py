"""Text from outside (server, files, options) is shown, never obeyed; buffers
that fill end cleanly; claim codes are redacted by parsing; config errors never
quote a value; secret_access_key_command is bounded; the INI reader; --trace
file hygiene."""
import json
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import AGCOD, SECRET
from test_hostile import Hostile

# raw bytes that drive a terminal: ESC, 8-bit CSI (U+009B as UTF-8, and raw), CR, BEL
RAW = [b"\x1b", b"\xc2\x9b", b"\x9b", b"\r", b"\x07"]


def run_bytes(a, *args, env=None, timeout=60):
    e = dict(a.env)
    e.update(env or {})
    p = subprocess.run([AGCOD, *map(str, args)], env=e, capture_output=True,
                       timeout=timeout)
    assert p.returncode >= 0 and p.returncode < 128, p
    assert b"Sanitizer" not in p.stderr and b"runtime error:" not in p.stderr, p.stderr
    return p


def assert_clean(data):
    for bad in RAW:
        assert bad not in data, (bad, data[-600:])


class TextHostile(Hostile):
    LONG = "k" * 200

    def body_of(self):
        req = self.requests[-1]
        body = req.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in req else b""
        try:
            return json.loads(body)
        except ValueError:
            return {}

    def mode_many_leaves(self, conn):      # ~180 KB, 30000 leaves under a long key
        leaves = ",".join(["12345"] * 30000)
        body = ('{"availableFunds":{"amount":"1.00","currencyCode":"USD"},'
                f'"status":"SUCCESS","{self.LONG}":[{leaves}]}}').encode()
        assert len(body) > 170000
        self.send(conn, "200 OK", body)

    def mode_evil_error(self, conn):       # escapes in errorCode/errorType/message
        self.send(conn, "400 Bad Request",
                  b'{"errorCode":"F100\\u001b[2J\\u009b31m","errorType":'
                  b'"Evil\\u001b]0;owned\\u0007\\r","message":"m\\u009bx",'
                  b'"status":"FAILURE"}')

    def mode_evil_create(self, conn):      # escapes in gcId, claim code key spelled with \u
        rid = self.body_of().get("creationRequestId", "x")
        self.send(conn, "200 OK", json.dumps({
            "cardInfo": {"cardNumber": None, "cardStatus": "Fulfilled",
                         "expirationDate": None,
                         "value": {"amount": 1.0, "currencyCode": "USD"}},
            "creationRequestId": rid, "gcExpirationDate": None,
            "gcId": "G\x1b[2J\u009b31mX\r", "status": "SUCCESS"})[:-1].encode() +
            b',"gcClaim\\u0043ode":"SECRETCLAIM-4711"}')


    C1_BODY = ('{"availableFunds":{"amount":"1.00","currencyCode":"USD"},'
               '"note":"a\u009b2Jb\u007fc\u0085\u00e9","status":"SUCCESS"}').encode()

    def mode_raw_c1_json(self, conn):      # C1 and DEL raw (as UTF-8) in a JSON string
        self.send(conn, "200 OK", self.C1_BODY)


@pytest.fixture
def text_hostile(certs, offline):
    servers = []

    def make(mode):
        h = TextHostile(certs, mode)
        servers.append(h)
        offline.write_config(endpoint=f"https://127.0.0.1:{h.port}", ca_bundle=certs[0])
        return h
    yield make
    for h in servers:
        h.close()


# 1. table output of a large answer: every row, nothing past the end

def test_table_of_many_leaves_under_a_long_key(text_hostile, offline):
    text_hostile("many_leaves")
    p = run_bytes(offline, "--retry-for", "0", "funds", "-o", "table")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    leaves = [l for l in lines if l.startswith(TextHostile.LONG + "[")]
    assert len(leaves) == 30000, (len(lines), lines[-3:])
    for i in (0, 1, 29999):
        assert re.fullmatch(re.escape(TextHostile.LONG) + rf"\[{i}\] +12345", leaves[i])
    assert re.fullmatch(r"environment +SANDBOX", lines[0]), lines[0]
    assert len(lines) == 30000 + 4, lines[:5]   # environment, amount, currency, status


# 2. escapes from the server, files and options are shown, not obeyed

def test_error_code_and_type_are_shown_not_obeyed(text_hostile, offline):
    text_hostile("evil_error")
    p = run_bytes(offline, "--retry-for", "0", "funds", "-o", "json")
    assert p.returncode == 69, p.stderr
    assert_clean(p.stderr)
    assert b"F100\\x1B[2J\\xC2\\x9B31m" in p.stderr, p.stderr


def test_gc_id_in_a_table_and_claim_code_in_a_trace(text_hostile, offline, tmp_path):
    text_hostile("evil_create")
    trace = tmp_path / "t.trace"
    p = run_bytes(offline, "--retry-for", "0", "--trace", trace, "create",
                  "--amount", "1", "-o", "table")
    assert p.returncode == 0, p.stderr
    assert_clean(p.stdout)
    assert_clean(p.stderr)
    assert b"G\\x1B[2J\\xC2\\x9B31mX\\x0D" in p.stdout, p.stdout
    # 3. the claim code is the result on stdout, and nowhere in the trace
    assert b"SECRETCLAIM-4711" in p.stdout
    data = trace.read_bytes()
    assert b"SECRETCLAIM" not in data and b"[REDACTED]" in data, data[-400:]
    assert_clean(data.replace(b"\r\n", b"\n"))


def test_option_values_are_shown_not_obeyed(offline):
    for args in (["create", "--amount", "1\x1b[2J\r\u009b"],
                 ["-o", "x\x1b]0;owned\x07", "funds"],
                 ["create", "--amount", "1", "--currency", "U\x1b[1m"]):
        p = run_bytes(offline, *args)
        assert p.returncode == 64, (args, p)
        assert_clean(p.stderr)
        assert b"\\x1B" in p.stderr, p.stderr


# 4. config errors never quote a value: it may be a secret pasted in the wrong key

LEAK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("key", ["partner_id", "region", "currency", "endpoint",
                                 "environment", "max_rps"])
def test_secret_in_the_wrong_key_is_not_printed(offline, key):
    offline.write_config(**{key: LEAK})
    p = run_bytes(offline, "funds")
    assert p.returncode == 78, p
    assert LEAK.encode() not in p.stderr and b"EXAMPLEKEY" not in p.stderr, p.stderr
    assert key.encode() in p.stderr and str(offline.config).encode() in p.stderr


@pytest.mark.parametrize("var", ["AGCOD_PARTNER_ID", "AGCOD_REGION", "AGCOD_CURRENCY",
                                 "AGCOD_ENDPOINT", "AGCOD_ENVIRONMENT"])
def test_secret_in_the_wrong_variable_is_not_printed(offline, var):
    p = run_bytes(offline, "funds", env={var: LEAK})
    assert p.returncode == 78, p
    assert b"EXAMPLEKEY" not in p.stderr and var.encode() in p.stderr, p.stderr


# 5. secret_access_key_command: first line, bounded, no inherited descriptors

def helper(tmp_path, agcod, emu, body):
    script = tmp_path / "secret.sh"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o700)
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, secret_access_key=None,
                       secret_access_key_command=str(script))


def test_secret_command_background_child_does_not_block(agcod, emu, tmp_path):
    # the child keeps the helper's stdout (agcod's pipe), not our stderr
    helper(tmp_path, agcod, emu, f"sleep 30 2>/dev/null &\necho '{SECRET}'\n")
    t0 = time.monotonic()
    r = agcod("funds", "-o", "json", timeout=25)
    assert r.rc == 0, r
    assert time.monotonic() - t0 < 8


def test_secret_command_sees_only_0_1_2(agcod, emu, tmp_path):
    """Even a descriptor agcod itself inherited (not close-on-exec) stays behind."""
    out = tmp_path / "fds"
    script = tmp_path / "secret.py"
    script.write_text(
        "#!/usr/bin/python3 -I\nimport os\nfds = []\n"
        "for f in os.listdir('/proc/self/fd'):\n"
        "    try:\n        os.readlink('/proc/self/fd/' + f)\n        fds.append(f)\n"
        "    except OSError:\n        pass   # listdir's own, closed by now\n"
        f"open({str(out)!r}, 'w').write(' '.join(fds))\nprint({SECRET!r})\n")
    script.chmod(0o700)
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, secret_access_key=None,
                       secret_access_key_command=str(script))
    extra = os.open(tmp_path, os.O_RDONLY)          # inheritable, fd >= 3
    try:
        p = subprocess.run([AGCOD, "funds", "-o", "json"], env=agcod.env,
                           capture_output=True, timeout=60, pass_fds=(extra,))
    finally:
        os.close(extra)
    assert p.returncode == 0, p
    fds = sorted(int(x) for x in out.read_text().split())
    assert fds == [0, 1, 2], (fds, extra)


def test_secret_command_that_hangs_is_a_clear_error(agcod, emu, tmp_path):
    helper(tmp_path, agcod, emu, "exec sleep 60\n")
    t0 = time.monotonic()
    r = agcod("funds", "-o", "json", timeout=40)
    secs = time.monotonic() - t0
    assert r.rc == 78, r
    assert "within 10 seconds" in r.err and 9 < secs < 20, (secs, r)
    assert emu.requests() == []


def test_secret_command_prints_and_lingers_without_newline_then_exits(agcod, emu, tmp_path):
    helper(tmp_path, agcod, emu, f"printf '%s' '{SECRET}'\n")
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r


# 8. the INI reader

def test_lines_up_to_4096_bytes(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca)
    text = agcod.config.read_text()
    agcod.write_config("#" + "x" * 4000 + "\n" + text)
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    agcod.write_config("#" + "x" * 5000 + "\n" + text)
    r = agcod("funds", "-o", "json")
    assert r.rc == 78 and "line 1: line too long" in r.err, r


def test_trust_is_decided_before_parsing(agcod, emu):
    agcod.write_config("[default]\nsecret_access_key = s\nbogus_key = 1\n", mode=0o644)
    r = agcod("funds")
    assert r.rc == 78, r
    assert f"chmod 600 '{agcod.config}'" in r.err and "bogus" not in r.err, r.err


# --trace hygiene

def test_trace_through_a_symlink_is_refused(agcod, emu, tmp_path):
    target = tmp_path / "target"
    target.write_text("")
    link = tmp_path / "link.trace"
    link.symlink_to(target)
    r = agcod("--trace", link, "funds", "-o", "json")
    assert r.rc == 74 and "symbolic link" in r.err, r
    assert emu.requests() == [] and target.read_text() == ""


@pytest.mark.parametrize("kind", ["directory", "symlink"])
def test_sign_debug_send_with_a_refused_trace_sends_nothing(agcod, emu, tmp_path,
                                                            kind):
    """sign-debug --send refuses a --trace it cannot write before sending,
    like every sending command."""
    trace = tmp_path / "t.trace"
    if kind == "directory":
        trace.mkdir()
    else:
        (tmp_path / "target").write_text("")
        trace.symlink_to(tmp_path / "target")
    r = agcod("--trace", trace, "sign-debug", "create", "--amount", "1", "--send",
              "-o", "json")
    assert r.rc == 74, r
    assert emu.requests() == []


def test_trace_at_a_fifo_is_refused_at_once(agcod, emu, tmp_path):
    fifo = tmp_path / "fifo.trace"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    r = agcod("--trace", fifo, "funds", "-o", "json", timeout=15)
    assert r.rc == 74 and "FIFO" in r.err, r
    assert time.monotonic() - t0 < 5 and emu.requests() == []


def test_trace_at_a_device_is_refused(agcod, emu):
    r = agcod("--trace", "/dev/null", "funds", "-o", "json")
    assert r.rc == 74 and "device" in r.err, r
    assert emu.requests() == []


def test_existing_trace_with_loose_permissions_ends_0600(agcod, emu, tmp_path):
    trace = tmp_path / "loose.trace"
    trace.write_text("")
    trace.chmod(0o644)
    r = agcod("--trace", trace, "funds", "-o", "json")
    assert r.rc == 0, r
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600
    assert "### agcod exchange" in trace.read_text()


def test_support_draft_shows_the_services_text(text_hostile, offline):
    text_hostile("evil_error")
    p = run_bytes(offline, "--retry-for", "0", "create", "--amount", "1", "-o", "json")
    assert p.returncode == 69, p.stderr
    assert_clean(p.stderr)
    d = run_bytes(offline, "--retry-for", "0", "support-draft")
    assert d.returncode == 0, d.stderr
    subject = d.stdout.split(b"\n")[0]
    assert subject.startswith(b"Subject: [AGCOD] CreateGiftCard failed: F100\\x1B[2J\\xC2\\x9B31m"), subject
    assert_clean(d.stdout.replace(b"\r\n", b"\n"))
    assert_clean(d.stderr)


def test_sign_debug_report_of_a_request_file(offline, tmp_path):
    req = tmp_path / "evil.req"
    req.write_bytes(b"POST /CreateGiftCard HTTP/1.1\r\nHost: agcod-v2-gamma.amazon.com\r\n"
                    b"X-Amz-Date: 20260101T000000Z\r\nX-Evil: a\x1b[2J\xc2\x9bb\r\n"
                    b"Content-Type: application/json\r\n\r\n{\"a\":1}")
    p = run_bytes(offline, "sign-debug", "--request", req, "-o", "table")
    assert p.returncode == 0, p.stderr
    assert b"x-evil:a\\x1B[2J\\xC2\\x9Bb" in p.stdout, p.stdout
    assert_clean(p.stdout)


def test_csv_cells_in_errors_are_shown_not_obeyed(offline, tmp_path):
    f = tmp_path / "evil.csv"
    f.write_bytes(b"amount,currency,b\x1b[2Jad\n1,U\x1b]0;owned\x07\xc2\x9b,\n"
                  b"2,USD\r\x1b[1A,\n")
    p = run_bytes(offline, "batch", "create", f)
    assert p.returncode == 64, p
    assert_clean(p.stderr)
    assert b"\\x1B" in p.stderr, p.stderr


def test_json_output_escapes_c1_controls_and_keeps_the_value(text_hostile, offline):
    text_hostile("raw_c1_json")
    assert b"\xc2\x9b" in TextHostile.C1_BODY and b"\x7f" in TextHostile.C1_BODY
    p = run_bytes(offline, "--retry-for", "0", "funds", "-o", "json")
    assert p.returncode == 0, p.stderr
    assert_clean(p.stdout)
    assert b"\x7f" not in p.stdout and b"\xc2\x85" not in p.stdout, p.stdout
    assert b"\xc3\xa9" in p.stdout                      # other text stays as it came
    assert json.loads(p.stdout) == json.loads(TextHostile.C1_BODY)
    t = run_bytes(offline, "--retry-for", "0", "funds", "-o", "table")
    assert t.returncode == 0, t.stderr
    assert_clean(t.stdout)
    assert b"\nnote                         a\\xC2\\x9B2Jb\\x7Fc\\xC2\\x85\xc3\xa9\n" in t.stdout, t.stdout


def test_sign_debug_json_of_a_request_file(offline, tmp_path):
    req = tmp_path / "evil.req"
    req.write_bytes(b"POST /CreateGiftCard HTTP/1.1\r\nHost: agcod-v2-gamma.amazon.com\r\n"
                    b"X-Amz-Date: 20260101T000000Z\r\nX-Evil: a\x1b[2J\xc2\x9bb\r\n"
                    b"Content-Type: application/json\r\n\r\n{\"a\":1}")
    p = run_bytes(offline, "sign-debug", "--request", req, "-o", "json")
    assert p.returncode == 0, p.stderr
    assert_clean(p.stdout)
    assert json.loads(p.stdout)["headers"]["X-Evil"].strip() == "a\x1b[2J\u009bb"
