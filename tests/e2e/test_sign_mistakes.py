"""sign-debug: deterministic output at a pinned date, another access key in
--request, and the signature-mistake search across every key-chain variant.
The reference for each mistake is tests/lib/sigv4ref.py (Python hmac and
hashlib), which shares no code with src/sigv4.c."""
import random
import re

import pytest

import sigv4ref
from test_sign_debug import AGCOD_HEADERS, AWS_SECRET, env_only, raw_request  # noqa: F401

KEY_ID = "AKIAJBYCL67O6NJUNYBQ"
NAMES = {1: "kDate", 2: "kRegion", 3: "kService", 4: "kSigning", 5: "the signature"}


def signed(mistakes=(), swap_steps=(), hex_steps=(), key_id=KEY_ID, secret=AWS_SECRET):
    body = '{"partnerId": "Awssb"}'
    ref = sigv4ref.sign("POST", "/GetAvailableFunds", "", AGCOD_HEADERS, body.encode(),
                        key_id, secret, "us-east-1", "AGCODService",
                        "20240102T030405Z", mistakes=mistakes,
                        swap_steps=swap_steps, hex_steps=hex_steps)
    return raw_request(AGCOD_HEADERS, body, ref["authorization"])


def diagnosis(env_only, text):
    r = env_only("sign-debug", "--request", "-", "-o", "json", input=text, timeout=60)
    assert r.rc == 65, r
    v = r.json()["verification"]
    assert v["match"] is False
    assert v["diagnosis"] in r.err
    return v["diagnosis"]


def swapped_steps(d):
    m = re.search(r"key and data swapped in [^;]*", d)
    return set() if not m else {int(x) for x in re.findall(r"(\d) \(", m.group(0))}


def hex_steps_of(d):
    m = re.search(r"hex text instead of raw binary: [^;]*", d)
    return set() if not m else {int(x) for x in re.findall(r"into step (\d)", m.group(0))}


def test_hex_at_every_step_including_the_signing_key(env_only):
    d = diagnosis(env_only, signed(hex_steps={2, 3, 4, 5}))
    assert "hex text" in d, d
    assert hex_steps_of(d) == {2, 3, 4, 5}, d
    assert "kSigning (into step 5)" in d and "kDate (into step 2)" in d, d
    assert swapped_steps(d) == set() and "AWS4" not in d, d


def test_first_hmac_alone_swapped(env_only):
    d = diagnosis(env_only, signed(swap_steps={1}))
    assert "key and data swapped in HMAC step 1 (kDate)" in d, d
    assert swapped_steps(d) == {1} and hex_steps_of(d) == set(), d


def test_final_step_swapped_and_no_prefix(env_only):
    d = diagnosis(env_only, signed(mistakes=("no_aws4",), swap_steps={5}))
    assert 'without the "AWS4" prefix' in d, d
    assert swapped_steps(d) == {5} and "5 (the signature)" in d, d


@pytest.mark.parametrize("seed", range(6))
def test_random_combinations_are_named_step_by_step(env_only, seed):
    rng = random.Random(seed)
    swap = {n for n in range(1, 6) if rng.random() < 0.4}
    hexs = {n for n in range(2, 6) if rng.random() < 0.4}
    mistakes = tuple(m for m in ("no_aws4", "unsorted", "untrimmed") if rng.random() < 0.3)
    if not (swap or hexs or mistakes):
        swap = {3}
    d = diagnosis(env_only, signed(mistakes=mistakes, swap_steps=swap, hex_steps=hexs))
    assert swapped_steps(d) == swap, (swap, hexs, mistakes, d)
    assert hex_steps_of(d) == hexs, (swap, hexs, mistakes, d)
    assert ('"AWS4" prefix' in d) == ("no_aws4" in mistakes), d
    assert ("not sorted" in d or "neither lower-cased nor sorted" in d) == \
        ("unsorted" in mistakes), d
    assert ("not trimmed" in d) == ("untrimmed" in mistakes), d


def test_other_secret_is_not_explained_by_a_mistake(env_only):
    d = diagnosis(env_only, signed(secret="another/secret", hex_steps={2}))
    assert "no common mistake" in d, d


def test_request_signed_with_another_access_key_says_so(env_only):
    # the same secret under another key id: the signature matches, but the
    # check says which key the request names and which the profile has
    r = env_only("sign-debug", "--request", "-", "-o", "json",
                 input=signed(key_id="AKIDSOMEONEELSE"))
    assert r.rc == 0, r
    assert "AKIDSOMEONEELSE" in r.err and KEY_ID in r.err, r
    assert "access key id" in r.err
    # another key and another secret: the mismatch names both keys
    r = env_only("sign-debug", "--request", "-", "-o", "json",
                 input=signed(key_id="AKIDSOMEONEELSE", secret="x/y"))
    assert r.rc == 65, r
    assert "AKIDSOMEONEELSE" in r.err and KEY_ID in r.err
    assert "AKIDSOMEONEELSE" in r.json()["verification"]["diagnosis"]
    # the profile's own key: no such note
    r = env_only("sign-debug", "--request", "-", "-o", "json", input=signed())
    assert r.rc == 0 and "AKIDSOMEONEELSE" not in r.err and r.err == "", r


@pytest.mark.parametrize("op", [
    ["create", "--amount", "5", "--currency", "USD"],
    ["load", "--amount", "5", "--currency", "USD", "--account-id", "amz1.account.1"],
    ["activate", "--card-number", "1400000005567585358", "--amount", "5",
     "--currency", "USD"],
    ["activation-status", "--card-number", "1400000005567585358"],
])
def test_pinned_date_without_request_id_is_deterministic(env_only, op):
    for fmt in ("json", "table"):
        args = ["sign-debug", *op, "--date", "20260102T030405Z", "-o", fmt]
        r1, r2 = env_only(*args), env_only(*args)
        assert r1.rc == 0 and r2.rc == 0, (r1, r2)
        assert r1.out == r2.out, "two runs differ"
    d = env_only(*args[:-2], "-o", "json").json()
    rid = re.search(r'RequestId": "([^"]+)"', d["body"]).group(1)
    # valid per the contract: alphanumeric, at most 40, starts with the partner id
    assert re.fullmatch(r"Awssb[0-9A-Za-z]{1,35}", rid), rid
    # other inputs or another date: another id
    other = env_only("sign-debug", *op, "--date", "20260102T030406Z", "-o", "json").json()
    assert other["body"] != d["body"]
    # an explicit id is used as given
    mine = env_only("sign-debug", *op, "--date", "20260102T030405Z",
                    "--request-id", "AwssbMine1", "-o", "json").json()
    assert '"AwssbMine1"' in mine["body"]
