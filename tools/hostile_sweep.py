#!/usr/bin/env python3
"""Sweep every hostile dump the test generators build through `triage dmesg`,
`info` and `analyze`, each in its own child process, and report wall time, peak RSS,
exit code and stderr (issue 11's first judging point, measured outside pytest).

The files come from tests/data/hostile_dumps.py and tests/data/hostile_headers.py
(split sets are given as all their parts). Each run is the tests' child runner
(tests/data/child_cli.run_child): the peak RSS is the triage process's own VmHWM
(ru_maxrss would carry this script's high-water mark across exec), and a watchdog
kills a run past --kill-seconds of wall time or --kill-mib of resident memory, so
that a regression cannot swap the machine.

    python3 tools/hostile_sweep.py [--python PY] [--out sweep.json] [--only NAME ...]
                                   [--extra DIR ... [--extra-every N] [--no-generated]]

Exit status 1 when any run breaks a bound: more than 10 s wall, more than 256 MiB peak
RSS, an exit code outside {0, 3, 4, 5, 6, 7} (2 is allowed for split sets whose files
are not parts of one dump), more than one stderr line, a traceback or a signal.
"""

import argparse
import collections
import json
import os
import sys
import tempfile
from typing import Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "data"))
from child_cli import run_child  # noqa: E402  (the tests' watched child runner)

MAX_SECONDS = 10.0
MAX_RSS_KB = 256 * 1024
OK_CODES = {0, 3, 4, 5, 6, 7}
COMMANDS = ("dmesg", "info", "analyze")


def build_files(outdir: str, only: Optional[List[str]]) -> Dict[str, List[str]]:
    """name -> the paths one command gets (several for a split set)."""
    import hostile_dumps
    import hostile_headers
    files: Dict[str, List[str]] = {}
    for name, path in hostile_dumps.write_all(os.path.join(outdir, "dumps")).items():
        files["dumps/" + name] = [path]
    for name, paths in hostile_headers.write_all(os.path.join(outdir, "headers")).items():
        files["headers/" + name] = paths
    if only:
        files = {k: v for k, v in files.items() if any(o in k for o in only)}
    return files


def run_one(python: str, command: str, paths: List[str], workdir: str, kill_seconds: float,
            kill_kb: int) -> dict:
    """Run `triage COMMAND PATHS` in a child watched for wall time and RSS, as the
    hostile tests run it (tests/data/child_cli.run_child, without an address-space
    limit: some files are sparse and terabytes long)."""
    r = run_child([command, *paths], workdir, as_limit=None, python=python, kill_seconds=kill_seconds,
                  kill_kb=kill_kb, cwd=workdir)
    return {"command": command, "paths": paths, "rc": r.rc, "wall": round(r.wall, 2), "rss_kb": r.hwm_kb,
            "stderr_lines": len(r.stderr.splitlines()), "stderr": r.stderr[:400],
            "traceback": "Traceback" in r.stderr or "internal error" in r.stderr, "killed": r.killed}


def violations(r: dict, split: bool) -> List[str]:
    out = []
    ok = OK_CODES | ({2} if split else set())
    if r["killed"]:
        out.append("killed: " + r["killed"])
    if r["wall"] > MAX_SECONDS:
        out.append(f"wall {r['wall']} s")
    if r["rss_kb"] > MAX_RSS_KB:
        out.append(f"RSS {r['rss_kb']} kB")
    if r["rc"] not in ok:
        out.append(f"exit {r['rc']}")
    if r["stderr_lines"] > 1:
        out.append(f"{r['stderr_lines']} stderr lines")
    if r["traceback"]:
        out.append("traceback")
    if r["rc"] not in (0, None) and r["stderr_lines"] and not any(p in r["stderr"] for p in r["paths"]):
        out.append("message does not name the input")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs triage")
    ap.add_argument("--out", help="write every run as JSON here")
    ap.add_argument("--only", nargs="*", help="substrings of file names to keep")
    ap.add_argument("--extra", nargs="*", default=[], metavar="DIR",
                    help="also every file in DIR (e.g. a fuzz corpus: hostile inputs the generators do not build)")
    ap.add_argument("--extra-every", type=int, default=1, metavar="N", help="of the --extra files, every Nth")
    ap.add_argument("--no-generated", action="store_true", help="only the --extra files")
    ap.add_argument("--kill-seconds", type=float, default=60.0)
    ap.add_argument("--kill-mib", type=int, default=1024)
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="hostile-sweep-") as tmp:
        files = {} if args.no_generated else build_files(os.path.join(tmp, "files"), args.only)
        for d in args.extra:
            names = sorted(os.listdir(d))[::max(1, args.extra_every)]
            for n in names:
                files[f"{os.path.basename(os.path.normpath(d))}/{n}"] = [os.path.join(d, n)]
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        for name in sorted(files):
            split = len(files[name]) > 1
            for command in COMMANDS:
                r = run_one(os.path.abspath(args.python) if os.sep in args.python else args.python, command, files[name], work, args.kill_seconds, args.kill_mib << 10)
                r["name"] = name
                r["violations"] = violations(r, split)
                results.append(r)
                if r["violations"]:
                    print(f"VIOLATION {name} {command}: {r['violations']} {r['stderr'][:200]!r}", flush=True)
    worst_t = max(results, key=lambda r: r["wall"])
    worst_m = max(results, key=lambda r: r["rss_kb"])
    hist = collections.Counter(r["rc"] for r in results)
    rc0_stderr = sum(1 for r in results if r["rc"] == 0 and r["stderr_lines"])
    bad = [r for r in results if r["violations"]]
    print(f"{len(files)} inputs x {len(COMMANDS)} commands = {len(results)} runs")
    print(f"worst wall {worst_t['wall']} s ({worst_t['name']} {worst_t['command']})")
    print(f"worst RSS {worst_m['rss_kb']} kB ({worst_m['name']} {worst_m['command']})")
    print("exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(hist.items(), key=lambda kv: str(kv[0]))))
    print(f"exit 0 with stderr output: {rc0_stderr}")
    print(f"violations: {len(bad)}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
