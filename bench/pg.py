#!/usr/bin/python3
"""make bench-pg: the PostgreSQL journal against the local emulator.

(a) Three hosts, one limit: three agcod processes, each with a state
    directory of its own, run 'agcod batch create' together against the
    emulator (10 requests a second, as the service), first with one
    PostgreSQL journal (its rate table paces all three), then with a SQLite
    journal each (three limits of their own: what several hosts did before).
    Goal with PostgreSQL: 0 throttled, at >= 97% of 10 req/s.  The achieved
    rate is the emulator's: (accepted requests - 1) / (last - first
    arrival), so process start-up is not counted.
(b) The cost of the store per create: one 'agcod create' per process, the
    PostgreSQL journal on loopback (a unix socket) against the SQLite one;
    median wall and CPU of agcod, and the server's CPU per create.

The PostgreSQL server is a throwaway cluster of its own (initdb and pg_ctl
as user postgres, a unix socket only, in a temporary directory), stopped
and removed at the end.  A measurement, not a test: it prints its results
(BENCH_OUT: appended there too); bench/results.md is changed by hand.

    /usr/bin/python3 bench/pg.py ./agcod [ROWS_PER_HOST]
"""
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the emulator, profile and bench/spawn.c)

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
REPEAT = int(os.environ.get("BENCH_REPEAT", "25"))


def as_postgres(*argv):
    return subprocess.run(["runuser", "-u", "postgres", "--", *argv],
                          capture_output=True, text=True, check=True)


class Cluster:
    """a PostgreSQL cluster of its own, on a unix socket in its directory"""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="agcod-bench-pg-")
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        as_postgres(os.path.join(PGBIN, "initdb"), "-D", self.data, "-A",
                    "trust", "-U", "postgres", "--no-sync")
        as_postgres(os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-w",
                    "-l", os.path.join(self.dir, "log"), "-o",
                    f"-c listen_addresses='' -k {self.dir} -c fsync=on",
                    "start")
        self.uri = f"postgresql://postgres@{self.dir.replace('/', '%2F')}"

    def database(self, name):
        subprocess.run(["psql", "-X", "-q", "-d", self.uri + "/postgres",
                        "-c", f"CREATE DATABASE {name}"], check=True,
                       capture_output=True)
        return f"{self.uri}/{name}"

    def cpu_s(self):
        """CPU seconds of the server: the postmaster's, its reaped
        backends', and the live ones'"""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pm = int(f.readline())
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [pm] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if pid == pm:
                total += sum(int(x) for x in st[11:15])
            elif int(st[1]) == pm:
                total += int(st[11]) + int(st[12])
        return total / tick

    def stop(self):
        subprocess.run(["runuser", "-u", "postgres", "--",
                        os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-w",
                        "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def three_hosts(agcod, tmp, journal, rows, one_dir=False):
    """three batch runs at once, each its own state directory (one_dir:
    one for all, as on one host); journal: the PostgreSQL URI or None
    (SQLite)"""
    emu, ca = run.start_emulator(tmp, max_rps=10)
    env = run.agcod_env(tmp, emu, ca)
    procs = []
    t0 = time.monotonic()
    for h in range(3):
        e = dict(env, AGCOD_STATE_DIR=os.path.join(
            tmp, "host" if one_dir else f"host{h}"))
        if journal:
            e["AGCOD_JOURNAL"] = journal
        csv = os.path.join(tmp, f"rows{h}.csv")
        with open(csv, "w") as f:
            f.write("amount\n" + "".join(f"{1 + i % 50}.{h}{i % 10}\n"
                                         for i in range(rows)))
        procs.append(subprocess.Popen([agcod, "-q", "batch", "create", csv,
                                       "-o", "json"], env=e,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True))
    errs = [p.communicate()[1] for p in procs]
    wall = time.monotonic() - t0
    emu.stop()
    ok = [r for r in emu.requests("CreateGiftCard") if not r.get("throttled")]
    t = sorted(r["time"] for r in ok)
    rate = (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0
    return {"exits": [p.returncode for p in procs], "accepted": len(ok),
            "throttled": emu.throttled, "rate": rate, "wall": wall,
            "errs": [e.strip().splitlines()[-1:] for e in errs if e.strip()]}


def per_create(agcod, tmp, journal):
    """median wall and CPU (ms) of one 'agcod create' per process"""
    emu, ca = run.start_emulator(tmp, max_rps=100000)
    env = run.agcod_env(tmp, emu, ca)
    if journal:
        env["AGCOD_JOURNAL"] = journal
    argv = [agcod, "-q", "create", "--amount", "1.00"]
    run.measure(argv, env)         # the schema, the state directory
    walls, cpus = [], []
    for _ in range(REPEAT):
        time.sleep(0.12)           # past the last slot: no wait for it
        wall, cpu, _, status = run.measure(argv, env)
        assert status == 0, status
        walls.append(wall * 1000)
        cpus.append(cpu * 1000)
    emu.stop()
    return statistics.median(walls), statistics.median(cpus)


def main():
    agcod = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./agcod")
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    run.build_tools()
    load = os.getloadavg()[0]
    lines = [f"## The PostgreSQL journal ({datetime.date.today()}, "
             f"make bench-pg)", "",
             f"Machine: {run.machine()}; load average {load:.2f} at the "
             f"start; PostgreSQL {as_postgres(os.path.join(PGBIN, 'postgres'), '--version').stdout.split()[-1]}"
             f" on a unix socket (a cluster of its own, fsync on).", "",
             f"Three hosts (three processes, a state directory each), "
             f"{rows} rows each, 'agcod batch create' together at the "
             f"emulator's 10 req/s:", "",
             "| journal | accepted | throttled | achieved req/s | of 10 req/s "
             "| wall s | exits |", "|---|---|---|---|---|---|---|"]
    cluster = Cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="agcod-bench-") as tmp:
            for i, (name, journal, one) in enumerate((
                    ("PostgreSQL, one for all three", cluster.database("hosts"),
                     False),
                    ("SQLite, one each", None, False),
                    ("reference: one host (one state directory, its "
                     "rate-limit file)", None, True))):
                d = os.path.join(tmp, f"run{i}")
                os.mkdir(d)
                r = three_hosts(agcod, d, journal, rows, one)
                lines.append(f"| {name} | {r['accepted']} | {r['throttled']} "
                             f"| {r['rate']:.2f} | {r['rate'] * 10:.1f}% | "
                             f"{r['wall']:.1f} | "
                             f"{' '.join(map(str, r['exits']))} |")
                for e in r["errs"]:
                    print("  stderr:", e, file=sys.stderr)
            lines += ["", f"One 'agcod create' per process, medians of "
                      f"{REPEAT} (agcod's own wall and CPU; the server's CPU "
                      f"per create is the cluster's processes' total over "
                      f"the runs):", "",
                      "| journal | wall ms | agcod CPU ms | server CPU ms |",
                      "|---|---|---|---|"]
            for name, journal in (("SQLite (STATE_DIR/journal.db)", None),
                                  ("PostgreSQL (loopback, unix socket)",
                                   cluster.database("cost"))):
                d = os.path.join(tmp, "cost-" + name.split()[0])
                os.mkdir(d)
                before = cluster.cpu_s()
                wall, cpu = per_create(agcod, d, journal)
                server = (cluster.cpu_s() - before) * 1000 / (REPEAT + 1) \
                    if journal else 0
                lines.append(f"| {name} | {wall:.1f} | {cpu:.1f} | "
                             f"{server:.1f} |")
    finally:
        cluster.stop()
    text = "\n".join(lines) + "\n"
    print(text)
    if os.environ.get("BENCH_OUT"):
        with open(os.environ["BENCH_OUT"], "a") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
