"""Activation recovery (Amazon's procedure for ActivateGiftCard RESEND):
deactivate with the same request id, then activate under a new one; a
failing deactivation is repeated 1 s apart, and given up on after
--recover-for with a pointer to support-draft."""
import json

CARD = "1400000005567585358"


def bodies(emu, op):
    return [json.loads(q["body"]) for q in emu.requests(op)]


def final_state(agcod, op, rid):
    recs = [e for e in agcod.journal() if e.get("operation") == op
            and e.get("request_id") == rid]
    return recs[-1]["state"] if recs else None


def test_resend_then_deactivate_then_activate_anew(agcod, emu):
    emu.fault("resend", count=1, op="ActivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount", "20",
              "-o", "json")
    assert r.rc == 0, r
    acts, deacts = bodies(emu, "ActivateGiftCard"), bodies(emu, "DeactivateGiftCard")
    assert len(acts) == 2 and len(deacts) == 1
    first, second = acts[0]["activationRequestId"], acts[1]["activationRequestId"]
    assert first != second and second.startswith("Acme1")
    assert deacts[0] == {"activationRequestId": first, "partnerId": "Acme1",
                         "cardNumber": CARD}
    assert [q["op"] for q in emu.requests()] == ["ActivateGiftCard", "DeactivateGiftCard",
                                                 "ActivateGiftCard"]
    assert r.json()["activationRequestId"] == second
    assert r.json()["cardInfo"]["cardStatus"] == "Activated"
    assert first in r.err and second in r.err and "RESEND" in r.err
    assert final_state(agcod, "DeactivateGiftCard", first) == "succeeded"
    assert final_state(agcod, "ActivateGiftCard", second) == "succeeded"


def test_failed_deactivation_is_repeated_one_second_apart(agcod, emu):
    emu.fault("resend", count=1, op="ActivateGiftCard")
    emu.fault("resend", count=2, op="DeactivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount", "20",
              "-o", "json")
    assert r.rc == 0, r
    deacts = emu.requests("DeactivateGiftCard")
    assert len(deacts) == 3
    assert len({q["body"] for q in deacts}) == 1      # the same deactivation each time
    gaps = [b["time"] - a["time"] for a, b in zip(deacts, deacts[1:])]
    assert all(0.8 <= g <= 3.0 for g in gaps), gaps
    assert len(emu.requests("ActivateGiftCard")) == 2


def test_gives_up_after_the_limit_and_points_to_support(agcod, emu):
    emu.fault("resend", count=1, op="ActivateGiftCard")
    emu.fault("resend", count=100, op="DeactivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount", "20",
              "--recover-for", "3", "-o", "json", timeout=60)
    assert r.rc == 75, r
    first = bodies(emu, "ActivateGiftCard")[0]["activationRequestId"]
    assert len(emu.requests("ActivateGiftCard")) == 1   # never activated anew
    assert 2 <= len(emu.requests("DeactivateGiftCard")) <= 4
    assert f"agcod support-draft --request-id {first}" in r.err, r.err
    # RESEND proves nothing: no body on stdout, the verdict on stderr
    assert r.out == "" and "RESEND" in r.err, r


def test_no_recovery_when_disabled_or_for_mock_ids(agcod, emu):
    emu.fault("resend", count=1, op="ActivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount", "20",
              "--recover-for", "0", "-o", "json")
    assert r.rc == 75 and emu.requests("DeactivateGiftCard") == [], r
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount", "20",
              "--request-id", "F4000", "-o", "json")
    assert r.rc == 75 and emu.requests("DeactivateGiftCard") == [], r
    r = agcod("activate", "--card-number", CARD, "--amount", "20", "--recover-for", "x")
    assert r.rc == 64, r


def test_recovered_activation_is_settled_not_reconciled(agcod, emu):
    """after Amazon's recovery the RESEND activation is undone: reconcile
    must never send it again"""
    emu.fault("resend", count=1, op="ActivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount", "20",
              "-o", "json")
    assert r.rc == 0, r
    assert agcod("history", "--pending", "-o", "json").out == ""
    sent = len(emu.requests())
    rec = agcod("reconcile")
    assert rec.rc == 0 and "nothing to reconcile" in rec.err, rec
    assert len(emu.requests()) == sent
    first = bodies(emu, "ActivateGiftCard")[0]["activationRequestId"]
    row = [e for e in agcod.journal() if e["operation"] == "ActivateGiftCard"
           and e["request_id"] == first][-1]
    assert row["settled"].startswith("undone by request"), row


def test_reconcile_resumes_the_recovery(agcod, emu):
    """a recovery that gave up is taken up again by reconcile in a later run"""
    emu.fault("resend", count=1, op="ActivateGiftCard")
    emu.fault("resend", count=100, op="DeactivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount", "20",
              "--recover-for", "2", "-o", "json", timeout=60)
    assert r.rc == 75, r
    first = bodies(emu, "ActivateGiftCard")[0]["activationRequestId"]
    emu.faults.clear()
    emu.fault("resend", count=1, op="ActivateGiftCard")   # the reconcile's retry
    rec = agcod("--retry-for", "0", "reconcile", "-o", "json", timeout=60)
    assert rec.rc == 0, rec
    acts = bodies(emu, "ActivateGiftCard")
    assert acts[-1]["activationRequestId"] != first      # activated anew
    assert rec.json()["cardInfo"]["cardStatus"] == "Activated"
    assert final_state(agcod, "DeactivateGiftCard", first) == "succeeded"
    assert agcod("history", "--pending", "-o", "json").out == ""


def test_reconcile_stops_recovering_after_24_hours(agcod, emu):
    emu.fault("resend", count=1, op="ActivateGiftCard")
    emu.fault("resend", count=100, op="DeactivateGiftCard")
    assert agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount",
                 "20", "--recover-for", "1", "-o", "json", timeout=60).rc == 75
    first = bodies(emu, "ActivateGiftCard")[0]["activationRequestId"]
    agcod.tamper("UPDATE requests SET time = '2020-01-01T00:00:00Z'")
    emu.faults.clear()
    emu.fault("resend", count=1, op="ActivateGiftCard")
    rec = agcod("--retry-for", "0", "reconcile", timeout=60)
    assert rec.rc == 75 and "more than 24 hours ago" in rec.err, rec
    assert f"agcod support-draft --request-id {first}" in rec.err
    # no activation under a new id: only the original id was asked again
    assert {a["activationRequestId"] for a in bodies(emu, "ActivateGiftCard")} == {first}


def test_reconcile_sends_an_open_deactivation_before_its_activation(agcod, emu):
    """sim 1969: an activation and its deactivation both unknown, the
    deactivation done at the service: reconcile must ask about the
    deactivation first, which settles the activation, and never send the
    activation again"""
    rid = "Acme1ActDeact"
    emu.fault("drop", count=2)
    assert agcod("--retry-for", "0", "activate", "--card-number", CARD,
                 "--amount", "20", "--request-id", rid).rc == 75
    assert agcod("--retry-for", "0", "deactivate", "--card-number", CARD,
                 "--request-id", rid).rc == 75
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert [q["op"] for q in emu.requests()] == [
        "ActivateGiftCard", "DeactivateGiftCard", "DeactivateGiftCard"]
    assert agcod("history", "--pending", "-o", "json").out == ""
