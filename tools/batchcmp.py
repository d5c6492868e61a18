#!/usr/bin/python3
"""batchcmp: two agcod binaries, the same 'batch create' runs, the same bytes.

  tools/batchcmp.py OLD_AGCOD NEW_AGCOD [SCENARIO ...]

For a restructuring that must not change behaviour: each scenario (a list
of steps: files written, emulator state or faults set, one agcod command)
runs once per binary, each against a fresh emulator (tests/emulator) whose
gcIds and claim codes come from a seeded generator, in a fresh directory.
Compared after every step: exit status, stdout, stderr, every file the
step left in the directory (bytes and mode), the requests on the wire
(operation, target, body) and the emulator's answers, and the journal's
requests and objects rows.  Times, ports, process ids and the directory's
path are masked.  Prints one line per scenario and exits 1 on a difference.
"""
import decimal
import difflib
import fcntl
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
import agcod_emulator  # noqa: E402

D = decimal.Decimal
SECRET = "emuSecret/Key+Value0123456789abcdefABCDEF"
KEY_ID = "AKIDEMULATOR"
PARTNER = "Acme1"

MASKS = [
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?"), "TIME"),
    (re.compile(r"\d{8}T\d{6}Z"), "TIME"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                r"[0-9a-f]{12}"), "UUID"),
    (re.compile(r"process \d+"), "process PID"),
    (re.compile(r"\d+\.\d s"), "N.N s"),
    (re.compile(r"\d+(\.\d+)?/s ETA \d+:\d\d"), "RATE"),
]
DROP_COLUMNS = {"pid", "pid_start", "clock_skew_s", "id", "last_request"}

CSV3 = "amount,currency,external_reference,name\n19.99,USD,ref-1,Ann\n" \
       "5,usd,ref-2,Bob\n5.00,USD,,=SUM(A1)\n"


class Seeded:
    """secrets.choice, from a seeded generator: the same cards each run"""
    def __init__(self):
        self.r = random.Random(20)

    def choice(self, seq):
        return self.r.choice(seq)

    def token_hex(self, n=32):
        return "%0*x" % (2 * n, self.r.getrandbits(8 * n))


def mask(text, tmp):
    text = text.replace(tmp, "TMP")
    for rx, rep in MASKS:
        text = rx.sub(rep, text)
    return text


def journal(path, tmp):
    out = {}
    if not os.path.exists(path):
        return out
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        for table in ("requests", "objects"):
            cur = db.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [d[0] for d in cur.description]
            out[table] = [{k: mask(str(v), tmp) for k, v in zip(names, row)
                           if v is not None and k not in DROP_COLUMNS}
                          for row in cur.fetchall()]
    finally:
        db.close()
    return out


def config(tmp, emu, **keys):
    base = {"partner_id": PARTNER, "access_key_id": KEY_ID,
            "secret_access_key": SECRET, "region": "na",
            "environment": "sandbox", "currency": "USD",
            "endpoint": emu.endpoint, "ca_bundle": emu.ca}
    base.update(keys)
    text = "[default]\n" + "".join(f"{k} = {v}\n" for k, v in base.items()
                                   if v is not None)
    path = os.path.join(tmp, "config.ini")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def run_scenario(binary, steps, certs):
    """every step's observations, masked"""
    tmp = tempfile.mkdtemp(prefix="batchcmp.")
    work = os.path.join(tmp, "w")
    os.mkdir(work)
    os.mkdir(os.path.join(tmp, "home"))
    agcod_emulator.secrets = Seeded()
    emu = agcod_emulator.Emulator(certs, partner=PARTNER,
                                  access_key_id=KEY_ID, secret=SECRET).start()
    # agcod paces itself; the service's own 1/s on GetAvailableFunds would
    # make a run's bytes depend on the machine's speed
    emu._throttle = lambda op: False
    env = {"PATH": "/usr/bin:/bin", "HOME": os.path.join(tmp, "home"),
           "AGCOD_CONFIG": os.path.join(tmp, "config.ini"),
           "AGCOD_STATE_DIR": os.path.join(tmp, "state"), "TZ": "UTC"}
    obs, inputs, held = [], set(), []
    try:
        config(tmp, emu)
        for step in steps:
            for name, data in step.get("files", {}).items():
                p = os.path.join(work, name)
                with open(p, "wb") as f:
                    f.write(data if isinstance(data, bytes) else
                            data.encode())
                inputs.add(name)
            if "config" in step:
                config(tmp, emu, **step["config"])
            if "funds" in step:
                emu.state.funds = D(step["funds"])
            for kind, kw in step.get("faults", []):
                emu.fault(kind, **kw)
            if "hold_lock" in step:     # another run of the batch, holding it
                os.makedirs(env["AGCOD_STATE_DIR"], mode=0o700,
                            exist_ok=True)
                fd = os.open(os.path.join(env["AGCOD_STATE_DIR"],
                             "batch-%s.lock" % step["hold_lock"]),
                             os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                held.append(fd)
            if "cancel" in step:        # cards cancelled behind agcod's back
                for c in emu.state.cards.values():
                    c["status"] = "RefundedToPurchaser"
            n0 = len(emu.requests())
            stdout = subprocess.PIPE
            if step.get("stdout") == "full":
                stdout = open("/dev/full", "w")
            p = subprocess.run([binary, *step["args"]], env=env, cwd=work,
                               stdout=stdout, stderr=subprocess.PIPE,
                               input=step.get("input", ""), text=True,
                               timeout=120, start_new_session=True)
            if stdout is not subprocess.PIPE:
                stdout.close()
            for fd in held:
                os.close(fd)
            held = []
            files = {}
            for name in sorted(os.listdir(work)):
                p2 = os.path.join(work, name)
                if name in inputs or not os.path.isfile(p2):
                    continue
                with open(p2, "rb") as f:
                    files[name] = (oct(os.stat(p2).st_mode & 0o777),
                                   mask(f.read().decode("utf-8",
                                        "backslashreplace"), tmp))
                os.unlink(p2)       # each step's own output
            wire = [{"op": r["op"], "path": r["path"],
                     "target": {k.lower(): v for k, v in
                                r["headers"]}.get("x-amz-target"),
                     "body": r["body"].decode("utf-8", "backslashreplace"),
                     "status": r["status"],
                     "response": mask(r["response"] if isinstance(
                         r["response"], str) else str(r["response"]), tmp)}
                    for r in emu.requests()[n0:]]
            obs.append({"args": step["args"], "rc": p.returncode,
                        "stdout": mask(p.stdout or "", tmp),
                        "stderr": mask(p.stderr, tmp), "files": files,
                        "wire": wire,
                        "journal": journal(os.path.join(
                            env["AGCOD_STATE_DIR"], "journal.db"), tmp),
                        "state": sorted(os.listdir(env["AGCOD_STATE_DIR"]))
                        if os.path.isdir(env["AGCOD_STATE_DIR"]) else []})
    finally:
        emu.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return obs


def B(*args, **kw):
    """one step: agcod batch ARGS"""
    return dict(args=["batch", *args], **kw)


SCENARIOS = {
    "json": [B("create", "c.csv", "-o", "json", files={"c.csv": CSV3})],
    "table": [B("create", "c.csv", "-o", "table", files={"c.csv": CSV3})],
    "csv": [B("create", "c.csv", "-o", "csv", files={"c.csv": CSV3})],
    "default-format": [B("create", "c.csv", files={"c.csv": CSV3})],
    "out-ext": [B("create", "c.csv", "--out", "r.csv", files={"c.csv": CSV3}),
                B("create", "c.csv", "--reprint", "--out", "r.txt"),
                B("create", "c.csv", "--reprint", "--out", "r.json"),
                B("create", "c.csv", "--reprint", "--out", "r.jsonl"),
                B("create", "c.csv", "--reprint", "--out", "r.table"),
                B("create", "c.csv", "--reprint", "--out", "r"),
                B("create", "c.csv", "--reprint", "--out", "r.csv", "-o",
                  "json")],
    "out-errors": [B("create", "c.csv", "--out", "c.csv",
                     files={"c.csv": CSV3}),
                   B("create", "c.csv", "--out", ""),
                   B("create", "c.csv", "--out", "no/such/dir.csv"),
                   B("create", "c.csv", "--out", "/proc/x.csv")],
    "rerun": [B("create", "c.csv", "-o", "json", files={"c.csv": CSV3}),
              B("create", "c.csv", "-o", "json"),
              B("create", "c.csv", "-o", "table", "--reprint"),
              B("create", "c.csv", "-o", "json", "--new-batch"),
              B("create", "c.csv", "-o", "json", "--reprint"),
              B("create", "c.csv", "--reprint", "--new-batch")],
    "partial-rerun": [
        B("create", "c.csv", "-o", "json",
          files={"c.csv": "amount,name\n5,A\n6,B\n"}),
        B("create", "c.csv", "-o", "csv",
          files={"c.csv": "amount,name\n5,A\n6,B\n7,C\n5,A\n"}),
        B("create", "c.csv", "--reprint",
          files={"c.csv": "amount,name\n5,A\n6,B\n7,C\n5,A\n9,D\n"})],
    "batch-id": [B("create", "c.csv", "--batch-id", "run-1.a", "-o", "json",
                   files={"c.csv": CSV3}),
                 B("create", "c.csv", "--batch-id", "bad id"),
                 B("create", "c.csv", "--batch-id", "x" * 65),
                 B("create", "c.csv", "--batch-id", ""),
                 B("create", ".csv", files={".csv": CSV3}),
                 B("create", "wéird name!.csv", "--dry-run",
                   files={"wéird name!.csv": CSV3})],
    "dry-run": [B("create", "c.csv", "--dry-run", files={"c.csv": CSV3}),
                B("create", "c.csv", "--dry-run", "-o", "json"),
                B("create", "c.csv", "--dry-run", "-o", "table",
                  "--no-funds-check"),
                B("create", "c.csv", "--dry-run", "-o", "json", funds="10"),
                B("create", "c.csv", "-o", "json", funds="100"),
                B("create", "c.csv", "--dry-run", "-o", "json")],
    "funds": [B("create", "c.csv", "-o", "json", funds="10",
                files={"c.csv": CSV3}),
              B("create", "c.csv", "-o", "json", "--no-funds-check"),
              B("create", "c.csv", "-o", "json", "--retry-for", "0",
                funds="1000", faults=[("html500", dict(count=1,
                                         op="GetAvailableFunds"))]),
              B("create", "c.csv", "-o", "json")],
    "given-ids": [
        B("create", "c.csv", "-o", "json",
          files={"c.csv": "request_id,amount\nAcme1X1,5\nAcme1X2,6\n"}),
        B("create", "c.csv", "--new-batch"),
        B("create", "d.csv", files={"d.csv":
          "request_id,amount\nAcme1X1,5\nAcme1X1,6\n"}),
        B("create", "e.csv", "-o", "table", files={"e.csv":
          "request_id,amount\nAcme1X3,5\n,6\n"}),
        B("create", "f.csv", files={"f.csv":
          "request_id,amount\nbad id,5\n"})],
    "extref": [
        B("create", "c.csv", "-o", "json", files={"c.csv":
          "amount,external_reference\n5,r1\n6,r2\n"}),
        B("create", "d.csv", "-o", "json", files={"d.csv":
          "amount,external_reference\n7,r1\n8,r3\n8,r3\n"}),
        B("create", "e.csv", "-o", "json", files={"e.csv":
          "amount,external_reference\n7,r1\n"}),
        B("create", "e.csv", "-o", "json", "--allow-reused-reference")],
    "delimiters": [
        B("create", "s.csv", "-o", "csv", files={"s.csv":
          "amount;name;note\n1,50;x;\"a;b\"\n2;y;c\n"}),
        B("create", "t.tsv", "-o", "csv", "--delimiter", "tab",
          files={"t.tsv": "amount\tname\n3\tx y\n"}),
        B("create", "p.csv", "-o", "table", "--delimiter", "|",
          files={"p.csv": "amount|name\n4|z\n"}),
        B("create", "p.csv", "--delimiter", "."),
        B("create", "p.csv", "--delimiter", "ab"),
        B("create", "p.csv", "--delimiter", "\\t"),
        B("create", "b.csv", "-o", "csv", files={"b.csv":
          b"\xef\xbb\xbfamount,Name\r\n6,=cmd|x\r\n7,+1\r\n"}),
        B("create", "b.csv", "--reprint", "--out", "o.csv")],
    "bad-files": [
        B("create", "missing.csv"),
        B("create", "e.csv", files={"e.csv": ""}),
        B("create", "h.csv", files={"h.csv": "amount,name\n"}),
        B("create", "n.csv", files={"n.csv": "Amount (USD),name\n5,x\n"}),
        B("create", "o.csv", files={"o.csv": "price\n5\n"}),
        B("create", "d.csv", files={"d.csv": "amount,Amount\n5,6\n"}),
        B("create", "r.csv", files={"r.csv": "amount,status,row\n5,a,b\n"}),
        B("create", "x.csv", files={"x.csv": "amount,,name\n5,a,b\n"}),
        B("create", "f.csv", files={"f.csv":
          "amount,name\n5,a\n6\n7,b,c\nabc,d\n-1,e\n5.001,f\n"}),
        B("create", "u.csv", files={"u.csv": b"amount,name\n5,\xff\xfe\n"}),
        B("create", "k.csv", files={"k.csv": "amount,name\n5,a\x01b\n"}),
        B("create", "c1.csv", files={"c1.csv":
          "amount,na\x07me\n5,a\n"}),
        B("create", "q.csv", files={"q.csv": "amount,name\n5,\"open\n"}),
        B("create", "cur.csv", files={"cur.csv":
          "amount,currency\n5,XYZ\n5,EUR\n"}),
        B("create", "big.csv", files={"big.csv":
          "amount\n" + "1\n" * 1000000}),
        B("delete", "c.csv"), B(), B("create"),
        B("create", "a.csv", "b.csv")],
    "limits": [
        B("create", "c.csv", "-o", "json", config=dict(max_amount="10"),
          files={"c.csv": CSV3}),
        B("create", "c.csv", "-o", "json",
          config=dict(max_batch_total="20")),
        B("create", "c.csv", "-o", "json",
          config=dict(environment="production")),
        B("create", "c.csv", "-o", "json", "--yes",
          config=dict(environment="production", max_batch_total="100")),
        B("create", "c.csv", "-o", "table", "--yes", "--new-batch")],
    "faults": [
        B("create", "c.csv", "-o", "json", files={"c.csv": CSV3},
          faults=[("drop", dict(count=1, op="CreateGiftCard"))]),
        B("create", "c.csv", "-o", "json", "--new-batch"),
        B("create", "c.csv", "-o", "json"),
        B("create", "c.csv", "-o", "json", "--new-batch"),
        B("create", "d.csv", "-o", "json", "--no-funds-check", funds="6",
          files={"d.csv": "amount,n\n5,a\n5,b\n5,c\n"}),
        B("create", "d.csv", "-o", "json", funds="100"),
        B("create", "g.csv", "-o", "json", "--retry-for", "0",
          files={"g.csv": "amount,n\n1,a\n2,b\n"},
          faults=[("html500", dict(count=1, op="CreateGiftCard"))]),
        B("create", "g.csv", "-o", "json")],
    "dead-cards": [
        B("create", "c.csv", "-o", "json", files={"c.csv": CSV3}),
        B("create", "c.csv", "-o", "json", "--reprint", cancel=True)],
    "lost-output": [
        B("create", "c.csv", "-o", "json", files={"c.csv": CSV3},
          stdout="full"),
        B("create", "c.csv", "-o", "json"),
        B("create", "c.csv", "-o", "csv", "--reprint", stdout="full")],
    "lock": [B("create", "c.csv", "-o", "json", files={"c.csv": CSV3},
               hold_lock="c"),
             B("create", "c.csv", "--dry-run", hold_lock="c")],
    "verbosity": [
        B("create", "c.csv", "-o", "json", "-v", files={"c.csv": CSV3}),
        B("create", "c.csv", "-o", "json", "-q", "--new-batch"),
        B("create", "c.csv", "-o", "json", "--trace", "tr.txt",
          "--new-batch"),
        B("create", "c.csv", "--help"),
        B("create", "c.csv", "-p", "nosuch")],
}


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    old, new = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    names = argv[2:] or list(SCENARIOS)
    certdir = tempfile.mkdtemp(prefix="batchcmp-certs.")
    certs = agcod_emulator.make_certificates(certdir)
    bad = 0
    try:
        for name in names:
            a = run_scenario(old, SCENARIOS[name], certs)
            b = run_scenario(new, SCENARIOS[name], certs)
            diffs = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
            req = sum(len(s["wire"]) for s in a)
            print("%-15s %2d steps %3d requests: %s" % (
                name, len(a), req, "same" if not diffs else
                "DIFFERENT at step %s" % diffs))
            for i in diffs:
                bad += 1
                for k in a[i]:
                    if a[i][k] != b[i][k]:
                        print("  step %d %s:" % (i, k))
                        d = difflib.unified_diff(
                            json.dumps(a[i][k], indent=1).splitlines(),
                            json.dumps(b[i][k], indent=1).splitlines(),
                            "old", "new", lineterm="")
                        for line in list(d)[:40]:
                            print("    " + line)
    finally:
        shutil.rmtree(certdir, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
