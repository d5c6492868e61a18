"""Fixtures: the built binary, a running emulator, a profile, a runner.

Every test runs the real ./agcod as an operator would: a configuration file
of mode 0600, a private HOME and state directory, the emulator's CA bundle.
"""
import json
import os
import resource
import sqlite3
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import agcod_emulator  # noqa: E402
# under make check a skip is a failure (tests/lib/noskip.py)
from noskip import pytest_runtest_makereport  # noqa: E402,F401
import noskip  # noqa: E402

AGCOD = os.environ.get("AGCOD", os.path.join(ROOT, "agcod"))
SECRET = "emuSecret/Key+Value0123456789abcdefABCDEF"
KEY_ID = "AKIDEMULATOR"
PARTNER = "Acme1"
CRASH_MARKS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")
# AGCOD_TEST_STORE=postgresql: the Agcod fixture's journal is a database of
# its own on AGCOD_TEST_PG (tests/pg/pg-run), not STATE_DIR/journal.db
STORE = os.environ.get("AGCOD_TEST_STORE", "sqlite")
PG = os.environ.get("AGCOD_TEST_PG")
PG_PASSWORD = os.environ.get("AGCOD_TEST_PG_PASSWORD")


def pg_psql(uri, sql):
    """psql -c sql on uri: the completed process"""
    env = dict(os.environ)
    if PG_PASSWORD:
        env["PGPASSWORD"] = PG_PASSWORD
    return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                           "-d", uri, "-c", sql], env=env,
                          capture_output=True, text=True, timeout=60)


def pg_sql(uri, sql):
    p = pg_psql(uri, sql)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def pg_database():
    """a new database on AGCOD_TEST_PG: its connection string"""
    import uuid
    name = "agcod_t_" + uuid.uuid4().hex[:12]
    pg_sql(PG, f"CREATE DATABASE {name}")
    return name, pg_uri(PG, path="/" + name)


def pg_uri(uri, netloc=None, path=None):
    """uri with its netloc or path replaced; '//' kept when the host is
    in the query (postgresql:///db?host=/run/x), which urlunsplit drops"""
    from urllib.parse import urlsplit
    u = urlsplit(uri)
    q = "?" + u.query if u.query else ""
    return (f"{u.scheme}://{u.netloc if netloc is None else netloc}"
            f"{u.path if path is None else path}{q}")


def pytest_configure(config):
    noskip.pytest_configure(config)
    config.addinivalue_line(
        "markers", "sqlite_file: about STATE_DIR/journal.db as a file (its "
        "modes, WAL, locks, disk); not run on AGCOD_TEST_STORE=postgresql")
    config.addinivalue_line(
        "markers", "serial: asserts how the emulator saw the requests' "
        "spacing (no throttle), which other tests running beside it would "
        "disturb; make test runs these alone, after the parallel workers")


def pytest_collection_modifyitems(config, items):
    """on the PostgreSQL store, the SQLite file's own tests are deselected
    (not skipped: make check allows no skip)"""
    if STORE != "postgresql":
        return
    def off(i):
        return i.get_closest_marker("sqlite_file")
    keep = [i for i in items if not off(i)]
    gone = [i for i in items if off(i)]
    if gone:
        config.hook.pytest_deselected(items=gone)
        items[:] = keep


def pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    return agcod_emulator.make_certificates(str(d))


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def json(self):
        lines = [l for l in self.out.splitlines() if l.strip()]
        assert len(lines) == 1, f"expected one JSON line, got: {self.out!r}"
        return json.loads(lines[0])

    def jsonl(self):
        return [json.loads(l) for l in self.out.splitlines() if l.strip()]

    def __repr__(self):
        return f"<rc={self.rc} out={self.out!r} err={self.err!r}>"


class Agcod:
    """Runs the binary with a private environment."""

    def __init__(self, tmp, emu=None, certs=None):
        self.tmp = tmp
        self.home = tmp / "home"
        self.home.mkdir(exist_ok=True)
        self.state = tmp / "state"
        self.config = tmp / "config.ini"
        self.emu = emu
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "AGCOD_CONFIG": str(self.config),
            "AGCOD_STATE_DIR": str(self.state),
            "TZ": "UTC",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                self.env[k] = os.environ[k]
        self.pg = None
        if STORE == "postgresql":
            if not PG:
                pytest.skip("AGCOD_TEST_STORE=postgresql without "
                            "AGCOD_TEST_PG (tests/pg/pg-run sets it)")
            self.pg_name, self.pg = pg_database()
            self.env["AGCOD_JOURNAL"] = self.pg
            if PG_PASSWORD:
                self.env["PGPASSWORD"] = PG_PASSWORD
        if emu is not None:
            self.write_config(endpoint=emu.endpoint, ca_bundle=certs[0])

    def write_config(self, text=None, mode=0o600, **keys):
        if text is None:
            base = {"partner_id": PARTNER, "access_key_id": KEY_ID,
                    "secret_access_key": SECRET, "region": "na",
                    "environment": "sandbox", "currency": "USD"}
            base.update(keys)
            text = "[default]\n" + "".join(
                f"{k} = {v}\n" for k, v in base.items() if v is not None)
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(self.config, mode)

    def __call__(self, *args, env=None, input=None, timeout=60, binary=None,
                 prefix=(), limit_fsize=None, allow_crash=False):
        """binary and prefix run agcod under another program (strace);
        limit_fsize sets RLIMIT_FSIZE, as a full disk would stop writes"""
        e = dict(self.env)
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        def limits():
            if limit_fsize is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE,
                                   (limit_fsize, limit_fsize))
        # a session of its own: no controlling terminal, as under cron, so a
        # production confirmation never waits on the terminal running pytest
        p = subprocess.run([binary or AGCOD, *prefix, *map(str, args)], env=e,
                           input=input, capture_output=True, text=True,
                           timeout=timeout, preexec_fn=limits,
                           start_new_session=True)
        if not allow_crash:     # "non-zero exit" must never be a crash
            assert 0 <= p.returncode < 128, f"agcod crashed: {p!r}"
            for s in CRASH_MARKS:
                assert s not in p.stderr, f"agcod: {s} {p.stderr}"
        return Result(p)

    def journal(self):
        """Every request in the journal, oldest first: a dict of its
        non-NULL columns (state, operation, request_id, amount, ...)."""
        if self.pg:
            return pg_rows(self.pg)
        return journal_rows(self.state / "journal.db")

    def objects(self):
        """Every money object (card, load, physical card) and its state."""
        if self.pg:
            return pg_rows(self.pg, "objects")
        return journal_rows(self.state / "journal.db", "objects")

    def tamper(self, sql, *args):
        """Change the journal behind agcod's back: one statement, committed."""
        if self.pg:
            parts = sql.split("?")
            assert len(parts) == len(args) + 1, sql
            text = parts[0] + "".join(pg_literal(a) + p
                                      for a, p in zip(args, parts[1:]))
            p = pg_psql(self.pg, text)
            if "duplicate key value violates unique" in p.stderr:
                raise sqlite3.IntegrityError(p.stderr.strip())
            assert p.returncode == 0, p.stderr
            return
        db = sqlite3.connect(self.state / "journal.db", timeout=30)
        try:
            db.execute(sql, args)
            db.commit()
        finally:
            db.close()


def journal_rows(path, table="requests"):
    if not os.path.exists(path):
        return []
    # read-only, and never the one to create or migrate it
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        db.row_factory = sqlite3.Row
        rows = db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        return [{k: r[k] for k in r.keys() if r[k] is not None}
                for r in rows]
    finally:
        db.close()


def pg_rows(uri, table="requests"):
    p = pg_psql(uri, f"SELECT coalesce(json_agg(t ORDER BY id), '[]') "
                f"FROM {table} t")
    if p.returncode != 0:
        assert "does not exist" in p.stderr, p.stderr
        return []
    return [{k: v for k, v in r.items() if v is not None}
            for r in json.loads(p.stdout)]


@pytest.fixture
def emu(certs):
    e = agcod_emulator.Emulator(certs, partner=PARTNER, access_key_id=KEY_ID,
                                secret=SECRET).start()
    yield e
    e.stop()


@pytest.fixture
def agcod(tmp_path, emu, certs):
    a = Agcod(tmp_path, emu, certs)
    yield a
    if a.pg:
        pg_psql(PG, f"DROP DATABASE IF EXISTS {a.pg_name} WITH (FORCE)")


@pytest.fixture
def offline(tmp_path):
    """agcod with a profile but no emulator (nothing can be sent)."""
    a = Agcod(tmp_path)
    a.write_config(endpoint="https://127.0.0.1:9")
    return a
