"""The bash, zsh and fish completions, driven as the shells drive them:
an option's value is never taken for the command, profile names come from
the configuration file, files where a file is wanted, descriptions in zsh
and fish.  zsh and fish run only when installed."""
import os
import shutil
import subprocess

import pytest

from conftest import AGCOD, ROOT

COMPLETIONS = os.path.join(ROOT, "completions")
COMMANDS = ["create", "cancel", "funds", "load", "void", "activate", "deactivate",
            "activation-status", "sign-debug", "history", "reconcile", "batch",
            "support-draft", "verify", "config"]
OPERATIONS = ["create", "cancel", "funds", "load", "void", "activate",
              "deactivate", "activation-status"]


@pytest.fixture
def shellenv(tmp_path):
    """a PATH whose 'agcod' is the binary under test, a configuration with
    two profiles, another with one, and a directory with files to offer"""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "agcod").symlink_to(AGCOD)
    cfg = tmp_path / "config.ini"
    cfg.write_text("[default]\npartner_id = Acme1\n[prod-eu]\nregion = eu\n")
    cfg.chmod(0o600)
    (tmp_path / "other.ini").write_text("[elsewhere]\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "rewards.csv").write_text("amount\n1\n")
    (work / "req.txt").write_text("POST / HTTP/1.1\n")
    (work / "sub").mkdir()
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path),
           "AGCOD_CONFIG": str(cfg), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "XDG_DATA_HOME": str(tmp_path / "xdgdata"), "LANG": "C.UTF-8"}
    return env, work, tmp_path


CASES = [
    # (words typed, the last being completed) -> expected completions
    (["-p", "prod-eu", "cr"], ["create"]),
    (["cr"], ["create"]),
    (["--region", "eu", "-o", "json", "fu"], ["funds"]),
    (["-p", ""], ["default", "prod-eu"]),
    (["-p", "pr"], ["prod-eu"]),
    (["-c", "OTHER", "-p", ""], ["elsewhere"]),
    (["--output", ""], ["csv", "json", "table"]),
    (["--environment", "p"], ["production"]),
    (["create", "--am"], ["--amount"]),
    (["create", "--amount", "5", "--cu"], ["--currency"]),
    (["create", "--amount", "5", "-p", "default", "--ex"], ["--external-reference"]),
    (["create", "--amount", ""], []),
    (["sign-debug", ""], OPERATIONS),
    (["sign-debug", "ac"], ["activate", "activation-status"]),
    (["-p", "default", "sign-debug", "cr"], ["create"]),
    (["sign-debug", "create", "--am"], ["--amount"]),
    (["sign-debug", "create", "--amount", "1", "--sh"], ["--show-signing-key"]),
    (["sign-debug", "funds", "--am"], []),
    (["sign-debug", "cancel", "--gc"], ["--gc-id"]),
    (["sign-debug", "create", "--gc"], []),
    (["sign-debug", "--gc"], ["--gc-id"]),
    (["batch", ""], ["create"]),
    (["batch", "create", "re"], ["req.txt", "rewards.csv"]),
    (["batch", "create", "rewards.csv", "--d"], ["--delimiter", "--dry-run"]),
    (["sign-debug", "--request", "re"], ["req.txt", "rewards.csv"]),
    (["-c", "re"], ["req.txt", "rewards.csv"]),
    (["--trace", "re"], ["req.txt", "rewards.csv"]),
    (["--state-dir", ""], ["sub"]),
    (["help", "acti"], ["activate", "activation-status"]),
    (["config", ""], ["list", "profiles"]),
    (["--ver"], ["--verbose", "--version"]),
    (["history", "--state", "can"], ["cancelled"]),
    (["history", "--requests", "--state", "su"], ["succeeded"]),
    (["history", "--operation", "ca"], ["cancel"]),
    (["history", "--operation", "", "--rev"], ["--reverse"]),
    (["history", "--all"], ["--all-environments"]),
]


def expand(words, tmp):
    return [str(tmp / "other.ini") if w == "OTHER" else w for w in words]


def bash_complete(env, work, words):
    script = (f"source {COMPLETIONS}/agcod.bash\n"
              "COMP_WORDS=(agcod " + " ".join(f"'{w}'" for w in words) + ")\n"
              f"COMP_CWORD={len(words)}\n"
              "_agcod\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env,
                       cwd=work, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stderr == "", p
    return sorted(l.rstrip("/") for l in p.stdout.splitlines() if l)


@pytest.mark.parametrize("words,want", CASES)
def test_bash(shellenv, words, want):
    env, work, tmp = shellenv
    assert bash_complete(env, work, expand(words, tmp)) == sorted(want)


def test_bash_word_breaks_at_equals(shellenv):
    env, work, tmp = shellenv
    # COMP_WORDBREAKS splits '--output=j' into '--output', '=', 'j'
    assert bash_complete(env, work, ["--output", "=", "j"]) == ["json"]
    assert bash_complete(env, work, ["--output", "=", "json", "fu"]) == ["funds"]


ZSH_STUBS = r"""
compadd() { [[ $1 == -- ]] && shift; local a; for a in "$@"; do
  [[ $a == ${PREFIX}* ]] && print -r -- "$a"; done }
_describe() { local arr=${@[-1]} e; for e in ${(P)arr}; do
  [[ ${e%%:*} == ${PREFIX}* ]] && print -r -- "${e%%:*}	${e#*:}"; done }
_files() { local f; for f in ${PREFIX}*(N${1:+/}); do print -r -- $f; done }
_message() { }
"""


def zsh_complete(env, work, words):
    script = (ZSH_STUBS + "words=(agcod " + " ".join(f"'{w}'" for w in words) + ")\n"
              f"CURRENT={len(words) + 1}\nPREFIX='{words[-1]}'\n"
              f"source {COMPLETIONS}/_agcod\n")
    p = subprocess.run(["zsh", "-f", "-c", script], env=env, cwd=work,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode in (0, 1) and p.stderr == "", p
    return [l.split("\t") for l in p.stdout.splitlines() if l]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
@pytest.mark.parametrize("words,want", CASES)
def test_zsh(shellenv, words, want):
    env, work, tmp = shellenv
    got = zsh_complete(env, work, expand(words, tmp))
    assert sorted(g[0] for g in got) == sorted(want)


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_descriptions(shellenv):
    env, work, _ = shellenv
    got = dict(zsh_complete(env, work, ["create", "--a"]))
    assert got == {"--amount": "amount, e.g. 25 or 19.99"}
    got = dict(zsh_complete(env, work, ["fu"]))
    assert got == {"funds": "show the prepaid funds"}


def fish_complete(env, work, words):
    line = "agcod " + " ".join(words)
    p = subprocess.run(["fish", "--no-config", "-c",
                        f"source {COMPLETIONS}/agcod.fish; complete -C '{line}'"],
                       env=env, cwd=work, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stderr == "", p
    return [l.split("\t") for l in p.stdout.splitlines() if l]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
@pytest.mark.parametrize("words,want", CASES)
def test_fish(shellenv, words, want):
    env, work, tmp = shellenv
    got = fish_complete(env, work, expand(words, tmp))
    assert sorted(g[0].rstrip("/") for g in got) == sorted(want)


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_descriptions(shellenv):
    env, work, _ = shellenv
    got = dict(fish_complete(env, work, ["create", "--am"]))
    assert got == {"--amount": "amount, e.g. 25 or 19.99"}
    got = dict(fish_complete(env, work, ["fu"]))
    assert got == {"funds": "show the prepaid funds"}


def test_every_command_is_completed(shellenv):
    env, work, _ = shellenv
    cmds = subprocess.run([AGCOD, "--list-commands"], capture_output=True,
                          text=True, check=True).stdout.split()
    assert set(COMMANDS) <= set(cmds)
    assert bash_complete(env, work, [""]) == sorted(cmds + ["help"])
