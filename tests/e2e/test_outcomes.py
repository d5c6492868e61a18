"""Outcomes with one rule, recovery, production guardrails (issue 12).

failed  = the service proved it refused (AGCOD FAILURE with an error code,
          HTTP 401/403, throttling);
unknown = anything else after the request may have reached the service
          (exit 75, listed by history --pending, settled by reconcile);
not sent = provably never left (connection refused, DNS, TLS, bad config).
"""
import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest

import agcod_emulator
from conftest import AGCOD, PARTNER, pg_sql

CARD = "1400000005567585358"
ID_LINE = re.compile(r"^agcod: request-id: (\S+)$", re.M)


def final(agcod, rid, op=None):
    """The latest request with this id: one row per request (SQLite), or
    JSON-lines records folded from its pending record on, later over earlier."""
    recs = [r for r in agcod.journal() if r.get("request_id") == rid
            and (op is None or r.get("operation") == op)]
    if recs and "id" in recs[0]:
        return recs[-1]
    entry = {}
    for rec in recs:
        if rec.get("state") == "pending":
            entry = {}
        entry.update(rec)
    return entry


def undelivered(entry):
    return entry.get("delivered", True) in (False, 0)


def pending_ids(agcod, *args):
    r = agcod("history", "--pending", *args, "-o", "json")
    assert r.rc == 0, r
    return [e["request_id"] for e in r.jsonl()]


def stable_id(r):
    ids = ID_LINE.findall(r.err)
    assert len(ids) == 1, r
    return ids[0]


# ---- every operation, every act-then-answer-badly fault ----

FAULTS = ["acted_broken200", "acted_html500", "acted_html502", "acted_json5xx", "drop"]


def _create(agcod, emu, rid):
    return ["create", "--amount", "9", "--request-id", rid]


def _load(agcod, emu, rid):
    return ["load", "--amount", "5", "--account-id", "amz1.account.A", "--request-id", rid]


def _activate(agcod, emu, rid):
    return ["activate", "--card-number", CARD, "--amount", "5", "--request-id", rid]


def _cancel(agcod, emu, rid):
    assert agcod("create", "--amount", "3", "--request-id", rid, "-o", "json").rc == 0
    return ["cancel", "--request-id", rid]


def _void(agcod, emu, rid):
    assert agcod(*_load(agcod, emu, rid), "-o", "json").rc == 0
    return ["void", "--request-id", rid]


def _deactivate(agcod, emu, rid):
    assert agcod(*_activate(agcod, emu, rid), "-o", "json").rc == 0
    return ["deactivate", "--card-number", CARD, "--request-id", rid]


OPS = {
    "CreateGiftCard": _create, "LoadAmazonBalance": _load,
    "ActivateGiftCard": _activate, "CancelGiftCard": _cancel,
    "VoidAmazonBalanceLoad": _void, "DeactivateGiftCard": _deactivate,
}


def _effect(emu, op, rid):
    """What the service did, to check it was done once."""
    st = emu.state
    return {"CreateGiftCard": lambda: (st.creates, st.funds),
            "LoadAmazonBalance": lambda: (len(st.loads), st.funds),
            "ActivateGiftCard": lambda: (len(st.activations), st.funds),
            "CancelGiftCard": lambda: (st.cards[rid]["status"], st.funds),
            "VoidAmazonBalanceLoad": lambda: (st.loads[rid]["status"], st.funds),
            "DeactivateGiftCard": lambda: (st.activations[CARD]["status"], st.funds),
            }[op]()


@pytest.mark.parametrize("op,fault",
                         [("CreateGiftCard", f) for f in FAULTS] +
                         [(o, f) for o in OPS if o != "CreateGiftCard"
                          for f in ("acted_html502", "acted_broken200")])
def test_acted_then_answered_badly_is_unknown_then_reconciled(agcod, emu, op, fault):
    rid = PARTNER + "Acted" + str(abs(hash((op, fault))) % 10**8)
    args = OPS[op](agcod, emu, rid)
    emu.fault(fault, count=1, op=op)
    r = agcod("--retry-for", "0", *args, "-o", "json")
    assert r.rc == 75, r
    assert [q for q in emu.requests(op) if q.get("acted")]   # the service acted
    assert "unknown" in r.err and r.out == ""
    assert stable_id(r) == rid
    assert final(agcod, rid, op)["state"] == "unknown"
    assert rid in pending_ids(agcod)
    done = _effect(emu, op, rid)

    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    assert _effect(emu, op, rid) == done              # nothing done twice
    last = emu.requests(op)[-1]
    assert rid.encode() in last["body"]               # the same request id
    assert final(agcod, rid, op)["state"] == "succeeded"
    assert rid not in pending_ids(agcod)
    if op == "CreateGiftCard":
        assert rec.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]


@pytest.mark.parametrize("cmd", [["funds"], ["activation-status", "--card-number", CARD]])
@pytest.mark.parametrize("fault", ["acted_broken200", "acted_html500", "acted_json5xx"])
def test_unjournaled_operations_answered_badly_are_75(agcod, emu, cmd, fault):
    emu.fault(fault, count=1)
    r = agcod("--retry-for", "0", *cmd, "-o", "json")
    assert r.rc == 75, r
    assert "unknown" in r.err and r.out == ""


def test_bad_answer_retried_within_budget_then_succeeds_once(agcod, emu):
    emu.fault("acted_html500", count=1, op="CreateGiftCard")
    r = agcod("create", "--amount", "4", "-o", "json")
    assert r.rc == 0, r
    rid = r.json()["creationRequestId"]
    assert emu.state.creates == 1 and len(emu.requests("CreateGiftCard")) == 2
    assert r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert final(agcod, rid)["state"] == "succeeded"


def test_unknown_is_sticky_through_throttling(agcod, emu):
    """attempt 1 dropped after processing, then throttled to the end: unknown"""
    rid = PARTNER + "Sticky01"
    emu.fault("drop", count=1, op="CreateGiftCard")
    emu.fault("throttle", count=1000, op="CreateGiftCard")
    r = agcod("--retry-for", "3", "create", "--amount", "6", "--request-id", rid,
              "-o", "json")
    assert r.rc == 75, r
    assert len(emu.requests("CreateGiftCard")) >= 3
    assert "unknown" in r.err
    assert final(agcod, rid)["state"] == "unknown"
    assert rid in pending_ids(agcod)
    emu.faults.clear()
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    assert rec.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert emu.state.creates == 1


def test_throttled_to_the_end_is_failed_75(agcod, emu):
    rid = PARTNER + "Throttle1"
    emu.fault("throttle", count=1000, op="CreateGiftCard")
    r = agcod("--retry-for", "2", "create", "--amount", "6", "--request-id", rid)
    assert r.rc == 75, r
    assert emu.state.creates == 0
    assert final(agcod, rid)["state"] == "failed"
    assert rid not in pending_ids(agcod)
    assert stable_id(r) == rid


def test_refused_F2xx_is_failed_65(agcod, emu):
    r = agcod("create", "--amount", "1", "--request-id", "F2015", "-o", "json")
    assert r.rc == 65, r
    assert final(agcod, "F2015")["state"] == "failed"
    assert final(agcod, "F2015")["error_code"] == "F200"
    assert stable_id(r) == "F2015"
    assert pending_ids(agcod) == []


def test_403_is_failed_77(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, access_key_id="AKIDUNKNOWN")
    rid = PARTNER + "Denied01"
    r = agcod("create", "--amount", "1", "--request-id", rid)
    assert r.rc == 77, r
    assert final(agcod, rid)["state"] == "failed"
    assert stable_id(r) == rid


def test_connection_refused_is_not_sent(offline):
    rid = PARTNER + "Refused1"
    r = offline("--retry-for", "0", "create", "--amount", "1", "--request-id", rid)
    assert r.rc == 75, r
    assert "nothing was sent" in r.err
    assert final(offline, rid)["state"] == "not sent"
    assert pending_ids(offline) == []
    assert stable_id(r) == rid


def test_tls_verification_failure_is_not_sent_69(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint)      # the system CAs: not trusted
    rid = PARTNER + "Tls00001"
    r = agcod("create", "--amount", "1", "--request-id", rid)
    assert r.rc == 69, r
    assert final(agcod, rid)["state"] == "not sent"
    assert emu.requests() == []


# ---- configuration that cannot work: 78 before anything is journaled ----

@pytest.mark.parametrize("how", ["ca_missing", "ca_dir", "port", "port0", "space",
                                 "space_arg", "scheme", "sandbox_at_prod",
                                 "prod_at_sandbox", "max_amount", "assume_yes"])
def test_configuration_problems_are_78_and_nothing_journaled(agcod, emu, how, tmp_path):
    port = emu.port
    keys = dict(endpoint=emu.endpoint, ca_bundle=emu.ca)
    args = []
    if how == "ca_missing":
        keys["ca_bundle"] = str(tmp_path / "nonexistent.pem")
    elif how == "ca_dir":
        keys["ca_bundle"] = str(tmp_path)
    elif how == "port":
        keys["endpoint"] = "https://127.0.0.1:99999"
    elif how == "port0":
        keys["endpoint"] = "https://127.0.0.1:0"
    elif how == "space":
        keys["endpoint"] = f"https://127.0.0.1 :{port}"
    elif how == "space_arg":
        args = ["--endpoint", f"https://127.0.0.1:{port} "]
    elif how == "scheme":
        keys["endpoint"] = f"http://127.0.0.1:{port}"
    elif how == "sandbox_at_prod":
        keys["endpoint"] = "https://agcod-v2.amazon.com"
    elif how == "prod_at_sandbox":
        keys.update(endpoint="https://AGCOD-v2-eu-gamma.amazon.com.", environment="production")
    elif how == "max_amount":
        keys["max_amount"] = "lots"
    elif how == "assume_yes":
        keys["assume_yes"] = "sure"
    agcod.write_config(**keys)
    for cmd in (["create", "--amount", "1"], ["funds"], ["reconcile"],
                ["sign-debug", "create", "--amount", "1", "--send"]):
        r = agcod(*args, "--yes", *cmd)
        assert r.rc == 78, (cmd, r)
        assert r.err.startswith("agcod: ") and r.out == ""
    assert agcod.journal() == []
    assert emu.requests() == [] and emu.connections == 0


def test_sign_debug_without_send_ignores_the_network_config(agcod, emu, tmp_path):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=str(tmp_path / "gone.pem"))
    r = agcod("sign-debug", "create", "--amount", "1", "-o", "json")
    assert r.rc == 0, r


def test_production_profile_at_a_custom_endpoint_is_allowed(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    assert agcod("--yes", "create", "--amount", "1", "-o", "json").rc == 0


# ---- recovery ----

def state_bytes(agcod):
    """every byte agcod keeps in its state directory"""
    return b"".join(f.read_bytes() for f in agcod.state.iterdir() if f.is_file())


def test_stdout_full_names_the_id_and_reprint_recovers(agcod, emu):
    rid = PARTNER + "Full0001"
    p = subprocess.run(f"'{AGCOD}' create --amount 8 --request-id {rid} -o json > /dev/full",
                       shell=True, env=agcod.env, capture_output=True, text=True,
                       timeout=30, start_new_session=True)
    assert p.returncode == 75, p.stderr
    assert rid in p.stderr and f"agcod reprint --request-id {rid}" in p.stderr
    assert "run 'agcod reconcile'" not in p.stderr
    assert ID_LINE.findall(p.stderr) == [rid]
    e = final(agcod, rid)
    assert e["state"] == "succeeded" and undelivered(e)
    card = emu.state.cards[rid]
    assert card["claim"].encode() not in state_bytes(agcod)

    r = agcod("reprint", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    assert r.json()["gcClaimCode"] == card["claim"] and r.json()["gcId"] == card["gcId"]
    assert emu.state.creates == 1
    assert b'"amount": 8}' in emu.requests("CreateGiftCard")[-1]["body"]
    assert not undelivered(final(agcod, rid))
    assert card["claim"].encode() not in state_bytes(agcod)


def test_reprint_table_output_like_create(agcod, emu):
    c = agcod("create", "--amount", "2", "-o", "json").json()
    r = agcod("reprint", "--request-id", c["creationRequestId"], "-o", "table")
    assert r.rc == 0, r
    assert re.search(rf"^gcClaimCode\s+{re.escape(c['gcClaimCode'])}$", r.out, re.M)


def test_reprint_settles_an_unknown_create(agcod, emu):
    rid = PARTNER + "Unknown1"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "7", "--request-id", rid).rc == 75
    r = agcod("reprint", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    assert r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert final(agcod, rid)["state"] == "succeeded" and emu.state.creates == 1


def test_reconcile_and_reprint_resend_the_same_bytes(agcod, emu):
    """one path rebuilds a journal row's request: both send the original body"""
    rid = PARTNER + "Same0001"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "7.50", "--request-id", rid,
                 "--external-reference", "order 12").rc == 75
    first = emu.requests("CreateGiftCard")[-1]["body"]
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert f"agcod: reconciling CreateGiftCard {rid}\n" in r.err
    assert emu.requests("CreateGiftCard")[-1]["body"] == first
    r = agcod("-v", "reprint", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    assert f"agcod: reprinting CreateGiftCard {rid}\n" in r.err
    assert emu.requests("CreateGiftCard")[-1]["body"] == first
    assert len(emu.requests("CreateGiftCard")) == 3 and emu.state.creates == 1
    assert "reprinting" not in agcod("reprint", "--request-id", rid).err


@pytest.mark.parametrize("state", ["failed", "not sent", "absent"])
def test_reprint_never_issues_a_new_card(agcod, emu, state):
    rid = PARTNER + "Never001"
    if state == "failed":
        emu.fault("throttle", count=1000, op="CreateGiftCard")
        assert agcod("--retry-for", "0", "create", "--amount", "1", "--request-id", rid).rc == 75
        emu.faults.clear()
    elif state == "not sent":
        agcod.write_config(endpoint="https://127.0.0.1:9", ca_bundle=emu.ca)
        assert agcod("--retry-for", "0", "create", "--amount", "1", "--request-id", rid).rc == 75
        agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca)
    n = len(emu.requests())
    r = agcod("reprint", "--request-id", rid)
    assert r.rc == 64, r
    assert len(emu.requests()) == n and emu.state.creates == 0


def test_reprint_needs_the_profile_it_was_sent_with(agcod, emu, certs):
    c = agcod("create", "--amount", "2", "-o", "json").json()
    other = agcod_emulator.Emulator(certs, partner=PARTNER, access_key_id="AKIDEMULATOR",
                                    secret=emu.keys["AKIDEMULATOR"]).start()
    try:
        agcod.write_config(endpoint=other.endpoint, ca_bundle=emu.ca)
        r = agcod("reprint", "--request-id", c["creationRequestId"])
        assert r.rc == 64, r
        assert emu.endpoint in r.err
        assert other.requests() == []
    finally:
        other.stop()


def test_request_id_line_is_stable_and_only_on_trouble(agcod, emu):
    ok = agcod("create", "--amount", "1", "-o", "json")
    assert ok.rc == 0 and ok.err == ""        # the id is in the answer itself
    emu.fault("acted_html500", count=1, op="CreateGiftCard")
    q = agcod("-q", "--retry-for", "0", "create", "--amount", "1", "-o", "json")
    assert q.rc == 75
    assert ID_LINE.search(q.err)              # also with -q


# ---- a cancelled card is not a card to hand out ----

def _cancelled_card(agcod):
    c = agcod("create", "--amount", "10", "-o", "json").json()
    assert agcod("cancel", "--request-id", c["creationRequestId"]).rc == 0
    return c


def test_repeated_create_of_a_cancelled_card(agcod, emu):
    c = _cancelled_card(agcod)
    rid = c["creationRequestId"]
    r = agcod("create", "--amount", "10", "--request-id", rid, "-o", "json")
    assert emu.requests("CreateGiftCard")[-1]["status"] == 200
    assert "RefundedToPurchaser" in emu.requests("CreateGiftCard")[-1]["response"]
    assert r.rc == 65, r
    assert c["gcClaimCode"] not in r.out and c["gcClaimCode"] not in r.err
    assert "cancelled" in r.err and stable_id(r) == rid
    assert final(agcod, rid, "CreateGiftCard")["state"] == "cancelled"


def test_reprint_of_a_cancelled_card(agcod, emu):
    c = _cancelled_card(agcod)
    r = agcod("reprint", "--request-id", c["creationRequestId"], "-o", "table")
    assert r.rc == 65, r
    assert c["gcClaimCode"] not in r.out and "cancelled" in r.err
    assert final(agcod, c["creationRequestId"], "CreateGiftCard")["state"] == "cancelled"


def test_reconcile_of_a_cancelled_card(agcod, emu):
    rid = PARTNER + "Cancel01"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "10", "--request-id", rid).rc == 75
    # cancelled behind agcod's back (another tool, Amazon's portal)
    emu.state.cards[rid]["status"] = "RefundedToPurchaser"
    r = agcod("reconcile", "-o", "json")
    assert r.rc == 65, r
    assert emu.state.cards[rid]["claim"] not in r.out
    assert final(agcod, rid, "CreateGiftCard")["state"] == "cancelled"


def test_a_cancel_that_succeeded_settles_the_unknown_create(agcod, emu):
    """the card existed and its money came back: nothing to reconcile"""
    rid = PARTNER + "Cancel02"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "10", "--request-id", rid).rc == 75
    gc = emu.state.cards[rid]["gcId"]
    assert agcod("cancel", "--request-id", rid, "--gc-id", gc).rc == 0
    sent = len(emu.requests())
    r = agcod("reconcile", "-o", "json")
    assert r.rc == 0 and "nothing to reconcile" in r.err, r
    assert len(emu.requests()) == sent
    assert final(agcod, rid, "CreateGiftCard")["settled"].startswith("undone by")
    assert [o["state"] for o in agcod.objects() if o["request_id"] == rid] == ["cancelled"]


# ---- reconcile: what cron needs to know (the lead implements; see report) ----

def test_reconcile_to_a_full_stdout_keeps_the_claim_code(agcod, emu):
    rid = PARTNER + "RecFull1"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "5", "--request-id", rid).rc == 75
    p = subprocess.run(f"'{AGCOD}' reconcile -o json > /dev/full", shell=True,
                       env=agcod.env, capture_output=True, text=True, timeout=30,
                       start_new_session=True)
    assert p.returncode == 75, p.stderr
    assert f"agcod reprint --request-id {rid}" in p.stderr
    assert undelivered(final(agcod, rid))
    r = agcod("reprint", "--request-id", rid, "-o", "json")
    assert r.rc == 0 and r.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]


def _unknown_elsewhere(agcod, emu, certs):
    """an unknown create at emu; then the profile points at another endpoint"""
    rid = PARTNER + "Elsewhere"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "5", "--request-id", rid).rc == 75
    other = agcod_emulator.Emulator(certs, partner=PARTNER, access_key_id="AKIDEMULATOR",
                                    secret=emu.keys["AKIDEMULATOR"]).start()
    agcod.write_config(endpoint=other.endpoint, ca_bundle=emu.ca, environment="production")
    return rid, other


def test_sandbox_entry_is_never_replayed_to_production(agcod, emu, certs):
    rid, other = _unknown_elsewhere(agcod, emu, certs)
    try:
        r = agcod("--yes", "reconcile", "-o", "json")
        assert other.requests() == [] and other.state.creates == 0, r
        assert r.out == ""
        # still open, though a production profile no longer lists it
        assert pending_ids(agcod) == []
        assert rid in pending_ids(agcod, "--all-environments")
    finally:
        other.stop()


def test_reconcile_skipping_entries_of_another_endpoint_exits_75(agcod, emu, certs):
    rid, other = _unknown_elsewhere(agcod, emu, certs)
    try:
        r = agcod("--yes", "reconcile")
        assert r.rc == 75, r
        assert rid in r.err and emu.endpoint in r.err and "profile" in r.err
        assert agcod("-q", "--yes", "reconcile").rc == 75   # cron: not 0
        assert other.requests() == []
    finally:
        other.stop()


# ---- production guardrails ----

def test_production_without_terminal_or_opt_in_is_refused(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    for cmd in (["create", "--amount", "1"],
                ["load", "--amount", "1", "--account-id", "amz1.account.A"],
                ["activate", "--card-number", CARD, "--amount", "1"],
                ["sign-debug", "create", "--amount", "1", "--send"]):
        r = agcod(*cmd, "-o", "json")
        assert r.rc == 64, (cmd, r)
        assert "--yes" in r.err and "assume_yes" in r.err and "nothing was sent" in r.err
    assert emu.requests() == [] and agcod.journal() == []
    # what returns money needs no confirmation
    assert agcod("funds", "-o", "json").rc == 0


def test_production_opt_in_by_option_or_profile(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    assert agcod("create", "--amount", "1", "--yes", "-o", "json").rc == 0
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production",
                       assume_yes="yes")
    assert agcod("create", "--amount", "1", "-o", "json").rc == 0
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production",
                       assume_yes="no")
    assert agcod("create", "--amount", "1", "-o", "json").rc == 64
    assert emu.state.creates == 2


@pytest.mark.parametrize("amount,rc", [("100", 0), ("100.00", 0), ("100.01", 64),
                                       ("250", 64)])
def test_max_amount_is_exact_and_checked_before_sending(agcod, emu, amount, rc):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, max_amount="100.00")
    r = agcod("create", "--amount", amount, "-o", "json")
    assert r.rc == rc, r
    if rc:
        assert "max_amount" in r.err and emu.requests() == [] and agcod.journal() == []
        s = agcod("sign-debug", "create", "--amount", amount, "--send")
        assert s.rc == 64 and emu.requests() == []


def _run_on_terminal(agcod, args, answer, timeout=20):
    """run agcod with a pty as its controlling terminal; answer the question"""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(AGCOD, [AGCOD, *args], agcod.env)
        finally:
            os._exit(127)
    out, asked, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not asked and b"proceed? [y/N]" in out:
                os.write(fd, answer.encode() + b"\r")
                asked = True
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


@pytest.mark.parametrize("answer,rc", [("y", 0), ("yes", 0), ("n", 64), ("", 64)])
def test_confirmation_on_the_terminal(agcod, emu, answer, rc):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    code, text = _run_on_terminal(agcod, ["create", "--amount", "12.50", "--currency", "USD",
                                          "-o", "json"], answer)
    assert code == rc, text
    question = text[:text.index("proceed?")]
    for part in ("PRODUCTION", "CreateGiftCard", "12.50", "USD", PARTNER, emu.endpoint):
        assert part in question, (part, text)
    assert emu.state.creates == (1 if rc == 0 else 0)
    if rc:
        assert "nothing was sent" in text and agcod.journal() == []


def test_sign_debug_send_says_a_card_was_issued(agcod, emu):
    r = agcod("sign-debug", "create", "--amount", "3", "--send", "-o", "json")
    assert r.rc == 0, r
    rid = stable_id(r)
    card = emu.state.cards[rid]
    assert card["claim"] not in r.out and card["claim"] not in r.err
    assert "issued a real gift card" in r.err
    assert f"agcod reprint --request-id {rid}" in r.err
    assert f"agcod cancel --request-id {rid}" in r.err and "15 minutes" in r.err
    again = agcod("reprint", "--request-id", rid, "-o", "json")
    assert again.rc == 0 and again.json()["gcClaimCode"] == card["claim"]
    assert emu.state.creates == 1


def test_sign_debug_send_load_says_how_to_void(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    r = agcod("--yes", "sign-debug", "load", "--amount", "3", "--account-id", "amz1.account.B",
              "--send", "-o", "json")
    assert r.rc == 0, r
    rid = stable_id(r)
    assert "PRODUCTION" in r.err and f"agcod void --request-id {rid}" in r.err
    assert agcod("void", "--request-id", rid, "-o", "json").rc == 0
    assert emu.state.loads[rid]["status"] == "Voided"


def test_sign_debug_send_refused_names_the_request_id(agcod, emu):
    r = agcod("sign-debug", "create", "--amount", "3", "--request-id", "F2005", "--send",
              "-o", "json")
    assert r.rc == 65, r
    assert stable_id(r) == "F2005"
    assert "issued" not in r.err


def test_production_load_names_the_amount_and_account_credited(agcod, emu):
    """issue 14: the confirmation shows what a balance load will credit"""
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    r = agcod("load", "--amount", "30.00", "--account-id", "amz1.account.A", "-o", "json")
    assert r.rc == 64, r
    assert ("LoadAmazonBalance of 30.00 USD credited to account amz1.account.A"
            in r.err), r.err
    r = agcod("--yes", "load", "--amount", "30.00", "--account-id", "amz1.account.A",
              "-o", "json")
    assert r.rc == 0 and "credited to account amz1.account.A" in r.err, r


# ---- issue 18: the rule lives in the journal, across processes ----

@pytest.fixture
def refusing(emu, agcod):
    """how: a later send of the id is refused for a reason that says
    nothing about an earlier attempt (a 403 key, throttling, F100, F500)"""
    import json

    def refuse(how):
        if how == "key403":
            agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                               access_key_id="AKIDUNKNOWN")
        elif how == "throttle":
            emu.fault("throttle", count=1000, op="CreateGiftCard")
        else:
            agcod_emulator.ACTED_FAULTS["general"] = lambda body, f: (
                500, json.dumps({"agcodResponse": {"status": "FAILURE"},
                                 "errorCode": f["code"],
                                 "errorType": "GeneralError",
                                 "message": "General Error"}),
                "application/json")
            emu.fault("general", 1000, "CreateGiftCard", code=how)

    def heal():
        agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca)
        emu.faults.clear()
    yield refuse, heal
    agcod_emulator.ACTED_FAULTS.pop("general", None)


@pytest.mark.parametrize("how", ["key403", "throttle", "F100", "F500"])
@pytest.mark.parametrize("via", ["repeat", "reconcile"])
def test_an_unknown_card_stays_unknown_in_the_next_process(agcod, emu,
                                                           refusing, how, via):
    """issue 18 defect 1: create R loses its answer (R unknown, the service
    holds the card); the next process to send R is refused for a reason that
    says nothing about R.  R moved unknown -> failed, history --pending was
    empty, and reprint advised 'agcod create': a second card"""
    refuse, heal = refusing
    rid = PARTNER + "Cross" + how + via
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "9", "--request-id", rid)
    assert r.rc == 75 and emu.state.creates == 1, r
    refuse(how)
    args = (["reconcile"] if via == "reconcile" else
            ["create", "--amount", "9", "--request-id", rid])
    r = agcod("--retry-for", "0", *args)
    assert r.rc == 75, r
    assert "unknown" in r.err, r
    assert final(agcod, rid)["state"] == "unknown"
    assert rid in pending_ids(agcod)
    o = [x for x in agcod.objects() if x["request_id"] == rid]
    assert o[0]["state"] == "unknown", o
    rp = agcod("--retry-for", "0", "reprint", "--request-id", rid)
    assert rp.rc == 75 and "agcod create" not in rp.err, rp
    heal()
    rec = agcod("reconcile", "-o", "json")
    assert rec.rc == 0, rec
    assert rec.json()["gcClaimCode"] == emu.state.cards[rid]["claim"]
    assert emu.state.creates == 1
    assert pending_ids(agcod) == []


def test_a_fresh_id_refused_is_still_failed(agcod, emu, refusing):
    """the rule's other half: a 403 on an id nothing sent before proves the
    service did not act (exit 77, failed, nothing left open)"""
    refuse, _ = refusing
    refuse("key403")
    rid = PARTNER + "Fresh403"
    r = agcod("create", "--amount", "1", "--request-id", rid)
    assert r.rc == 77, r
    assert final(agcod, rid)["state"] == "failed"
    assert pending_ids(agcod) == []


def test_an_f2xx_of_another_body_proves_nothing(agcod, emu):
    """an unknown create repeated with other terms is refused (F200: the id
    was used with another amount): that is no evidence about the first"""
    rid = PARTNER + "OtherBody"
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "9",
                 "--request-id", rid).rc == 75
    r = agcod("--retry-for", "0", "create", "--amount", "10", "--request-id", rid)
    assert r.rc == 75, r
    # sim N4: not sent at all, and the first terms stay the open question
    assert "other terms" in r.err and "nothing was sent" in r.err, r.err
    assert len(emu.requests("CreateGiftCard")) == 1
    assert rid in pending_ids(agcod)
    assert [x["state"] for x in agcod.objects() if x["request_id"] == rid] == ["unknown"]
    assert agcod("reconcile").rc == 0
    assert [x["amount"] for x in agcod.objects() if x["request_id"] == rid] == ["9"]
    assert [x["state"] for x in agcod.objects() if x["request_id"] == rid] == ["issued"]


@pytest.mark.parametrize("status", [400, 404, 413])
def test_a_proxys_4xx_page_after_acting_stays_unknown(agcod, emu, status):
    """issue 18 (pinned): a 4xx other than 401/403/429 with a body that is
    not JSON (a proxy's error page) proves nothing; read as a key refusal it
    would journal an issued card as failed"""
    agcod_emulator.ACTED_FAULTS["proxy4xx"] = lambda body, f: (
        f["status"], "<html><body>%d</body></html>" % f["status"], "text/html")
    try:
        rid = PARTNER + "Proxy%d" % status
        emu.fault("proxy4xx", count=1, op="CreateGiftCard", status=status)
        r = agcod("--retry-for", "0", "create", "--amount", "3", "--request-id", rid)
        assert r.rc == 75, r
        assert final(agcod, rid)["state"] == "unknown"
        assert [o["state"] for o in agcod.objects() if o["request_id"] == rid] == ["unknown"]
        assert agcod("reconcile", "-o", "json").rc == 0
        assert emu.state.creates == 1
    finally:
        agcod_emulator.ACTED_FAULTS.pop("proxy4xx", None)


def create_whose_retry_has_no_rate_slot(agcod, emu, *args):
    """a create whose first attempt acted and lost its answer, and whose
    rate limit then fails before the retry (the rate-limit file made a
    directory; on PostgreSQL, its rate table renamed): its result"""
    rl = agcod.state / ("ratelimit-" + PARTNER)
    gone = []

    def hook(entry):
        if agcod.pg:    # the slots are the database's: its rate table
            if not gone:
                gone.append(pg_sql(agcod.pg, "ALTER TABLE rate RENAME TO "
                                   "rate_gone"))
        elif rl.exists() and not rl.is_dir():
            rl.unlink()
            rl.mkdir()
    emu.fault("drop", count=1, op="CreateGiftCard")
    emu.on_request = hook
    try:
        return agcod("--retry-for", "5", "create", "--amount", "2", *args)
    finally:
        emu.on_request = None


def test_a_rate_limit_error_after_an_unknown_attempt_is_not_nothing_sent(agcod, emu):
    """issue 18 defect 3: the first attempt acted and its answer was lost;
    the rate-limit file then failed before the retry: agcod said 74
    'nothing sent', and an operator who issued again paid twice"""
    rid = PARTNER + "RateAfter"
    r = create_whose_retry_has_no_rate_slot(agcod, emu, "--request-id", rid)
    assert emu.state.creates == 1
    assert r.rc == 75, r
    assert "nothing sent" not in r.err and "unknown" in r.err, r
    assert rid in pending_ids(agcod)


def test_a_card_whose_retry_got_no_rate_slot_stays_unknown(agcod, emu):
    """the simulation on PostgreSQL (seed 618): the first attempt may have
    acted (its answer lost), the retry got no rate slot and was not sent.
    The record said 'unknown', but its card said 'not sent': its external
    reference was free again, and another run issued a second card for it"""
    rid = PARTNER + "RateAfterRef"
    r = create_whose_retry_has_no_rate_slot(agcod, emu, "--request-id", rid,
                                            "--external-reference",
                                            "ORDER-618")
    assert r.rc == 75, r
    assert [o["state"] for o in agcod.objects()
            if o["request_id"] == rid] == ["unknown"]
