"""A physical card's requests in flight together (attack22's defect 2).

The service may act on two requests for one card in either order, and the
journal hears their answers in the order they come back.  An activation and
a deactivation in flight together leave the card unknown, and no later
answer of the two moves it; reconcile asks ActivationStatusCheck and the
journal takes its answer.  Each process here is held after the service
answered and before it records the answer: strace stops it at its first
write to its --trace file, as a slow disk, a busy journal or the scheduler
would."""
import os
import signal
import subprocess
import time

from conftest import AGCOD

CARD = "1234567890123456777"


def stopped_agcod(log, tries=400):
    """the pid strace's log says it stopped (at the injected SIGSTOP).  Not
    a process in state 't': under strace a tracee is in that state at
    every syscall it stops at, and a busy machine showed one there before
    it had sent anything (attack23)"""
    for _ in range(tries):
        try:
            with open(log) as f:
                for line in f:
                    if line.split()[1:] == ["---", "stopped", "by",
                                             "SIGSTOP", "---"]:
                        return int(line.split()[0])
        except OSError:
            pass
        time.sleep(0.05)
    return None


class Held:
    """an agcod command stopped once the service answered it, before its
    answer is recorded; resume() lets it record and returns its result"""

    def __init__(self, agcod, trace, *args):
        # LeakSanitizer cannot run under ptrace; an ASan build still checks
        env = dict(agcod.env)
        asan = env.get("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", ""))
        env["ASAN_OPTIONS"] = ":".join(filter(None, [asan, "detect_leaks=0"]))
        self.proc = subprocess.Popen(
            ["strace", "-f", "-qq", "-o", f"{trace}.strace", "-P", str(trace),
             "-e", "trace=write", "-e", "inject=write:signal=STOP:when=1",
             AGCOD, "--trace", str(trace), *args],
            env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.pid = stopped_agcod(f"{trace}.strace")
        if self.pid is None:
            self.proc.kill()
            self.proc.communicate(timeout=60)
        assert self.pid, f"{args[0]} never stopped at its trace write"

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)
        try:
            out, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.communicate(timeout=60)
            raise
        return self.proc.returncode, out, err


def unordered_card(agcod, tmp_path):
    """the attack22 reproduction, short: a deactivation held after the
    service answered while an activation under a new id runs start to
    finish; the card is unknown (InFlightTogether), the service has it
    Activated"""
    assert agcod("activate", "--card-number", CARD, "--amount", "5",
                 "--request-id", "Acme1A0").rc == 0
    d = Held(agcod, tmp_path / "d.trace", "deactivate", "--request-id",
             "Acme1A0", "--card-number", CARD)
    try:
        assert agcod("activate", "--card-number", CARD, "--amount", "5",
                     "--request-id", "Acme1A1").rc == 0
    finally:
        assert d.resume()[0] == 0
    assert card(agcod)["error_type"] == "InFlightTogether"


def card(agcod):
    objs = agcod.objects()
    assert len(objs) == 1, objs
    return objs[0]


def test_a_deactivation_answered_after_a_later_activation_leaves_it_unknown(
        agcod, emu, tmp_path):
    """the deactivation is processed, then another process activates the
    card again start to finish, then the deactivation's answer is recorded:
    the service has the card activated, and the journal said 'deactivated'
    (attack22 defect 2).  Now it is unknown, and reconcile's
    ActivationStatusCheck makes it activated"""
    assert agcod("activate", "--card-number", CARD, "--amount", "5",
                 "--request-id", "Acme1A0").rc == 0
    d = Held(agcod, tmp_path / "d.trace", "deactivate", "--request-id",
             "Acme1A0", "--card-number", CARD)
    try:
        assert emu.state.activations[CARD]["status"] == "Deactivated"
        b = agcod("activate", "--card-number", CARD, "--amount", "5",
                  "--request-id", "Acme1A1")
        assert b.rc == 0, b
        assert emu.state.activations[CARD]["status"] == "Activated"
    finally:
        rc, out, err = d.resume()
    assert rc == 0, err
    assert [x for x in agcod.journal() if x.get("open") == 1] == []
    o = card(agcod)
    assert (o["state"], o.get("error_type")) == ("unknown", "InFlightTogether")
    c = agcod("journal", "check")
    assert c.rc == 0, c
    r = agcod("reconcile", "-o", "json")
    assert r.rc == 0, r
    assert '"Activated"' in r.out and "card " + CARD + " is activated" in \
        r.err, r
    assert emu.requests()[-1]["op"] == "ActivationStatusCheck"
    o = card(agcod)
    assert (o["state"], o.get("error_type")) == ("activated", None)
    assert agcod("journal", "check").rc == 0
    n = len(emu.requests())
    r = agcod("reconcile")
    assert r.rc == 0 and "nothing to reconcile" in r.err, r
    assert len(emu.requests()) == n


def test_the_later_answer_of_two_in_flight_together_keeps_it_unknown(
        agcod, emu, tmp_path):
    """a deactivation and a new activation both processed (the activation
    last), then the deactivation's answer recorded, then the activation's:
    the first marks the card unknown, and the second, which began before
    that, does not make it 'activated' on its own say-so"""
    assert agcod("activate", "--card-number", CARD, "--amount", "5",
                 "--request-id", "Acme1A0").rc == 0
    d = Held(agcod, tmp_path / "d.trace", "deactivate", "--request-id",
             "Acme1A0", "--card-number", CARD)
    a = None
    try:
        a = Held(agcod, tmp_path / "a.trace", "activate", "--card-number",
                 CARD, "--amount", "5", "--request-id", "Acme1A1")
        assert emu.state.activations[CARD]["status"] == "Activated"
        assert d.resume()[0] == 0
        o = card(agcod)
        assert (o["state"], o.get("error_type")) == \
            ("unknown", "InFlightTogether")
    finally:
        if d.proc.returncode is None:
            d.resume()
        if a:
            rc, out, err = a.resume()
    assert rc == 0, err
    assert card(agcod)["state"] == "unknown"
    assert [x["state"] for x in agcod.journal()] == ["succeeded"] * 3
    assert agcod("reconcile").rc == 0
    assert card(agcod)["state"] == "activated"


def test_a_request_begun_after_the_card_went_unknown_moves_it(
        agcod, emu, tmp_path):
    """the mark holds only against requests that began before it: a
    deactivation sent afterwards proves the card deactivated, and
    reconcile has nothing to ask"""
    unordered_card(agcod, tmp_path)
    r = agcod("deactivate", "--request-id", "Acme1A1", "--card-number", CARD)
    assert r.rc == 0, r
    o = card(agcod)
    assert (o["state"], o.get("error_type")) == ("deactivated", None)
    n = len(emu.requests())
    r = agcod("reconcile")
    assert r.rc == 0 and "nothing to reconcile" in r.err, r
    assert len(emu.requests()) == n


def test_a_request_sent_again_after_the_card_went_unknown_lets_it_settle(
        agcod, emu, tmp_path):
    """an activation begun while a deactivation was in flight, its answer
    lost after the service acted: the deactivation's success leaves the
    card unknown; reconcile sends the activation again (a new attempt,
    after the mark, which does not move the card), then asks
    ActivationStatusCheck with nothing open, and takes the answer.  It
    stayed unknown for good: the attempt counted as a request begun while
    the status was asked, and every reconcile exited 75 (found by the
    simulation's card episodes, card-unsettled: seed 97 --keep
    18f,25f,29,30)"""
    assert agcod("activate", "--card-number", CARD, "--amount", "5",
                 "--request-id", "Acme1A0").rc == 0
    d = Held(agcod, tmp_path / "d.trace", "deactivate", "--request-id",
             "Acme1A0", "--card-number", CARD)
    try:
        emu.fault("drop", op="ActivateGiftCard")
        b = agcod("--retry-for", "0", "activate", "--card-number", CARD,
                  "--amount", "5", "--request-id", "Acme1A1")
        assert b.rc == 75, b
        assert emu.state.activations[CARD]["status"] == "Activated"
    finally:
        rc, out, err = d.resume()
    assert rc == 0, err
    o = card(agcod)
    assert (o["state"], o.get("error_type")) == ("unknown", "InFlightTogether")
    r = agcod("reconcile")
    assert r.rc == 0, r
    assert "card " + CARD + " is activated" in r.err, r
    assert [x["op"] for x in emu.requests()[-2:]] == \
        ["ActivateGiftCard", "ActivationStatusCheck"]
    o = card(agcod)
    assert (o["state"], o.get("error_type")) == ("activated", None)
    assert agcod("journal", "check").rc == 0
    r = agcod("reconcile")
    assert r.rc == 0 and "nothing to reconcile" in r.err, r


def test_a_deactivation_of_another_activation_leaves_it_unknown(agcod, emu):
    """the card is activated (A0); an activation under another id meets
    RESEND, and Amazon's procedure deactivates that id, which the service
    answers Deactivated without undoing A0 (the activation it names never
    happened); the activation anew is refused.  The card is live, and the
    journal said 'deactivated': a deactivation's success moves an
    activated card only when it names the activation that made it so
    (the simulation's failed-but-held: seed 1216 --keep 12f,16)"""
    assert agcod("activate", "--card-number", CARD, "--amount", "5",
                 "--request-id", "Acme1A0").rc == 0
    emu.fault("resend", count=1, op="ActivateGiftCard")
    r = agcod("--retry-for", "0", "activate", "--card-number", CARD,
              "--amount", "5", "--request-id", "Acme1A1")
    assert r.rc == 65, r
    assert [q["op"] for q in emu.requests()] == ["ActivateGiftCard"] + \
        ["ActivateGiftCard", "DeactivateGiftCard", "ActivateGiftCard"]
    assert emu.state.activations[CARD]["status"] == "Activated"
    o = card(agcod)
    assert (o["state"], o.get("error_type")) == ("unknown", "InFlightTogether")
    r = agcod("reconcile")
    assert r.rc == 0 and "card " + CARD + " is activated" in r.err, r
    assert card(agcod)["state"] == "activated"
    assert agcod("journal", "check").rc == 0


def test_one_after_the_other_no_card_goes_unknown(agcod, emu):
    """activate, deactivate, activate again, deactivate: each answered
    before the next begins, so each moves the card, as before"""
    seq = [("activate", "Acme1A0", "activated"),
           ("deactivate", "Acme1A0", "deactivated"),
           ("activate", "Acme1A1", "activated"),
           ("deactivate", "Acme1A1", "deactivated")]
    for cmd, rid, want in seq:
        extra = ["--amount", "5"] if cmd == "activate" else []
        r = agcod(cmd, "--card-number", CARD, "--request-id", rid, *extra)
        assert r.rc == 0, r
        assert card(agcod)["state"] == want, (cmd, rid)
    assert agcod("journal", "check").rc == 0
