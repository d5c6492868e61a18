"""attack23: a hostile review of a87899c (a physical card's activation and
deactivation in flight together leave it unknown; reconcile asks
ActivationStatusCheck)."""
import json
import subprocess
import threading

import pytest

from conftest import AGCOD
from test_card_order import CARD, Held, card, unordered_card


def hold_at_service(emu, op, rid):
    """the emulator holds request `rid` of `op` on arrival, before it acts,
    until release is set: (arrived, release)"""
    arrived, release = threading.Event(), threading.Event()

    def hook(entry):
        if entry["op"] != op:
            return
        try:
            body = json.loads(entry["body"])
        except ValueError:
            return
        if rid in body.values():
            arrived.set()
            release.wait(30)
    emu.on_request = hook
    return arrived, release


def live_card_settles(agcod):
    """the service has the card Activated: the journal never says
    deactivated, and reconcile's ActivationStatusCheck makes it activated"""
    o = card(agcod)
    assert o["state"] != "deactivated", o
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert card(agcod)["state"] == "activated"


def reap(p):
    """a background agcod that did not finish: killed and waited for"""
    if p and p.returncode is None:
        p.kill()
        p.communicate(timeout=60)


def background(agcod, *args):
    return subprocess.Popen([AGCOD, *map(str, args)], env=dict(agcod.env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def test_earlier_activation_answered_first_on_an_activated_card(
        agcod, emu, tmp_path):
    """A1 begins first (its row is older) but reaches the service after a
    deactivation D begun later: the service deactivates, then activates:
    the card is Activated.  A1's answer is recorded first, while the journal
    still has the card activated (no change, so no look at what is in
    flight); then D's, which finds nothing of the other direction begun
    after it, and calls the card deactivated: a live card recorded dead,
    attack22's defect by the other door"""
    assert agcod("activate", "--card-number", CARD, "--amount", "5",
                 "--request-id", "Acme1A0").rc == 0
    arrived, release = hold_at_service(emu, "ActivateGiftCard", "Acme1A1")
    a = background(agcod, "activate", "--card-number", CARD, "--amount", "5",
                   "--request-id", "Acme1A1")
    d = None
    try:
        assert arrived.wait(30), "A1 never reached the service"
        d = Held(agcod, tmp_path / "d.trace", "deactivate", "--request-id",
                 "Acme1A0", "--card-number", CARD)
        assert emu.state.activations[CARD]["status"] == "Deactivated", \
            [(x["op"], x["status"], x["response"]) for x in emu.requests()]
        release.set()
        out, err = a.communicate(timeout=60)
        assert a.returncode == 0, err
        assert emu.state.activations[CARD]["status"] == "Activated"
    finally:
        release.set()
        emu.on_request = None
        reap(a)
        if d:
            rc, out, err = d.resume()
    assert rc == 0, err
    live_card_settles(agcod)


def test_a_success_ignored_by_the_mark_still_counts_against_a_later_one(
        agcod, emu, tmp_path):
    """The card goes unknown while an activation A1 begun before the mark is
    still on its way; a deactivation D3 begins after the mark.  The service
    does D3, then A1: the card is Activated.  A1's answer, recorded first,
    is ignored (it began before the mark); D3's, recorded next, began after
    the mark and finds no activation begun after it, so the journal called
    the card deactivated: a live card recorded dead"""
    assert agcod("activate", "--card-number", CARD, "--amount", "5",
                 "--request-id", "Acme1A0").rc == 0
    arrived, release = hold_at_service(emu, "ActivateGiftCard", "Acme1A1")
    a = d3 = None
    d = Held(agcod, tmp_path / "d.trace", "deactivate", "--request-id",
             "Acme1A0", "--card-number", CARD)
    try:
        a = background(agcod, "activate", "--card-number", CARD, "--amount",
                       "5", "--request-id", "Acme1A1")
        assert arrived.wait(30), "A1 never reached the service"
        rc, out, err = d.resume()
        assert rc == 0, err
        o = card(agcod)
        assert (o["state"], o.get("error_type")) == \
            ("unknown", "InFlightTogether")
        d3 = Held(agcod, tmp_path / "d3.trace", "deactivate", "--request-id",
                  "Acme1A1", "--card-number", CARD)
        release.set()
        out, err = a.communicate(timeout=60)
        assert a.returncode == 0, err
        assert emu.state.activations[CARD]["status"] == "Activated"
        assert card(agcod)["state"] == "unknown"
    finally:
        release.set()
        emu.on_request = None
        if d.proc.returncode is None:
            d.resume()
        reap(a)
        if d3:
            rc, out, err = d3.resume()
    assert rc == 0, err
    live_card_settles(agcod)


@pytest.mark.parametrize("fault", ["garbage", "acted_html500", "drop",
                                   "gw_unknown_operation"])
def test_a_status_check_that_says_nothing_leaves_the_card_unknown(
        agcod, emu, tmp_path, fault):
    """guard: an ActivationStatusCheck answered with garbage, a 500, no
    answer or a refusal settles nothing: the card stays unknown, reconcile
    exits with a failure status and no claim that the card is anything,
    and the next reconcile, answered, settles it"""
    unordered_card(agcod, tmp_path)
    emu.fault(fault, count=100, op="ActivationStatusCheck")
    r = agcod("--retry-for", "0", "reconcile")
    assert r.rc != 0 and r.rc < 128, r
    assert "is activated" not in r.err and "is deactivated" not in r.err, r
    assert card(agcod)["state"] == "unknown"
    emu.faults.clear()
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert card(agcod)["state"] == "activated"


def test_reconcile_does_not_ask_about_a_card_whose_request_is_open(agcod, emu):
    """an activation with no answer, re-sent by reconcile and again not
    answered, leaves its card unknown with its request open: reconcile
    asked ActivationStatusCheck anyway (a request spent for an answer it
    cannot take) and said 'a request on it began while its status was
    asked', which nothing did"""
    emu.fault("drop", count=100, op="ActivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD,
              "--amount", "5", "--request-id", "Acme1A0")
    assert r.rc == 75, r
    assert card(agcod)["state"] == "unknown"
    r = agcod("--retry-for", "0", "reconcile")
    assert r.rc == 75, r
    assert "began while it was asked" not in r.err, r
    assert emu.requests("ActivationStatusCheck") == []
    emu.faults.clear()
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert card(agcod)["state"] == "activated"
    assert emu.requests("ActivationStatusCheck") == []
