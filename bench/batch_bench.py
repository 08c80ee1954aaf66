#!/usr/bin/env python3
"""Throughput and memory of `triage batch`, against the shell loop people write today.

One run measures, on the same tree of N real dumps (RHEL layout, each dir a
`vmcore` linked to a real dump makedumpfile can read):
  * peer: a bash loop of `makedumpfile --dump-dmesg vmcore dmesg.txt` plus
    `triage analyze dmesg.txt --format json` per dump (what ABRT/kdump users
    script today);
  * `triage batch --jobs 1` and `--jobs 2` on a fresh output directory;
and reports dumps per minute and the ratios. Then it runs `triage batch
--jobs 2` on trees of growing size and reports the peak RSS of the batch
process and of its largest worker, to show memory stays bounded.

Usage: python3 bench/batch_bench.py [--dumps 24] [--sizes 6,24,96] [--json out.json]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "batch"))
from _dumps import finished_dumps  # noqa: E402

TRIAGE = [sys.executable, "-m", "triage"]


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def makedumpfile_reads(dump: Path, tmp: Path) -> bool:
    out = tmp / "probe.txt"
    out.unlink(missing_ok=True)
    r = subprocess.run(["makedumpfile", "--dump-dmesg", str(dump), str(out)], capture_output=True, timeout=300)
    return r.returncode == 0 and out.exists() and out.stat().st_size > 0


def build_tree(root: Path, dumps, n: int) -> None:
    for i in range(n):
        d = root / f"host{i:03d}" / f"127.0.0.1-2026-11-{1 + i % 28:02d}-10:{i % 60:02d}:00"
        d.mkdir(parents=True)
        (d / "vmcore").symlink_to(dumps[i % len(dumps)])


def timed(argv, **kw):
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    return time.monotonic() - t0, r


SHELL_LOOP = r'''
set -u
for d in "$1"/*/*/; do
  makedumpfile --dump-dmesg "$d/vmcore" "$2/dmesg.txt" >/dev/null 2>&1 || { echo "FAIL $d" >&2; continue; }
  "$3" -m triage analyze "$2/dmesg.txt" --format json > /dev/null
  rm -f "$2/dmesg.txt"
done
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dumps", type=int, default=24)
    ap.add_argument("--sizes", default="6,24,96")
    ap.add_argument("--json", help="write the numbers here too")
    ap.add_argument("--dump", action="append", default=[],
                    help="use this dump (repeatable) instead of the real ones under sample_dumps/")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        candidates = ([Path(d).resolve() for d in args.dump] if args.dump
                      else finished_dumps())
        dumps = [d for d in candidates if makedumpfile_reads(d, tmp)][:4]
        if not dumps:
            print("no real dump that makedumpfile --dump-dmesg reads; generate sample_dumps first", file=sys.stderr)
            return 2
        print("dumps used (makedumpfile reads them):")
        for d in dumps:
            print(f"  {_rel(d)}  {d.stat().st_size / 1048576:.1f} MiB")
        root = tmp / "tree"
        build_tree(root, dumps, args.dumps)
        n = args.dumps
        work = tmp / "loop"
        work.mkdir()
        res = {"dumps": n, "files": [_rel(d) for d in dumps], "cpus": os.cpu_count()}
        t, r = timed(["bash", "-c", SHELL_LOOP, "loop", str(root), str(work), sys.executable])
        assert "FAIL" not in r.stderr, r.stderr
        res["shell_loop_s"] = round(t, 2)
        for jobs in (1, 2):
            out = tmp / f"out{jobs}"
            t, r = timed(TRIAGE + ["batch", str(root), "-o", str(out), "-j", str(jobs), "--format", "json",
                                   "--no-progress"])
            doc = json.loads(r.stdout)
            assert doc["summary"]["dumps"] == n and doc["summary"]["error"] == 0, r.stderr
            res[f"batch_j{jobs}_s"] = round(t, 2)
            # a re-run with nothing new: the cost of resuming
            t2, _ = timed(TRIAGE + ["batch", str(root), "-o", str(out), "-j", str(jobs), "--format", "json",
                                    "--no-progress"])
            res[f"batch_j{jobs}_rerun_s"] = round(t2, 2)
        per_min = {k: round(n * 60 / res[k], 1) for k in ("shell_loop_s", "batch_j1_s", "batch_j2_s")}
        res["dumps_per_minute"] = per_min
        print(f"\nthroughput on {n} dumps ({os.cpu_count()} CPUs), one run each:")
        print(f"  shell loop (makedumpfile --dump-dmesg + triage analyze): {res['shell_loop_s']:7.2f} s"
              f"  {per_min['shell_loop_s']:7.1f} dumps/min")
        for jobs in (1, 2):
            k = f"batch_j{jobs}_s"
            print(f"  triage batch --jobs {jobs}:                                 {res[k]:7.2f} s"
                  f"  {per_min[k]:7.1f} dumps/min  ({res['shell_loop_s'] / res[k]:.2f}x the loop;"
                  f" re-run {res[f'batch_j{jobs}_rerun_s']:.2f} s)")
        print("\npeak memory, triage batch --jobs 2:")
        print("  dumps  batch RSS (MiB)  largest worker RSS (MiB)  wall (s)")
        res["memory"] = []
        for size in [int(x) for x in args.sizes.split(",")]:
            tree = tmp / f"mem{size}"
            build_tree(tree, dumps, size)
            out = tmp / f"memout{size}"
            t, r = timed(TRIAGE + ["batch", str(tree), "-o", str(out), "-j", "2", "--format", "json",
                                   "--no-progress"])
            doc = json.loads(r.stdout)
            rss = doc["stats"]["peak_rss_kb"]
            row = {"dumps": size, "batch_rss_mib": round(rss["batch"] / 1024, 1),
                   "worker_rss_mib": round(rss["largest_worker"] / 1024, 1), "wall_s": round(t, 2)}
            res["memory"].append(row)
            print(f"  {size:5d}  {row['batch_rss_mib']:15.1f}  {row['worker_rss_mib']:24.1f}  {row['wall_s']:8.2f}")
            shutil.rmtree(tree)
            shutil.rmtree(out)
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
