"""Flattened (makedumpfile -F / QEMU kdump) vs rearranged (makedumpfile -R) dumps.

    python3 bench/flattened_bench.py [--runs 5] FLATTENED...

For each flattened dump it makes the rearranged copy with `makedumpfile -R`, then
measures in one run:
  * open cost in-process: open_dump() + vmcoreinfo(), median of --runs (warm cache);
    for the flattened file this includes the one pass over all record headers;
  * page-read throughput in-process: up to 20000 present pages, decompressed;
  * whole process: `triage dmesg` on the flattened and the rearranged file and
    `makedumpfile --dump-dmesg` on the rearranged file (makedumpfile cannot read
    flattened input), median wall time, ratio to makedumpfile;
  * bytes of the dump brought into the page cache by `triage dmesg` from cold
    (posix_fadvise DONTNEED before, fincore after).
Prints a Markdown table.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.dumps import open_dump  # noqa: E402


def median_time(fn, runs):
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def open_cost(path, runs):
    def once():
        with open_dump(path) as r:
            r.vmcoreinfo()
    once()
    return median_time(once, runs)


def page_throughput(path, limit=20000):
    with open_dump(path) as r:
        part = r._parts[0]
        pfns = []
        for pfn in range(part.hdr.max_mapnr):
            if part.bitmap2.test(pfn):
                pfns.append(pfn)
                if len(pfns) >= limit:
                    break
        t = time.perf_counter()
        n = 0
        for pfn in pfns:
            try:
                r.read_page(pfn)
                n += 1
            except Exception:
                pass
        dt = time.perf_counter() - t
    return n, dt


def whole_process(argv, runs, before=None):
    ts, rc = [], None
    for i in range(runs + 1):
        if before:
            before()
        t = time.perf_counter()
        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            ts.append(time.perf_counter() - t)
        rc = p.returncode
    return statistics.median(ts), rc


def cold_bytes(argv, path):
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)          # a freshly written file's dirty pages would stay cached
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not shutil.which("fincore"):
        return None
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("dumps", nargs="+")
    a = ap.parse_args()
    triage = (shutil.which("triage") or f"{sys.executable} -m triage").split()
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        for flat in a.dumps:
            rearranged = os.path.join(tmp, os.path.basename(flat) + ".R")
            with open(flat, "rb") as src:
                subprocess.run(["makedumpfile", "-R", rearranged], stdin=src, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open_dump(flat) as r:
                records = r.facts().header.get("flattened_records")
            o_flat, o_rear = open_cost(flat, a.runs), open_cost(rearranged, a.runs)
            n_f, t_f = page_throughput(flat)
            n_r, t_r = page_throughput(rearranged)
            mdf_out = os.path.join(tmp, "mdf.txt")

            def clear():      # makedumpfile refuses to overwrite its output
                if os.path.exists(mdf_out):
                    os.unlink(mdf_out)
            w_mdf, rc_mdf = whole_process(["makedumpfile", "--dump-dmesg", rearranged, mdf_out],
                                          a.runs, before=clear)
            w_tf, rc_tf = whole_process(triage + ["dmesg", flat], a.runs)
            w_tr, rc_tr = whole_process(triage + ["dmesg", rearranged], a.runs)
            cb_f = cold_bytes(triage + ["dmesg", flat], flat)
            cb_r = cold_bytes(triage + ["dmesg", rearranged], rearranged)
            rows.append((os.path.relpath(flat, ROOT), os.path.getsize(flat), records, o_flat, o_rear,
                         n_f / t_f if t_f else 0, n_r / t_r if t_r else 0,
                         w_tf, rc_tf, w_tr, rc_tr, w_mdf, rc_mdf, cb_f, cb_r))
            os.unlink(rearranged)
    print("| dump | size | records | open flat (ms) | open -R (ms) | pages/s flat | pages/s -R | "
          "triage dmesg flat (s) | triage dmesg -R (s) | makedumpfile -R (s) | ratio flat/mdf | "
          "cold bytes flat | cold bytes -R |")
    print("|" + "---|" * 14)
    for (name, size, rec, of, orr, pf, pr, wtf, rtf, wtr, rtr, wm, rm, cbf, cbr) in rows:
        ratio = f"{wtf / wm:.2f}" if rm == 0 else f"makedumpfile fails (exit {rm})"
        mdf_s = f"{wm:.3f}" if rm == 0 else "fails"
        print(f"| {name} | {size} | {rec} | {of * 1000:.1f} | {orr * 1000:.1f} | {pf:.0f} | {pr:.0f} | "
              f"{wtf:.3f}{'' if rtf == 0 else f' (exit {rtf})'} | {wtr:.3f}{'' if rtr == 0 else f' (exit {rtr})'} "
              f"| {mdf_s} | {ratio} | {cbf} | {cbr} |")


if __name__ == "__main__":
    main()
