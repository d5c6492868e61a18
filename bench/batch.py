#!/usr/bin/python3
"""Benchmark: a 600-row batch create against the local emulator at 10 req/s.

Measures the wall time (target: within 2% of 60 s), the throttled responses
the emulator counted (target: 0) and the TLS connections it accepted
(target: 1).  Prints one line of results; a measurement, not a test.

    /usr/bin/python3 bench/batch.py ./agcod [ROWS]
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the emulator and profile of bench/run.py)


def main():
    agcod = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./agcod")
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    with tempfile.TemporaryDirectory(prefix="agcod-bench-") as tmp:
        emu, ca = run.start_emulator(tmp)
        env = run.agcod_env(tmp, emu, ca)
        csv = os.path.join(tmp, "rows.csv")
        with open(csv, "w") as f:
            f.write("amount\n" + "".join(f"{1 + i % 50}.{i % 100:02d}\n" for i in range(rows)))
        t0 = time.monotonic()
        p = subprocess.run([agcod, "-q", "batch", "create", csv, "-o", "json"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        emu.stop()
        ideal = rows / 10.0
        ok = sum(1 for l in p.stdout.splitlines() if '"status":"SUCCESS"' in l)
        print(f"batch {rows} rows at 10 req/s: {wall:.2f} s wall "
              f"({(wall / ideal - 1) * 100:+.2f}% vs {ideal:.0f} s), "
              f"{ok} succeeded, exit {p.returncode}, "
              f"{emu.throttled} throttled, {emu.connections} TLS handshake(s)")
        return 0 if p.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
