"""The journal at scale: a journal of N settled requests in agcod 0.1's
format (pending + final record per create), imported into journal.db, then
the lookups agcod makes, each in its own process, for N from 10,000 to
1,000,000; and the cost of a durable record.  Prints a Markdown section.

usage: journal.py AGCOD [N ...]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from run import SPAWN, build_tools, measure  # noqa: E402

PARTNER = "Bench"
SECRET = "bench/Secret+Key0123456789abcdefghijklmn"
ENDPOINT = "https://127.0.0.1:9"
RUNS = int(os.environ.get("BENCH_REPEAT", "7"))


def write_legacy(path, n):
    """n creates as agcod 0.1 wrote them, all settled"""
    with open(path, "w") as f:
        for i in range(n):
            rid = f"{PARTNER}J{i:010d}"
            f.write('{"time":"2026-01-01T00:00:00Z","state":"pending","operation":'
                    f'"CreateGiftCard","request_id":"{rid}","profile":"default",'
                    f'"partner":"{PARTNER}","environment":"sandbox","endpoint":'
                    f'"{ENDPOINT}","amount":"{1 + i % 500}.{i % 100:02d}","currency":"USD",'
                    f'"external_reference":"order-{i}"}}\n')
            f.write('{"time":"2026-01-01T00:00:01Z","state":"succeeded","operation":'
                    f'"CreateGiftCard","request_id":"{rid}","gc_id":"GC{i:012d}",'
                    '"amazon_request_id":"0123456789abcdef0123456789abcdef",'
                    '"http_status":200,"clock_skew_s":0,"attempts":1}\n')


def env_for(tmp):
    cfg = os.path.join(tmp, "config.ini")
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"[default]\npartner_id = {PARTNER}\naccess_key_id = AKIDBENCH\n"
                f"secret_access_key = {SECRET}\ncurrency = USD\nendpoint = {ENDPOINT}\n")
    return dict(os.environ, AGCOD_CONFIG=cfg, AGCOD_STATE_DIR=os.path.join(tmp, "state"),
                TZ="UTC")


def median_of(argv, env):
    walls, rsss = [], []
    for _ in range(RUNS):
        w, _, m, status = measure(argv, env)
        if status != 0:
            raise SystemExit(f"{argv}: exit status {status}")
        walls.append(w)
        rsss.append(m)
    return statistics.median(walls) * 1e3, max(rsss)


def one_size(agcod, n):
    with tempfile.TemporaryDirectory(prefix="agcod-bench-journal-") as tmp:
        env = env_for(tmp)
        os.makedirs(env["AGCOD_STATE_DIR"], mode=0o700)
        legacy = os.path.join(env["AGCOD_STATE_DIR"], "journal.jsonl")
        write_legacy(legacy, n)
        os.chmod(legacy, 0o600)
        mb = os.path.getsize(legacy) / 1e6
        w, _, rss, status = measure([agcod, "history", "--limit", "1", "-o", "json"], env)
        if status != 0:
            raise SystemExit(f"import: exit status {status}")
        rid = f"{PARTNER}J{n // 2:010d}"
        rows = {
            "cancel's lookup": [agcod, "sign-debug", "cancel", "--request-id", rid,
                                "--date", "20260101T000000Z", "-o", "json"],
            "cancel's lookup by gcId (`sign-debug cancel --gc-id`)": [
                agcod, "sign-debug", "cancel", "--gc-id", f"GC{n // 2:012d}",
                "--date", "20260101T000000Z", "-o", "json"],
            "history --request-id": [agcod, "history", "--request-id", rid, "-o", "json"],
            "history --limit 1 (the newest)": [agcod, "history", "--limit", "1",
                                               "-o", "json"],
            "history --pending": [agcod, "history", "--pending", "-o", "json"],
            "reconcile, nothing to do": [agcod, "reconcile"],
        }
        got = {k: median_of(v, env) for k, v in rows.items()}
        dbmb = os.path.getsize(os.path.join(env["AGCOD_STATE_DIR"], "journal.db")) / 1e6
        return mb, w, rss, dbmb, got


def build(exe):
    """bench/journal_bench.c with the journal's sources (make check builds
    it: tests/e2e/test_package.py)"""
    cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "jansson", "libbsd",
                             "sqlite3", "libpq"], capture_output=True, text=True,
                            check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-D_GNU_SOURCE", "-o", exe,
                    os.path.join(HERE, "journal_bench.c")]
                   + [os.path.join(ROOT, "src", f) for f in
                      ("journal.c", "journal_state.c", "journal_sqlite.c",
                       "journal_txn.c", "journal_sqlite_import.c",
                       "journal_pg.c", "json.c", "timeutil.c",
                       "ops.c", "statedir.c", "buf.c", "pq.c", "msg.c")]
                   + cflags + ["-ldl"], check=True)


def durable_cost():
    exe = os.path.join(tempfile.gettempdir(), "agcod-bench-journal")
    build(exe)
    with tempfile.TemporaryDirectory(prefix="agcod-bench-durable-", dir=ROOT) as tmp:
        os.chmod(tmp, 0o700)
        out = subprocess.run([exe, tmp, "300"], capture_output=True, text=True,
                             check=True).stdout.split()
    return float(out[0]), float(out[1])


def main():
    agcod = os.path.abspath(sys.argv[1])
    sizes = [int(x) for x in sys.argv[2:]] or [10000, 100000, 1000000]
    build_tools()
    print(f"## The journal at scale ({time.strftime('%Y-%m-%d')})")
    print()
    print(f"A journal of N settled creates written in agcod 0.1's format, imported "
          f"into journal.db on first use; then each command in its own process, "
          f"median wall time of {RUNS} runs, peak RSS.")
    print()
    results = {n: one_size(agcod, n) for n in sizes}
    print("| requests | journal.jsonl MB | import s | import peak RSS MiB | journal.db MB |")
    print("|---|---|---|---|---|")
    for n, (mb, w, rss, dbmb, _) in results.items():
        print(f"| {n:,} | {mb:.0f} | {w:.1f} | {rss:.1f} | {dbmb:.0f} |")
    print()
    names = list(next(iter(results.values()))[4])
    print("| command | " + " | ".join(f"{n:,}: ms, MiB" for n in sizes) + " |")
    print("|---" * (len(sizes) + 1) + "|")
    for k in names:
        cells = [f"{results[n][4][k][0]:.1f}, {results[n][4][k][1]:.1f}" for n in sizes]
        print(f"| {k} | " + " | ".join(cells) + " |")
    print()
    sq, js = durable_cost()
    print(f"Recording one request durably (pending committed, outcome recorded), "
          f"mean of 300 in one process: SQLite journal {sq:.0f} µs, agcod 0.1's "
          f"fdatasync'd JSON-lines append {js:.0f} µs.")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
