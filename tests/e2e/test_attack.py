"""Defects found by attacking agcod as a stranger would: one test each.

Each test failed on the code before its fix (or is marked xfail, strict,
with the reason it is still open)."""

import pytest

from conftest import PARTNER

HOSTILE = "\x1b]0;pwn\x07\x1b[2J\r\u009bX"
RAW = ("\x1b", "\x07", "\r", "\u009b")


def test_journal_check_shows_hostile_fields_not_obeyed(agcod):
    """journal check names a bad state and key from the database itself:
    they are shown as \\xNN, never written raw to the terminal"""
    assert agcod("create", "--amount", "5", "--request-id", "Acme1R1").rc == 0
    agcod.tamper("UPDATE requests SET state = ? WHERE request_id = ?",
           "pend" + HOSTILE, "Acme1R1")
    agcod.tamper("UPDATE objects SET state = ?, key = ? "
           "WHERE request_id = ?", "st" + HOSTILE, "k" + HOSTILE, "Acme1R1")
    r = agcod("journal", "check")
    assert r.rc == 65, r
    assert "has state 'pend\\x1B]0;pwn" in r.out, r
    for c in RAW:
        assert c not in r.out and c not in r.err, (c, r)


@pytest.fixture
def answer(emu):
    """emu.fault("answer", body=fn): the request is processed, then the
    answer is fn(the real answer as a dict) with HTTP 200"""
    import json
    import agcod_emulator
    agcod_emulator.ACTED_FAULTS["answer"] = lambda body, f: (
        200, json.dumps(f["body"](json.loads(body))), "application/json")
    yield lambda fn, op="CreateGiftCard": emu.fault("answer", 1, op, body=fn)
    agcod_emulator.ACTED_FAULTS.pop("answer", None)


def final(agcod, rid):
    return [r for r in agcod.journal() if r["request_id"] == rid][-1]


def test_success_for_another_request_id_is_not_our_card(agcod, emu, answer):
    """a SUCCESS that names another request id (a mixed-up proxy, a cache)
    proves nothing about ours: not printed as our card, not 0, unknown"""
    answer(lambda d: dict(d, creationRequestId="Acme1SomeoneElse",
                          gcClaimCode="OTHR-CLAIM-CODE"))
    r = agcod("create", "--amount", "5", "--request-id", "Acme1Mine",
              "--retry-for", "0")
    assert r.rc == 75, r
    assert "OTHR-CLAIM-CODE" not in r.out, r
    assert final(agcod, "Acme1Mine")["state"] == "unknown"
    # the same id again: the service's own answer for it settles it
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert final(agcod, "Acme1Mine")["state"] == "succeeded"


def test_issued_card_without_its_claim_code_is_not_success(agcod, emu, answer):
    """a create answered SUCCESS but without gcClaimCode: the card exists
    but nobody has its code; exit 0 would tell cron it was delivered"""
    answer(lambda d: {k: v for k, v in d.items() if k != "gcClaimCode"})
    r = agcod("create", "--amount", "5", "--request-id", "Acme1NoCode",
              "--retry-for", "0")
    assert r.rc == 75, r
    assert final(agcod, "Acme1NoCode")["state"] == "unknown"
    r = agcod("reconcile")
    assert r.rc == 0 and "gcClaimCode" in r.out, r
    assert final(agcod, "Acme1NoCode")["state"] == "succeeded"


def test_retried_success_answer_for_another_id_is_retried(agcod, emu, answer):
    """with retries on, the mixed-up answer is asked again under the same
    id and the real one printed"""
    answer(lambda d: dict(d, creationRequestId="Acme1SomeoneElse"))
    r = agcod("create", "--amount", "5", "--request-id", "Acme1Again",
              "--retry-for", "5")
    assert r.rc == 0, r
    assert '"creationRequestId":"Acme1Again"' in r.out, r
    assert len(emu.requests("CreateGiftCard")) == 2


@pytest.fixture
def general_error(emu):
    """emu.fault("general", code=...): answered 500 FAILURE with an F100 or
    F500 GeneralError, as Amazon's internal errors are, whatever it did"""
    import json
    import agcod_emulator
    agcod_emulator.ACTED_FAULTS["general"] = lambda body, f: (
        500, json.dumps({"agcodResponse": {"status": "FAILURE"},
                         "errorCode": f["code"], "errorType": "GeneralError",
                         "message": "General Error"}), "application/json")
    yield
    agcod_emulator.ACTED_FAULTS.pop("general", None)


@pytest.mark.parametrize("code", ["F100", "F500"])
def test_internal_error_after_an_acted_attempt_is_not_failed(
        agcod, emu, general_error, code):
    """the first attempt issued the card and its answer was lost; the retry
    meets an Amazon internal error (F100, F500): that says nothing about
    the first attempt, so the card must not be called failed (exit 69, and
    a person re-issuing it under a new id pays twice)"""
    emu.fault("drop", 1, "CreateGiftCard")
    emu.fault("general", 1000, "CreateGiftCard", code=code)
    r = agcod("create", "--amount", "7", "--request-id", "Acme1Lost" + code,
              "--retry-for", "2")
    assert emu.state.creates == 1
    assert r.rc == 75, r
    assert final(agcod, "Acme1Lost" + code)["state"] == "unknown"
    emu.faults.clear()
    r = agcod("reconcile")
    assert r.rc == 0 and "gcClaimCode" in r.out, r
    assert emu.state.creates == 1


@pytest.mark.parametrize("code", ["F100", "F500"])
def test_internal_error_on_a_repeat_of_an_issued_id_is_not_refused(
        agcod, emu, general_error, code):
    """the card under the id is issued; the operator repeats the create
    (sim N6) and meets an internal error: that proves nothing, so the exit
    must not say refused (69), or a person issues again under a new id"""
    rid = "Acme1Again" + code
    assert agcod("create", "--amount", "7", "--request-id", rid).rc == 0
    emu.fault("general", 1000, "CreateGiftCard", code=code)
    r = agcod("create", "--amount", "7", "--request-id", rid,
              "--retry-for", "0")
    assert r.rc == 75, r
    assert final(agcod, rid)["state"] == "unknown"
    h = agcod("history", "--request-id", rid, "-o", "json").json()
    assert h["state"] == "issued"
    emu.faults.clear()
    assert agcod("reconcile").rc == 0
    assert agcod("history", "--pending", "-o", "json").out == ""
    assert emu.state.creates == 1


def test_batch_summary_counts_rows_never_sent_as_not_sent(offline, tmp_path):
    """a connection refused for every row: nothing left the machine, so the
    summary must not call the rows unknown (and send the operator to
    reconcile money that never moved); the exit stays 75, try again"""
    f = tmp_path / "rows.csv"
    f.write_text("amount\n5\n6\n")
    r = offline("batch", "create", str(f), "--retry-for", "0", "--no-funds-check")
    assert r.rc == 75, r
    summary = r.err.strip().splitlines()[-1]
    assert "0 issued, 0 failed, 0 unknown, 2 not sent" in summary, r
    assert "reconcile" not in summary, r
    assert {o["state"] for o in offline.objects()} == {"not sent"}


@pytest.fixture
def refusal(emu):
    """emu.fault("refusal", code=..., etype=...): a 400 FAILURE of the
    server's own words"""
    import json
    import agcod_emulator
    agcod_emulator.ACTED_FAULTS["refusal"] = lambda body, f: (
        400, json.dumps({"agcodResponse": {"status": "FAILURE"},
                         "errorCode": f["code"], "errorType": f["etype"],
                         "message": "no"}), "application/json")
    yield
    agcod_emulator.ACTED_FAULTS.pop("refusal", None)


@pytest.mark.parametrize("cmd", [("history",), ("history", "--requests"),
                                 ("journal", "export")])
def test_csv_shows_a_servers_control_characters(agcod, emu, refusal, cmd):
    """a hostile server's errorCode and errorType are kept in the journal;
    history and journal export as CSV (to a terminal too) show them as
    \\xNN, as batch's CSV and every table do, never raw"""
    emu.fault("refusal", 1, "CreateGiftCard", code="F2\x1b]0;pwn\x07",
              etype="Bad\x1b[2J\u009b31m")
    r = agcod("create", "--amount", "5", "--retry-for", "0")
    assert r.rc != 0, r
    r = agcod(*cmd, "-o", "csv")
    assert r.rc == 0, r
    assert "F2\\x1B]0;pwn\\x07" in r.out, r
    for c in RAW:
        assert c not in r.out, (c, r)


def test_batch_csv_keeps_utf8_in_quoted_cells(agcod, tmp_path):
    """a pass-through cell that must be quoted (it holds a comma) keeps its
    UTF-8 whole: "O’Brien, Pat" came out as O\\xE2...\\x80\\x99 garbage,
    one byte at a time through the control-character filter"""
    f = tmp_path / "names.csv"
    f.write_text("amount,name\n5,\"O\u2019Brien, Pat \u20ac\"\n",
                 encoding="utf-8")
    r = agcod("batch", "create", str(f), "-o", "csv")
    assert r.rc == 0, r
    assert '"O\u2019Brien, Pat \u20ac"' in r.out, r


def test_a_batch_running_twice_at_once_prints_its_cards_once(agcod, emu,
                                                             tmp_path):
    """the same batch started again while it runs (cron overlapping a
    manual run): both runs printed every claim code as newly issued, and
    'mail the rows where issued_before is empty' mailed each card twice.
    The second run is refused, nothing sent, exit 75"""
    f = tmp_path / "pay.csv"
    f.write_text("amount\n1\n2\n3\n")
    second, started = [], []

    def hook(entry):
        if not started:
            started.append(1)
            second.append(agcod("batch", "create", str(f), timeout=60))
    emu.on_request = hook
    try:
        r = agcod("batch", "create", str(f), timeout=120)
    finally:
        emu.on_request = None
    assert r.rc == 0 and len(r.jsonl()) == 3, r
    s = second[0]
    assert s.rc == 75, s
    assert s.out == "", s
    assert "another" in s.err, s
    assert emu.state.creates == 3
    assert len(emu.requests("CreateGiftCard")) == 3


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_interrupted_create_says_its_request_id(agcod, emu, sig):
    """Ctrl-C (or a wrapper's SIGTERM) while a create is on the wire: the
    card may be issued, and agcod died without a word; it must name the
    request id and say the outcome is unknown, as on any other trouble"""
    import signal
    import subprocess
    import time
    emu.fault("delay", 1, "CreateGiftCard", seconds=3)
    rid = "Acme1Intr" + sig
    p = subprocess.Popen([conftest_agcod(), "create", "--amount", "2",
                          "--request-id", rid], env=agcod.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    deadline = time.monotonic() + 10
    while not emu.requests("CreateGiftCard") and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(getattr(signal, sig))
    out, err = p.communicate(timeout=30)
    assert p.returncode == -getattr(signal, sig), (p.returncode, err)
    assert "request-id: " + rid in err, err
    assert "unknown" in err and "reconcile" in err, err
    assert out == ""
    assert rid in {r["request_id"] for r in agcod.journal()
                   if r["state"] == "pending"}


def conftest_agcod():
    import conftest
    return conftest.AGCOD


def test_same_ids_in_two_batch_runs_at_once_print_each_card_once(
        agcod, emu, tmp_path):
    """issue 18 defect 9: the same request ids in two runs at once (explicit
    request_id columns, two batch names): each run printed every card as
    newly issued and both summaries counted the money.  A row another live
    process is sending is refused (75), and a card another run issued in the
    meantime is shown as issued before"""
    ids = [PARTNER + "Twice%d" % i for i in range(3)]
    f = tmp_path / "pay.csv"
    f.write_text("amount,request_id\n" + "".join("1,%s\n" % i for i in ids))
    second = []

    def hook(entry):
        # the first card's request (not the funds check), and only once:
        # the second run's own requests come through here too
        if not second and entry["op"] == "CreateGiftCard":
            second.append(None)
            second[0] = agcod("batch", "create", str(f), "--batch-id", "two",
                              "-o", "json", timeout=60)
    emu.on_request = hook
    try:
        first = agcod("batch", "create", str(f), "--batch-id", "one", "-o",
                      "json", timeout=120)
    finally:
        emu.on_request = None
    s = second[0]
    assert emu.state.creates == 3
    new = [x["request_id"] for r in (first, s) for x in r.jsonl()
           if x["status"] == "SUCCESS" and not x.get("issued_before")]
    assert sorted(new) == sorted(ids), (first, s)
    assert s.rc == 75 and "another agcod process" in s.err, s
    assert pending_open(agcod) == []
    assert agcod("journal", "check").rc == 0


def pending_open(agcod):
    return [r["request_id"] for r in agcod.journal() if r.get("open") == 1]


def test_a_second_send_of_an_id_in_flight_is_refused(agcod, emu):
    """issue 18 defects 5 and 9: a create of R while another process sends
    R: it used to close the first record as retried, and the first one's late
    finish opened it again for ever.  Now it is refused, nothing sent"""
    rid = PARTNER + "InFlight1"
    second = []

    def hook(entry):
        if not second:
            second.append(agcod("create", "--amount", "3", "--request-id",
                                rid, "-o", "json"))
    emu.on_request = hook
    try:
        r = agcod("create", "--amount", "3", "--request-id", rid, "-o", "json")
    finally:
        emu.on_request = None
    assert r.rc == 0, r
    s = second[0]
    assert s.rc == 75 and "another agcod process" in s.err and s.out == "", s
    assert len(emu.requests("CreateGiftCard")) == 1
    assert pending_open(agcod) == []
    assert agcod("history", "--pending", "-o", "json").out == ""
    assert agcod("journal", "check").rc == 0


def test_a_reference_whose_card_is_unknown_is_not_issued_again(agcod, emu,
                                                               tmp_path):
    """issue 18 defect 2: the guard counted only issued cards; a file whose
    rows ended unknown (the service holds their cards), then a second file
    with the same references, issued new cards"""
    a = tmp_path / "a.csv"
    a.write_text("amount,external_reference\n1,ref-1\n2,ref-2\n")
    emu.fault("drop", count=1000, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "batch", "create", str(a), "-o", "json")
    assert r.rc == 75 and emu.state.creates == 2, r
    emu.faults.clear()
    b = tmp_path / "b.csv"
    b.write_text("amount,external_reference\n1,ref-1\n2,ref-2\n")
    r = agcod("batch", "create", str(b), "-o", "json")
    assert r.rc == 65 and "ref-1" in r.err and "--allow-reused-reference" in r.err, r
    assert emu.state.creates == 2


def test_two_files_with_the_same_references_at_once(agcod, emu, tmp_path):
    """issue 18 defect 2: two files with the same references, run at the
    same time under different batch names, gave two cards per reference"""
    refs = ["ref-%d" % i for i in range(4)]
    for name in ("a", "b"):
        (tmp_path / (name + ".csv")).write_text(
            "amount,external_reference\n" + "".join("1,%s\n" % x for x in refs))
    second = []

    def hook(entry):
        # the first card's request (not the funds check), and only once:
        # the second run's own requests come through here too
        if not second and entry["op"] == "CreateGiftCard":
            second.append(None)
            second[0] = agcod("batch", "create", str(tmp_path / "b.csv"),
                              "-o", "json", timeout=60)
    emu.on_request = hook
    try:
        first = agcod("batch", "create", str(tmp_path / "a.csv"), "-o", "json",
                      timeout=120)
    finally:
        emu.on_request = None
    assert emu.state.creates == len(refs), (first, second)
    assert second[0].rc == 65, second[0]
    assert first.rc == 0, first
