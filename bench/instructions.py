#!/usr/bin/python3
"""Instructions per CreateGiftCard, one process per request, counted by
valgrind's callgrind: agcod (one or more binaries, e.g. before and after a
change) and curl --aws-sigv4, side by side against the local emulator with
a one-CA bundle (bench/run.py's setup).  Instructions, unlike CPU time, do
not move with the load of a shared machine.  Each binary writes its own
journal, warmed by one create first; the median of BENCH_IR_REPEAT (5).

  bench/instructions.py ./agcod [/path/to/old/agcod ...]
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402

REPEAT = int(os.environ.get("BENCH_IR_REPEAT", "5"))


def instructions(argv, env):
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
                       + argv, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return int(re.search(r"Collected : (\d+)", p.stderr).group(1))


def main():
    agcods = [os.path.abspath(a) for a in sys.argv[1:]] or [os.path.join(run.ROOT, "agcod")]
    with tempfile.TemporaryDirectory() as tmp:
        emu, ca = run.start_emulator(tmp)
        counts = {}
        for name in agcods + ["curl --aws-sigv4"]:
            tools = run.Tools(name, tempfile.mkdtemp(dir=tmp), emu, ca)
            make = tools.curl_argv if name.startswith("curl") else tools.agcod_argv
            samples = []
            for i in range(REPEAT + 1):
                argv, env = make()
                n = instructions(argv, env)
                if i:                   # the first creates the journal
                    samples.append(n)
                time.sleep(0.15)        # past the 10 req/s spacing
            counts[name] = statistics.median(samples)
        emu.stop()
    curl = counts["curl --aws-sigv4"]
    print(f"\nInstructions per CreateGiftCard (callgrind, one-CA bundle, median of {REPEAT}):\n")
    print("| one request | instructions (M) | ratio to curl |")
    print("|---|---|---|")
    for name, n in counts.items():
        label = name if name.startswith("curl") else "agcod " + name
        print(f"| {label} | {n / 1e6:.2f} | {n / curl:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
