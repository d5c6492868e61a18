"""sign-debug: golden outputs at a pinned date, the AWS suite through
--request, the mismatch diagnoses, and a differential test against an
independent signer (tests/lib/sigv4ref.py, and botocore when installed)."""
import json
import os
import re
import random
import string

import pytest

import sigv4ref
from conftest import ROOT

SUITE = os.path.join(ROOT, "tests", "data", "aws-sig-v4-test-suite")
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
VECTOR_BODY = ('{"creationRequestId": "AwssbTSpecTest001", "partnerId": "Awssb", '
               '"value": {"currencyCode": "USD", "amount": 1.00}}')


@pytest.fixture
def env_only(offline):
    """No file: partner and keys from the environment (the AWS example key)."""
    offline.env.pop("AGCOD_CONFIG")     # HOME has no config.ini either
    offline.env.update({"AGCOD_PARTNER_ID": "Awssb",
                        "AGCOD_ACCESS_KEY_ID": "AKIAJBYCL67O6NJUNYBQ",
                        "AGCOD_SECRET_ACCESS_KEY": AWS_SECRET})
    return offline


def test_agcod_vector_json(env_only):
    r = env_only("sign-debug", "create", "--amount", "1.00", "--currency", "USD",
                 "--request-id", "AwssbTSpecTest001", "--date", "20130910T222620Z",
                 "-o", "json")
    assert r.rc == 0, r
    d = r.json()
    assert d["body"] == VECTOR_BODY
    assert d["payload_hash"] == "6193dc333ef1db9edae1f17989c71ce5f1939706a79be5bb924fc2e92bc23961"
    assert d["canonical_request_hash"] == "4709b2544a773facf010da97ce94fa580f080394bfa85a53daff50469e0368d1"
    assert d["signature"] == "3678156aeab17149396d76e8e6ce282612030585ff85e20fd95cba12c40030ca"
    assert d["signed_headers"] == "accept;content-type;host;x-amz-date;x-amz-target"
    assert d["headers"] == {
        "accept": "application/json", "content-type": "application/json",
        "host": "agcod-v2-gamma.amazon.com", "x-amz-date": "20130910T222620Z",
        "x-amz-target": "com.amazonaws.agcod.AGCODService.CreateGiftCard"}
    assert d["endpoint"] == "https://agcod-v2-gamma.amazon.com/CreateGiftCard"
    assert d["credential_scope"] == "20130910/us-east-1/AGCODService/aws4_request"
    assert d["time_utc"] == "2013-09-10 22:26:20 UTC"
    for k in ("operation", "method", "path", "query", "canonical_request",
              "string_to_sign", "authorization", "amz_date", "time_local", "versions"):
        assert k in d
    assert set(d["versions"]) >= {"agcod", "libcurl", "mbedtls", "jansson"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", d["versions"]["libcurl"]), d["versions"]
    assert "(" not in d["versions"]["tls"] and d["versions"]["tls"], d["versions"]
    assert AWS_SECRET not in r.out and AWS_SECRET not in r.err
    assert "signing_key" not in d


def test_agcod_vector_text_report(env_only):
    r = env_only("sign-debug", "create", "--amount", "1.00", "--currency", "USD",
                 "--request-id", "AwssbTSpecTest001", "--date", "20130910T222620Z",
                 "-o", "table", env={"TZ": "America/Los_Angeles"})
    assert r.rc == 0, r
    for piece in ("== payload (114 bytes)\n" + VECTOR_BODY,
                  "== canonical request\nPOST\n/CreateGiftCard\n\naccept:application/json\n",
                  "\n\naccept;content-type;host;x-amz-date;x-amz-target\n",
                  "== string to sign\nAWS4-HMAC-SHA256\n20130910T222620Z\n",
                  "3678156aeab17149396d76e8e6ce282612030585ff85e20fd95cba12c40030ca",
                  "time (local):    2013-09-10 15:26:20 -0700 (PDT)",
                  "endpoint:        https://agcod-v2-gamma.amazon.com/CreateGiftCard",
                  "POST /CreateGiftCard HTTP/1.1\naccept: application/json\n",
                  "versions:        agcod "):
        assert piece in r.out, piece


def test_exact_amount_19_99(env_only):
    r = env_only("sign-debug", "create", "--amount", "19.99", "--currency", "USD",
                 "--date", "20130910T222620Z", "-o", "json")
    assert r.rc == 0
    assert '"amount": 19.99}' in r.json()["body"]
    assert "19.98999" not in r.out


def test_show_signing_key_warns(env_only):
    r = env_only("sign-debug", "funds", "--date", "20130910T222620Z", "--show-signing-key",
                 "-o", "json")
    assert r.rc == 0, r
    assert r.json()["signing_key"] == "7113452f5d22ac2a87644d23ff7389f08ba0fbd166660e2f83b9d07dcd26d1ff"
    assert "can sign" in r.err


def test_sign_debug_sends_nothing_and_bad_args(env_only):
    assert env_only("sign-debug", "create", "--amount", "1", "--currency", "USD",
                    "--date", "2013").rc == 64
    r = env_only("sign-debug", "create", "--gc-id", "X", "--amount", "1")
    assert r.rc == 64 and "does not apply to 'create'" in r.err
    assert env_only("sign-debug").rc == 64
    assert env_only("sign-debug", "history").rc == 64
    assert env_only("sign-debug", "funds", "--request", "x").rc == 64
    r = env_only("sign-debug", "--request", "/nonexistent")
    assert r.rc == 64 and "cannot read" in r.err
    r = env_only("sign-debug", "--request", "-", input="not a request")
    assert r.rc == 64 and "not a raw HTTP request" in r.err


VECTORS = sorted(
    os.path.relpath(os.path.join(d), SUITE)
    for d, _, files in os.walk(SUITE) if any(f.endswith(".sreq") for f in files))


def suite_env(offline):
    offline.env.pop("AGCOD_CONFIG")
    offline.env.update({"AGCOD_PARTNER_ID": "P1", "AGCOD_ACCESS_KEY_ID": "AKIDEXAMPLE",
                        "AGCOD_SECRET_ACCESS_KEY": AWS_SECRET})
    return offline


@pytest.mark.parametrize("vector", VECTORS)
def test_suite_sreq_verifies(offline, vector):
    a = suite_env(offline)
    base = os.path.join(SUITE, vector, os.path.basename(vector))
    r = a("sign-debug", "--request", base + ".sreq", "--region", "us-east-1",
          "--service", "service", "-o", "json")
    want = open(base + ".authz").read()
    if vector == "get-vanilla-with-session-token":
        # its .sreq carries get-vanilla's signature (see the suite's README)
        assert r.rc == 65, r
        assert r.json()["authorization"] == want
        return
    assert r.rc == 0, r
    d = r.json()
    assert d["verification"]["match"] is True
    assert d["canonical_request"] == open(base + ".creq").read().replace("\r", "")
    assert d["string_to_sign"] == open(base + ".sts").read().replace("\r", "")
    assert d["authorization"] == want


MISTAKES = {
    ("swapped",): "key and data swapped",
    ("no_aws4",): "without the \"AWS4\" prefix",
    ("hex_keys",): "hex text",
    ("unsorted",): "not sorted",
    ("name_case",): "not lower-cased",
    ("untrimmed",): "not trimmed",
}
AGCOD_HEADERS = [("X-Amz-Target", "com.amazonaws.agcod.AGCODService.GetAvailableFunds"),
                 ("host", "agcod-v2-gamma.amazon.com"), ("Accept", " application/json"),
                 ("x-amz-date", "20240102T030405Z"), ("content-type", "application/json")]


def raw_request(headers, body, authz):
    lines = ["POST /GetAvailableFunds HTTP/1.1"]
    lines += [f"{n}:{v}" for n, v in headers]
    lines.append("Authorization: " + authz)
    return "\n".join(lines) + "\n\n" + body


def mistaken(mistakes=(), region="us-east-1", service="AGCODService", body=None,
             scope_date=None):
    real = '{"partnerId": "Awssb"}'
    signed_body = (real if body is None else body).encode()
    ref = sigv4ref.sign("POST", "/GetAvailableFunds", "", AGCOD_HEADERS, signed_body,
                        "AKIAJBYCL67O6NJUNYBQ", AWS_SECRET, region, service,
                        "20240102T030405Z", mistakes=mistakes, scope_date=scope_date)
    return raw_request(AGCOD_HEADERS, real, ref["authorization"])


@pytest.mark.parametrize("mistakes", sorted(MISTAKES))
def test_mismatch_diagnosis(env_only, mistakes):
    r = env_only("sign-debug", "--request", "-", "-o", "json", input=mistaken(mistakes))
    assert r.rc == 65, r
    v = r.json()["verification"]
    assert v["match"] is False
    assert MISTAKES[mistakes] in v["diagnosis"], v
    assert MISTAKES[mistakes] in r.err


@pytest.mark.parametrize("kw,needle", [
    ({"region": "eu-west-1"}, "wrong region in the credential scope"),
    ({"service": "execute-api"}, "wrong service in the credential scope"),
    ({"scope_date": "20240101"}, "wrong date in the credential scope"),
    ({"body": ""}, "an empty body"),
    ({"body": '{"partnerId": "Awssb"}\n'}, "trailing newline"),
    ({"body": '{"partnerId":"Awssb"}'}, "minified"),
])
def test_mismatch_diagnosis_scope_and_body(env_only, kw, needle):
    r = env_only("sign-debug", "--request", "-", "-o", "json", input=mistaken(**kw))
    assert r.rc == 65, r
    assert needle in r.json()["verification"]["diagnosis"]


def test_correct_raw_request_matches(env_only):
    r = env_only("sign-debug", "--request", "-", "-o", "table", input=mistaken())
    assert r.rc == 0, r
    assert "result:    MATCH" in r.out


def test_unexplained_mismatch(env_only):
    text = mistaken()
    sig_start = text.index("Signature=") + len("Signature=")
    text = text[:sig_start] + "0" * 64 + text[sig_start + 64:]
    r = env_only("sign-debug", "--request", "-", "-o", "json", input=text)
    assert r.rc == 65
    assert "no common mistake" in r.json()["verification"]["diagnosis"]


def random_request(rng):
    tok = lambda n: "".join(rng.choice(string.ascii_letters + string.digits + "-_.~")
                            for _ in range(n))
    path = "/" + "/".join(rng.choice([tok(rng.randint(1, 8)), "a b", "%24x", "é", "."])
                          for _ in range(rng.randint(0, 4)))
    query = "&".join(f"{tok(rng.randint(1, 5))}={rng.choice([tok(3), '', 'a%20b', 'ü'])}"
                     for _ in range(rng.randint(0, 4)))
    headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
    for _ in range(rng.randint(0, 5)):
        name = rng.choice(["My-Header", "x-custom", "Accept", "X-Amz-Target", "zz"])
        val = rng.choice([" padded  value ", "a   b", tok(10), "\"q  q\"", "1"])
        headers.append((name, val))
    rng.shuffle(headers)
    body = rng.choice(["", '{"a": 1.00}', tok(40), "line1\nline2"])
    return rng.choice(["GET", "POST", "PUT"]), path, query, headers, body


def test_differential_random_requests(offline):
    """agcod and the independent reference agree on 200 random requests."""
    a = suite_env(offline)
    rng = random.Random(20261122)
    for i in range(200):
        method, path, query, headers, body = random_request(rng)
        text = f"{method} {path}{'?' + query if query else ''} HTTP/1.1\n"
        text += "".join(f"{n}:{v}\n" for n, v in headers) + "\n" + body
        r = a("sign-debug", "--request", "-", "--region", "us-east-1",
              "--service", "service", "-o", "json", input=text)
        assert r.rc == 0, (text, r)
        d = r.json()
        ref = sigv4ref.sign(method, path, query, headers, body.encode(), "AKIDEXAMPLE",
                            AWS_SECRET, "us-east-1", "service", "20150830T123600Z")
        assert d["canonical_request"] == ref["canonical_request"], text
        assert d["string_to_sign"] == ref["string_to_sign"], text
        assert d["signature"] == ref["signature"], text


def test_differential_botocore(env_only):
    """agcod's AGCOD requests verify with botocore's SigV4Auth too."""
    botocore = pytest.importorskip("botocore")
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import datetime
    from unittest import mock
    for amount in ("1.00", "19.99", "0.15", "2000"):
        r = env_only("sign-debug", "create", "--amount", amount, "--currency", "USD",
                     "--date", "20240102T030405Z", "-o", "json")
        d = r.json()
        req = AWSRequest(method="POST", url=d["endpoint"], data=d["body"].encode(),
                         headers={k: v for k, v in d["headers"].items()
                                  if k not in ("host", "x-amz-date")})
        with mock.patch("botocore.auth.datetime") as dt:
            dt.datetime.utcnow.return_value = datetime.datetime(2024, 1, 2, 3, 4, 5)
            SigV4Auth(Credentials("AKIAJBYCL67O6NJUNYBQ", AWS_SECRET), "AGCODService",
                      "us-east-1").add_auth(req)
        assert req.headers["Authorization"] == d["authorization"], amount


def test_non_utf8_request_gives_valid_json(env_only, tmp_path):
    """a stray Latin-1 byte is the finding: shown as \\xNN, the JSON still valid"""
    req = tmp_path / "latin1.req"
    req.write_bytes(b"POST /caf\xe9 HTTP/1.1\r\nHost: example.amazonaws.com\r\n"
                    b"X-Note: d\xe9j\xe0\r\n\r\n{\"name\": \"Ren\xe9\"}")
    r = env_only("sign-debug", "--request", str(req), "--region", "us-east-1",
                 "--service", "service", "--date", "20150830T123600Z", "-o", "json")
    assert r.rc == 0, r
    d = r.json()
    assert d["body"] == '{"name": "Ren\\xE9"}'
    assert d["path"] == "/caf\\xE9"
    assert d["headers"]["X-Note"].strip() == "d\\xE9j\\xE0"
    assert "/caf%E9\n" in d["canonical_request"]


def test_derived_request_id_depends_on_the_operation_options_only(env_only):
    """With --date and no --request-id the id is derived from the operation
    and its own options: -v, -o and the profile's flags change nothing, a
    different amount or gcId changes it."""
    def rid(*extra):
        r = env_only("sign-debug", "cancel", "--date", "20240102T030405Z",
                     "-o", "json", *extra)
        assert r.rc == 0, r
        return json.loads(r.json()["body"])["creationRequestId"]
    base = rid("--gc-id", "G1")
    assert rid("--gc-id", "G1", "-v") == base
    assert rid("-q", "--gc-id", "G1") == base
    assert rid("--gc-id", "G2") != base
    assert rid() != base


def test_redirected_output_is_the_readable_report(env_only):
    """'sign-debug > case.txt' is attached to a support case: the report, as
    support-draft prints it, not one line of JSON; -o json still asks for it
    (issue 19 item 4)."""
    args = ("sign-debug", "create", "--amount", "1.00", "--currency", "USD",
            "--request-id", "AwssbTSpecTest001", "--date", "20130910T222620Z")
    r = env_only(*args)     # stdout is a pipe, as with '> case.txt'
    assert r.rc == 0, r
    assert "== canonical request\nPOST\n/CreateGiftCard\n" in r.out, r.out
    assert not r.out.lstrip().startswith("{"), r.out
    j = env_only(*args, "-o", "json")
    assert j.rc == 0 and j.json()["signature"] == \
        "3678156aeab17149396d76e8e6ce282612030585ff85e20fd95cba12c40030ca"
