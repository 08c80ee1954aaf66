"""Time and memory of the kallsyms image scan (triage.facts.kallsyms_scan).

    python3 bench/kallsyms_scan_bench.py [--runs N] DUMP...

For each dump, in a fresh process per run: the scan's CPU time (from opening the
dump to the located tables, through triage's reader and translator), the
process's peak RSS, and whether the tables equal those VMCOREINFO names (6.0+;
"-" before 6.0). Median of N runs (default 5).
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from triage.dumps.vmcoreinfo import parse_vmcoreinfo
from triage.facts.kallsyms_scan import scan_kallsyms
from triage.facts.program import _image_span, _vmcoreinfo_locations, kernel_stext
from triage.logsource import open_reader
from triage.memory.kernel import KernelMemory
t0 = time.process_time()
with open_reader([sys.argv[1]]) as r:
    info = parse_vmcoreinfo(r.vmcoreinfo())
    arch = r.facts().arch
    mem = KernelMemory(r, info, arch=arch)
    read = lambda a, n: bytes(mem.read_tolerant(a, n)[0])
    t1 = time.process_time()
    stext = kernel_stext(info, arch)
    loc = scan_kallsyms(read, stext, stext, _image_span(info, stext))
    t2 = time.process_time()
want = _vmcoreinfo_locations(info)
same = None if want is None else all(getattr(loc, k) == getattr(want, k) for k in
    ("kallsyms_num_syms", "kallsyms_names", "kallsyms_token_table", "kallsyms_token_index",
     "kallsyms_offsets", "kallsyms_relative_base", "kallsyms_addresses"))
print(json.dumps({"scan": t2 - t1, "open": t1 - t0, "num_syms": loc.num_syms, "same": same,
                  "release": info.osrelease, "arch": arch,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("dumps", nargs="+")
    args = ap.parse_args()
    print("| dump | kernel | arch | symbols | scan CPU s (median) | peak RSS MiB | = VMCOREINFO's |")
    print("|---|---|---|---|---|---|---|")
    for d in args.dumps:
        runs = [json.loads(subprocess.run([sys.executable, "-c", CHILD, d, str(ROOT)], check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(args.runs)]
        r = runs[0]
        same = "-" if r["same"] is None else ("yes" if r["same"] else "NO")
        print(f"| {d} | {r['release']} | {r['arch']} | {r['num_syms']} | "
              f"{statistics.median(x['scan'] for x in runs):.3f} | "
              f"{max(x['rss_mib'] for x in runs):.0f} | {same} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
