"""The emulator as a program, for an operator's own scripts: --port,
--secret and --write-profile FILE keep the profile working across restarts
(the same port, secret and CA) (issue 19 item 10)."""
import os
import signal
import socket
import stat
import subprocess
import sys
import time

from conftest import AGCOD, ROOT

EMULATOR = os.path.join(ROOT, "tests", "emulator", "agcod_emulator.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, ready):
    if os.path.exists(ready):
        os.unlink(ready)
    p = subprocess.Popen([sys.executable, EMULATOR, *args, "--ready-file", ready],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(600):            # at most 60 s: two RSA keys at first
        if os.path.exists(ready) or p.poll() is not None:
            break
        time.sleep(0.1)
    assert os.path.exists(ready), p.communicate(timeout=10)
    return p


def stop(p):
    p.send_signal(signal.SIGINT)
    try:
        p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()


def funds(profile, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TZ": "UTC",
           "AGCOD_CONFIG": str(profile), "AGCOD_STATE_DIR": str(tmp_path / "state")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return subprocess.run([AGCOD, "funds", "-o", "json"], env=env,
                          capture_output=True, text=True, timeout=60)


def test_port_secret_and_profile_survive_a_restart(tmp_path):
    port, secret = free_port(), "mySecret/For+Tests0123456789abcdefABCD"
    d, profile, ready = tmp_path / "emu", tmp_path / "agcod.ini", str(tmp_path / "ready")
    args = ["--dir", str(d), "--port", str(port), "--secret", secret,
            "--write-profile", str(profile)]
    p = start(args, ready)
    try:
        st = os.stat(profile)
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        text = profile.read_text()
        assert f"secret_access_key = {secret}\n" in text, text
        assert f"endpoint = https://127.0.0.1:{port}\n" in text, text
        ca = (d / "ca.pem").read_bytes()
        r = funds(profile, tmp_path)
        assert r.returncode == 0, r
    finally:
        stop(p)
    # a second start: same port, same secret, same CA; the profile still works
    profile.chmod(0o644)      # and it is written 0600 again
    p = start(args, ready)
    try:
        assert (d / "ca.pem").read_bytes() == ca
        assert stat.S_IMODE(os.stat(profile).st_mode) == 0o600
        r = funds(profile, tmp_path)
        assert r.returncode == 0, r
    finally:
        stop(p)


def test_readme_shows_it():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    assert "--write-profile" in text and "--secret" in text and "--port" in text
