"""agcod verify (a harmless signed GetAvailableFunds and what it proved) and
the key rotation reminder (from 150 days, at most once a day per profile)."""
import datetime
import os
import stat

from conftest import KEY_ID, PARTNER, SECRET


def days_ago(n):
    d = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=n)
    return d.isoformat()


def today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def test_verify_reports_what_it_proved(agcod, emu):
    r = agcod("verify", "-o", "json")
    assert r.rc == 0, r
    d = r.json()
    assert d["verified"] is True
    assert d["access_key_id"] == KEY_ID and d["partner_id"] == PARTNER
    assert d["environment"] == "sandbox" and d["region"] == "na"
    assert d["signing_region"] == "us-east-1"
    assert d["endpoint"] == emu.endpoint
    assert abs(d["clock_offset_s"]) <= 2
    assert d["key_created"] is None and d["key_age_days"] is None
    assert d["available_funds"]["currencyCode"] == "USD"
    assert d["http_status"] == 200 and d["amazon_request_id"]
    assert [q["op"] for q in emu.requests()] == ["GetAvailableFunds"]
    assert agcod.journal() == []
    assert SECRET not in r.out + r.err


def test_verify_measures_the_clock_offset(agcod, emu):
    emu.clock_offset = 200
    d = agcod("verify", "-o", "json").json()
    assert 198 <= d["clock_offset_s"] <= 202, d
    emu.clock_offset = -95
    r = agcod("verify", "-o", "table")
    assert r.rc == 0, r
    row = [l for l in r.out.splitlines() if l.startswith("clock_offset")][0]
    assert any(f"{v:+d} s" in row for v in range(-97, -92)), row


def test_verify_shows_the_key_age(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       key_created=days_ago(40))
    d = agcod("verify", "-o", "json").json()
    assert d["key_created"] == days_ago(40) and d["key_age_days"] == 40
    created = datetime.date.fromisoformat(days_ago(40))
    assert d["rotate_by"] == (created + datetime.timedelta(days=180)).isoformat()
    r = agcod("verify", "-o", "table")
    assert f"40 days (created {days_ago(40)}; rotate by" in r.out, r
    assert "warning" not in r.err


def test_verify_a_new_key_before_switching(agcod, emu):
    emu.keys["AKIDNEWKEY"] = "new/secret+key"
    text = agcod.config.read_text() + (
        f"[new-key]\npartner_id = {PARTNER}\naccess_key_id = AKIDNEWKEY\n"
        f"secret_access_key = new/secret+key\nendpoint = {emu.endpoint}\n"
        f"ca_bundle = {emu.ca}\n")
    agcod.write_config(text)
    d = agcod("verify", "-p", "new-key", "-o", "json").json()
    assert d["access_key_id"] == "AKIDNEWKEY"


def test_verify_unknown_key_is_77(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca, access_key_id="AKIDGONE")
    r = agcod("verify", "-o", "json")
    assert r.rc == 77, r
    assert r.out == ""
    assert "did not accept access key 'AKIDGONE' for partner 'Acme1'" in r.err
    assert SECRET not in r.err


def test_verify_wrong_secret_is_65(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       secret_access_key="not/the+right/secret")
    r = agcod("verify")
    assert r.rc == 65 and r.out == "", r
    assert "not/the+right" not in r.err


def test_verify_unreachable_service(agcod, emu):
    agcod.write_config(endpoint="https://127.0.0.1:9", ca_bundle=emu.ca)
    r = agcod("verify", "--retry-for", "0")
    assert r.rc in (69, 75), r
    assert r.out == "" and "did not accept" in r.err


# ---- the rotation reminder ----

def reminder(agcod, profile="default"):
    return agcod.state / f"key-reminder-{profile}"


def test_reminder_from_150_days_once_a_day(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       key_created=days_ago(149))
    r = agcod("funds", "-o", "json")
    assert r.rc == 0 and "warning" not in r.err, r
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       key_created=days_ago(152))
    r = agcod("funds", "-o", "json")
    assert r.rc == 0, r
    assert (f"warning: the access key '{KEY_ID}' of profile 'default' is 152 days "
            "old: rotate it by") in r.err, r
    assert "KEY ROTATION" in r.err
    f = reminder(agcod)
    assert f.read_text() == today()
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    # the same day: quiet
    for args in (["funds", "-o", "json"], ["history"], ["sign-debug", "funds"]):
        r = agcod(*args)
        assert "warning: the access key" not in r.err, (args, r)
    # a new day: once more
    f.write_text(days_ago(1))
    r = agcod("history", "-o", "json")    # reads no profile: no reminder
    assert "warning: the access key" not in r.err, r
    r = agcod("sign-debug", "funds", "-o", "json")
    assert r.err.count("warning: the access key") == 1, r
    assert f.read_text() == today()


def test_reminder_past_180_days(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       key_created=days_ago(200))
    r = agcod("funds", "-o", "json")
    assert "is 200 days old: Amazon asks for a new key every 180 days; rotate it now" in r.err


def test_reminder_per_profile_and_quiet(agcod, emu):
    text = (f"[default]\npartner_id = {PARTNER}\naccess_key_id = {KEY_ID}\n"
            f"secret_access_key = {SECRET}\nendpoint = {emu.endpoint}\n"
            f"ca_bundle = {emu.ca}\nkey_created = {days_ago(170)}\n"
            f"[other/../x]\npartner_id = {PARTNER}\naccess_key_id = {KEY_ID}\n"
            f"secret_access_key = {SECRET}\nendpoint = {emu.endpoint}\n"
            f"ca_bundle = {emu.ca}\nkey_created = {days_ago(170)}\n")
    agcod.write_config(text)
    r = agcod("-q", "sign-debug", "funds", "-o", "json")
    assert r.err == "", r
    assert not reminder(agcod).exists()
    assert "warning" in agcod("sign-debug", "funds", "-o", "json").err
    r = agcod("-p", "other/../x", "sign-debug", "funds", "-o", "json")
    assert "profile 'other/../x'" in r.err, r
    assert sorted(p.name for p in agcod.state.iterdir()
                  if p.name.startswith("key-reminder-")) == [
        "key-reminder-default", "key-reminder-other_.._x"]


def test_reminder_never_follows_a_link_nor_blocks(agcod, emu, tmp_path):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       key_created=days_ago(160))
    agcod.state.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = tmp_path / "target"
    reminder(agcod).symlink_to(target)
    r = agcod("sign-debug", "funds", "-o", "json")
    assert r.rc == 0 and "160 days old" in r.err, r
    assert not target.exists()
    reminder(agcod).unlink()
    os.mkfifo(reminder(agcod))
    r = agcod("sign-debug", "funds", "-o", "json", timeout=20)
    assert r.rc == 0 and "160 days old" in r.err, r


def test_key_created_must_be_a_date(offline):
    offline.write_config(key_created="May 1st")
    r = offline("sign-debug", "funds")
    # the value is not quoted: it may be a misplaced secret (issue 18)
    assert r.rc == 78 and "key_created is not a date YYYY-MM-DD" in r.err, r
    assert "May 1st" not in r.err
