"""agcod config list / config profiles: every effective setting and where
it came from, the secret only as its last four characters."""
import json

from conftest import KEY_ID, PARTNER, SECRET


def settings(agcod, *args, env=None):
    r = agcod(*args, "config", "list", "-o", "json", env=env)
    assert r.rc == 0, r
    return r.json(), r


def no_secret(r, secret=SECRET):
    """no run of 8 characters of the secret but its last four"""
    for i in range(len(secret) - 4 - 8 + 1):
        assert secret[i:i + 8] not in r.out + r.err, r
    assert secret[-5:] not in r.out + r.err, r


def test_config_list_names_file_lines(offline):
    offline.write_config(endpoint="https://127.0.0.1:9", key_created="2026-05-01")
    s, r = settings(offline)
    cfg = str(offline.config)
    lines = offline.config.read_text().splitlines()
    line = {l.split(" = ")[0]: n + 1 for n, l in enumerate(lines) if " = " in l}
    assert s["profile"] == {"value": "default", "origin": "default"}
    assert s["config"] == {"value": cfg, "origin": "AGCOD_CONFIG"}
    for k, v in (("partner_id", PARTNER), ("access_key_id", KEY_ID),
                 ("region", "na"), ("environment", "sandbox"), ("currency", "USD"),
                 ("endpoint", "https://127.0.0.1:9"), ("key_created", "2026-05-01")):
        assert s[k] == {"value": v, "origin": f"{cfg}:{line[k]}"}, k
    assert s["secret_access_key"] == {"value": "****" + SECRET[-4:],
                                      "origin": f"{cfg}:{line['secret_access_key']}"}
    assert s["max_rps"] == {"value": "10", "origin": "default"}
    assert s["ca_bundle"] == {"value": "system", "origin": "default"}
    assert s["state_dir"] == {"value": str(offline.state), "origin": "AGCOD_STATE_DIR"}
    no_secret(r)


def test_config_list_environment_and_options_win(offline):
    other = "OtherSecretValue0123456789zzzz"
    s, r = settings(offline, "--region", "eu", "--state-dir", "/tmp/x",
                    env={"AGCOD_ENVIRONMENT": "production",
                         "AGCOD_SECRET_ACCESS_KEY": other,
                         "AGCOD_REGION": "fe", "AGCOD_PROFILE": "default"})
    assert s["region"] == {"value": "eu", "origin": "--region"}
    assert s["environment"] == {"value": "production", "origin": "AGCOD_ENVIRONMENT"}
    assert s["secret_access_key"] == {"value": "****" + other[-4:],
                                      "origin": "AGCOD_SECRET_ACCESS_KEY"}
    assert s["profile"]["origin"] == "AGCOD_PROFILE"
    assert s["state_dir"] == {"value": "/tmp/x", "origin": "--state-dir"}
    no_secret(r, other)
    no_secret(r)


def test_config_list_table_and_short_secret(offline):
    offline.write_config(secret_access_key="short1234")
    r = offline("config", "list", "-o", "table")
    assert r.rc == 0, r
    row = [l for l in r.out.splitlines() if l.startswith("secret_access_key ")][0]
    assert row.split()[1] == "****", row
    assert "1234" not in r.out and "short" not in r.out


def test_config_list_does_not_run_the_secret_command(offline, tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "secret.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho s3cr3tvalue1234567\n")
    script.chmod(0o700)
    offline.write_config(secret_access_key=None, secret_access_key_command=str(script))
    s, r = settings(offline)
    assert s["secret_access_key_command"]["value"] == str(script)
    assert "secret_access_key" not in s
    assert not marker.exists()


def test_config_list_errors_name_the_line_not_the_secret(offline):
    offline.write_config(region="us")
    r = offline("config", "list")
    assert r.rc == 78 and "line 5: region is not one of" in r.err, r
    no_secret(r)


def test_config_profiles(offline, tmp_path):
    offline.write_config("[default]\npartner_id = A\n# [not]\n[prod]\nregion = na\n"
                         "[sandbox-2]\n")
    r = offline("config", "profiles")
    assert r.rc == 0 and r.out.splitlines() == ["default", "prod", "sandbox-2"], r
    other = tmp_path / "other.ini"
    other.write_text("[x]\n")
    r = offline("-c", str(other), "config", "profiles")
    assert r.rc == 0 and r.out == "x\n", r
    # no configuration file at all: no profiles, not an error
    offline.env.pop("AGCOD_CONFIG")
    r = offline("config", "profiles")
    assert r.rc == 0 and r.out == "", r


def test_config_usage(offline):
    r = offline("config")
    assert r.rc == 64 and "usage: agcod config list" in r.err
    r = offline("config", "lsit")
    assert r.rc == 64 and "did you mean 'list'?" in r.err
    r = offline("config", "list", "extra")
    assert r.rc == 64


def test_config_list_without_a_configuration_shows_every_setting_unset(offline):
    """as 'aws configure list' does: exit 0, nothing invented (issue 19 item 9)"""
    offline.env.pop("AGCOD_CONFIG")
    s, r = settings(offline)
    assert s["config"]["origin"] == "default (not found)"
    for k in ("partner_id", "access_key_id", "secret_access_key", "currency"):
        assert s[k] == {"value": None, "origin": "-"}, (k, s)
    assert "secret_access_key_command" not in s
    assert s["region"] == {"value": "na", "origin": "default"}
    t = offline("config", "list", "-o", "table")
    assert t.rc == 0, t
    rows = {l.split()[0]: l for l in t.out.splitlines()}
    for k in ("partner_id", "access_key_id", "secret_access_key", "currency"):
        assert rows[k].split()[1] == "<not", rows[k]
        assert "<not set>" in rows[k]
    # a file whose profile lacks keys shows them unset too
    offline.write_config("[default]\npartner_id = Acme1\n")
    s, r = settings(offline, env={"AGCOD_CONFIG": str(offline.config)})
    assert s["partner_id"]["value"] == "Acme1"
    assert s["access_key_id"] == {"value": None, "origin": "-"}
