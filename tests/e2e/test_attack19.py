"""Issue 19's features attacked as a stranger would: one test each.

Each test failed on the code before its fix (the two that a later
refusal must not settle failed until the evidence rule of issue 18 landed)."""

import pytest

from conftest import PARTNER


@pytest.mark.parametrize("refusal", ["gw_not_json_type", "gw_unsupported_media",
                                     "throttle", "throttled_code"])
def test_a_later_refusal_never_fails_a_card_the_service_may_hold(agcod, emu, refusal):
    """the first run is processed and answered by a proxy's 502 (unknown);
    a repeat of the id that the gateway refuses, or throttles, proves
    nothing about that first run: the card stays unknown for reconcile"""
    rid = PARTNER + "_h19-1"
    emu.fault("acted_html502", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "1", "--request-id", rid)
    assert r.rc == 75 and emu.state.creates == 1, r
    emu.fault(refusal, count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "create", "--amount", "1", "--request-id", rid)
    assert r.rc == 75, r
    assert [o["state"] for o in agcod.objects()] == ["unknown"]
    r = agcod("reconcile")
    assert r.rc == 0 and "nothing to reconcile" not in r.err, r
    assert [o["state"] for o in agcod.objects()] == ["issued"]



def test_reconcile_keeps_an_unknown_card_open_after_a_gateway_refusal(agcod, emu):
    emu.fault("acted_html502", count=1, op="CreateGiftCard")
    assert agcod("--retry-for", "0", "create", "--amount", "1").rc == 75
    emu.fault("gw_not_json_type", count=1, op="CreateGiftCard")
    r = agcod("--retry-for", "0", "reconcile")
    assert r.rc == 75, r
    assert [o["state"] for o in agcod.objects()] == ["unknown"]
    r = agcod("reconcile")
    assert r.rc == 0 and [o["state"] for o in agcod.objects()] == ["issued"], r

def test_a_delimiter_that_is_part_of_an_amount_is_refused(agcod, emu, tmp_path):
    """--delimiter . split 5.50 into an amount of 5 and a column of 50:
    a card of the wrong value; the decimal point cannot be a separator"""
    f = tmp_path / "dots.csv"
    f.write_text("amount.name\n5.50\n")
    r = agcod("batch", "create", f, "--delimiter", ".", "-o", "json")
    assert "nor '.'" in r.err, r
    assert r.rc == 64 and "--delimiter" in r.err, r
    assert emu.requests() == []
    for sep in ("-", "_"):              # request ids hold them (issue 19, 14)
        r = agcod("batch", "create", f, "--delimiter", sep, "-o", "json")
        assert r.rc == 64 and "--delimiter" in r.err, r
    assert emu.requests() == []


def test_a_utf16_spreadsheet_export_says_to_save_it_as_utf8(agcod, emu, tmp_path):
    """Excel's "Unicode Text" is UTF-16: "holds a NUL byte" said nothing
    an operator could act on"""
    f = tmp_path / "team.txt"
    f.write_bytes("amount\tname\r\n5\tAnn\r\n".encode("utf-16"))
    r = agcod("batch", "create", f, "--dry-run")
    assert r.rc == 64 and "UTF-16" in r.err and "UTF-8" in r.err, r
    assert emu.requests() == []


def test_a_gateway_refusal_without_a_type_reads_cleanly(agcod, emu):
    """'(HTTP 400 ): class java.lang.String ...': a space before the
    parenthesis when the answer names no type"""
    emu.fault("gw_not_json_type", count=1, op="CreateGiftCard")
    r = agcod("create", "--amount", "1")
    assert r.rc == 65, r
    assert "(HTTP 400): class java.lang.String" in r.err, r


def test_the_resume_hint_never_appends_a_second_header(agcod, emu, tmp_path):
    """'leave out --out and add >> FILE' wrote the BOM and the header line
    again in the middle of FILE, then every row FILE already had: the
    resumed run prints the whole batch, so its file replaces the old one"""
    f = tmp_path / "team.csv"
    f.write_bytes("\ufeffname,amount,request_id\r\nAnn,1,\r\nBob,2,F3003\r\n".encode())
    out = tmp_path / "cards.csv"
    r = agcod("batch", "create", f, "--out", out, "--no-funds-check")
    assert r.rc == 77, r
    hint = r.err[r.err.index("to resume"):]
    assert ">>" not in hint, hint
    assert "--out NEW_FILE" in hint and "move NEW_FILE over '%s'" % out in hint, hint


def test_ctrl_c_at_the_production_prompt_leaves_no_out_file(agcod, emu, tmp_path):
    """Ctrl-C at 'proceed? [y/N]' killed agcod with the --out file already
    created, empty: the rerun with the same --out was refused ('File
    exists').  The file is created once the run is confirmed"""
    import fcntl
    import os
    import pty
    import select
    import signal
    import subprocess
    import termios
    import time
    from conftest import AGCOD
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, environment="production")
    f = tmp_path / "team.csv"
    f.write_text("amount\n1.00\n")
    out = tmp_path / "cards.csv"
    m, s = pty.openpty()

    def tty():
        os.setsid()
        fcntl.ioctl(s, termios.TIOCSCTTY, 0)

    p = subprocess.Popen([AGCOD, "batch", "create", str(f), "--out", str(out)],
                         env=agcod.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=tty, pass_fds=(s,))
    os.close(s)
    got, deadline = b"", time.monotonic() + 30
    while b"proceed?" not in got and time.monotonic() < deadline:
        if select.select([m], [], [], 0.5)[0]:
            try:
                got += os.read(m, 4096)
            except OSError:
                break
    assert b"proceed?" in got, got
    os.write(m, b"\x03")                                # Ctrl-C on the terminal
    p.wait(timeout=30)
    os.close(m)
    assert p.returncode == -signal.SIGINT
    assert emu.requests("CreateGiftCard") == []
    assert not out.exists()


def test_a_file_with_cr_line_ends_says_so(agcod, emu, tmp_path):
    """Excel for Mac's old "CSV (Macintosh)" ends lines in CR alone: the
    whole file was one header line, 'no rows after the header'"""
    f = tmp_path / "mac.csv"
    f.write_bytes(b"amount,name\r1,Ann\r2,Bob\r")
    r = agcod("batch", "create", f, "--dry-run")
    assert r.rc == 64 and "CR" in r.err and "UTF-8" in r.err, r
    assert emu.requests() == []


def test_a_dry_run_with_no_funds_check_asks_no_funds(agcod, emu, tmp_path):
    """a partner whose funds view is unavailable gives --no-funds-check:
    its dry run still asked for the funds and failed (exit 69), so the
    totals could never be checked with exit 0"""
    emu.fault("html500", count=100, op="GetAvailableFunds")
    f = tmp_path / "p.csv"
    f.write_text("amount\n1\n2.50\n")
    r = agcod("--retry-for", "0", "batch", "create", f, "--dry-run", "--no-funds-check",
              "-o", "json")
    assert r.rc == 0, r
    d = r.json()
    assert d["totals"][0]["amount"] == "3.50" and "available_funds" not in d, d
    assert emu.requests() == []


def test_an_empty_out_name_is_refused_before_the_funds_are_asked(agcod, emu, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("amount\n1\n")
    r = agcod("batch", "create", f, "--out", "")
    assert r.rc == 64 and "--out" in r.err, r
    assert emu.requests() == []


def test_bidi_overrides_are_shown_not_obeyed(agcod, emu, tmp_path):
    """U+202E in a name reached the terminal raw: the rest of the row, the
    claim code included, could be shown right to left, a code read
    backwards.  Shown as \\xNN like C1 controls, in tables and errors"""
    f = tmp_path / "p.csv"
    f.write_text("amount,name\n1,\u202eevil\u2066x\u2028y\n")
    r = agcod("batch", "create", f, "-o", "table")
    assert r.rc == 0, r
    assert "\\xE2\\x80\\xAEevil\\xE2\\x81\\xA6x\\xE2\\x80\\xA8y" in r.out, r
    for ch in ("\u202e", "\u2066", "\u2028"):
        assert ch not in r.out and ch not in r.err, r
    r = agcod("history", "--state", "\u202eissued")
    assert r.rc == 64 and "\u202e" not in r.err and "\\xE2\\x80\\xAE" in r.err, r
