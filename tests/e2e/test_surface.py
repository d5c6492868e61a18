"""The AGCOD surface: amounts as the service prints them, currencies per
region, mock ids, programId/productType, cancel without a gc id."""
import json
from decimal import Decimal as D


def test_funds_reads_java_exponent(agcod, emu):
    # the service is Java: a JPY balance of 10 million prints as 1.0E7
    emu.state.currency = "JPY"
    emu.state.funds = D("10000000")
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    assert '"amount":1.0E7' in r.out        # passed through exactly
    r = agcod("funds", "--below", "20000000", "-o", "json")
    assert r.rc == 1, r
    assert "below" in r.err
    r = agcod("funds", "--below", "500", "-o", "json")
    assert r.rc == 0, r
    r = agcod("funds", "--below", "10000000", "-o", "json")
    assert r.rc == 0, r                     # equal is not below
    r = agcod("funds", "--below", "10000000.01", "-o", "json")
    assert r.rc == 1, r


def test_funds_reads_small_exponent(agcod, emu):
    emu.state.funds = D("0.0005")            # Java: 5.0E-4
    r = agcod("funds", "-o", "json")
    assert r.rc == 0 and '"amount":5.0E-4' in r.out, r
    assert agcod("funds", "--below", "0.001").rc == 1
    assert agcod("funds", "--below", "0.0005").rc == 0
