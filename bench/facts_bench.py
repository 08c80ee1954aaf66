"""`triage analyze --format json` with dump facts (BTF + kallsyms, no debuginfo)
against drgn with Debian's DWARF vmlinux loading the same dump and printing dmesg.

    python3 bench/facts_bench.py [--runs 5] [--vmlinux PATH] DUMP...

Per dump and command: CPU time (user + system) of the whole process, median of
--runs runs taken in turn (same run, same machine state), and peak RSS from GNU
time (`/usr/bin/time -f %M`: a child of this Python process would otherwise
inherit its high-water mark). Commands:
  analyze+facts   triage analyze --no-debuginfo-search --format json DUMP (BTF)
  analyze         triage analyze --no-facts --format json DUMP (today's baseline)
  analyze+DWARF   triage analyze --vmlinux VMLINUX --format json DUMP (facts from DWARF,
                  plus every task's stack)
  drgn+DWARF      drgn: set_core_dump, load_debug_info([vmlinux]), print get_dmesg
Neither triage nor drgn keeps an on-disk cache, so every run is a cold start of
the tool; the dump and vmlinux pages may be in the OS page cache (not dropped:
the machine is shared).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
DRGN_DMESG = ("import sys,drgn\nfrom drgn.helpers.linux.printk import get_dmesg\n"
              "p=drgn.Program();p.set_core_dump(sys.argv[1]);p.load_debug_info([sys.argv[2]])\n"
              "sys.stdout.buffer.write(get_dmesg(p))\n")


def vmlinux_for(dump: str) -> Optional[str]:
    sys.path.insert(0, str(ROOT))
    from triage.logsource import open_reader
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    with open_reader([dump]) as r:
        rel = parse_vmcoreinfo(r.vmcoreinfo()).osrelease
    # where the tests look (sample_dumps/cache/dbg-<release>/, /usr/lib/debug/boot, ...)
    sys.path.insert(0, str(ROOT / "tests" / "facts"))
    from _dbg import dbg_vmlinux
    found = dbg_vmlinux(rel)
    return str(found) if found else None


def run(cmd: List[str], env: Dict[str, str]) -> Tuple[Optional[float], Optional[int], int]:
    """(CPU seconds, peak RSS KiB, exit status) of one whole-process run."""
    with tempfile.NamedTemporaryFile("r") as t:
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", t.name] + cmd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        fields = t.read().split()[-3:]
    if p.returncode not in (0, 6):
        return None, None, p.returncode
    return float(fields[0]) + float(fields[1]), int(fields[2]), p.returncode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--vmlinux")
    ap.add_argument("dumps", nargs="+")
    a = ap.parse_args()
    if not shutil.which("time") and not os.path.exists("/usr/bin/time"):
        print("GNU time is needed (apt-get install time)", file=sys.stderr)
        return 2
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    print("| dump | analyze+facts CPU s | analyze (no facts) CPU s | analyze --vmlinux CPU s | "
          "drgn+DWARF dmesg CPU s | facts / drgn | --vmlinux / drgn | peak RSS facts / --vmlinux / drgn MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for dump in a.dumps:
        vml = a.vmlinux or vmlinux_for(dump)
        cmds = {"facts": [sys.executable, "-m", "triage", "analyze", "--no-debuginfo-search", "--format", "json",
                          dump],
                "nofacts": [sys.executable, "-m", "triage", "analyze", "--no-facts", "--format", "json", dump]}
        if vml:
            cmds["dwarf"] = [sys.executable, "-m", "triage", "analyze", "--vmlinux", vml, "--format", "json", dump]
            cmds["drgn"] = [sys.executable, "-c", DRGN_DMESG, dump, vml]
        res: Dict[str, List[Tuple[Optional[float], Optional[int], int]]] = {k: [] for k in cmds}
        for _ in range(a.runs):
            for k, c in cmds.items():           # interleaved: the same machine load for each
                res[k].append(run(c, env))

        def med(k: str) -> Tuple[Optional[float], Optional[float]]:
            ok = [r for r in res.get(k, []) if r[0] is not None]
            if not ok:
                return None, None
            return statistics.median(r[0] for r in ok), max(r[1] for r in ok) / 1024

        f, n, w, d = med("facts"), med("nofacts"), med("dwarf"), med("drgn")
        fmt = lambda x: f"{x:.2f}" if x is not None else "fails"  # noqa: E731
        ratio = f"{f[0] / d[0]:.2f}x" if f[0] and d[0] else "-"
        wratio = f"{w[0] / d[0]:.2f}x" if w[0] and d[0] else "-"
        print(f"| {dump} | {fmt(f[0])} | {fmt(n[0])} | {fmt(w[0])} | {fmt(d[0])} | {ratio} | {wratio} | "
              f"{fmt(f[1])} / {fmt(w[1])} / {fmt(d[1])} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
