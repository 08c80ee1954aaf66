"""`--page-census` against makedumpfile -d 31 on the same ELF dump.

    python3 bench/census_bench.py [--runs 5] DUMP...

Per dump: CPU time (user + system) and peak RSS (GNU time) of the whole process,
median of --runs runs taken in turn, for
  census        python3 -c page_census(DUMP)  (triage.facts.census alone)
  makedumpfile  makedumpfile -d 31 DUMP OUT   (its classification, the zero-page
                test and writing the filtered kdump file: it cannot classify
                without writing)
and the per-class counts of both, which must be equal. QEMU ELF dumps are given
to makedumpfile as a copy with the program headers moved after the ELF header
(tests/facts/mdf_oracle.py). The dump pages may be in the OS page cache (not
dropped: the machine is shared).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "facts"))
CENSUS = "import sys,json\nfrom triage.facts.census import page_census\nprint(json.dumps(page_census([sys.argv[1]])))\n"


def run(cmd: List[str]) -> Tuple[Optional[float], Optional[int], str]:
    """(CPU seconds, peak RSS KiB, stdout) of one whole-process run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.NamedTemporaryFile("r") as t:
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", t.name] + cmd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        fields = t.read().split()[-3:]
    if p.returncode != 0:
        return None, None, p.stdout
    return float(fields[0]) + float(fields[1]), int(fields[2]), p.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("dumps", nargs="+")
    args = ap.parse_args()
    import json
    from mdf_oracle import makedumpfile_counts, phdrs_after_ehdr
    print(f"{'dump':60} {'tool':13} {'CPU s (median)':>14} {'peak RSS MiB':>12}")
    for dump in args.dumps:
        with tempfile.TemporaryDirectory(prefix="census-bench-") as tmp:
            mdf_input = phdrs_after_ehdr(Path(dump), Path(tmp))
            out = Path(tmp) / "out"
            cmds = {"census": [sys.executable, "-c", CENSUS, dump],
                    "makedumpfile": ["sh", "-c", f'rm -f "{out}"; makedumpfile -d 31 "{mdf_input}" "{out}"']}
            times = {k: [] for k in cmds}
            rss = {k: 0 for k in cmds}
            census_out = ""
            for _ in range(args.runs):
                for name, cmd in cmds.items():
                    cpu, peak, stdout = run(cmd)
                    if cpu is None:
                        print(f"{dump}: {name} failed", file=sys.stderr)
                        return 1
                    times[name].append(cpu)
                    rss[name] = max(rss[name], peak)
                    if name == "census":
                        census_out = stdout
            for name in cmds:
                print(f"{dump[-60:]:60} {name:13} {statistics.median(times[name]):14.3f} {rss[name] / 1024:12.1f}")
            got = json.loads(census_out)
            want = makedumpfile_counts(mdf_input, Path(tmp))
            keys = ("free", "cache", "cache_private", "user", "zero", "hwpoison", "offline", "total_pages")
            same = all(got[k] == want[k] for k in keys)
            print(f"  counts {'equal' if same else 'DIFFER'}: " + ", ".join(f"{k} {got[k]}/{want[k]}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
