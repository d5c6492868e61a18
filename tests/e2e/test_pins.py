"""Behaviours no test pinned (issue 18): each would break without a test
failing.  The production confirmation takes only a clear yes; the 24 h
recovery cap holds when only seconds of it are left; a group-writable state
directory is refused."""
import datetime
import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

from conftest import AGCOD

CARD = "1400000005567585358"


def on_a_terminal(agcod, args, answer, timeout=60):
    """agcod with a terminal of its own (/dev/tty), answering the question"""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(AGCOD, [AGCOD, *args], agcod.env)
        finally:
            os._exit(127)
    out, sent, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:         # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
        if not sent and b"proceed? [y/N]" in out:
            os.write(fd, answer.encode() + b"\n")
            sent = True
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.mark.parametrize("answer,confirmed", [
    ("y", True), ("yes", True), ("YES", True), ("Yes ", True),
    ("yeah no", False), ("yes please", False), ("yess", False), ("ye", False),
    ("no", False), ("", False), ("y es", False), ("oui", False),
])
def test_production_confirmation_takes_only_a_clear_yes(agcod, emu, answer, confirmed):
    agcod.write_config(endpoint=emu.endpoint, ca_bundle=emu.ca,
                       environment="production")
    rc, out = on_a_terminal(agcod, ["create", "--amount", "1", "-o", "json"], answer)
    assert "PRODUCTION: CreateGiftCard of 1 USD" in out, out
    sent = emu.requests("CreateGiftCard")
    if confirmed:
        assert rc == 0 and len(sent) == 1, (rc, out)
    else:
        assert rc == 64 and "not confirmed; nothing was sent" in out, (rc, out)
        assert sent == [], out


def test_recovery_cap_when_seconds_of_the_24_hours_are_left(agcod, emu):
    """--recover-for 120, but the activation was first sent 24 h minus 3 s
    ago: the recovery gets those seconds, not 120"""
    emu.fault("resend", count=1, op="ActivateGiftCard")
    emu.fault("resend", count=100, op="DeactivateGiftCard")
    assert agcod("--retry-for", "0", "activate", "--card-number", CARD, "--amount",
                 "20", "--recover-for", "1", "-o", "json", timeout=60).rc == 75
    first = datetime.datetime.now(datetime.timezone.utc) - \
        datetime.timedelta(hours=24) + datetime.timedelta(seconds=3)
    agcod.tamper("UPDATE requests SET time = ?", first.strftime("%Y-%m-%dT%H:%M:%SZ"))
    emu.faults.clear()
    emu.fault("resend", count=1, op="ActivateGiftCard")
    emu.fault("resend", count=100, op="DeactivateGiftCard")
    rec = agcod("--retry-for", "0", "reconcile", "--recover-for", "120", timeout=120)
    assert rec.rc == 75, rec
    # the window it was given is said: a few seconds, never 120
    m = re.search(r"did not succeed within (\d+) s", rec.err)
    assert m and 0 < int(m.group(1)) <= 3, rec.err
    assert len(emu.requests("DeactivateGiftCard")) <= 8


# with the journal in PostgreSQL the state directory keeps only the rate
# limit's file, and a writable one is not refused for it yet (issue 21)
@pytest.mark.sqlite_file
@pytest.mark.parametrize("mode", [0o770, 0o720, 0o702, 0o777])
def test_a_group_or_world_writable_state_directory_is_refused(agcod, emu, mode):
    agcod.state.mkdir(mode=0o700, exist_ok=True)
    os.chmod(agcod.state, mode)
    r = agcod("create", "--amount", "1", "-o", "json")
    assert r.rc == 74, r
    assert "chmod go-w" in r.err, r
    assert emu.requests() == []
    os.chmod(agcod.state, 0o750)        # readable by the group is fine
    assert agcod("create", "--amount", "1", "-o", "json").rc == 0


PRCTL_SHIM = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <dlfcn.h>

int
prctl(int option, ...)
{
	static int (*real)(int, unsigned long, unsigned long, unsigned long,
	    unsigned long);
	unsigned long a[4];
	va_list ap;
	int i;

	va_start(ap, option);
	for (i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (option == PR_SET_DUMPABLE) {
		errno = EPERM;
		return -1;
	}
	if (real == NULL)
		real = (int (*)(int, unsigned long, unsigned long, unsigned long,
		    unsigned long))dlsym(RTLD_NEXT, "prctl");
	return real(option, a[0], a[1], a[2], a[3]);
}
"""


def test_a_process_that_cannot_hide_its_memory_stops(offline, tmp_path):
    """main.c checks setrlimit/prctl: if the secret could end in a core dump
    or be read by ptrace, agcod stops before reading it (issue 18 item 10)"""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    (tmp_path / "shim.c").write_text(PRCTL_SHIM)
    so = tmp_path / "shim.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(tmp_path / "shim.c"),
                    "-ldl"], check=True, timeout=60)
    pre = str(so)
    if os.environ.get("AGCOD_PRELOAD"):
        pre = os.environ["AGCOD_PRELOAD"] + ":" + pre
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                  "verify_asan_link_order=0"]))
    r = offline("sign-debug", "funds", "-o", "json",
                env={"LD_PRELOAD": pre, "ASAN_OPTIONS": asan})
    assert r.rc == 71, r
    assert "cannot disable core dumps" in r.err and r.out == "", r
    assert offline("sign-debug", "funds", "-o", "json").rc == 0
