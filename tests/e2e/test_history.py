"""history as an operator reads it (issue 19): scoped to the profile's
partner and environment (--all-environments for all, an ENV column),
newest first like git log (--reverse), did-you-mean for --state and
--operation values, --exit-code for scripts; journal export and the funds
forecast scoped the same way; cancel by gcId alone."""
import csv
import io
import json
import os
import sqlite3
import subprocess
from decimal import Decimal

import pytest

from conftest import AGCOD, PARTNER, ROOT


def production(agcod, emu):
    """the same emulator, now as a production profile (assume_yes: no
    terminal to confirm on)"""
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       environment="production", assume_yes="yes")


def sandbox(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca)


def ids(agcod, *args):
    r = agcod("history", *args, "-o", "json")
    assert r.rc == 0, r
    return [o["request_id"] for o in r.jsonl()]


def create(agcod, amount="1"):
    r = agcod("create", "--amount", amount, "-o", "json")
    assert r.rc == 0, r
    return r.json()["creationRequestId"]


# ---- item 1: sandbox and production kept apart ----

def test_history_is_scoped_to_the_profiles_environment(agcod, emu):
    s = create(agcod)
    production(agcod, emu)
    p = create(agcod)
    assert ids(agcod) == [p]
    assert ids(agcod, "--requests") == [p]
    assert sorted(ids(agcod, "--all-environments")) == sorted([s, p])
    sandbox(agcod, emu)
    assert ids(agcod) == [s]
    # the environment option scopes as the profile key does
    assert ids(agcod, "--environment", "production") == [p]
    rows = agcod("history", "--all-environments", "-o", "json").jsonl()
    assert {(o["request_id"], o["environment"]) for o in rows} == {
        (s, "sandbox"), (p, "production")}


def test_history_is_scoped_to_the_profiles_partner(agcod, emu):
    s = create(agcod)
    agcod.tamper("UPDATE objects SET partner = 'Other1'")
    agcod.tamper("UPDATE requests SET partner = 'Other1'")
    t = create(agcod)
    assert ids(agcod) == [t]
    assert ids(agcod, "--all-environments") == [t, s]


def test_history_table_has_an_env_column(agcod, emu):
    create(agcod)
    for args in ([], ["--requests"]):
        t = agcod("history", *args, "-o", "table")
        assert t.rc == 0, t
        head = t.out.splitlines()[0].split()
        assert "ENV" in head, t.out
        assert "sandbox" in t.out.splitlines()[1], t.out


def test_history_without_a_profile_says_how_to_read_everything(agcod, emu):
    create(agcod)
    os.unlink(agcod.config)
    r = agcod("history", "-o", "json")
    assert r.rc == 78 and r.out == "" and "--all-environments" in r.err, r
    assert len(ids(agcod, "--all-environments")) == 1


def test_export_is_scoped_and_all_environments_exports_all(agcod, emu):
    s = create(agcod)
    production(agcod, emu)
    p = create(agcod)
    r = agcod("journal", "export")
    assert r.rc == 0, r
    assert [x["request_id"] for x in r.jsonl()] == [p]
    r = agcod("journal", "export", "--all-environments", "-o", "csv")
    assert r.rc == 0, r
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [(x["request_id"], x["environment"]) for x in rows] == [
        (s, "sandbox"), (p, "production")]


def test_forecast_counts_only_the_profiles_environment(agcod, emu):
    for _ in range(3):
        create(agcod, "140")    # sandbox testing: 30 a day
    production(agcod, emu)
    create(agcod, "14")         # production: 1.00 a day
    emu.state.funds = Decimal("100.00")
    r = agcod("funds", "--below-days", "50", "-o", "json")
    assert r.rc == 0, r
    assert "average spend over the last 14 days: 1.00 USD a day" in r.err, r.err
    assert "the funds last 100 more days" in r.err


def test_quiet_line_names_the_crossed_threshold(agcod, emu):
    create(agcod, "140")        # 10.00 a day: 49 days left
    emu.state.funds = Decimal("499.99")
    r = agcod("-q", "funds", "--below", "500", "-o", "json")
    assert r.rc == 1 and r.out == "", r
    assert len(r.err.splitlines()) == 1, r.err
    assert "--below 500" in r.err and "499.99" in r.err, r.err
    r = agcod("-q", "funds", "--below-days", "60", "-o", "json")
    assert r.rc == 1 and r.out == "", r
    assert len(r.err.splitlines()) == 1 and "--below-days 60" in r.err, r.err
    assert "49 days" in r.err, r.err
    # both crossed: still one line, naming both
    r = agcod("-q", "funds", "--below", "1000", "--below-days", "60")
    assert r.rc == 1 and r.out == "", r
    assert len(r.err.splitlines()) == 1, r.err
    assert "--below 1000" in r.err and "--below-days 60" in r.err, r.err
    # nothing crossed: nothing at all
    r = agcod("-q", "funds", "--below", "1", "--below-days", "2")
    assert (r.rc, r.out, r.err) == (0, "", "")


# ---- item 7: newest first, --reverse, did-you-mean, completion ----

def test_newest_first_like_git_log(agcod, emu):
    a, b, c = create(agcod), create(agcod), create(agcod)
    assert ids(agcod) == [c, b, a]
    assert ids(agcod, "--limit", "1") == [c]
    assert ids(agcod, "--reverse") == [a, b, c]
    assert ids(agcod, "--reverse", "--limit", "1") == [a]
    assert ids(agcod, "--requests", "--limit", "2") == [c, b]
    assert ids(agcod, "--requests", "--reverse", "--limit", "2") == [a, b]


def test_did_you_mean_for_state_and_operation(agcod, emu):
    cases = [
        (["--state", "isued"], "did you mean 'issued'?"),
        (["--state", "canceled"], "did you mean 'cancelled'?"),
        (["--requests", "--state", "succeded"], "did you mean 'succeeded'?"),
        (["--operation", "craete"], "did you mean 'create'?"),
        (["--operation", "CreateGiftCrad"], "did you mean 'CreateGiftCard'?"),
    ]
    for args, hint in cases:
        r = agcod("history", *args)
        assert r.rc == 64 and hint in r.err, (args, r)
    r = agcod("history", "--state", "zzzzzz")
    assert r.rc == 64 and "did you mean" not in r.err and "issued" in r.err


def test_list_table_has_the_values_of_state_and_operation(agcod):
    r = agcod("--list-table")
    assert r.rc == 0, r
    vals = {}
    for line in r.out.splitlines():
        f = line.split("\t")
        if f[0] == "value":
            vals.setdefault(f[1], []).append(f[2])
    assert {"issued", "cancelled", "succeeded", "unknown"} <= set(vals["--state"])
    assert {"create", "cancel", "load", "void"} <= set(vals["--operation"])
    assert "funds" not in vals["--operation"]


# ---- item 8: cancel by gcId ----

def test_cancel_by_gc_id_alone(agcod, emu):
    card = agcod("create", "--amount", "8", "-o", "json").json()
    other = create(agcod)
    r = agcod("cancel", "--gc-id", card["gcId"], "-o", "json")
    assert r.rc == 0, r
    body = json.loads(emu.requests("CancelGiftCard")[0]["body"])
    assert body["creationRequestId"] == card["creationRequestId"]
    assert body["gcId"] == card["gcId"]
    states = {o["request_id"]: o["state"] for o in agcod.objects()}
    assert states == {card["creationRequestId"]: "cancelled", other: "issued"}


def test_cancel_by_an_unknown_gc_id_sends_nothing(agcod, emu):
    r = agcod("cancel", "--gc-id", "NOSUCHCARD1")
    assert r.rc == 64 and "NOSUCHCARD1" in r.err and "--request-id" in r.err, r
    assert emu.requests("CancelGiftCard") == []


def test_cancel_by_gc_id_of_another_environment_sends_nothing(agcod, emu):
    card = agcod("create", "--amount", "8", "-o", "json").json()
    production(agcod, emu)
    r = agcod("cancel", "--gc-id", card["gcId"])
    assert r.rc == 64 and "--request-id" in r.err, r
    assert emu.requests("CancelGiftCard") == []


@pytest.mark.sqlite_file
def test_gc_id_lookup_is_an_index_probe(agcod, emu):
    """a million-card journal answers cancel --gc-id as fast as a small one:
    the lookup searches an index on gc_id, never scans the objects"""
    create(agcod)
    db = sqlite3.connect(agcod.state / "journal.db")
    try:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT request_id FROM objects WHERE gc_id = ?"
            " AND kind = ? AND partner = ? AND environment = ?"
            " ORDER BY id DESC LIMIT 2", ("G", "card", PARTNER, "sandbox")
        ).fetchall()
    finally:
        db.close()
    assert any("USING INDEX objects_gcid" in row[-1] for row in plan), plan


# ---- item 12: --exit-code ----

def test_exit_code_says_whether_rows_matched(agcod, emu):
    r = agcod("history", "--pending", "--exit-code", "-o", "json")
    assert (r.rc, r.out) == (0, ""), r
    emu.fault("drop", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "1").rc == 75
    r = agcod("history", "--pending", "--exit-code", "-o", "json")
    assert r.rc == 1 and len(r.jsonl()) == 1, r
    assert agcod("history", "--pending", "-o", "json").rc == 0
    assert agcod("history", "--exit-code", "--state", "issued").rc == 0


def test_man_page_example_tests_something():
    with open(os.path.join(ROOT, "man", "agcod.1")) as f:
        man = f.read()
    assert "history --pending && agcod reconcile" not in man
    assert "history --pending --exit-code" in man


def test_exit_code_on_a_full_disk_is_the_write_error(agcod, emu):
    """history --pending --exit-code in cron: 1 means "something to act on".
    A result that could not be written said 1 too, so a full disk read as a
    match; it is the write error, 74, as without --exit-code."""
    assert agcod("create", "--amount", "1", "-o", "json").rc == 0
    with open("/dev/full", "w") as full:
        p = subprocess.run([AGCOD, "history", "--exit-code", "-o", "json"],
                           env=agcod.env, stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    assert p.returncode == 74 and "cannot write the result" in p.stderr, p
