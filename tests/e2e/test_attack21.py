"""Attacks on the PostgreSQL journal (issue 21) that found defects: a
host name that only looks like loopback, and a password inside a
connection string libpq cannot read."""
import pytest


@pytest.mark.parametrize("uri", [
    "host=127.attacker.example dbname=agcod",
    "postgresql://agcod@127.0.0.1.attacker.example/agcod",
])
def test_a_host_name_that_begins_like_loopback_needs_verify_full(
        agcod, emu, uri):
    """127.x.example is a name DNS resolves anywhere, not 127.0.0.0/8"""
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 78, r
    assert "is not on this machine: add sslmode=verify-full" in r.err
    assert emu.requests() == []


@pytest.mark.parametrize("uri,secret", [
    ("postgresql:///agcod?host=/tmp/none&password=Pa55w%zzSecret",
     "Pa55w"),
    ("host=/tmp/none dbname=agcod password=Pa55w Secret-Tail",
     "Secret-Tail"),
])
def test_a_password_in_a_string_libpq_cannot_read_is_not_printed(
        agcod, emu, uri, secret):
    r = agcod("create", "--amount", "1", env={"AGCOD_JOURNAL": uri})
    assert r.rc == 78, r
    assert "not one libpq reads" in r.err
    assert secret not in r.err + r.out
    assert emu.requests() == []
