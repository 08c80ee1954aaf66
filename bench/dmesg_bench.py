"""Whole-process comparison of `triage dmesg` with makedumpfile --dump-dmesg, vmcore-dmesg
and drgn (with debuginfo) on the same dumps, in one run.

    python3 bench/dmesg_bench.py [--runs 5] [--out docs/benchmarks.md] DUMP...

For every tool and dump it records:
  * wall time, median of --runs warm-cache runs (after one warm-up run), and the
    ratio to triage's;
  * bytes of the dump brought into the page cache from cold (posix_fadvise
    DONTNEED on the dump before the run, `fincore` after): what the tool really
    read from the dump, mmap or read(2) alike, read-ahead included;
  * rchar and read_bytes from /proc/PID/io, read while the child is a zombie
    (waitid WNOWAIT) so nothing is lost;
  * peak RSS, from GNU time (`/usr/bin/time -f %M`): a child forked by a
    Python parent inherits the parent's RSS high-water mark across exec, so
    wait4's ru_maxrss would over-report small tools.
A tool that cannot read a dump is reported as failing (its exit status), not timed.
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
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]


def osrelease(dump: str) -> Optional[str]:
    sys.path.insert(0, str(ROOT))
    from triage.logsource import open_reader
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    with open_reader([dump]) as r:
        text = r.vmcoreinfo()
    return parse_vmcoreinfo(text).osrelease if text else None


def commands(dump: str, tmp: str) -> Dict[str, List[str]]:
    triage = shutil.which("triage") or sys.executable + " -m triage"
    cmds = {"triage": triage.split() + ["dmesg", dump]}
    if shutil.which("makedumpfile"):
        cmds["makedumpfile"] = ["makedumpfile", "--dump-dmesg", dump, os.path.join(tmp, "mdf.out")]
    if shutil.which("vmcore-dmesg"):
        cmds["vmcore-dmesg"] = ["vmcore-dmesg", dump]
    rel = osrelease(dump)
    vmlinux = f"/usr/lib/debug/boot/vmlinux-{rel}"
    import importlib.util
    have_drgn = importlib.util.find_spec("drgn") is not None
    if have_drgn and os.path.isfile(vmlinux):
        code = ("import sys,drgn\nfrom drgn.helpers.linux.printk import get_dmesg\n"
                "p=drgn.Program();p.set_core_dump(sys.argv[1]);p.load_debug_info([sys.argv[2]])\n"
                "sys.stdout.buffer.write(get_dmesg(p))\n")
        cmds["drgn+debuginfo"] = [sys.executable, "-c", code, dump, vmlinux]
    return cmds


def run_once(argv: List[str]) -> dict:
    """Run argv (stdout to /dev/null); return wall time, status, /proc io, max RSS."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(argv, stdout=devnull, stderr=subprocess.PIPE)
        err = proc.stderr.read()
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        wall = time.perf_counter() - t0
        io = {}
        try:
            for line in open(f"/proc/{proc.pid}/io"):
                k, v = line.split(":")
                io[k] = int(v)
        except OSError:
            pass
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rc": proc.returncode, "rchar": io.get("rchar"), "read_bytes": io.get("read_bytes"),
            "maxrss_kb": ru.ru_maxrss, "stderr": err.decode(errors="replace").strip().splitlines()[-1:]}


def peak_rss_kb(argv: List[str]) -> Optional[int]:
    if not os.path.exists("/usr/bin/time"):
        return None
    with tempfile.NamedTemporaryFile("r") as f:
        subprocess.run(["/usr/bin/time", "-o", f.name, "-f", "%M", *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return int(f.read().split()[-1])
        except (IndexError, ValueError):
            return None


def drop_cache(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_bytes(path: str) -> Optional[int]:
    if not shutil.which("fincore"):
        return None
    r = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                       capture_output=True, text=True)
    try:
        return int(r.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def bench_dump(dump: str, runs: int) -> Dict[str, dict]:
    out: Dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tool, argv in commands(dump, tmp).items():
            def fresh():
                p = os.path.join(tmp, "mdf.out")
                if os.path.exists(p):
                    os.unlink(p)
            fresh()
            drop_cache(dump)
            cold = run_once(argv)
            cold["dump_bytes_cached"] = cached_bytes(dump)
            if cold["rc"] != 0:
                out[tool] = {"ok": False, **cold, "peak_rss_kb": None}
                continue
            times, cpus = [], []
            warm = None
            for _ in range(runs + 1):
                fresh()
                warm = run_once(argv)
                times.append(warm["wall"])
                cpus.append(warm["cpu"])
            fresh()
            out[tool] = {"ok": True, "median_s": statistics.median(times[1:]),
                         "median_cpu_s": statistics.median(cpus[1:]), **cold,
                         "peak_rss_kb": peak_rss_kb(argv)}
    return out


def describe(dump: str) -> str:
    st = os.stat(dump)
    return f"{dump} ({st.st_size / (1 << 20):.0f} MiB)"


def ring_facts(dump: str) -> str:
    sys.path.insert(0, str(ROOT))
    from triage.logsource import open_reader, read_dump_log
    with open_reader([dump]) as r:
        log, info, mem = read_dump_log(r)
    return f"{log.kind} ring, {len(log.records)} records"


def _mib(kb: Optional[int]) -> str:
    return "-" if kb is None else f"{kb / 1024:.1f}"


def render(results: Dict[str, Dict[str, dict]], runs: int) -> str:
    lines = ["# dmesg benchmark", "",
             f"Generated by `python3 bench/dmesg_bench.py --runs {runs} ...` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs shared with other jobs, "
             "so compare ratios, not absolute times.", "",
             "time = median whole-process wall time, warm page cache; cpu = median user+sys CPU time of "
             "the process (robust when the machine is shared); ratios = tool / triage (>1: triage is faster); dump bytes = bytes of the dump in the page cache after a cold run "
             "(what the process read from the dump, read-ahead included); rchar/read_bytes from /proc/PID/io; "
             "RSS = peak resident set (GNU time %M).", ""]
    for dump, tools in results.items():
        lines.append(f"## {describe(dump)}")
        try:
            lines.append(f"\n{ring_facts(dump)}\n")
        except Exception as exc:  # noqa: BLE001 - documentation only
            lines.append(f"\n(ring unreadable: {exc})\n")
        lines.append("| tool | time (s) | time ratio | cpu (s) | cpu ratio | dump bytes read | rchar | "
                     "read_bytes | peak RSS (MiB) |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        base = tools.get("triage", {}).get("median_s")
        cbase = tools.get("triage", {}).get("median_cpu_s")
        for tool, r in tools.items():
            if not r["ok"]:
                why = (r["stderr"] or [""])[0][:90].replace("|", "/")
                lines.append(f"| {tool} | fails (exit {r['rc']}: {why}) | | | | {r.get('dump_bytes_cached')} | "
                             f"{r.get('rchar')} | {r.get('read_bytes')} | - |")
                continue
            ratio = f"{r['median_s'] / base:.2f}" if base else "-"
            cratio = f"{r['median_cpu_s'] / cbase:.2f}" if cbase else "-"
            lines.append(f"| {tool} | {r['median_s']:.3f} | {ratio} | {r['median_cpu_s']:.3f} | {cratio} | "
                         f"{r.get('dump_bytes_cached')} | "
                         f"{r.get('rchar')} | {r.get('read_bytes')} | {_mib(r['peak_rss_kb'])} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=None, help="write the markdown table here (else stdout)")
    a = ap.parse_args()
    results = {d: bench_dump(d, a.runs) for d in a.dumps}
    text = render(results, a.runs)
    if a.out:
        Path(a.out).write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
