"""batch create: validation first, deterministic ids, one connection,
crash safety (kill -9 and re-run), and one rate limit across processes."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import AGCOD, PARTNER


def write(tmp, name, text):
    p = tmp / name
    p.write_text(text)
    return p


def test_batch_happy_path_one_connection(agcod, emu, tmp_path):
    f = write(tmp_path, "cards.csv",
              'amount,currency,external_reference\r\n19.99,USD,"order 1, gift"\r\n'
              '0.15,,"say ""thanks"""\r\n25,USD,\r\n')
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    rows = r.jsonl()
    assert [x["row"] for x in rows] == [1, 2, 3]
    assert [x["amount"] for x in rows] == ["19.99", "0.15", "25"]
    assert all(x["status"] == "SUCCESS" and x["gcClaimCode"] for x in rows)
    assert all(x["request_id"].startswith(PARTNER + "B") for x in rows)
    bodies = [json.loads(q["body"], parse_float=str, parse_int=str)
              for q in emu.requests("CreateGiftCard")]
    assert [b["value"]["amount"] for b in bodies] == ["19.99", "0.15", "25"]
    assert bodies[0]["externalReference"] == "order 1, gift"
    assert bodies[1]["externalReference"] == 'say "thanks"'
    assert emu.connections == 1              # one TLS handshake for the batch


def test_batch_rerun_same_ids_never_twice(agcod, emu, tmp_path):
    f = write(tmp_path, "cards.csv", "amount\n1\n2\n3\n")
    a = agcod("batch", "create", f, "-o", "json").jsonl()
    b = agcod("batch", "create", f, "-o", "json", "--reprint").jsonl()
    assert [x["request_id"] for x in a] == [x["request_id"] for x in b]
    assert [x["gcClaimCode"] for x in a] == [x["gcClaimCode"] for x in b]
    assert emu.state.creates == 3
    g = write(tmp_path, "other.csv", "amount\n1\n2\n3\n\n")   # another batch, other ids
    c = agcod("batch", "create", g, "-o", "json").jsonl()
    assert not set(x["request_id"] for x in c) & set(x["request_id"] for x in a)


def test_batch_bad_rows_sends_nothing(agcod, emu, tmp_path):
    f = write(tmp_path, "bad.csv", "amount,currency,request_id\n"
              "1.00,USD,\n-5,USD,\n19.999,USD,\n1,XYZ,\n2,USD,Other1\n3,USD\n"
              "4,USD,Acme1dup\n5,USD,Acme1dup\n")
    r = agcod("batch", "create", f)
    assert r.rc == 64, r
    for line, what in ((3, "positive"), (4, "decimals"), (5, "'XYZ'"), (6, "partner id"),
                       (7, "header has 3"), (9, "also on line 8")):
        assert f"line {line}: " in r.err and what in r.err, (line, what, r.err)
    assert "nothing was sent" in r.err
    assert emu.requests() == [] and emu.connections == 0


def test_batch_bad_files(agcod, emu, tmp_path):
    cases = {"currency\nUSD\n": "no 'amount' column",
             "amount,\n1,red\n": "column 2 has no name",
             "amount\n": "no rows",
             'amount\n"1\n': "unterminated",
             "amount,amount\n1,2\n": "twice"}
    for text, needle in cases.items():
        r = agcod("batch", "create", write(tmp_path, "f.csv", text))
        assert r.rc == 64 and needle in r.err, (text, r)
    assert agcod("batch", "create", tmp_path / "missing.csv").rc == 64
    assert agcod("batch", "delete", tmp_path / "f.csv").rc == 64
    assert agcod("batch").rc == 64
    assert emu.requests() == []


def test_batch_dry_run(agcod, emu, tmp_path):
    f = write(tmp_path, "cards.csv", "amount,currency\n19.99,USD\n0.01,USD\n5,USD\n")
    r = agcod("batch", "create", f, "--dry-run", "-o", "json")
    assert r.rc == 0, r
    d = r.json()
    assert d["rows"] == 3 and d["totals"] == [{"currency": "USD", "amount": "25.00", "rows": 3,
                                               "to_issue": "25.00"}]
    assert d["available_funds"] == {"amount": "100000.00", "currencyCode": "USD"}
    assert d["covered"] is True
    assert [q["op"] for q in emu.requests()] == ["GetAvailableFunds"]
    t = agcod("batch", "create", f, "--dry-run", "-o", "table")
    assert "total USD" in t.out and "25.00" in t.out and "nothing was sent" in t.out


def test_batch_failed_row_exit_and_others_done(agcod, emu, tmp_path):
    f = write(tmp_path, "cards.csv", "amount,request_id\n1,\n2,F2005\n3,\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 65, r
    rows = r.jsonl()
    assert [x["status"] for x in rows] == ["SUCCESS", "FAILURE", "SUCCESS"]
    assert rows[1]["errorType"] == "InvalidCurrencyCodeInput" and rows[1]["gcClaimCode"] is None
    assert "line 3" in r.err


def test_batch_table(agcod, emu, tmp_path):
    f = write(tmp_path, "cards.csv", "amount\n7\n")
    r = agcod("batch", "create", f, "-o", "table")
    assert r.rc == 0 and "CLAIM CODE" in r.out
    (card,) = emu.state.cards.values()
    row = r.out.splitlines()[1].split()
    assert row == ["1", "7", "USD", card["id"], "SUCCESS", "-", card["gcId"], card["claim"]]


def test_kill_9_mid_batch_then_rerun_issues_each_row_once(agcod, emu, tmp_path):
    n = 12
    f = write(tmp_path, "cards.csv", "amount\n" + "".join(f"{i}.00\n" for i in range(1, n + 1)))
    emu.fault("delay", count=n, seconds=0.25)
    p = subprocess.Popen([AGCOD, "batch", "create", str(f), "-o", "json"], env=agcod.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while emu.state.creates < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.communicate(timeout=10)
    done_before = emu.state.creates
    assert 4 <= done_before < n
    emu.faults.clear()
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    assert emu.state.creates == n                 # none twice, none missing
    assert len(emu.state.cards) == n
    assert sorted(c["amount"] for c in emu.state.cards.values()) == sorted(
        __import__("decimal").Decimal(f"{i}.00") for i in range(1, n + 1))
    assert len(r.jsonl()) == n
    assert agcod("history", "--pending", "-o", "json").out == ""


@pytest.mark.serial
def test_two_batches_share_one_rate_limit(agcod, emu, certs, tmp_path):
    fa = write(tmp_path, "a.csv", "amount\n" + "1\n" * 15)
    fb = write(tmp_path, "b.csv", "amount\n" + "2\n" * 15)
    allowed = 10
    if agcod.pg:
        # the database's slots keep 2.5% (25 ms a second) of slack at the
        # ceiling, less than a loaded test machine's lateness: shared at 5
        # a second against a service allowing 7 (two limits would send 10);
        # at the ceiling it is make bench-pg's to measure
        agcod.write_config(endpoint=emu.endpoint, ca_bundle=certs[0],
                           max_rps=5)
        emu.max_rps = allowed = 7
    # the creates' limit: the funds' 1/s between two processes is
    # test_funds_from_two_processes_not_throttled's
    procs = [subprocess.Popen([AGCOD, "batch", "create", str(f), "-o", "json",
                               "--no-funds-check"],
                              env=agcod.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for f in (fa, fb)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert emu.throttled == 0
    assert emu.state.creates == 30
    times = sorted(q["time"] for q in emu.requests())
    for i in range(len(times) - allowed):
        assert times[i + allowed] - times[i] >= 1.0 - 0.005   # ≤ allowed a second
    rows = agcod.journal()                              # nothing lost
    assert len(rows) == 30 and all(r["state"] == "succeeded" for r in rows)


@pytest.mark.serial
def test_funds_from_two_processes_not_throttled(agcod, emu):
    """each process takes its GetAvailableFunds slot once its connection is
    up, just before the request goes out (issue 19), so on a busy machine
    the requests still reach the service a second apart, however long each
    TLS handshake took"""
    procs = [subprocess.Popen([AGCOD, "funds", "-o", "json"], env=agcod.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=30) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert emu.throttled == 0 and len(emu.requests()) == 3


# ---- funds checked before the first row (issue 19, item 2) ----

def test_funds_that_cannot_cover_the_rows_send_nothing(agcod, emu, tmp_path):
    """3 x 5.00 against 10.00 issued two cards, then stopped at F300: the
    funds are checked once, before the first row, and nothing is sent"""
    D = __import__("decimal").Decimal
    emu.state.funds = D("10.00")
    f = write(tmp_path, "team.csv", "amount,name\n5.00,Ann\n5.00,Bob\n5.00,Cy\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 77, r
    assert r.out == ""
    assert [q["op"] for q in emu.requests()] == ["GetAvailableFunds"]
    assert emu.state.creates == 0
    assert "USD 10.00" in r.err and "USD 15.00" in r.err and "do not cover" in r.err, r
    assert "nothing was sent" in r.err and "--no-funds-check" in r.err, r
    # the rows still to issue are what counts: two with cards, one new
    f.write_text("amount,name\n5.00,Ann\n5.00,Bob\n")
    time.sleep(1.0)                                     # the funds' 1/s
    assert agcod("batch", "create", f, "-o", "json").rc == 0
    f.write_text("amount,name\n5.00,Ann\n5.00,Bob\n5.00,Cy\n")
    emu.state.funds = D("5.00")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    assert emu.state.creates == 3 and emu.state.funds == 0
    # --no-funds-check sends without asking: the service refuses the row
    f.write_text("amount,name\n5.00,Ann\n5.00,Bob\n5.00,Cy\n5.00,Di\n")
    n = len(emu.requests("GetAvailableFunds"))
    r = agcod("batch", "create", f, "-o", "json", "--no-funds-check")
    assert r.rc == 77, r
    assert len(emu.requests("GetAvailableFunds")) == n
    assert [x["status"] for x in r.jsonl()] == ["SUCCESS"] * 3 + ["FAILURE"]


def test_a_batch_that_sends_nothing_leaves_no_out_file(agcod, emu, tmp_path):
    """funds short: "add funds and run it again" must work with the same
    --out, so the run that sent nothing leaves no empty file in its way"""
    D = __import__("decimal").Decimal
    emu.state.funds = D("10.00")
    f = write(tmp_path, "team.csv", "amount\n5.00\n5.00\n5.00\n")
    out = tmp_path / "cards.csv"
    r = agcod("batch", "create", f, "--out", out)
    assert r.rc == 77 and emu.state.creates == 0, r
    assert not out.exists()
    time.sleep(1.0)                                     # the funds' 1/s
    emu.state.funds = D("15.00")
    r = agcod("batch", "create", f, "--out", out)
    assert r.rc == 0 and emu.state.creates == 3, r
    assert out.read_text().count("SUCCESS") == 3
    # a production run that cannot ask for its confirmation (cron) neither
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    g = write(tmp_path, "more.csv", "amount\n1.00\n")
    emu.state.funds = D("15.00")
    time.sleep(1.0)                                     # the funds' 1/s
    r = agcod("batch", "create", g, "--out", tmp_path / "more-cards.csv")
    assert r.rc == 64 and "nothing was sent" in r.err, r
    assert not (tmp_path / "more-cards.csv").exists() and emu.state.creates == 3


def test_funds_view_unavailable_then_no_funds_check(agcod, emu, tmp_path):
    f = write(tmp_path, "p.csv", "amount\n1\n")
    emu.fault("html500", count=100, op="GetAvailableFunds")
    r = agcod("--retry-for", "0", "batch", "create", f, "-o", "json")
    assert r.rc != 0 and r.out == "", r
    assert "funds" in r.err and "--no-funds-check" in r.err and "nothing was sent" in r.err
    assert emu.requests("CreateGiftCard") == []
    r = agcod("batch", "create", f, "-o", "json", "--no-funds-check")
    assert r.rc == 0 and emu.state.creates == 1, r
    assert len(emu.requests("GetAvailableFunds")) == 1


def test_reprint_needs_no_funds(agcod, emu, tmp_path):
    f = write(tmp_path, "r.csv", "amount\n1\n")
    assert agcod("batch", "create", f, "-o", "json").rc == 0
    emu.state.funds = 0
    n = len(emu.requests("GetAvailableFunds"))
    r = agcod("batch", "create", f, "-o", "json", "--reprint")
    assert r.rc == 0, r
    assert len(emu.requests("GetAvailableFunds")) == n     # nothing to issue


# ---- exact money (issue 18, item 10) ----

def test_dry_run_reads_large_funds_exactly(agcod, emu, tmp_path):
    """1.0E17 USD read as -84467440737095516.16: "not covered" """
    emu.state.funds = __import__("decimal").Decimal("1E17")
    f = write(tmp_path, "d.csv", "amount\n25\n")
    r = agcod("batch", "create", f, "--dry-run", "-o", "json")
    assert r.rc == 0, r
    assert r.json()["covered"] is True
    t = agcod("batch", "create", f, "--dry-run", "-o", "table")
    assert t.rc == 0 and "-" not in t.out.split("available funds")[1].split("\n")[0], t
    assert "100000000000000000" in t.out, t


def test_max_batch_total_in_yen_is_not_read_100_times_smaller(agcod, emu, tmp_path):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, region="fe", currency="JPY",
                       max_batch_total="1000")
    f = write(tmp_path, "y.csv", "amount\n600\n600\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 64, r
    assert "1200" in r.err and "max_batch_total" in r.err, r
    assert emu.requests() == []


# ---- CSV output: one writer (issue 18, item 10) ----

def test_csv_output_defuses_every_formula_cell(agcod, emu, tmp_path):
    import csv
    import io
    f = write(tmp_path, "evil.csv", "amount,note,external_reference\n"
              "1,\"=HYPERLINK(\"\"x\"\")\",a\n2,+1,@SUM(A1)\n3,-1,b\n4,@me,c\n")
    r = agcod("batch", "create", f, "-o", "csv")
    assert r.rc == 0, r
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [x["note"] for x in rows] == ["'=HYPERLINK(\"x\")", "'+1", "'-1", "'@me"]
    assert rows[1]["external_reference"] == "'@SUM(A1)"
    assert all(x["gcClaimCode"] for x in rows)


# ---- row ids carry the environment (issue 18, behaviours no test pins) ----

def test_the_same_file_in_sandbox_then_production_is_a_new_batch(agcod, emu, tmp_path):
    f = write(tmp_path, "team.csv", "amount,name\n2,Ann\n2,Bob\n")
    sb = agcod("batch", "create", f, "-o", "json")
    assert sb.rc == 0 and emu.state.creates == 2, sb
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       environment="production", max_batch_total="3")
    # the sandbox cards are not "issued before": the whole total counts
    r = agcod("batch", "create", f, "-o", "json", "--yes")
    assert r.rc == 64 and "4.00" in r.err and "max_batch_total" in r.err, r
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       environment="production")
    r = agcod("batch", "create", f, "-o", "json")     # no terminal to confirm
    assert r.rc == 64 and "4.00 USD in 2 new cards" in r.err, r
    assert emu.state.creates == 2
    r = agcod("batch", "create", f, "-o", "json", "--yes")
    assert r.rc == 0, r
    assert emu.state.creates == 4
    assert "earlier run" not in r.err
    assert all(x["issued_before"] is None for x in r.jsonl())
    assert not {x["request_id"] for x in r.jsonl()} & {x["request_id"] for x in sb.jsonl()}


# ---- output files (issue 19, item 3) ----

def test_out_takes_its_format_from_the_extension(agcod, emu, tmp_path):
    f = write(tmp_path, "team.csv", "amount,name\n5,Ann\n")
    r = agcod("batch", "create", f, "--out", tmp_path / "a.csv")
    assert r.rc == 0 and r.out == "", r
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0].startswith("amount,name,currency,row,request_id,status,gcId"), lines
    r = agcod("batch", "create", f, "--reprint", "--out", tmp_path / "a.jsonl")
    assert r.rc == 0, r
    assert json.loads((tmp_path / "a.jsonl").read_text())["name"] == "Ann"
    r = agcod("batch", "create", f, "--reprint", "--out", tmp_path / "a.json")
    assert r.rc == 0 and json.loads((tmp_path / "a.json").read_text())["gcClaimCode"], r
    r = agcod("batch", "create", f, "--reprint", "--out", tmp_path / "a.txt")
    assert r.rc == 0 and "CLAIM CODE" in (tmp_path / "a.txt").read_text(), r
    r = agcod("batch", "create", f, "--reprint", "--out", tmp_path / "a.table")
    assert r.rc == 0 and "CLAIM CODE" in (tmp_path / "a.table").read_text(), r
    # -o wins over the extension
    r = agcod("batch", "create", f, "--reprint", "-o", "json", "--out", tmp_path / "b.csv")
    assert r.rc == 0 and json.loads((tmp_path / "b.csv").read_text())["name"] == "Ann", r
    assert emu.state.creates == 1


def test_csv_output_keeps_the_inputs_bom_and_line_ends(agcod, emu, tmp_path):
    f = tmp_path / "excel.csv"
    f.write_bytes("\ufeffname,amount\r\nGarc\u00eda,5\r\n".encode())
    r = agcod("batch", "create", f, "--out", tmp_path / "out.csv")
    assert r.rc == 0, r
    out = (tmp_path / "out.csv").read_bytes()
    assert out.startswith(b"\xef\xbb\xbfname,amount,currency,row,"), out
    assert out.count(b"\r\n") == 2 and out.replace(b"\r\n", b"").count(b"\n") == 0, out
    assert "Garc\u00eda,5,USD,1,".encode() in out
    # a file without them gets neither
    g = write(tmp_path, "plain.csv", "name,amount\nAnn,5\n")
    r = agcod("batch", "create", g, "-o", "csv")
    assert r.rc == 0 and not r.out.startswith("\ufeff"), r


def test_resume_hint_repeats_the_options_used(agcod, emu, tmp_path):
    f = write(tmp_path, "nov.csv", "amount,request_id\n1,\n2,F3003\n3,\n")
    out = tmp_path / "cards.txt"
    r = agcod("-p", "default", "batch", "create", f, "-o", "table", "--out", out,
              "--batch-id", "nov-1", "--no-funds-check")
    assert r.rc == 77, r
    hint = r.err[r.err.index("to resume"):]
    assert "agcod batch create '%s'" % f in hint, hint
    for opt in ("-p 'default'", "-o table", "--batch-id 'nov-1'", "--no-funds-check"):
        assert opt in hint, (opt, hint)
    # --out never overwrites: the hint says how to replace it (appending
    # would repeat its header and rows: test_attack19)
    assert "move NEW_FILE over '%s'" % out in hint, hint
    assert "--new-batch" not in hint


# ---- spreadsheet exports (issue 19, item 5) ----

def test_semicolon_file_lower_case_currency(agcod, emu, tmp_path):
    f = tmp_path / "de.csv"
    f.write_bytes("\ufeffName;amount;currency;Note\r\nGarc\u00eda;5;usd;\"a;b\"\r\n"
                  "M\u00fcller;7.50;Usd;\r\n".encode())
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    rows = r.jsonl()
    assert [x["Name"] for x in rows] == ["Garc\u00eda", "M\u00fcller"]
    assert [x["currency"] for x in rows] == ["USD", "USD"] and rows[0]["Note"] == "a;b"
    bodies = [json.loads(q["body"]) for q in emu.requests("CreateGiftCard")]
    assert [b["value"]["currencyCode"] for b in bodies] == ["USD", "USD"]
    # CSV out: the input's separator, BOM and line ends
    r = agcod("batch", "create", f, "--reprint", "--out", tmp_path / "out.csv")
    assert r.rc == 0, r
    out = (tmp_path / "out.csv").read_bytes().decode()
    assert out.startswith("\ufeffName;amount;currency;Note;row;request_id;"), out
    assert "Garc\u00eda;5;USD;\"a;b\";1;" in out and "\r\n" in out, out


def test_delimiter_option(agcod, emu, tmp_path):
    f = write(tmp_path, "p.csv", "amount|name\n5|Ann, Bob\n")
    r = agcod("batch", "create", f, "-o", "json", "--delimiter", "|")
    assert r.rc == 0 and r.jsonl()[0]["name"] == "Ann, Bob", r
    g = write(tmp_path, "t.csv", "amount\tname\n5\tCy\n")
    r = agcod("batch", "create", g, "-o", "json", "--delimiter", "tab")
    assert r.rc == 0 and r.jsonl()[0]["name"] == "Cy", r
    for bad in ("ab", "x", '"', ""):
        r = agcod("batch", "create", f, "--delimiter", bad)
        assert r.rc == 64 and "--delimiter" in r.err, (bad, r)
    assert emu.state.creates == 2


def test_no_amount_column_names_the_headers_found(agcod, emu, tmp_path):
    f = write(tmp_path, "hr.csv", "Name,Amount (USD),Email\nAnn,5,a@x\n")
    r = agcod("batch", "create", f)
    assert r.rc == 64, r
    assert "no 'amount' column" in r.err and "'Name', 'Amount (USD)', 'Email'" in r.err, r
    assert emu.requests() == []


def test_a_throttled_row_is_counted_as_it_is_shown(agcod, emu, tmp_path):
    """A row the service throttled to the end was refused before it could
    act: its line says FAILURE and the journal 'failed'; the summary
    counted it 'unknown' (by its exit status, 75), which sends the operator
    to reconcile a card that cannot exist.  It is a failure to re-run."""
    f = write(tmp_path, "cards.csv", "amount\n1\n2\n")
    emu.fault("throttle", count=1000, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "batch", "create", f, "-o", "json")
    assert r.rc == 75, r
    rows = r.jsonl()
    assert rows and all(x["status"] == "FAILURE" for x in rows), rows
    assert emu.state.creates == 0
    n = len(rows)
    assert f"{n} failed, 0 unknown" in r.err, r.err
