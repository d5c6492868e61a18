"""funds: the forecast from the journal (average daily spend of the last 14
days, days left), --below-days, and a quiet cron line that prints nothing
unless a threshold is crossed, and then one line that names it."""
from decimal import Decimal as D


def set_funds(emu, amount):
    emu.state.funds = D(amount)


def test_forecast_counts_issued_cards_and_loads_of_the_last_14_days(agcod, emu):
    a = agcod("create", "--amount", "10.00", "-o", "json").json()
    agcod("create", "--amount", "18.00", "-o", "json")
    agcod("load", "--amount", "14.00", "--account-id", "amz1.account.F", "-o", "json")
    # a cancelled card gave its money back; an old card is outside the window
    assert agcod("cancel", "--request-id", a["creationRequestId"]).rc == 0
    old = agcod("create", "--amount", "500", "-o", "json").json()
    agcod.tamper("UPDATE objects SET time = '2020-01-01T00:00:00Z' "
                 "WHERE request_id = ?", old["creationRequestId"])
    set_funds(emu, "100.00")
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    # (18 + 14) / 14 = 2.2857... a day: 2.28, exact and rounded down
    assert "average spend over the last 14 days: 2.28 USD a day" in r.err, r.err
    assert "the funds last 43 more days" in r.err        # 10000 // 228
    assert r.json()["availableFunds"]["amount"] == 100.0  # the body unchanged
    assert agcod("funds", "--below-days", "44", "-o", "json").rc == 1
    assert agcod("funds", "--below-days", "43", "-o", "json").rc == 0


def test_no_spend_no_forecast_and_below_days_never_fires(agcod, emu):
    r = agcod("funds", "--below-days", "3650", "-o", "json")
    assert r.rc == 0 and "no forecast" in r.err, r


def test_forecast_of_a_java_exponent_balance(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, currency="USD")
    agcod("create", "--amount", "1400", "-o", "json")
    set_funds(emu, "20000000")       # printed as 2.0E7
    r = agcod("funds", "-o", "json")
    assert r.rc == 0 and "the funds last 200000 more days" in r.err, r.err


def test_quiet_cron_line_prints_nothing_unless_crossed(agcod, emu):
    r = agcod("-q", "funds", "--below", "500", "-o", "json")
    assert (r.rc, r.out, r.err) == (0, "", "")
    set_funds(emu, "499.99")
    r = agcod("-q", "funds", "--below", "500", "-o", "json")
    # crossed: the one line cron mails names the threshold and the funds
    assert r.rc == 1 and r.out == "" and r.err == (
        "agcod: available funds 499.99 USD are below --below 500\n"), r
    # without a threshold, -q still prints the result it was asked for
    r = agcod("-q", "funds", "-o", "json")
    assert r.rc == 0 and r.json()


def test_below_days_bad_values(agcod, emu):
    for v in ("0", "-1", "x", "99999"):
        r = agcod("funds", "--below-days", v)
        assert r.rc == 64 and "--below-days" in r.err, (v, r)
    assert emu.requests() == []
