"""The "AWS4"+secret buffer of the key derivation is wiped before it returns
(issue 13): gdb stops at sigv4_key_chain, lets it finish, and searches the
stack below the caller's frame, where the dead frame lies, for the bytes of
"AWS4" and the secret.  Skips without gdb or ptrace."""
import shutil
import subprocess

import pytest

from conftest import AGCOD

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.mark.skipif(shutil.which("gdb") is None, reason="no gdb")
def test_aws4_secret_buffer_is_wiped(tmp_path):
    needle = ",".join(f"'{c}'" for c in ("AWS4" + SECRET)[:16])
    script = tmp_path / "wipe.gdb"
    script.write_text(
        "set pagination off\nset confirm off\nbreak sigv4_key_chain\nrun\n"
        "finish\nprintf \"FRAME-DONE\\n\"\n"
        f"find /b $sp-200000, $sp, {needle}\nkill\nquit\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TZ": "UTC",
           "AGCOD_PARTNER_ID": "Awssb", "AGCOD_ACCESS_KEY_ID": "AKIAJBYCL67O6NJUNYBQ",
           "AGCOD_SECRET_ACCESS_KEY": SECRET, "AGCOD_STATE_DIR": str(tmp_path / "s")}
    p = subprocess.run(["gdb", "-nx", "-batch", "-x", str(script), "--args", AGCOD,
                        "sign-debug", "funds", "--date", "20260101T000000Z", "-o", "json"],
                       env=env, capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    if "Breakpoint 1, sigv4_key_chain" not in out or "FRAME-DONE" not in out:
        pytest.skip("gdb cannot run agcod here: " + out[-300:])
    assert "Pattern not found." in out, out[-600:]
    assert "pattern found" not in out.replace("Pattern not found", ""), out[-600:]
