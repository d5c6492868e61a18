#!/usr/bin/python3
"""Benchmark: checking a 100,000-row batch file before anything is sent.

`agcod batch create FILE --dry-run` against the local emulator: every row
parsed, checked and given its request id, the journal asked about each,
then one GetAvailableFunds.  Prints one line: the median wall time of RUNS
runs (target: well under 3 s on a 2-core machine).  A measurement, not a
test: tests/e2e/test_batch_safety.py checks the same run without a clock.

    /usr/bin/python3 bench/batch_validate.py ./agcod [ROWS] [RUNS]
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the emulator and profile of bench/run.py)


def main():
    agcod = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./agcod")
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with tempfile.TemporaryDirectory(prefix="agcod-bench-") as tmp:
        emu, ca = run.start_emulator(tmp)
        env = run.agcod_env(tmp, emu, ca)
        csv = os.path.join(tmp, "big.csv")
        with open(csv, "w") as f:
            f.write("amount,email\n" +
                    "".join(f"{1 + i % 50},u{i}@x.test\n" for i in range(rows)))
        walls, rc = [], 0
        for i in range(runs):
            if i:
                time.sleep(1.0)         # GetAvailableFunds: 1 per second
            t0 = time.monotonic()
            p = subprocess.run([agcod, "-q", "batch", "create", csv, "--dry-run",
                                "-o", "json"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            walls.append(time.monotonic() - t0)
            rc = rc or p.returncode
        emu.stop()
        print(f"batch --dry-run of {rows} rows: {statistics.median(walls):.2f} s "
              f"wall (median of {runs}; min {min(walls):.2f}, max {max(walls):.2f}), "
              f"exit {rc}")
        return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
