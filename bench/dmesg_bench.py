"""Whole-process comparison of `triage dmesg` with makedumpfile --dump-dmesg, vmcore-dmesg
and drgn (with debuginfo) on the same dumps, in one run.

    python3 bench/dmesg_bench.py [--runs 5] [--out docs/benchmarks.md] [--no-compile]
                                 [--baseline OLD_CHECKOUT] DUMP...

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

Tools run in turn within each round (triage, makedumpfile, ...; then again), so a
change in the machine's load hits them alike; the tables give the ratio of each
tool to triage from the same run.

Before timing, the triage package that `python3 -m triage` imports is byte-compiled
(compileall, into its __pycache__), as pip does when it installs it: with
PYTHONDONTWRITEBYTECODE set (as in this project's sandbox) a source checkout would
otherwise recompile every module on every run. --no-compile measures the checkout
as it is. --baseline DIR also times the triage of another checkout (byte-compiled
the same way) in the same rounds, to show what a change gained.
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


def commands(dump: str, tmp: str, baseline: Optional[str] = None) -> Dict[str, List[str]]:
    triage = shutil.which("triage") or sys.executable + " -m triage"
    cmds = {"triage": triage.split() + ["dmesg", dump]}
    if baseline:
        # the other checkout's package first on sys.path (run from there, as -m does)
        code = (f"import sys; sys.path.insert(0, {baseline!r}); sys.argv = ['triage'] + sys.argv[1:]; "
                "from triage.cli import main; main()")
        cmds["triage (baseline)"] = [sys.executable, "-c", code, "dmesg", dump]
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


def compile_triage(baseline: Optional[str] = None) -> Optional[str]:
    """Byte-compile the triage package `python3 -m triage` would import (or the
    baseline checkout's); its path."""
    import compileall
    import importlib.util
    if baseline:
        pkg = os.path.join(baseline, "triage")
    else:
        spec = importlib.util.find_spec("triage")
        if spec is None or not spec.submodule_search_locations:
            return None
        pkg = list(spec.submodule_search_locations)[0]
    compileall.compile_dir(pkg, quiet=1)
    return pkg


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


def bench_dump(dump: str, runs: int, baseline: Optional[str] = None) -> Dict[str, dict]:
    out: Dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        def fresh():
            p = os.path.join(tmp, "mdf.out")
            if os.path.exists(p):
                os.unlink(p)
        tools = commands(dump, tmp, baseline)
        for tool, argv in tools.items():
            fresh()
            drop_cache(dump)
            cold = run_once(argv)
            cold["dump_bytes_cached"] = cached_bytes(dump)
            if cold["rc"] != 0:
                out[tool] = {"ok": False, **cold, "peak_rss_kb": None}
            else:
                out[tool] = {"ok": True, **cold, "times": [], "cpus": []}
        ok = [t for t in tools if out[t]["ok"]]
        # one warm-up round, then `runs` rounds, the tools alternating within each round
        for rnd in range(runs + 1):
            for tool in ok:
                fresh()
                warm = run_once(tools[tool])
                if rnd:
                    out[tool]["times"].append(warm["wall"])
                    out[tool]["cpus"].append(warm["cpu"])
        for tool in ok:
            fresh()
            r = out[tool]
            r["median_s"] = statistics.median(r["times"])
            r["median_cpu_s"] = statistics.median(r["cpus"])
            r["peak_rss_kb"] = peak_rss_kb(tools[tool])
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


def render(results: Dict[str, Dict[str, dict]], runs: int, compiled: bool = True) -> str:
    lines = ["# dmesg benchmark", "",
             f"Generated by `python3 bench/dmesg_bench.py --runs {runs} ...` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs shared with other jobs, "
             "so compare ratios, not absolute times. triage "
             + ("byte-compiled first (as installed)." if compiled else "run from source (--no-compile)."), "",
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
        mdf = tools.get("makedumpfile", {})
        if base and mdf.get("ok"):
            lines.insert(len(lines) - 2, f"triage / makedumpfile, same run: wall {base / mdf['median_s']:.2f}, "
                         f"cpu {cbase / mdf['median_cpu_s']:.2f} (<= 1: triage is as fast or faster)\n")
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
    ap.add_argument("--no-compile", action="store_true",
                    help="do not byte-compile triage first (measure the checkout as it is)")
    ap.add_argument("--baseline", help="another triage checkout to time in the same rounds")
    a = ap.parse_args()
    if not a.no_compile:
        compile_triage()
        if a.baseline:
            compile_triage(a.baseline)
    results = {d: bench_dump(d, a.runs, a.baseline) for d in a.dumps}
    text = render(results, a.runs, compiled=not a.no_compile)
    if a.out:
        Path(a.out).write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
