#!/usr/bin/env python3
"""`triage analyze` on hostile logs dense with events: a WARNING report every
10 lines (100k reports per 1M lines), page-allocation failures in a GPU
module, terminal escapes, control characters and invalid UTF-8 on every
noise line, and at the end the NVIDIA allocation-failure + NULL-dereference
+ panic of tests/data/logs/centos8-4.18-nvidia-alloc-fail-null-deref.log.

Reports wall time and peak RSS of the whole CLI (read, parse, classify,
hypotheses, JSON render) per size, and GNU grep counting report headers in
the same file as the floor any line scanner pays. With --baseline DIR (a
checkout of an older triage), the same run times that tree too (with a
timeout), to show the scaling a change removed.

Usage: python3 bench/analyze_many_events_bench.py [--sizes 250000,1000000]
           [--baseline /path/to/old/checkout --baseline-sizes 50000,100000] [--timeout 600]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TAIL = open(os.path.join(REPO, "tests", "data", "logs", "centos8-4.18-nvidia-alloc-fail-null-deref.log"),
            "rb").read()
# Run the CLI of a given checkout (cwd first on sys.path), not whatever `triage` is installed.
sys.path.insert(0, os.path.join(REPO, "tests", "data"))
from hostile_reports import write_warnings  # noqa: E402

CLI = "import sys; sys.path.insert(0, '.'); from triage.cli import main; sys.argv = ['triage'] + sys.argv[1:]; main()"

def make(path: str, lines: int) -> None:
    with open(path, "wb") as fp:
        write_warnings(fp, lines // 10, alloc_every=50)
        fp.write(TAIL.replace(b"[  312.", b"[99312."))


def run(tree: str, path: str, timeout: float):
    """(seconds, peak RSS MiB, verdict category) of `triage analyze --format json` in `tree`, None on timeout."""
    with tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-c", CLI, "analyze", "--format", "json", path], cwd=tree,
                             stdout=out, stderr=subprocess.DEVNULL)
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t > timeout:
                p.kill()
                p.wait()
                return None
            time.sleep(0.02)
        secs = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        try:
            cat = json.loads(out.read())["verdict"]["category"]
        except (ValueError, KeyError):
            cat = f"exit {p.returncode}"
    return secs, usage.ru_maxrss / 1024, cat


def grep_floor(path: str) -> float:
    t = time.perf_counter()
    subprocess.run(["grep", "-a", "-c", "-E", "BUG: |WARNING: |Kernel panic|page allocation failure", path],
                   capture_output=True, check=False)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="250000,1000000")
    ap.add_argument("--baseline", help="an older checkout to time on the same logs")
    ap.add_argument("--baseline-sizes", default="50000,100000")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    print(f"{'tree':>9} {'lines':>9} {'MB':>5} {'analyze s':>10} {'us/line':>8} {'peak RSS MB':>11} "
          f"{'grep s':>7} {'ratio':>6}  verdict")
    jobs = [("current", REPO, int(n)) for n in args.sizes.split(",")]
    if args.baseline:
        jobs += [("baseline", args.baseline, int(n)) for n in args.baseline_sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for name, tree, n in jobs:
            path = os.path.join(tmp, f"{n}.log")
            if not os.path.exists(path):
                make(path, n)
            mb = os.path.getsize(path) / 1e6
            g = grep_floor(path)
            got = run(tree, path, args.timeout)
            if got is None:
                print(f"{name:>9} {n:>9} {mb:>5.0f} {'>' + str(int(args.timeout)):>10} {'-':>8} {'-':>11} "
                      f"{g:>7.2f} {'-':>6}  timed out")
                continue
            secs, rss, cat = got
            print(f"{name:>9} {n:>9} {mb:>5.0f} {secs:>10.2f} {secs / n * 1e6:>8.1f} {rss:>11.0f} {g:>7.2f} "
                  f"{secs / g:>6.0f}  {cat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
