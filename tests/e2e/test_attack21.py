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
