"""The command line never contradicts itself: -V and --help win wherever
they are, a money option given twice is refused, near misses get a hint,
and readers stop quietly when the reader of their output goes away."""
import json
import os
import re
import subprocess

import pytest

from conftest import AGCOD


@pytest.mark.parametrize("args", [
    ["create", "--amount", "5", "-V"],
    ["create", "--amount", "5", "--version"],
    ["load", "--amount", "5", "--account-id", "A1", "-V"],
    ["funds", "-V"],
])
def test_version_anywhere_wins_and_sends_nothing(agcod, emu, args):
    r = agcod(*args, "-o", "json")
    assert r.rc == 0, r
    assert r.out.startswith("agcod "), r
    assert "gcClaimCode" not in r.out
    assert emu.requests() == []
    assert agcod.journal() == []


@pytest.mark.parametrize("args,cmd", [
    (["create", "--amount", "5", "--help"], "create"),
    (["create", "--amount", "5", "-h"], "create"),
    (["-p", "default", "create", "--amount", "5", "-h"], "create"),
    (["cancel", "--request-id", "Acme1X", "--help"], "cancel"),
])
def test_help_anywhere_wins_and_sends_nothing(agcod, emu, args, cmd):
    r = agcod(*args, "-o", "json")
    assert r.rc == 0, r
    assert r.out.startswith(f"usage: agcod {cmd} "), r
    assert emu.requests() == []
    assert agcod.journal() == []


@pytest.mark.parametrize("args,opt", [
    (["create", "--amount", "5", "--amount", "500"], "--amount"),
    (["create", "--amount=5", "--amount=500"], "--amount"),
    (["create", "--amount", "5", "--currency", "USD", "--currency", "EUR"], "--currency"),
    (["create", "--amount", "5", "--request-id", "Acme1A", "--request-id", "Acme1B"],
     "--request-id"),
    (["load", "--amount", "5", "--account-id", "A1", "--account-id", "A2"], "--account-id"),
    (["activate", "--amount", "5", "--card-number", "1", "--card-number", "2"],
     "--card-number"),
    (["cancel", "--request-id", "Acme1A", "--gc-id", "G1", "--gc-id", "G2"], "--gc-id"),
    (["-p", "default", "create", "--amount", "5", "-p", "other"], "--profile"),
    (["--endpoint", "https://127.0.0.1:1", "funds", "--endpoint", "https://127.0.0.1:2"],
     "--endpoint"),
])
def test_value_option_twice_is_a_usage_error(agcod, emu, args, opt):
    r = agcod(*args)
    assert r.rc == 64, r
    assert f"'{opt}' given twice" in r.err, r
    # the reason, then the synopsis: cancel's has two forms (--gc-id alone)
    assert r.err.count("\n") <= 2 + (args[0] == "cancel") and r.out == ""
    assert emu.requests() == []
    assert agcod.journal() == []


def test_flags_may_repeat(offline):
    r = offline("-v", "-v", "--help")
    assert r.rc == 0, r


@pytest.mark.parametrize("args,hint", [
    (["crate", "--amount", "5"], "did you mean 'create'?"),
    (["fund"], "did you mean 'funds'?"),
    (["histroy"], "did you mean 'history'?"),
    (["create", "--amout", "5"], "did you mean '--amount'?"),
    (["create", "--amount", "5", "--curency", "USD"], "did you mean '--currency'?"),
    (["create", "--amount", "5", "--extrnal-reference=x"],
     "did you mean '--external-reference'?"),
    (["--verbsoe", "funds"], "did you mean '--verbose'?"),
    (["create", "--amount", "5", "--gc-id", "G"], "'--gc-id' is an option of cancel"),
])
def test_did_you_mean(agcod, emu, args, hint):
    r = agcod(*args)
    assert r.rc == 64, r
    assert hint in r.err, r
    assert r.err.startswith("agcod: ")
    assert emu.requests() == []


def test_no_hint_for_something_else(offline):
    r = offline("zzzzzzzz")
    assert r.rc == 64 and "unknown command 'zzzzzzzz'" in r.err
    assert "did you mean" not in r.err


# ---- a closed pipe on standard output ----

def run_into_closed_pipe(agcod, *args):
    """run agcod with stdout a pipe whose reader has already gone"""
    rfd, wfd = os.pipe()
    os.close(rfd)
    try:
        p = subprocess.run([AGCOD, *args], env=agcod.env, stdout=wfd,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(wfd)
    return p


def test_readers_exit_0_quietly_on_a_closed_pipe(agcod, emu):
    for i in range(3):
        assert agcod("create", "--amount", "1", "-o", "json").rc == 0
    for args in (["history", "-o", "json"], ["history", "-o", "table"],
                 ["--help"], ["help", "create"], ["--version"],
                 ["--list-commands"], ["sign-debug", "funds", "-o", "json"]):
        p = run_into_closed_pipe(agcod, *args)
        assert p.returncode == 0, (args, p.returncode, p.stderr)
        assert p.stderr == "", (args, p.stderr)


def test_history_into_head_exits_0(agcod, emu):
    for i in range(3):
        assert agcod("create", "--amount", "1", "-o", "json").rc == 0
    p = subprocess.run(f"'{AGCOD}' history -o json | head -1", shell=True,
                       env=agcod.env, capture_output=True, text=True, timeout=60,
                       executable="/bin/bash")
    assert p.returncode == 0 and p.stderr == "", p
    p = subprocess.run(f"set -o pipefail; '{AGCOD}' history -o json | head -c 1",
                       shell=True, env=agcod.env, capture_output=True, text=True,
                       timeout=60, executable="/bin/bash")
    assert p.returncode == 0 and p.stderr == "", p


def test_a_sending_command_fails_loudly_on_a_closed_pipe(agcod, emu):
    p = run_into_closed_pipe(agcod, "create", "--amount", "1", "-o", "json")
    assert p.returncode == 75, p
    assert "cannot write the result" in p.stderr and "reprint" in p.stderr
    assert len(emu.requests("CreateGiftCard")) == 1


# ---- what --help calls optional is optional ----

def test_deactivate_takes_the_card_number_from_the_journal(agcod, emu):
    assert "deactivate --request-id ID [--card-number N]" in agcod("help", "deactivate").out
    r = agcod("activate", "--card-number", "1400000005567585358", "--amount", "10", "-o", "json")
    assert r.rc == 0, r
    rid = r.json()["activationRequestId"]
    r = agcod("deactivate", "--request-id", rid, "-o", "json")
    assert r.rc == 0, r
    body = json.loads(emu.requests("DeactivateGiftCard")[0]["body"])
    assert body["cardNumber"] == "1400000005567585358"


def test_cancel_and_void_take_the_rest_from_the_journal(agcod, emu):
    r = agcod("create", "--amount", "3", "-o", "json")
    rid = r.json()["creationRequestId"]
    assert agcod("cancel", "--request-id", rid, "-o", "json").rc == 0
    r = agcod("load", "--amount", "4", "--account-id", "A1", "-o", "json")
    assert r.rc == 0, r
    rid = r.json()["loadBalanceRequestId"]
    assert agcod("void", "--request-id", rid, "-o", "json").rc == 0


def test_readers_still_fail_on_a_full_disk(agcod, emu):
    assert agcod("create", "--amount", "1", "-o", "json").rc == 0
    with open("/dev/full", "w") as full:
        p = subprocess.run([AGCOD, "history", "-o", "json"], env=agcod.env,
                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 74 and "cannot write the result" in p.stderr, p


# ---- per-command help (issue 19 item 11): each command describes its own
# options, checked for every command and option from the tables themselves

def synopses(offline):
    """command -> its synopsis lines, from --list-table"""
    out = {}
    for line in offline("--list-table").out.splitlines():
        f = line.split("\t")
        if f[0] == "usage":
            out.setdefault(f[1], []).append(f[2])
    return out


def own_options(help_text):
    """the 'options:' section of a command's --help: {--name: description}"""
    opts, inside = {}, False
    for line in help_text.splitlines():
        if line == "options:":
            inside = True
            continue
        if inside and not line.startswith("  "):
            break
        if inside:
            words = line.split()
            name = [w for w in words if w.startswith("--")][0]
            opts[name] = line[38:].strip()
    return opts


def required_in(opt, line):
    """opt appears in the synopsis line outside [...]"""
    depth, i = 0, 0
    while i < len(line):
        ch = line[i]
        depth += ch == "["
        depth -= ch == "]"
        if depth == 0 and line.startswith(opt, i) and \
                (i + len(opt) == len(line) or line[i + len(opt)] in " =|]"):
            return True
        i += 1
    return False


def test_each_command_describes_its_own_options(offline):
    syn = synopses(offline)
    cmds = list(syn)
    for cmd, lines in syn.items():
        opts = own_options(offline(cmd, "--help").out)
        subs = [l.split()[1] for l in lines if len(l.split()) > 1 and
                l.split()[1].islower() and l.split()[1].isalpha()]
        for opt, text in opts.items():
            mentioning = [l for l in lines if opt in l.split() or
                          any(w.strip("[]|") == opt for w in l.split())]
            # an option every synopsis line that carries it requires is
            # not described as optional
            if mentioning and all(required_in(opt, l) for l in mentioning):
                assert not re.search(r"optional|omitted|generated", text), \
                    (cmd, opt, text)
            # it names no other command as the one it serves
            for other in cmds:
                if other != cmd:
                    assert not re.search(
                        rf"(^|\(){re.escape(other)}\b[^,]*?[:)]", text), \
                        (cmd, opt, text, other)
            # under a command of subcommands, it names the ones that take it
            if len(set(subs)) > 1:
                takers = [l.split()[1] for l in mentioning]
                assert takers, (cmd, opt)
                for t in takers:
                    assert t in text, (cmd, opt, text, t)


def test_reprint_and_journal_help(offline):
    """the two instances the issue found"""
    r = own_options(offline("reprint", "--help").out)
    assert "optional" not in r["--request-id"] and \
        "omitted" not in r["--request-id"], r
    j = own_options(offline("journal", "--help").out)
    assert "prune" in j["--dry-run"] and "funds" not in j["--dry-run"], j
    b = own_options(offline("batch", "--help").out)
    assert "funds" in b["--dry-run"], b


def test_completions_describe_each_commands_own_meaning(offline):
    """the completion scripts show the same per-command help as --help"""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "completions", "agcod.fish")) as f:
        fish = f.read()
    rows = [l.split("\t") for l in offline("--list-table").out.splitlines()
            if l.startswith("help\t")]
    assert rows
    for _, cmd, opt, text in rows:
        assert own_options(offline(cmd, "--help").out)[opt] == text, (cmd, opt)
        quoted = "'" + text.replace("'", "'\\''") + "'"
        assert f"'__agcod_at {cmd}' -l {opt[2:]} " in fish, (cmd, opt)
        line = [l for l in fish.splitlines()
                if f"'__agcod_at {cmd}' -l {opt[2:]} " in l][0]
        assert line.endswith(f"-d {quoted}"), (line, quoted)


# ---- each operation's synopsis (generated from options.h) is what the
# operation takes, with [] exactly around what it does not insist on

def operations(offline):
    return [f[1] for f in (l.split("\t") for l in
                           offline("--list-table").out.splitlines())
            if f[0] == "command" and f[3] == "operation"]


def synopsis_options(line):
    """'create --amount A [--currency C]' -> {'--amount': True (required),
    '--currency': False}; anything else in the line fails the test"""
    words = line.split()[1:]
    out, i = {}, 0
    while i < len(words):
        w = words[i]
        opt = w.lstrip("[")
        assert opt.startswith("--") and opt.rstrip("]") not in out, (line, w)
        optional = w.startswith("[")
        if optional and not w.endswith("]"):
            i += 1
            assert words[i].endswith("]") and "[" not in words[i], (line, w)
            assert words[i][:-1].isupper(), (line, words[i])
        elif not optional and i + 1 < len(words) and \
                not words[i + 1].startswith(("-", "[")):
            i += 1
            assert words[i].isupper(), (line, words[i])
        out[opt.rstrip("]")] = not optional
        i += 1
    return out


def test_each_operation_synopsis_lists_exactly_what_it_takes(offline):
    syn = synopses(offline)
    glob = set(help_opts(offline, "--help"))
    for op in operations(offline):
        takes = {o for o in offline("--list-options", op).out.split()
                 if o not in glob}
        named = set()
        for line in syn[op]:
            assert line.split()[0] == op, line
            named |= set(synopsis_options(line))
        assert named == takes, (op, "synopsis only:", named - takes,
                                "takes, not named:", takes - named)


def help_opts(offline, *args):
    return [w for l in offline(*args).out.splitlines()
            if re.match(r"^  (-\w, |    )--", l)
            for w in l.split() if w.startswith("--")]


CARDS = iter(range(1400000005567585358, 1400000005567586358))
OPTION_VALUES = {
    "--amount": "5", "--currency": "USD", "--external-reference": "ref 1",
    "--program-id": "P1", "--product-type": "hwPV", "--below": "1",
    "--below-days": "1", "--account-id": "A1", "--account-type": "2",
    "--source-id": "S1", "--recover-for": "5",
}


def referred(agcod, op):
    """what an operation that undoes an earlier request refers to: a fresh
    earlier request of its own, so that every run has one to undo"""
    if op == "cancel":
        r = agcod("create", "--amount", "3", "-o", "json").json()
        return {"--request-id": r["creationRequestId"], "--gc-id": r["gcId"]}
    if op == "void":
        r = agcod("load", "--amount", "4", "--account-id", "A1", "-o",
                  "json").json()
        return {"--request-id": r["loadBalanceRequestId"]}
    if op == "deactivate":
        r = agcod("activate", "--card-number", next(CARDS), "--amount",
                  "10", "-o", "json").json()
        return {"--request-id": r["activationRequestId"]}
    return {}


def test_each_operation_enforces_what_its_synopsis_requires(agcod, emu):
    """Each synopsis line with its required options alone runs; without
    any one of them it is a usage error; each optional one added is no
    usage error."""
    ids = iter(range(1, 1000))
    syn = synopses(agcod)

    def run(op, opts):
        ref = referred(agcod, op)
        args = [op]
        for o in opts:
            v = ref.get(o) or OPTION_VALUES.get(o) or (
                next(CARDS) if o == "--card-number" else f"Acme1Syn{next(ids)}")
            args += [o, v]
        return agcod(*args, "-o", "json")

    for op in operations(agcod):
        for line in syn[op]:
            opts = synopsis_options(line)
            req = [o for o, r in opts.items() if r]
            r = run(op, req)
            assert r.rc in (0, 1), (line, r)
            for o in req:
                r = run(op, [x for x in req if x != o])
                # (void without --request-id names --amount, which the
                # journal's row of that request would have given)
                first = r.err.splitlines()[0]
                assert r.rc == 64 and "is required for" in first, \
                    (line, o, r)
            for o in (o for o, r in opts.items() if not r):
                r = run(op, req + [o])
                assert r.rc != 64, (line, o, r)


@pytest.mark.parametrize("op", ["void", "deactivate", "cancel"])
def test_an_undo_without_its_request_id_asks_for_it(agcod, op):
    """void's amount and currency come from the record of the load it
    undoes: without --request-id it asked for '--amount' (or a currency),
    which it does not need"""
    env = {"AGCOD_CURRENCY": None}
    agcod.write_config(currency=None)
    r = agcod(op, env=env)
    assert r.rc == 64, r
    assert f"'--request-id' is required for '{op}'" in r.err, r.err
    assert "--amount" not in r.err.splitlines()[0], r.err
