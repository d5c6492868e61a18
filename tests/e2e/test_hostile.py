"""Hostile servers: agcod ends with the contract's exit code and a clear
message within its timeout, with bounded memory, never follows a redirect,
never crashes."""
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

import agcod_emulator
from conftest import AGCOD, CRASH_MARKS


class Hostile:
    """A TLS server on 127.0.0.1 that answers every request with `mode`."""

    def __init__(self, certs, mode, tls_max=None):
        self.mode, self.connections, self.requests = mode, 0, []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if tls_max:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = tls_max
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(certs[1], certs[2])
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop_flag = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop_flag:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self.handle, args=(raw,), daemon=True).start()

    def handle(self, raw):
        try:
            raw.settimeout(30)
            conn = self.ctx.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.requests.append(data)
            getattr(self, "mode_" + self.mode)(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                raw.close()
            except OSError:
                pass

    def send(self, conn, status, body, headers=""):
        conn.sendall(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n{headers}\r\n".encode() + body)

    def mode_huge(self, conn):      # 200 MB announced and streamed
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n")
        block = b"x" * 65536
        for _ in range(3200):
            conn.sendall(block)

    def mode_huge_chunked(self, conn):  # 200 MB in chunks, no length
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = b"10000\r\n" + b"{" * 65536 + b"\r\n"
        for _ in range(3200):
            conn.sendall(block)

    def mode_drip(self, conn):      # one byte a second
        for b in b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}':
            conn.sendall(bytes([b]))
            time.sleep(1)

    def mode_garbage(self, conn):
        conn.sendall(os.urandom(4096))

    def mode_truncated_json(self, conn):
        self.send(conn, "200 OK", b'{"status":"SUCCESS","gcClaimCode":"AB')

    def mode_nested(self, conn):
        self.send(conn, "200 OK", b"[" * 200000 + b"]" * 200000)

    def mode_nested_object(self, conn):
        self.send(conn, "200 OK", b'{"a":' * 100000 + b"1" + b"}" * 100000)

    def mode_huge_headers(self, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (2 * 1024 * 1024) +
                     b"\r\nContent-Length: 2\r\n\r\n{}")

    def mode_many_headers(self, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-H: aaaaaaaaaaaaaaaaaaaaaaaa\r\n" * 50000 +
                     b"Content-Length: 2\r\n\r\n{}")

    def mode_redirect(self, conn):
        self.send(conn, "302 Found", b"{}",
                  f"Location: https://127.0.0.1:{self.target}/GetAvailableFunds\r\n")

    def mode_escapes(self, conn):   # terminal control sequences
        self.send(conn, "500 Internal Server Error",
                  b"\x1b]0;owned\x07\x1b[2J<html>\x1b[31mfail\x1b[0m\r\n</html>",
                  "X-Evil: \x1b[5mblink\x1b[0m\r\n")

    def mode_escaped_json(self, conn):  # escapes inside JSON strings
        self.send(conn, "200 OK", b'{"availableFunds":{"amount":"1.00","currencyCode":"USD"},'
                                  b'"note":"\\u001b]0;owned\\u0007","\\u001b[2Jk":"v",'
                                  b'"status":"SUCCESS"}')

    def mode_ok(self, conn):
        self.send(conn, "200 OK", b'{"availableFunds":{"amount":1.0,"currencyCode":"USD"},'
                                  b'"status":"SUCCESS"}')

    def close(self):
        self.stop_flag = True
        self.sock.close()


@pytest.fixture
def hostile(certs, tmp_path, offline):
    servers = []

    def make(mode, **kw):
        h = Hostile(certs, mode, **kw)
        servers.append(h)
        offline.write_config(endpoint=f"https://127.0.0.1:{h.port}", ca_bundle=certs[0])
        return h
    yield make
    for h in servers:
        h.close()


def run_measured(a, *args, timeout=60):
    """Run agcod; return (rc, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen([AGCOD, *map(str, args)], env=a.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        p.kill()
    for mark in CRASH_MARKS:
        assert mark not in err, err
    assert 0 <= p.returncode < 128, (p.returncode, err)
    return p.returncode, out, err, time.monotonic() - t0


def peak_rss_mib(a, *args):
    """Peak RSS of one agcod run, from wait4's rusage."""
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execve(AGCOD, [AGCOD, *map(str, args)], a.env)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024


@pytest.fixture
def baseline_rss(certs, offline):
    """Peak RSS of one ordinary request (ASan and valgrind builds use more)."""
    h = Hostile(certs, "ok")
    offline.write_config(endpoint=f"https://127.0.0.1:{h.port}", ca_bundle=certs[0])
    rc, rss = peak_rss_mib(offline, "funds", "-o", "json")
    h.close()
    assert rc == 0
    return rss


# A hostile answer may cost the response cap (1 MiB) and little more: the
# plain build measures +0.3 MiB over an ordinary request; ASan's quarantine
# and shadow memory add about 10 MiB.  A 200 MB answer kept in memory would
# be far past this bound.
BOUND_MIB = 16


@pytest.mark.parametrize("mode", ["huge", "huge_chunked"])
def test_huge_answer_is_refused_with_bounded_memory(hostile, offline, baseline_rss, mode):
    hostile(mode)
    rc, out, err, secs = run_measured(offline, "--retry-for", "0", "funds", "-o", "json")
    assert rc == 75, err                  # an answer that proves nothing: unknown
    assert "larger than" in err and out == ""
    assert secs < 20
    rc, rss = peak_rss_mib(offline, "--retry-for", "0", "funds", "-o", "json")
    print(f"peak RSS {rss:.1f} MiB, baseline {baseline_rss:.1f} MiB")
    assert rc == 75 and rss < baseline_rss + BOUND_MIB, (rss, baseline_rss)


def test_one_byte_a_second_ends_at_the_timeout(hostile, offline):
    hostile("drip")
    rc, out, err, secs = run_measured(offline, "--timeout", "2", "--retry-for", "0",
                                      "funds", "-o", "json")
    assert rc == 75, err
    assert secs < 6 and "unknown" in err


@pytest.mark.parametrize("mode,code,needle", [
    ("garbage", 75, "outcome is unknown"),
    ("truncated_json", 75, "not JSON"),
    ("nested", 75, "not JSON"),
    ("nested_object", 75, "not JSON"),
    # a header line past libcurl's own limit is refused by libcurl, which
    # calls it "out of memory"; many headers reach agcod's response cap:
    # either way an answer came that proves nothing, so the outcome is unknown
    ("huge_headers", 75, r"funds: (the response is larger than \d+ bytes|"
                         r"transfer failed \(.*memory\)); the outcome is unknown"),
    ("many_headers", 75, r"funds: the response is larger than 1048576 bytes; "
                         r"the outcome is unknown"),
])
def test_bad_answers(hostile, offline, baseline_rss, mode, code, needle):
    hostile(mode)
    rc, out, err, secs = run_measured(offline, "--retry-for", "0", "funds", "-o", "json")
    assert rc == code, (rc, err)
    assert re.search(needle, err), (needle, err)
    assert out == "" and err.startswith("agcod: ")
    assert secs < 20
    rc, rss = peak_rss_mib(offline, "--retry-for", "0", "funds", "-o", "json")
    assert rss < baseline_rss + BOUND_MIB, (rss, baseline_rss)


def test_redirect_is_never_followed(hostile, offline, certs):
    target = hostile("ok")
    h = hostile("redirect")
    h.target = target.port
    rc, out, err, secs = run_measured(offline, "--retry-for", "0", "funds", "-o", "json")
    assert rc == 75, err                  # proves no refusal: unknown
    assert "HTTP 302" in err
    assert target.connections == 0            # the signed request went nowhere else


def test_certificate_for_another_name(tmp_path, offline):
    certs = agcod_emulator.make_certificates(str(tmp_path), san="DNS:other.example")
    emu = agcod_emulator.Emulator(certs).start()
    try:
        offline.write_config(endpoint=emu.endpoint, ca_bundle=certs[0])
        rc, out, err, secs = run_measured(offline, "funds", "-o", "json")
        assert rc == 69, err
        assert "TLS" in err and emu.requests() == []
    finally:
        emu.stop()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_old_tls_only_server_is_refused(hostile, offline):
    try:
        h = hostile("ok", tls_max=ssl.TLSVersion.TLSv1_1)
    except ssl.SSLError:
        pytest.skip("this OpenSSL cannot serve TLS 1.1")
    rc, out, err, secs = run_measured(offline, "funds", "-o", "json")
    assert rc == 69, err
    assert "TLS" in err and h.requests == []


def test_terminal_escapes_from_a_server_are_shown_not_obeyed(hostile, offline):
    hostile("escapes")
    trace = offline.tmp / "t.trace"
    r = offline("--trace", trace, "--retry-for", "0", "sign-debug", "funds", "--send",
                "-o", "table")
    assert r.rc == 75, r
    report = trace.read_bytes().decode("utf-8", "replace") + r.out
    assert "\x1b" not in report and "\x07" not in report
    assert "\\x1B]0;owned\\x07" in r.out and "\\x1B[5mblink" in r.out
    assert "\\x1B[2J<html>" in trace.read_text()
    assert "\x1b" not in r.err


def test_table_output_shows_escapes_from_json_strings(hostile, offline):
    hostile("escaped_json")
    r = offline("funds", "-o", "table")
    assert r.rc == 0, r
    assert "\x1b" not in r.out and "\x07" not in r.out
    assert "\\x1B]0;owned\\x07" in r.out and "\\x1B[2Jk" in r.out
    assert "1.00" in r.out
