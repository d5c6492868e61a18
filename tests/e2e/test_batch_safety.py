"""batch create, safe to fix and re-run: row ids that survive edits to other
rows, completed batches not replayed, columns carried through to every output
format, --out, stops at F3xx and at a failed output write, SIGINT, and the
exit status when outcomes are mixed."""
import csv
import io
import json
import os
import signal
import stat
import subprocess
import time

from conftest import AGCOD, PARTNER


def write(tmp, name, text):
    p = tmp / name
    p.write_text(text)
    return p


def final_states(agcod):
    """request id -> state of its CreateGiftCard's last record"""
    st = {}
    for rec in agcod.journal():
        if rec.get("operation") == "CreateGiftCard":
            st[rec["request_id"]] = rec.get("state")
    return st


def test_fix_a_refused_row_and_rerun_issues_only_that_row(agcod, emu, tmp_path):
    # the emulator refuses cards over 2000 USD: MaxAmountExceeded (F200)
    f = write(tmp_path, "rewards.csv", "email,amount\na@x.test,10\nb@x.test,10\n"
              "c@x.test,5000\nd@x.test,10\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 65, r
    first = r.jsonl()
    assert [x["status"] for x in first] == ["SUCCESS", "SUCCESS", "FAILURE", "SUCCESS"]
    assert first[2]["errorType"] == "MaxAmountExceeded"
    assert emu.state.creates == 3
    f.write_text("email,amount\na@x.test,10\nb@x.test,10\nc@x.test,50\nd@x.test,10\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    again = r.jsonl()
    assert emu.state.creates == 4                       # only the fixed row is new
    assert len(emu.state.cards) == 4
    for i in (0, 1, 3):
        assert again[i]["request_id"] == first[i]["request_id"]
        assert again[i]["gcClaimCode"] == first[i]["gcClaimCode"]
    assert again[2]["request_id"] != first[2]["request_id"]
    assert again[2]["email"] == "c@x.test" and again[2]["amount"] == "50"
    assert "issued by an earlier run" in r.err
    # each row says whether its card comes from an earlier run
    assert [bool(x["issued_before"]) for x in again] == [True, True, False, True]
    assert all(x["issued_before"] is None for x in first)
    for x in again:
        assert x["request_id"].startswith(PARTNER) and x["request_id"].isalnum()
        assert len(x["request_id"]) <= 40


def test_ids_survive_row_insertion_and_reordering(agcod, emu, tmp_path):
    f = write(tmp_path, "b.csv", "amount,email\n1,a@x\n2,b@x\n1,a@x\n")
    a = agcod("batch", "create", f, "-o", "json", "--dry-run")
    assert a.rc == 0, a
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    ids = {(x["email"], x["amount"]): [] for x in r.jsonl()}
    for x in r.jsonl():
        ids[(x["email"], x["amount"])].append(x["request_id"])
    assert len(set(x["request_id"] for x in r.jsonl())) == 3   # identical rows differ
    # a new row first, the others moved: the old rows keep their ids
    f.write_text("email,amount\nz@x,3\nb@x,2\na@x,1\na@x,1\n")
    r2 = agcod("batch", "create", f, "-o", "json")
    assert r2.rc == 0, r2
    rows = r2.jsonl()
    assert rows[1]["request_id"] == ids[("b@x", "2")][0]
    assert [rows[2]["request_id"], rows[3]["request_id"]] == ids[("a@x", "1")]
    assert emu.state.creates == 4


def test_identical_rerun_issues_nothing_reprint_and_new_batch(agcod, emu, tmp_path):
    f = write(tmp_path, "november.csv", "amount,name\n1,Ann\n2,Bob\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    first = r.jsonl()
    n_sent = len(emu.requests("CreateGiftCard"))
    again = agcod("batch", "create", f, "-o", "json")
    assert again.rc == 65, again
    assert again.out == ""
    assert "already" in again.err and "--reprint" in again.err and "--new-batch" in again.err
    assert len(emu.requests("CreateGiftCard")) == n_sent     # nothing sent at all
    rp = agcod("batch", "create", f, "-o", "json", "--reprint")
    assert rp.rc == 0, rp
    assert [x["gcClaimCode"] for x in rp.jsonl()] == [x["gcClaimCode"] for x in first]
    assert [x["request_id"] for x in rp.jsonl()] == [x["request_id"] for x in first]
    assert emu.state.creates == 2
    nb = agcod("batch", "create", f, "-o", "json", "--new-batch")
    assert nb.rc == 0, nb
    assert emu.state.creates == 4
    assert not {x["request_id"] for x in nb.jsonl()} & {x["request_id"] for x in first}
    assert not {x["gcClaimCode"] for x in nb.jsonl()} & {x["gcClaimCode"] for x in first}
    # the new batch is now the completed one
    assert agcod("batch", "create", f, "-o", "json").rc == 65
    assert agcod("batch", "create", f, "--reprint", "--new-batch").rc == 64
    assert emu.state.creates == 4


def test_batch_id_option_names_the_batch(agcod, emu, tmp_path):
    f = write(tmp_path, "rewards.csv", "amount\n1\n")
    a = agcod("batch", "create", f, "-o", "json", "--batch-id", "2026-11")
    b = agcod("batch", "create", f, "-o", "json", "--batch-id", "2026-12")
    assert a.rc == 0 and b.rc == 0, (a, b)
    assert a.jsonl()[0]["request_id"] != b.jsonl()[0]["request_id"]
    assert emu.state.creates == 2
    assert agcod("batch", "create", f, "--batch-id", "bad id!").rc == 64
    assert emu.state.creates == 2


def test_reprint_refuses_rows_without_a_card(agcod, emu, tmp_path):
    f = write(tmp_path, "r.csv", "amount\n1\n")
    r = agcod("batch", "create", f, "--reprint")
    assert r.rc == 64 and "no card" in r.err, r
    assert emu.requests() == []


def test_external_reference_with_a_card_is_refused(agcod, emu, tmp_path):
    assert agcod("create", "--amount", "5", "--external-reference", "order-7").rc == 0
    f = write(tmp_path, "o.csv", "amount,external_reference\n5,order-7\n6,order-8\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 65, r
    assert "line 2" in r.err and "order-7" in r.err and "--allow-reused-reference" in r.err
    assert emu.state.creates == 1
    r = agcod("batch", "create", f, "-o", "json", "--allow-reused-reference")
    assert r.rc == 0, r
    assert emu.state.creates == 3
    dup = write(tmp_path, "d.csv", "amount,external_reference\n1,x-1\n2,x-1\n")
    r = agcod("batch", "create", dup)
    assert r.rc == 65 and "line 3" in r.err, r
    assert emu.state.creates == 3


def test_columns_pass_through_every_format(agcod, emu, tmp_path):
    f = write(tmp_path, "c.csv", " Email , AMOUNT ,Currency,Note\r\n"
              "ann@x.test,7,USD,\"hi, Ann\"\r\nbob@x.test,8,,\r\n")
    r = agcod("batch", "create", f, "-o", "json", "--batch-id", "j")
    assert r.rc == 0, r
    rows = r.jsonl()
    assert [x["Email"] for x in rows] == ["ann@x.test", "bob@x.test"]
    assert rows[0]["Note"] == "hi, Ann" and rows[1]["Note"] == ""
    assert [x["amount"] for x in rows] == ["7", "8"]
    assert [x["currency"] for x in rows] == ["USD", "USD"]
    for x in rows:
        assert set(x) >= {"row", "request_id", "status", "gcId", "gcClaimCode",
                          "errorCode", "errorType"}
    codes = {c["claim"]: c for c in emu.state.cards.values()}
    assert {x["gcClaimCode"] for x in rows} == set(codes)

    r = agcod("batch", "create", f, "-o", "csv", "--batch-id", "c")
    assert r.rc == 0, r
    got = list(csv.DictReader(io.StringIO(r.out)))
    assert [g["Email"] for g in got] == ["ann@x.test", "bob@x.test"]
    assert got[0]["Note"] == "hi, Ann"
    assert all(g["status"] == "SUCCESS" and g["gcClaimCode"] for g in got)
    assert list(got[0]) == ["Email", "amount", "currency", "Note", "row", "request_id",
                            "status", "gcId", "gcClaimCode", "errorCode", "errorType",
                            "issued_before"]

    r = agcod("batch", "create", f, "-o", "table", "--batch-id", "t")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert "CLAIM CODE" in lines[0]
    new = [c for c in emu.state.cards.values() if c["claim"] not in codes]
    assert len(new) == 6 - 2
    for line, email, amt in ((lines[1], "ann@x.test", 7), (lines[2], "bob@x.test", 8)):
        cards = [c for c in emu.state.cards.values() if c["claim"] in line]
        assert len(cards) == 1 and email in line and "hi, Ann" in lines[1], line
        assert cards[0]["amount"] == amt and cards[0]["id"] in line


def test_bad_pass_through_cells_and_reserved_names(agcod, emu, tmp_path):
    r = agcod("batch", "create", write(tmp_path, "a.csv", "amount,status\n1,x\n"))
    assert r.rc == 64 and "'status'" in r.err, r
    r = agcod("batch", "create", write(tmp_path, "b.csv", "amount,note\n1,\"a\x1bb\"\n"))
    assert r.rc == 64 and "line 2" in r.err and "\x1b" not in r.err, r
    r = agcod("batch", "create", write(tmp_path, "h.csv", "amount,b\x1b[2Jad\n1,x\n"))
    assert r.rc == 64 and "\x1b" not in r.err and "'b\\x1B[2Jad'" in r.err, r
    r = agcod("batch", "create", write(tmp_path, "c.csv", "amount,AMOUNT\n1,2\n"))
    assert r.rc == 64 and "twice" in r.err, r
    assert emu.requests() == []


def test_out_file_is_new_and_0600(agcod, emu, tmp_path):
    f = write(tmp_path, "o.csv", "amount,email\n3,a@x\n")
    out = tmp_path / "cards.jsonl"
    r = agcod("batch", "create", f, "-o", "json", "--out", out)
    assert r.rc == 0, r
    assert r.out == ""
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    (row,) = [json.loads(l) for l in out.read_text().splitlines()]
    assert row["email"] == "a@x" and row["gcClaimCode"]
    before = out.read_text()
    n = len(emu.requests())
    r = agcod("batch", "create", f, "-o", "json", "--out", out, "--reprint")
    assert r.rc == 64 and "exists" in r.err, r
    assert out.read_text() == before and len(emu.requests()) == n
    os.symlink(tmp_path / "elsewhere", tmp_path / "link")
    r = agcod("batch", "create", f, "--out", tmp_path / "link", "--reprint")
    assert r.rc == 64 and not (tmp_path / "elsewhere").exists(), r


def test_table_and_csv_never_pass_escape_sequences(agcod, emu, tmp_path):
    emu.extra_fields = {"gcId": "G\x1b]0;owned\x07X", "gcClaimCode": "C\x1b[2JODE"}
    f = write(tmp_path, "t.csv", "amount\n1\n")
    for fmt in ("table", "csv"):
        r = agcod("batch", "create", f, "-o", fmt, "--batch-id", "x" + fmt)
        assert r.rc == 0, r
        assert "\x1b" not in r.out and "\x07" not in r.out and "\x1b" not in r.err
        assert "\\x1B" in r.out


def test_unknown_and_failed_rows_exit_75(agcod, emu, tmp_path):
    f = write(tmp_path, "m.csv", "amount,request_id\n1,\n2,F2005\n")
    emu.fault("drop", count=1, op="CreateGiftCard")
    # the first create on a connection of its own (no funds call first):
    # libcurl re-sends a request whose reused connection died unanswered
    r = agcod("--retry-for", "0", "batch", "create", f, "-o", "json",
              "--no-funds-check")
    assert r.rc == 75, r
    assert [x["status"] for x in r.jsonl()] == ["UNKNOWN", "FAILURE"]
    assert "1 unknown" in r.err and "1 failed" in r.err
    assert emu.state.creates == 1        # the emulator acted on the dropped one
    rid = r.jsonl()[0]["request_id"]
    assert final_states(agcod)[rid] == "unknown"
    # re-running settles it under its id (no second card); F2005 is refused again
    r3 = agcod("batch", "create", f, "-o", "json")
    assert r3.rc == 65, r3
    assert [x["status"] for x in r3.jsonl()] == ["SUCCESS", "FAILURE"]
    assert r3.jsonl()[0]["request_id"] == rid
    assert emu.state.creates == 1 and final_states(agcod)[rid] == "succeeded"


def test_stops_at_first_f3xx(agcod, emu, tmp_path):
    f = write(tmp_path, "s.csv", "amount,request_id\n1,\n2,F3003\n3,\n4,\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 77, r
    assert [x["status"] for x in r.jsonl()] == ["SUCCESS", "FAILURE"]
    assert len(emu.requests("CreateGiftCard")) == 2
    assert "line 3" in r.err and "stopped" in r.err and "2 not sent" in r.err
    assert "agcod batch create" in r.err


def test_stops_at_first_failed_output_write(agcod, emu, tmp_path):
    f = write(tmp_path, "w.csv", "amount\n1\n2\n3\n")
    with open("/dev/full", "w") as full:
        p = subprocess.run([AGCOD, "batch", "create", str(f), "-o", "json"], env=agcod.env,
                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 75, p.stderr
    assert len(emu.requests("CreateGiftCard")) == 1
    assert "cannot write" in p.stderr and "agcod batch create" in p.stderr
    assert "reconcile" not in p.stderr
    rid = [k for k, v in final_states(agcod).items()]
    assert len(rid) == 1 and rid[0] in p.stderr
    # resume: the first row's card again, the others issued once
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    assert emu.state.creates == 3 and r.jsonl()[0]["request_id"] == rid[0]


def test_sigint_finishes_the_request_in_flight(agcod, emu, tmp_path):
    n = 8
    f = write(tmp_path, "i.csv", "amount\n" + "".join(f"{i}\n" for i in range(1, n + 1)))
    emu.fault("delay", count=n, seconds=0.6)
    p = subprocess.Popen([AGCOD, "batch", "create", str(f), "-o", "json"], env=agcod.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not emu.requests("CreateGiftCard") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert emu.requests("CreateGiftCard")
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    rows = [json.loads(l) for l in out.splitlines()]
    assert len(rows) == 1 and rows[0]["status"] == "SUCCESS"    # the one in flight
    assert emu.state.creates == 1
    assert final_states(agcod) == {rows[0]["request_id"]: "succeeded"}
    assert "interrupted" in err and "1 issued" in err and "7 not sent" in err
    assert "USD 1" in err and "agcod batch create" in err
    emu.faults.clear()
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0 and emu.state.creates == n, r


def test_sigterm_exit_143(agcod, emu, tmp_path):
    f = write(tmp_path, "t.csv", "amount\n1\n2\n3\n")
    emu.fault("delay", count=3, seconds=0.6)
    p = subprocess.Popen([AGCOD, "batch", "create", str(f), "-o", "json"], env=agcod.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not emu.requests("CreateGiftCard") and time.monotonic() < deadline:
        time.sleep(0.01)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 143, err
    assert len(out.splitlines()) == emu.state.creates == 1


def test_dry_run_compares_funds(agcod, emu, tmp_path):
    f = write(tmp_path, "d.csv", "amount\n1500\n1500\n")
    emu.state.funds = __import__("decimal").Decimal("2000.00")
    r = agcod("batch", "create", f, "--dry-run", "-o", "json")
    assert r.rc == 1, r
    d = r.json()
    assert d["covered"] is False and d["totals"][0]["amount"] == "3000.00"
    assert "do not cover" in r.err
    assert [q["op"] for q in emu.requests()] == ["GetAvailableFunds"]
    ok = write(tmp_path, "ok.csv", "amount\n1500\n")
    time.sleep(1.1)
    r = agcod("batch", "create", ok, "--dry-run", "-o", "json")
    assert r.rc == 0 and r.json()["covered"] is True, r


def test_csv_more_fields_than_header_refused(agcod, emu, tmp_path):
    r = agcod("batch", "create", write(tmp_path, "x.csv", "amount\n19,99\n"))
    assert r.rc == 64 and "line 2" in r.err and "2 fields" in r.err, r
    r = agcod("batch", "create", write(tmp_path, "y.csv", 'amount\n"19"99'))
    assert r.rc == 64 and "after a closing quote" in r.err, r
    r = agcod("batch", "create", write(tmp_path, "z.csv", 'amount\n"19" '))
    assert r.rc == 64 and "after a closing quote" in r.err, r
    assert emu.requests() == []


def test_validation_of_100000_rows(agcod, emu, tmp_path):
    """every row checked and totalled; how fast is bench/batch_validate.py's
    to measure, not a test's to assert on a shared machine"""
    emu.state.funds = __import__("decimal").Decimal("10000000.00")
    f = write(tmp_path, "big.csv", "amount,email\n" +
              "".join(f"{1 + i % 50},u{i}@x.test\n" for i in range(100000)))
    r = agcod("batch", "create", f, "--dry-run", "-o", "json", timeout=120)
    assert r.rc == 0, r
    d = r.json()
    assert d["rows"] == 100000 and d["covered"] is True
    # 2,000 of each amount from 1 to 50
    assert d["totals"] == [{"currency": "USD", "amount": "2550000.00", "rows": 100000,
                            "to_issue": "2550000.00"}]
    assert [q["op"] for q in emu.requests()] == ["GetAvailableFunds"]


def run_on_terminals(agcod, args, stdout_tty):
    """Run agcod with stderr (and maybe stdout) on a pseudo-terminal."""
    import pty
    import select
    masters, slaves = {}, []
    m, s = pty.openpty()
    masters[m] = "err"
    slaves.append(s)
    out = subprocess.PIPE
    if stdout_tty:
        mo, so = pty.openpty()
        masters[mo] = "out"
        slaves.append(so)
        out = so
    p = subprocess.Popen([AGCOD, *map(str, args)], env=agcod.env, stdin=subprocess.DEVNULL,
                         stdout=out, stderr=s)
    for fd in slaves:
        os.close(fd)
    got = {"err": b"", "out": b""}
    fds = list(masters) + ([p.stdout.fileno()] if not stdout_tty else [])
    deadline = time.monotonic() + 60
    while fds and time.monotonic() < deadline:
        ready, _, _ = select.select(fds, [], [], 0.5)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                fds.remove(fd)
                continue
            got[masters.get(fd, "out")] += data
    p.wait(timeout=30)
    for fd in masters:
        os.close(fd)
    return p.returncode, got["out"].decode(), got["err"].decode()


def test_progress_bar_never_mixes_with_rows_on_a_terminal(agcod, emu, tmp_path):
    f = write(tmp_path, "p.csv", "amount\n1\n2\n3\n")
    rc, out, err = run_on_terminals(agcod, ["batch", "create", f, "-o", "json"], False)
    assert rc == 0, err
    assert "ETA" in err and "3/3" in err            # rows to a pipe: the bar on the terminal
    assert len(out.splitlines()) == 3 and "ETA" not in out
    assert "3 issued" in err                          # the summary, on stderr
    rc, out, err = run_on_terminals(agcod, ["batch", "create", f, "--reprint"], True)
    assert rc == 0, err
    assert "ETA" not in err and "ETA" not in out     # rows on a terminal: no bar
    assert "CLAIM CODE" in out and "3 issued" in err


def test_new_batch_refused_while_an_outcome_is_unknown(agcod, emu, tmp_path):
    f = write(tmp_path, "u.csv", "amount\n1\n2\n")
    emu.fault("drop", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "batch", "create", f, "-o", "json",
              "--no-funds-check")           # see test_unknown_and_failed_rows_exit_75
    assert r.rc == 75, r
    n = len(emu.requests("CreateGiftCard"))
    r = agcod("batch", "create", f, "--new-batch")
    assert r.rc == 75 and "line 2" in r.err and "unknown" in r.err, r
    assert len(emu.requests("CreateGiftCard")) == n
    assert agcod("batch", "create", f, "-o", "json").rc == 0    # settles it
    assert emu.state.creates == 2
    r = agcod("batch", "create", f, "--new-batch", "-o", "json")
    assert r.rc == 0 and emu.state.creates == 4, r


def test_row_ids_follow_the_contract_with_a_20_character_partner(tmp_path):
    from conftest import Agcod
    a = Agcod(tmp_path)
    partner = "Partner0123456789ABC"                      # 20: the longest allowed
    a.write_config(partner_id=partner, endpoint="https://127.0.0.1:9")
    f = write(tmp_path, "p.csv", "amount,email\n1,a@x\n1,a@x\n2,b@x\n")
    r = a("--retry-for", "0", "batch", "create", f, "-o", "json", "--no-funds-check")
    rows = r.jsonl()                                      # nothing can be sent here
    assert len(rows) == 3 and all(x["status"] != "SUCCESS" for x in rows), r
    ids = [x["request_id"] for x in rows]
    assert len(set(ids)) == 3
    for i in ids:
        assert i.startswith(partner + "B") and i.isalnum() and len(i) == 40, i


def test_second_sigint_stops_at_once_and_the_rerun_settles(agcod, emu, tmp_path):
    f = write(tmp_path, "s.csv", "amount\n1\n2\n")
    emu.fault("delay", count=1, seconds=3, op="CreateGiftCard")
    p = subprocess.Popen([AGCOD, "batch", "create", str(f), "-o", "json"], env=agcod.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not emu.requests("CreateGiftCard") and time.monotonic() < deadline:
        time.sleep(0.01)
    p.send_signal(signal.SIGINT)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == -signal.SIGINT, err       # the default action: at once
    assert out == ""
    (rid,) = final_states(agcod)
    assert final_states(agcod)[rid] == "pending"      # sent, outcome not seen
    time.sleep(3)                                     # the emulator finishes it
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 0, r
    assert emu.state.creates == 2 and r.jsonl()[0]["request_id"] == rid
    assert final_states(agcod)[rid] == "succeeded"


def test_reprint_of_a_cancelled_card_hands_out_no_dead_code(agcod, emu, tmp_path):
    """Amazon answers a repeated id of a cancelled card with
    RefundedToPurchaser: a batch must not print that claim code"""
    f = write(tmp_path, "gifts.csv", "amount,email\n5,a@example.com\n")
    first = agcod("batch", "create", f, "-o", "json")
    assert first.rc == 0, first
    row = first.jsonl()[0]
    assert agcod("cancel", "--request-id", row["request_id"]).rc == 0
    # the row's card is not issued any more: a re-run asks again, same id
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 65, r
    out = r.jsonl()[0]
    assert out["status"] == "CANCELLED" and not out.get("gcClaimCode"), out
    assert row["gcClaimCode"] not in r.out and "RefundedToPurchaser" in r.err
    card = [o for o in agcod.objects() if o["request_id"] == row["request_id"]]
    assert card[0]["state"] == "cancelled"


def test_json_rows_escape_c1_controls_from_the_service(agcod, emu, tmp_path, monkeypatch):
    """every JSON line goes through output_json: an 8-bit CSI from the
    service is written as \\u009b, never as the raw bytes"""
    import agcod_emulator
    monkeypatch.setitem(agcod_emulator.MOCKS, "F2005", (
        "F200", "Invalid\u009b31mCurrency", "bad", "FAILURE"))
    f = write(tmp_path, "c1.csv", "amount,request_id\n5,F2005\n")
    r = agcod("batch", "create", f, "-o", "json")
    assert r.rc == 65, r
    assert "\u009b" not in r.out and "\\u009b" in r.out, r.out
    assert json.loads(r.out.splitlines()[0])["errorType"] == "Invalid\u009b31mCurrency"
