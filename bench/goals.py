#!/usr/bin/python3
"""The two per-request goals of agcod against curl --aws-sigv4, measured
side by side in one run against the local emulator (bench/run.py's setup):

  CPU:  instructions per CreateGiftCard with a one-CA bundle (callgrind,
        which a busy machine does not move), goal <= 1.0x curl's;
  wall: wall time per CreateGiftCard with the system trust store (a copy
        of /etc/ssl/certs with the emulator's CA added: agcod's default,
        the hashed directory, against curl's default, the bundle file and
        the directory), goal <= 0.8x curl's.

Wall times are medians of BENCH_WALL_REPEAT (41) runs, agcod and curl
taking turns so that a change of the machine's load touches both alike;
the 1-minute load average before and after is printed with them.  Prints a
Markdown table (make bench appends it to its results file, $BENCH_OUT).

    /usr/bin/python3 bench/goals.py ./agcod
"""
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ca  # noqa: E402  (the system trust store's copy)
import instructions  # noqa: E402  (callgrind's count of one process)
import run  # noqa: E402  (the emulator, profile and per-process measurement)

IR_REPEAT = int(os.environ.get("BENCH_IR_REPEAT", "5"))
WALL_REPEAT = int(os.environ.get("BENCH_WALL_REPEAT", "41"))


def load():
    return os.getloadavg()[0]


def cpu_goal(tools):
    """median instructions per create: agcod's and curl's"""
    out = {}
    for name, make in (("agcod", tools.agcod_argv), ("curl", tools.curl_argv)):
        samples = []
        for i in range(IR_REPEAT + 1):
            argv, env = make()
            n = instructions.instructions(argv, env)
            if i:                   # the first creates agcod's journal
                samples.append(n)
            time.sleep(0.15)        # past the 10 req/s spacing
        out[name] = statistics.median(samples)
    return out


def wall_goal(tools, tmp, ca_file):
    """median wall and CPU seconds per create with the system trust store"""
    agcod, curl, _ = ca.system_store_makers(tools, tmp, ca_file)
    samples = {"agcod": [], "curl": []}
    for i in range(WALL_REPEAT + 2):
        # who goes first alternates: neither always follows the other
        order = (("agcod", agcod), ("curl", curl))
        for name, make in order if i % 2 else order[::-1]:
            argv, env = make()
            s = run.measure(argv, env)
            assert s[3] == 0, (name, s)
            if i >= 2:              # the first runs warm the page cache
                samples[name].append(s)
            time.sleep(0.15)
    return {name: (statistics.median(s[0] for s in ss),
                   statistics.median(s[1] for s in ss))
            for name, ss in samples.items()}


def main():
    agcod = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "./agcod")
    run.build_tools()
    with tempfile.TemporaryDirectory(prefix="agcod-bench-goals-") as tmp:
        emu, ca_file = run.start_emulator(tmp, max_rps=100000)
        load0 = load()
        ir = cpu_goal(run.Tools(agcod, tempfile.mkdtemp(dir=tmp), emu, ca_file))
        load1 = load()
        wall = wall_goal(run.Tools(agcod, tempfile.mkdtemp(dir=tmp), emu, ca_file),
                         tmp, ca_file)
        load2 = load()
        emu.stop()
    ir_ratio = ir["agcod"] / ir["curl"]
    wall_ratio = wall["agcod"][0] / wall["curl"][0]
    print()
    print(f"Goals, agcod against curl --aws-sigv4 in one run: instructions per "
          f"CreateGiftCard with a one-CA bundle (callgrind, median of {IR_REPEAT}; "
          f"load {load0:.2f} -> {load1:.2f}), wall time with the system trust "
          f"store (median of {WALL_REPEAT}, taking turns; load {load1:.2f} -> "
          f"{load2:.2f}); {os.cpu_count()} cores.")
    print()
    print("| goal | agcod | curl --aws-sigv4 | ratio | goal | met |")
    print("|---|---|---|---|---|---|")
    print(f"| CPU: instructions per create, one-CA bundle | {ir['agcod'] / 1e6:.2f} M | "
          f"{ir['curl'] / 1e6:.2f} M | {ir_ratio:.2f} | <= 1.00 | "
          f"{'yes' if ir_ratio <= 1.0 else 'no'} |")
    print(f"| wall: ms per create, system trust store | {wall['agcod'][0] * 1e3:.1f} | "
          f"{wall['curl'][0] * 1e3:.1f} | {wall_ratio:.2f} | <= 0.80 | "
          f"{'yes' if wall_ratio <= 0.8 else 'no'} |")
    print(f"| (CPU ms per create, system trust store) | {wall['agcod'][1] * 1e3:.1f} | "
          f"{wall['curl'][1] * 1e3:.1f} | {wall['agcod'][1] / wall['curl'][1]:.2f} | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
