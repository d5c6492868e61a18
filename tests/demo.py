#!/usr/bin/python3
"""make demo: a short agcod session against the bundled AGCOD emulator.

Starts the emulator on 127.0.0.1 with a fresh CA, writes a temporary
profile (mode 0600), runs funds, create, cancel and sign-debug --send the
way an operator would type them, and stops the emulator.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "emulator"))
sys.path.insert(0, os.path.join(HERE, "lib"))
import agcod_emulator  # noqa: E402


def main():
    agcod = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./agcod")
    with tempfile.TemporaryDirectory(prefix="agcod-demo-") as tmp:
        certs = agcod_emulator.make_certificates(tmp)
        secret = "demo-secret-" + os.urandom(8).hex()
        emu = agcod_emulator.Emulator(certs, partner="Demo1", access_key_id="AKIDDEMO",
                                      secret=secret, funds="500.00").start()
        cfg = os.path.join(tmp, "config.ini")
        fd = os.open(cfg, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[default]\npartner_id = Demo1\naccess_key_id = AKIDDEMO\n"
                    f"secret_access_key = {secret}\nregion = na\nenvironment = sandbox\n"
                    f"currency = USD\nendpoint = {emu.endpoint}\nca_bundle = {certs[0]}\n")
        env = dict(os.environ, AGCOD_CONFIG=cfg, AGCOD_STATE_DIR=os.path.join(tmp, "state"))
        print(f"# emulator at {emu.endpoint}; profile {cfg}\n")

        def run(*args, show=True):
            print("$ agcod " + " ".join(shlex.quote(a) for a in args), flush=True)
            p = subprocess.run([agcod, *args], env=env, capture_output=True, text=True,
                               timeout=60)
            if show:
                sys.stdout.write(p.stdout)
            sys.stdout.write(p.stderr)
            print(f"# exit status {p.returncode}\n", flush=True)
            return p

        try:
            run("funds", "-o", "table")
            p = run("create", "--amount", "19.99", "-o", "json")
            card = json.loads(p.stdout)
            run("cancel", "--request-id", card["creationRequestId"],
                "--gc-id", card["gcId"], "-o", "table")
            run("funds", "--below", "1000", "-o", "table")
            run("create", "--amount", "5", "--request-id", "F3003", "-o", "json")
            run("sign-debug", "funds", "--send", "-o", "table")
        finally:
            emu.stop()
    print("# the emulator is stopped; see README.md for using it with your own scripts")


if __name__ == "__main__":
    main()
