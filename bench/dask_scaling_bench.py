#!/usr/bin/env python3
"""Scaling of `triage batch --scheduler` from 1 to 2 Dask workers on this machine.

Builds a RHEL-layout tree of N DISTINCT real dumps (different crashes and
formats, so none is folded onto another as the same crash), then for W in
(1, 2) starts a real cluster with the `dask` CLI (one scheduler, W workers
with --nthreads 1 on 127.0.0.1), runs `triage batch ROOT --scheduler tcp://...`
into a fresh output directory, and tears the cluster down. The cluster's
start-up is not timed. For reference it also times a local `triage batch -j 1`
and `-j 2` on the same tree.

Usage: python3 bench/dask_scaling_bench.py [--dumps 24] [--repeat 1]
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
DASK = shutil.which("dask") or str(Path(sys.executable).parent / "dask")


def build(root: Path, n: int) -> int:
    dumps = finished_dumps(one_per_crash=True)[:n]
    for i, dump in enumerate(dumps):
        d = root / f"host{i:03d}" / f"127.0.0.1-2026-11-{1 + i % 28:02d}-10:00:00"
        d.mkdir(parents=True)
        (d / "vmcore").symlink_to(dump)
    return len(dumps)


class Cluster:
    def __init__(self, tmp: Path, workers: int):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.procs = []
        sched = tmp / f"sched-{workers}.json"
        self.procs.append(subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                            "--no-dashboard", "--scheduler-file", str(sched)], env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not sched.exists():
            time.sleep(0.1)
        for i in range(workers):
            self.procs.append(subprocess.Popen([DASK, "worker", "--scheduler-file", str(sched), "--nthreads", "1",
                                                "--host", "127.0.0.1", "--no-dashboard",
                                                "--local-directory", str(tmp / f"w{workers}-{i}")], env=env,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.address = json.loads(sched.read_text())["address"]
        import distributed
        with distributed.Client(self.address, timeout="60s") as c:
            c.wait_for_workers(workers, timeout=120)
            # warm each worker once (imports, rules): a long batch pays this once per worker
        self.workers = workers

    def close(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in reversed(self.procs):
            p.wait(30)


def run(args, out: Path) -> float:
    t0 = time.monotonic()
    r = subprocess.run(TRIAGE + ["batch", *args, "-o", str(out), "--format", "json", "--no-progress"],
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    doc = json.loads(r.stdout)
    assert doc["stats"]["analysed_now"] == len(doc["dumps"]), doc["stats"]
    return wall, doc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dumps", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dask-bench-"))
    try:
        root = tmp / "crash"
        n = build(root, a.dumps)
        print(f"{n} distinct real dumps; load average before: {os.getloadavg()[0]:.2f}")
        results = {}
        for rep in range(a.repeat):
            for j in (1, 2):
                wall, _ = run([str(root), "-j", str(j)], tmp / f"local{j}-{rep}")
                results.setdefault(f"local -j {j}", []).append(wall)
            for w in (1, 2):
                c = Cluster(tmp, w)
                try:
                    wall, doc = run([str(root), "--scheduler", c.address], tmp / f"dask{w}-{rep}")
                    used = {d["worker"] for d in doc["dumps"]}
                    results.setdefault(f"dask {w} worker(s)", []).append(wall)
                    print(f"dask {w}: {wall:.2f} s, workers used {len(used)}")
                finally:
                    c.close()
        for k, v in results.items():
            best = min(v)
            print(f"{k:18s} best {best:6.2f} s  {60 * n / best:6.1f} dumps/min  (runs: {', '.join(f'{x:.2f}' for x in v)})")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
