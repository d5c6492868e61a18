"""NET: libcurl linked and checked at run time, the system trust store,
the shared rate limit (issue 13 defects 6 and 7, issue 11 state dir)."""
import ctypes
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import AGCOD, PARTNER

SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <curl/curl.h>

/* a runtime libcurl that is older, lacks TLS, or refuses one option */
curl_version_info_data *
curl_version_info(CURLversion v)
{
	static curl_version_info_data d;
	curl_version_info_data *(*real)(CURLversion) =
	    (curl_version_info_data *(*)(CURLversion))dlsym(RTLD_NEXT,
	    "curl_version_info");

	d = *real(v);
	if (getenv("SHIM_OLD")) {
		d.version_num = 0x073a00;
		d.version = "7.58.0";
	}
	if (getenv("SHIM_NO_TLS")) {
		d.features &= ~CURL_VERSION_SSL;
		d.ssl_version = NULL;
	}
	return &d;
}

#undef curl_easy_setopt
CURLcode
curl_easy_setopt(CURL *c, CURLoption o, ...)
{
	CURLcode (*real)(CURL *, CURLoption, ...) =
	    (CURLcode (*)(CURL *, CURLoption, ...))dlsym(RTLD_NEXT,
	    "curl_easy_setopt");
	const char *refuse = getenv("SHIM_REFUSE");
	va_list ap;
	void *arg;

	va_start(ap, o);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (refuse && atoi(refuse) == (int)o)
		return CURLE_UNKNOWN_OPTION;
	return real(c, o, arg);
}
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("shim")
    (d / "shim.c").write_text(SHIM_C)
    so = d / "shim.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(d / "shim.c"),
                    "-ldl"], check=True, timeout=60)
    return str(so)


def preload(shim, **env):
    e = {"LD_PRELOAD": shim}
    # a sanitizer runtime must come first in the list
    if os.environ.get("AGCOD_PRELOAD"):
        e["LD_PRELOAD"] = os.environ["AGCOD_PRELOAD"] + ":" + shim
    # (under ASan the shim comes before its runtime: allow it)
    e["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                             "verify_asan_link_order=0"]))
    e.update(env)
    return e


def runtime_libcurl():
    lib = ctypes.CDLL("libcurl.so.4")
    lib.curl_version.restype = ctypes.c_char_p
    return lib.curl_version().decode()   # "libcurl/7.88.1 OpenSSL/3.0.19 ..."


# a request that never left is recorded as "failed" (not "unknown")
NOT_SENT = ("not sent",)


def last(agcod, rid):
    recs = [r for r in agcod.journal() if r.get("request_id") == rid]
    return recs[-1] if recs else None


# ---- A: libcurl linked normally, checked at run time ----

def test_binary_declares_libcurl():
    if shutil.which("readelf") is None:
        pytest.skip("no readelf")
    binary = os.environ.get("AGCOD_BINARY", AGCOD)
    d = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                       check=True, timeout=60).stdout
    assert re.search(r"\(NEEDED\)\s+Shared library: \[libcurl\.so\.4\]", d), d


def test_version_names_the_runtime_libcurl(offline):
    v = offline("--version")
    assert v.rc == 0
    m = re.match(r"libcurl/(\S+) (\S+)", runtime_libcurl())
    assert f"libcurl {m.group(1)} ({m.group(2)})" in v.out.splitlines(), v
    assert "built with" not in v.out
    for lib in ("agcod ", "mbedTLS ", "Jansson "):
        assert lib in v.out


def test_version_is_what_runs_not_what_was_built(offline, shim):
    v = offline("--version", env=preload(shim, SHIM_OLD="1"))
    assert v.rc == 0 and "libcurl 7.58.0 (" in v.out, v


@pytest.mark.parametrize("env,rc,text", [
    ({"SHIM_OLD": "1"}, 69, "libcurl 7.58.0 is older than"),
    ({"SHIM_NO_TLS": "1"}, 69, "has no TLS support"),
    ({"SHIM_REFUSE": "64"}, 70, "refuses CURLOPT_SSL_VERIFYPEER"),
    ({"SHIM_REFUSE": "32"}, 70, "refuses CURLOPT_SSLVERSION"),
    ({"SHIM_REFUSE": "81"}, 70, "refuses CURLOPT_SSL_VERIFYHOST"),
    ({"SHIM_REFUSE": "10097"}, 70, "refuses CURLOPT_CAPATH"),
    ({"SHIM_REFUSE": "10065"}, 70, "refuses CURLOPT_CAINFO"),
    ({"SHIM_REFUSE": "10318"}, 70, "refuses CURLOPT_PROTOCOLS_STR"),
    ({"SHIM_REFUSE": "52"}, 70, "refuses CURLOPT_FOLLOWLOCATION"),
    ({"SHIM_REFUSE": "13"}, 70, "refuses CURLOPT_TIMEOUT"),
    ({"SHIM_REFUSE": "114"}, 70, "refuses CURLOPT_MAXFILESIZE"),
])
def test_runtime_libcurl_without_what_agcod_needs(agcod, emu, shim, env, rc, text):
    rid = "Acme1NetShim" + str(abs(hash(text)) % 10**6)
    r = agcod("create", "--amount", "1", "--request-id", rid, env=preload(shim, **env))
    assert r.rc == rc, r
    assert text in r.err and "nothing was sent" in r.err, r
    assert len(r.err.strip().splitlines()) == 1, r
    assert emu.requests() == []
    assert last(agcod, rid) is None or last(agcod, rid)["state"] != "succeeded"


def test_sign_debug_send_checks_libcurl_too(agcod, emu, shim):
    r = agcod("sign-debug", "create", "--amount", "1", "--request-id", "Acme1NetSd1",
              "--send", env=preload(shim, SHIM_REFUSE="64"))
    assert r.rc == 70 and "refuses CURLOPT_SSL_VERIFYPEER" in r.err, r
    assert emu.requests() == []


def test_commands_that_do_not_send_do_not_check_libcurl(agcod, shim):
    r = agcod("history", "-o", "json", env=preload(shim, SHIM_OLD="1"))
    assert r.rc == 0, r


# ---- B: the system trust store ----

@pytest.fixture
def no_bundle(agcod, emu):
    agcod.write_config(endpoint=emu.endpoint)       # no ca_bundle
    return agcod


def hashed_dir(tmp_path, ca):
    d = tmp_path / "certdir"
    d.mkdir()
    shutil.copy(ca, d / "emulator-ca.pem")
    subprocess.run(["openssl", "rehash", str(d)], check=True, timeout=60,
                   capture_output=True)
    assert any(re.fullmatch(r"[0-9a-f]{8}\.0", n) for n in os.listdir(d))
    return str(d)


def test_ssl_cert_dir_is_the_trust_store(no_bundle, emu, certs, tmp_path):
    d = hashed_dir(tmp_path, certs[0])
    r = no_bundle("create", "--amount", "1", "--request-id", "Acme1NetDir1", "-o", "json",
                  env={"SSL_CERT_DIR": d, "SSL_CERT_FILE": None})
    assert r.rc == 0 and r.json()["status"] == "SUCCESS", r


def test_ssl_cert_dir_may_be_a_list(no_bundle, emu, certs, tmp_path):
    d = hashed_dir(tmp_path, certs[0])
    r = no_bundle("create", "--amount", "1", "--request-id", "Acme1NetDir2",
                  env={"SSL_CERT_DIR": f"{tmp_path}/none:{d}", "SSL_CERT_FILE": None})
    assert r.rc == 0, r


def test_ssl_cert_file_is_the_trust_store(no_bundle, emu, certs):
    r = no_bundle("create", "--amount", "1", "--request-id", "Acme1NetFile1", "-o", "json",
                  env={"SSL_CERT_FILE": certs[0], "SSL_CERT_DIR": None})
    assert r.rc == 0 and r.json()["status"] == "SUCCESS", r


def test_system_store_refuses_an_unknown_ca(no_bundle, emu):
    rid = "Acme1NetNoCA1"
    r = no_bundle("create", "--amount", "1", "--request-id", rid,
                  env={"SSL_CERT_FILE": None, "SSL_CERT_DIR": None})
    assert r.rc == 69, r
    assert "TLS failure, nothing sent" in r.err, r
    assert emu.requests() == []
    assert last(no_bundle, rid)["state"] in NOT_SENT, no_bundle.journal()


def test_ca_bundle_is_the_only_trust_when_set(agcod, emu, certs, tmp_path):
    """an explicit file replaces SSL_CERT_DIR and the system directory"""
    d = hashed_dir(tmp_path, certs[0])
    other = tmp_path / "other.pem"
    if not os.path.exists("/etc/ssl/certs/ca-certificates.crt"):
        pytest.skip("no system bundle")
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", other)
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=str(other))
    r = agcod("create", "--amount", "1", "--request-id", "Acme1NetOnly1",
              env={"SSL_CERT_DIR": d})
    assert r.rc == 69 and "TLS failure" in r.err, r
    r = agcod("--cacert", certs[0], "create", "--amount", "1", "--request-id",
              "Acme1NetOnly2", env={"SSL_CERT_DIR": "/nonexistent"})
    assert r.rc == 0, r


# ---- C: the shared rate limit ----

def rl_path(agcod):
    return agcod.state / f"ratelimit-{PARTNER}"


def make_state(agcod):
    agcod.state.mkdir(mode=0o700, exist_ok=True)


def test_concurrent_creates_wait_outside_their_timeout(agcod, emu):
    """40 processes at a 10 req/s limit, each with a 2 s attempt timeout:
    the queue for slots (4 s) is not part of any attempt's timeout"""
    n = 40
    make_state(agcod)

    def one(i):
        return agcod("--timeout", "2", "create", "--amount", "1", "--request-id",
                     f"Acme1NetConc{i:02d}", "-o", "json", timeout=120)

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as ex:
        rs = list(ex.map(one, range(n)))
    took = time.monotonic() - t0
    bad = [(i, r) for i, r in enumerate(rs) if r.rc != 0]
    assert bad == [], bad[:3]
    assert all(r.json()["status"] == "SUCCESS" for r in rs)
    states = {last(agcod, f"Acme1NetConc{i:02d}")["state"] for i in range(n)}
    assert states == {"succeeded"}
    ok = [json.loads(r["body"])["creationRequestId"]
          for r in emu.requests("CreateGiftCard") if r["status"] == 200]
    assert sorted(ok) == [f"Acme1NetConc{i:02d}" for i in range(n)]
    assert took >= (n - 1) * 0.1 * 0.9, took      # the shared rate held
    assert took < 100


def test_fifo_at_the_rate_limit_path_is_refused(agcod, emu):
    make_state(agcod)
    os.mkfifo(rl_path(agcod), 0o600)
    t0 = time.monotonic()
    r = agcod("create", "--amount", "1", "--request-id", "Acme1NetFifo1", timeout=20)
    assert time.monotonic() - t0 < 10
    assert r.rc == 74, r
    assert "not a regular file" in r.err and "nothing sent" in r.err, r
    assert emu.requests() == []
    assert last(agcod, "Acme1NetFifo1")["state"] in NOT_SENT


def test_symlink_at_the_rate_limit_path_is_refused(agcod, emu, tmp_path):
    make_state(agcod)
    target = tmp_path / "elsewhere"
    target.write_text("0 0\n")
    os.symlink(target, rl_path(agcod))
    r = agcod("create", "--amount", "1", "--request-id", "Acme1NetLink1", timeout=20)
    assert r.rc == 74 and "rate limit file" in r.err, r
    assert emu.requests() == []
    assert target.read_text() == "0 0\n"


@pytest.mark.parametrize("ahead", [
    10**6 * 10**9,              # a file from before a reboot
    None,                       # an older agcod's wall-clock times
])
def test_far_future_slot_is_reset(agcod, emu, ahead):
    make_state(agcod)
    base = time.time_ns() if ahead is None else time.monotonic_ns() + ahead
    rl_path(agcod).write_text(f"{base} {base}\n")
    os.chmod(rl_path(agcod), 0o600)
    t0 = time.monotonic()
    r = agcod("create", "--amount", "1", "--request-id", "Acme1NetStale1", timeout=30)
    assert r.rc == 0, r
    assert time.monotonic() - t0 < 5
    nxt = int(rl_path(agcod).read_text().split()[0])
    assert nxt < time.monotonic_ns() + 10**9      # a slot on today's clock


def test_a_slot_past_the_retry_budget_is_not_taken(agcod, emu):
    """the next free slot is 60 s away on the shared clock, --retry-for 5:
    give up at once, nothing sent, and leave the slot to others"""
    make_state(agcod)
    slot = time.monotonic_ns() + 60 * 10**9
    rl_path(agcod).write_text(f"{slot} 0\n")
    os.chmod(rl_path(agcod), 0o600)
    t0 = time.monotonic()
    r = agcod("--retry-for", "5", "create", "--amount", "1", "--request-id",
              "Acme1NetLate1", timeout=30)
    assert time.monotonic() - t0 < 4
    assert r.rc == 75, r
    assert "past the --retry-for budget" in r.err and "nothing sent" in r.err, r
    assert emu.requests() == []
    assert last(agcod, "Acme1NetLate1")["state"] in NOT_SENT
    assert rl_path(agcod).read_text() == f"{slot} 0\n"


@pytest.mark.serial
def test_funds_one_a_second_across_processes(agcod, emu):
    make_state(agcod)
    t0 = time.monotonic()
    for _ in range(3):
        r = agcod("funds", "-o", "json")
        assert r.rc == 0, r
    assert time.monotonic() - t0 >= 2.0
    assert emu.throttled == 0


@pytest.mark.serial
def test_batch_first_handshake_does_not_crowd_the_window(agcod, emu, tmp_path):
    """the first row waits for its slot, then a TLS handshake: row 11's slot
    must keep a full second after row 1 really went out"""
    make_state(agcod)
    csv = tmp_path / "rows.csv"
    csv.write_text("amount\n" + "1.00\n" * 12)
    r = agcod("batch", "create", str(csv), "-o", "json", timeout=60)
    assert r.rc == 0, r
    assert emu.throttled == 0
    assert len([e for e in emu.requests("CreateGiftCard") if e["status"] == 200]) == 12


def pipe(a, b):
    """copy a to b until a ends or errs, then shut both down (one direction
    of a test proxy; every read is bounded)"""
    a.settimeout(30)
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class SlowStart:
    """A TCP relay to the emulator that holds each new connection `delay`
    seconds before relaying: a TLS handshake that takes that long."""

    def __init__(self, port, delay):
        self.port_to, self.delay = port, delay
        self.accepted = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.set()
            threading.Thread(target=self.relay, args=(c,), daemon=True).start()

    def relay(self, c):
        time.sleep(self.delay)
        up = socket.create_connection(("127.0.0.1", self.port_to), timeout=30)

        threading.Thread(target=pipe, args=(up, c), daemon=True).start()
        pipe(c, up)

    def close(self):
        self.sock.close()


@pytest.mark.serial
def test_rate_slot_is_taken_once_the_connection_is_up(agcod, emu):
    """issue 19: one funds call's TLS handshake takes 1.5 s; a second one
    starts meanwhile over a fast connection.  Each takes its slot once its
    connection is up, so they reach the service a second apart; taken
    before the handshake, the slow one's slot would come first and its
    request 0.5 s after the other's (throttled)."""
    make_state(agcod)
    relay = SlowStart(int(emu.endpoint.rsplit(":", 1)[1]), 1.5)
    try:
        slow = subprocess.Popen(
            [AGCOD, "--endpoint", f"https://127.0.0.1:{relay.port}", "funds",
             "-o", "json"], env=agcod.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        assert relay.accepted.wait(30)
        fast = subprocess.Popen([AGCOD, "funds", "-o", "json"], env=agcod.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        outs = [p.communicate(timeout=60) for p in (slow, fast)]
    finally:
        relay.close()
    assert [slow.returncode, fast.returncode] == [0, 0], outs
    assert emu.throttled == 0 and len(emu.requests("GetAvailableFunds")) == 2


def test_a_slow_handshake_does_not_eat_the_rate_window(agcod, emu):
    """a connection that takes 1.5 s to come up, with --retry-for 0: the
    rate's own window (a second) counts from when the connection is up, so
    the request goes out; counted from before the handshake it was 'not
    sent' on a slow or busy machine (seen under valgrind)"""
    make_state(agcod)
    relay = SlowStart(int(emu.endpoint.rsplit(":", 1)[1]), 1.5)
    try:
        r = agcod("--endpoint", f"https://127.0.0.1:{relay.port}",
                  "--retry-for", "0", "create", "--amount", "1", "-o", "json",
                  timeout=60)
    finally:
        relay.close()
    assert r.rc == 0, r
    assert emu.state.creates == 1


def test_refused_connection_is_said_once_and_given_up_in_seconds(offline):
    """issue 19 item 6: nothing was sent; a few tries within about 5 s
    (not the whole --retry-for of 60 s), one line about it, exit 75"""
    rid = "Acme1NetRefused1"
    r = offline("create", "--amount", "1", "--request-id", rid, timeout=30)
    assert r.rc == 75, r
    lines = [x for x in r.err.splitlines() if "connect" in x]
    assert len(lines) == 1 and "nothing was sent" in lines[0], r.err
    row = last(offline, rid)
    assert row["state"] in NOT_SENT, row
    assert 2 <= row["attempts"] <= 6, row


def test_a_handshake_that_never_finishes_sent_nothing(offline):
    """a server that takes the TCP connection and never answers the TLS
    hello: the attempt timed out before the request could leave"""
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)                  # never accepted, never answered
    try:
        offline.write_config(endpoint=f"https://127.0.0.1:{mute.getsockname()[1]}")
        rid = "Acme1NetMute1"
        r = offline("--timeout", "1", "--retry-for", "0", "create", "--amount",
                    "1", "--request-id", rid, timeout=30)
    finally:
        mute.close()
    assert r.rc == 75, r
    assert "nothing was sent" in r.err and "unknown" not in r.err, r
    assert last(offline, rid)["state"] in NOT_SENT


class HandshakeResetProxy:
    """a TCP proxy to the emulator on 127.0.0.1 that resets the first
    `resets` connections once the ClientHello arrives (a middlebox or a
    load balancer dropping the handshake); later ones pass through"""

    def __init__(self, emu, resets):
        self.target = ("127.0.0.1", int(emu.endpoint.rsplit(":", 1)[1]))
        self.resets, self.seen = resets, 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.seen += 1
            if self.seen <= self.resets:
                c.settimeout(5)
                try:
                    c.recv(4096)            # the ClientHello
                except OSError:
                    pass
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
                c.close()                   # RST
                continue
            u = socket.create_connection(self.target, timeout=5)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=pipe, args=(a, b),
                                 daemon=True).start()

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


def test_a_handshake_reset_is_retried_not_a_tls_failure(agcod, emu, certs):
    """a connection reset during the TLS handshake sent nothing (the request
    goes after it): it is retried like a refused connection, not reported
    as the service's TLS failure (69) on the first attempt"""
    proxy = HandshakeResetProxy(emu, resets=1)
    try:
        agcod.write_config(endpoint=f"https://127.0.0.1:{proxy.port}",
                           ca_bundle=certs[0])
        rid = PARTNER + "NetReset1"
        r = agcod("--retry-for", "10", "create", "--amount", "1",
                  "--request-id", rid, "-o", "json")
        assert r.rc == 0 and r.json()["status"] == "SUCCESS", r
        assert proxy.seen >= 2 and emu.state.creates == 1
    finally:
        proxy.close()


def test_a_handshake_reset_to_the_end_is_not_sent_75(agcod, emu, certs):
    proxy = HandshakeResetProxy(emu, resets=1000)
    try:
        agcod.write_config(endpoint=f"https://127.0.0.1:{proxy.port}",
                           ca_bundle=certs[0])
        rid = PARTNER + "NetReset2"
        r = agcod("--retry-for", "0", "create", "--amount", "1",
                  "--request-id", rid)
        assert r.rc == 75 and "nothing was sent" in r.err, r
        assert emu.requests() == []
        rows = [x for x in agcod.journal() if x["request_id"] == rid]
        assert rows and rows[-1]["state"] == "not sent", rows
    finally:
        proxy.close()
