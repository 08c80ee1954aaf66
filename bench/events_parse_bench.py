#!/usr/bin/env python3
"""Kernel-log parser scaling: time and peak memory of triage.events on logs of
100k..1.6M lines (an oops block every 5000 lines, the rest audit noise),
against GNU grep scanning the same file for report headers in the same run.

Linear time shows as a constant per-line cost across sizes; the grep column is
the floor any line-by-line scanner pays for reading the file.

Usage: python3 bench/events_parse_bench.py [--sizes 100000,400000,1600000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCK = open(os.path.join(HERE, "..", "tests", "data", "logs", "centos8-4.18-nvidia-alloc-fail-null-deref.log"),
             "rb").read()
CHILD = ("import resource,sys,time; from triage.events import read_log_file; t=time.perf_counter(); "
         "log=read_log_file(sys.argv[1]); "
         "print(time.perf_counter()-t, len(log.events), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def make(path: str, n: int) -> None:
    with open(path, "wb") as fp:
        for i in range(n):
            if i % 5000 == 0:
                fp.write(BLOCK)
            fp.write(b"[%12.6f] audit: type=1400 audit(%d.1:2): apparmor=\"DENIED\" name=\"/x/%d\"\n" % (i / 100, i, i))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,400000,1600000")
    args = ap.parse_args()
    print(f"{'lines':>9} {'MB':>6} {'triage s':>9} {'us/line':>8} {'peak RSS MB':>11} {'grep s':>7} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            path = os.path.join(tmp, f"{n}.log")
            make(path, n)
            mb = os.path.getsize(path) / 1e6
            out = subprocess.run([sys.executable, "-c", CHILD, path], capture_output=True, text=True, check=True,
                                 cwd=os.path.join(HERE, "..")).stdout.split()
            secs, rss_kb = float(out[0]), int(out[2])
            t = time.perf_counter()
            subprocess.run(["grep", "-c", "-E", "BUG: |WARNING: |Kernel panic|invoked oom-killer|general protection",
                            path], capture_output=True, check=False)
            g = time.perf_counter() - t
            print(f"{n:>9} {mb:>6.0f} {secs:>9.2f} {secs / n * 1e6:>8.1f} {rss_kb / 1024:>11.0f} {g:>7.2f} "
                  f"{secs / g:>6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
