#!/usr/bin/python3
"""make bench: agcod side by side with what operators would use instead,
against the local emulator over HTTPS on loopback.

  (a) agcod, one process per request
  (b) curl --aws-sigv4 "aws:amz:us-east-1:AGCODService", one process per request
  (c) a Python script signing with Debian's botocore, one process per request
  (d) agcod batch create over one connection

Per request: median wall time, CPU time and peak RSS over repeated runs, with
the ratio to agcod.  For 300 creates at the emulator's 10 requests a second:
total time, throttled responses and TLS handshakes.  Then the signing
microbenchmark (src/sigv4.c against botocore's SigV4Auth) and the time of
'agcod --version'.  Prints a table and writes it to $BENCH_OUT (make bench:
build/bench-results.md), never over the committed bench/results.md.
"""
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
import agcod_emulator  # noqa: E402

PARTNER, KEY, SECRET = "Bench", "AKIDBENCH", "bench/Secret+Key0123456789abcdefghijklmn"
REPEAT = int(os.environ.get("BENCH_REPEAT", "25"))
ROWS = int(os.environ.get("BENCH_ROWS", "300"))


SPAWN = os.path.join(tempfile.gettempdir(), "agcod-bench-spawn")


def build_tools():
    """bench/spawn.c measures each process; see why in its comment"""
    subprocess.run(["cc", "-O2", "-o", SPAWN, os.path.join(HERE, "spawn.c")], check=True)


def measure(argv, env):
    """wall s, CPU s, peak RSS MiB and exit status of one process"""
    out = subprocess.run([SPAWN] + argv, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    wall, cpu, rss, status = (int(x) for x in out)
    return wall / 1e6, cpu / 1e6, rss / 1024, status


def agcod_env(tmp, emu, ca):
    """an agcod profile for the emulator in tmp, and the environment using it"""
    cfg = os.path.join(tmp, "config.ini")
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"[default]\npartner_id = {PARTNER}\naccess_key_id = {KEY}\n"
                f"secret_access_key = {SECRET}\ncurrency = USD\n"
                f"endpoint = {emu.endpoint}\nca_bundle = {ca}\nmax_rps = 10\n")
    return dict(os.environ, AGCOD_CONFIG=cfg, AGCOD_STATE_DIR=os.path.join(tmp, "state"))


def start_emulator(tmp, max_rps=10):
    certs = agcod_emulator.make_certificates(tmp)
    emu = agcod_emulator.Emulator(certs, partner=PARTNER, access_key_id=KEY, secret=SECRET,
                                  funds="100000000.00", max_rps=max_rps).start()
    return emu, certs[0]


class Tools:
    def __init__(self, agcod, tmp, emu, ca):
        self.agcod, self.emu, self.ca = agcod, emu, ca
        self.env = agcod_env(tmp, emu, ca)
        self.pyenv = dict(os.environ, AGCOD_ACCESS_KEY_ID=KEY,
                          AGCOD_SECRET_ACCESS_KEY=SECRET)
        self.n = 0

    def body(self):
        self.n += 1
        rid = f"{PARTNER}R{os.getpid()}x{self.n}"
        return rid, ('{"creationRequestId": "%s", "partnerId": "%s", "value": '
                     '{"currencyCode": "USD", "amount": 1.00}}' % (rid, PARTNER))

    def agcod_argv(self):
        rid, _ = self.body()
        return [self.agcod, "-q", "create", "--amount", "1.00", "--request-id", rid,
                "-o", "json"], self.env

    def curl_argv(self):
        _, body = self.body()
        return ["curl", "-sS", "--fail-with-body", "--tlsv1.2", "--cacert", self.ca,
                "--aws-sigv4", "aws:amz:us-east-1:AGCODService", "--user", f"{KEY}:{SECRET}",
                "-H", "accept: application/json", "-H", "content-type: application/json",
                "-H", "x-amz-target: com.amazonaws.agcod.AGCODService.CreateGiftCard",
                "--data-binary", body, f"{self.emu.endpoint}/CreateGiftCard"], self.env

    def boto_argv(self):
        _, body = self.body()
        return ["/usr/bin/python3", os.path.join(HERE, "botocore_client.py"),
                self.emu.endpoint, self.ca, "CreateGiftCard", body], self.pyenv


def per_request(tools):
    """the tools take turns, so that a drift of the machine's load touches
    each alike"""
    makers = (("agcod", tools.agcod_argv), ("curl --aws-sigv4", tools.curl_argv),
              ("python + botocore", tools.boto_argv))
    samples = {name: [] for name, _ in makers}
    for i in range(REPEAT + 2):
        for name, make in makers:
            argv, env = make()
            s = measure(argv, env)
            assert s[3] == 0, (name, s)
            if i >= 2:                 # the first runs warm the page cache
                samples[name].append(s)
            # past the 10 req/s spacing: agcod's shared rate limit must not
            # wait, so what is measured is the request itself
            time.sleep(0.15)
    return {name: tuple(statistics.median(s[i] for s in ss) for i in range(3))
            for name, ss in samples.items()}


def throughput(tools, tmp):
    """ROWS creates at 10 req/s: one process each, and one agcod batch"""
    out = {}
    for name, make in (("agcod", tools.agcod_argv), ("curl --aws-sigv4", tools.curl_argv),
                       ("python + botocore", tools.boto_argv)):
        tools.emu.throttled = tools.emu.connections = 0
        t0 = time.perf_counter()
        for _ in range(ROWS):
            argv, env = make()
            measure(argv, env)
        out[name] = (time.perf_counter() - t0, tools.emu.throttled, tools.emu.connections)
    csv = os.path.join(tmp, "rows.csv")
    with open(csv, "w") as f:
        f.write("amount\n" + "1.00\n" * ROWS)
    tools.emu.throttled = tools.emu.connections = 0
    t0 = time.perf_counter()
    argv = [tools.agcod, "-q", "batch", "create", csv, "-o", "json"]
    assert measure(argv, tools.env)[3] == 0
    out["agcod batch"] = (time.perf_counter() - t0, tools.emu.throttled, tools.emu.connections)
    return out


def build_signing(exe, agcod_root):
    """bench/sign_bench.c with agcod's signing (make check builds it)"""
    subprocess.run(["cc", "-O2", "-std=gnu11", "-D_GNU_SOURCE", "-o", exe,
                    os.path.join(HERE, "sign_bench.c"), os.path.join(agcod_root, "src/sigv4.c"),
                    os.path.join(agcod_root, "src/buf.c"), "-lmbedcrypto", "-lbsd"], check=True)


def signing(agcod_root):
    exe = os.path.join(tempfile.gettempdir(), "agcod-sign-bench")
    build_signing(exe, agcod_root)
    res = {}
    for line in subprocess.run([exe, "200000"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        _, kind, ns, _, rate = line.split()
        res["agcod sigv4 (" + kind + ")"] = (float(ns), float(rate.rstrip("/s")))
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    body = ('{"creationRequestId": "AwssbTSpecTest001", "partnerId": "Awssb", "value": '
            '{"currencyCode": "USD", "amount": 1.00}}').encode()
    signer = SigV4Auth(Credentials(KEY, SECRET), "AGCODService", "us-east-1")

    def one():
        r = AWSRequest(method="POST", url="https://agcod-v2-gamma.amazon.com/CreateGiftCard",
                       data=body, headers={"accept": "application/json",
                                           "content-type": "application/json",
                                           "x-amz-target": "com.amazonaws.agcod.AGCODService.CreateGiftCard"})
        signer.add_auth(r)
    n = 3000
    t = min(timeit.repeat(one, number=n, repeat=3)) / n
    res["botocore SigV4Auth"] = (t * 1e9, 1 / t)
    return res


def version_time(agcod):
    samples = [measure([agcod, "--version"], os.environ)[0] for _ in range(60)][10:]
    return statistics.median(samples)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    osr = platform.platform()
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osr = line.split("=", 1)[1].strip().strip('"') + ", " + platform.release()
    except OSError:
        pass
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return f"{cpu}, {os.cpu_count()} cores, {osr}; {curl}"


def main():
    agcod = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "agcod"))
    build_tools()
    lines = []
    say = lambda s="": (print(s), lines.append(s))  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="agcod-bench-") as tmp:
        emu, ca = start_emulator(tmp, max_rps=100000)
        tools = Tools(agcod, tmp, emu, ca)
        say(f"# agcod benchmark, {datetime.date.today()}")
        say()
        say(f"Machine: {machine()}.")
        say(f"Local AGCOD emulator over HTTPS on 127.0.0.1; one CreateGiftCard per process; "
            f"medians of {REPEAT} runs.")
        say()
        rows = per_request(tools)
        base = rows["agcod"]
        say("| one request | wall ms | CPU ms | peak RSS MiB | wall ratio | CPU ratio | RSS ratio |")
        say("|---|---|---|---|---|---|---|")
        for name, (w, c, m) in rows.items():
            say(f"| {name} | {w * 1e3:.1f} | {c * 1e3:.1f} | {m:.1f} | {w / base[0]:.2f} | "
                f"{c / base[1]:.2f} | {m / base[2]:.2f} |")
        say()
        emu.max_rps = 10
        tp = throughput(tools, tmp)
        say(f"| {ROWS} creates at 10 req/s | total s | vs {ROWS / 10:.0f} s | throttled | TLS handshakes |")
        say("|---|---|---|---|---|")
        for name, (t, thr, conns) in tp.items():
            say(f"| {name} | {t:.2f} | {(t / (ROWS / 10) - 1) * 100:+.1f}% | {thr} | {conns} |")
        say()
        emu.stop()
    sg = signing(ROOT)
    say("| signing one CreateGiftCard | ns per signature | signatures/s |")
    say("|---|---|---|")
    for name, (ns, rate) in sg.items():
        say(f"| {name} | {ns:.0f} | {rate:.0f} |")
    say()
    say(f"`agcod --version`: {version_time(agcod) * 1e3:.2f} ms (median of 50).")
    out = os.environ.get("BENCH_OUT", os.path.join(ROOT, "build", "bench-results.md"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
