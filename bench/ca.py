#!/usr/bin/python3
"""Benchmark: one request per process with the system trust store.

agcod without ca_bundle trusts OpenSSL's hashed directory (/etc/ssl/certs),
so OpenSSL reads the one CA the server's chain names; the curl tool loads
Debian's whole bundle file (~145 CAs) on every run.  Both are given a copy
of the system store with the emulator's CA added, as they would trust
Amazon's: agcod through SSL_CERT_DIR (a copy of /etc/ssl/certs, rehashed),
curl --aws-sigv4 through its default pair, the bundle file (--cacert, with
the CA appended) and the same directory (--capath).  Also agcod with the
bundle file (SSL_CERT_FILE), to show what the directory saves.

Goal: agcod at most 0.8x curl's wall time and 0.6x its CPU time.  Prints a
Markdown table (make bench appends it to its results file, $BENCH_OUT).

    /usr/bin/python3 bench/ca.py ./agcod
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the emulator, profile and per-process measurement)

SYSTEM_DIR = "/etc/ssl/certs"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def system_store_copy(tmp, ca):
    """a copy of the system store that also trusts the emulator's CA"""
    d = os.path.join(tmp, "certs")
    shutil.copytree(SYSTEM_DIR, d, symlinks=True)
    shutil.copy(ca, os.path.join(d, "agcod-emulator-ca.pem"))
    subprocess.run(["openssl", "rehash", d], check=True, capture_output=True)
    bundle = os.path.join(d, "ca-certificates.crt")
    with open(bundle, "a") as out, open(ca) as f:
        out.write(f.read())
    return d, bundle


def system_store_makers(tools, tmp, ca):
    """argv and environment makers for one create with the system trust
    store: agcod with the hashed directory (its default), curl with the
    bundle file and the directory (its default), agcod with the bundle file"""
    certdir, bundle = system_store_copy(tmp, ca)
    # the profile without ca_bundle: the trust store is the system's
    cfg = tools.env["AGCOD_CONFIG"]
    with open(cfg) as f:
        text = "".join(l for l in f if not l.startswith("ca_bundle"))
    with open(cfg, "w") as f:
        f.write(text)
    base = {k: v for k, v in tools.env.items()
            if k not in ("SSL_CERT_DIR", "SSL_CERT_FILE", "CURL_CA_BUNDLE")}
    dir_env = dict(base, SSL_CERT_DIR=certdir)
    file_env = dict(base, SSL_CERT_FILE=bundle, SSL_CERT_DIR=os.path.join(tmp, "none"))

    def agcod_dir():
        return tools.agcod_argv()[0], dir_env

    def agcod_file():
        return tools.agcod_argv()[0], file_env

    def curl_system():
        argv, _ = tools.curl_argv()
        i = argv.index("--cacert")
        argv[i + 1] = bundle
        argv[i + 2:i + 2] = ["--capath", certdir]
        return argv, base

    return agcod_dir, curl_system, agcod_file


def main():
    agcod = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./agcod")
    if not os.path.isfile(SYSTEM_BUNDLE):
        print("bench/ca.py: no system trust store (install ca-certificates)")
        return 1
    run.build_tools()
    with tempfile.TemporaryDirectory(prefix="agcod-bench-ca-") as tmp:
        emu, ca = run.start_emulator(tmp, max_rps=100000)
        tools = run.Tools(agcod, tmp, emu, ca)
        agcod_dir, curl_system, agcod_file = system_store_makers(tools, tmp, ca)
        makers = (("agcod (hashed directory, the default)", agcod_dir),
                  ("curl --aws-sigv4 (bundle file + directory, its default)", curl_system),
                  ("agcod with the bundle file (SSL_CERT_FILE)", agcod_file))
        samples = {name: [] for name, _ in makers}
        for i in range(run.REPEAT + 2):
            for name, make in makers:
                argv, env = make()
                s = run.measure(argv, env)
                assert s[3] == 0, (name, s)
                if i >= 2:
                    samples[name].append(s)
                time.sleep(0.15)
        emu.stop()
    med = {name: tuple(statistics.median(s[k] for s in ss) for k in range(3))
           for name, ss in samples.items()}
    curl = med["curl --aws-sigv4 (bundle file + directory, its default)"]
    print()
    print(f"System trust store (a copy of {SYSTEM_DIR} with the emulator's CA added), "
          f"one CreateGiftCard per process, medians of {run.REPEAT} runs; ratios to curl "
          f"(goal for agcod's default: wall <= 0.80, CPU <= 0.60).")
    print()
    print("| system trust store | wall ms | CPU ms | peak RSS MiB | wall vs curl | CPU vs curl |")
    print("|---|---|---|---|---|---|")
    for name, (w, c, m) in med.items():
        print(f"| {name} | {w * 1e3:.1f} | {c * 1e3:.1f} | {m:.1f} | {w / curl[0]:.2f} | "
              f"{c / curl[1]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
