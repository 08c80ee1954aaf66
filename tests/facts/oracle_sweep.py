"""Sweep every x86_64 dump of some generated sets against its drgn+DWARF oracle.

    python3 tests/facts/oracle_sweep.py [--jsonl OUT] [--no-stacks] DIR...

DIR is a generated set (a directory holding manifest.json, as sample_dumps/generate
writes it). For each x86_64 entry whose `facts_oracle` is ok, the dump facts are read
as `triage analyze` reads them (triage.facts.read_dump_facts: BTF + kallsyms, no
debuginfo) and compared field by field with the oracle made by drgn with Debian's
-dbg vmlinux from the same file (tests/facts/drgn_dwarf_oracle.py); then every
task's stack (ORC from the dump) with the oracle's (DWARF CFI). One line per dump
(and per JSONL record), then a table of equal/total per set. Exit 1 if any differ.

Each dump is read in a child process of its own, so one dump's memory or a crash
does not carry over to the next.
"""

import argparse
import json
import multiprocessing
import sys
from pathlib import Path
from typing import Any, Dict, List

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def entries(set_dir: Path) -> List[Dict[str, Any]]:
    """(dump, oracle) of every x86_64 manifest entry with an ok facts oracle."""
    out = []
    for e in json.loads((set_dir / "manifest.json").read_text())["dumps"]:
        res = e.get("facts_oracle") or {}
        if res.get("status") == "ok" and e.get("arch", "x86_64") == "x86_64":
            out.append({"set": str(set_dir), "dump": str(set_dir / e["path"]),
                        "oracle": str(set_dir / res["output"])})
    return out


def check_one(job: Dict[str, Any], stacks: bool = True) -> Dict[str, Any]:
    """The differences between triage's facts and the oracle for one dump."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    from test_facts_oracle import compare
    from triage.facts import read_dump_facts
    dump, want = Path(job["dump"]), json.loads(Path(job["oracle"]).read_text())
    res: Dict[str, Any] = dict(job, diffs=[], leaves=0, stack_tasks=0, stack_diffs=[])
    if want.get("dump_size") != dump.stat().st_size:
        res["diffs"].append(f"oracle made from another file ({want.get('dump_size')} bytes, "
                            f"dump {dump.stat().st_size})")
        return res
    got = read_dump_facts([str(dump)])
    src = got["source"]
    for k, v in (("method", "btf+kallsyms"), ("unavailable", None), ("missing", [])):
        if src.get(k) != v:
            res["diffs"].append(f"dump.source.{k}: {src.get(k)!r} != {v!r}")
    res["diffs"] += compare(got, want["facts"])
    res["leaves"] = _leaves(want["facts"])
    res["kallsyms"] = src.get("kallsyms")
    res["memory"] = src.get("memory")
    if stacks and want.get("stacks"):
        res["stack_tasks"] = len(want["stacks"])
        res["stack_diffs"] = _stack_diffs(dump, want["stacks"], got)
    return res


def _leaves(x: Any) -> int:
    if isinstance(x, dict):
        return sum(_leaves(v) for v in x.values())
    if isinstance(x, list):
        return sum(_leaves(v) for v in x) or 1
    return 1


def _stack_diffs(dump: Path, want: Dict[str, List[str]], got: Dict[str, Any]) -> List[str]:
    """Every task's return addresses against the oracle's; and the panic and D-state
    stacks the facts print are those same addresses, named."""
    from drgn.helpers.linux.pid import find_task
    from test_facts_oracle import named_oracle_stack
    from triage.facts.collect import stack_pcs
    from triage.facts.orc import OrcTable, StackCut
    from triage.facts.program import open_program
    opened = open_program([str(dump)])
    diffs = []
    try:
        table = OrcTable(opened.prog)
        named = {}
        for pid, pcs in want.items():
            task = find_task(opened.prog, int(pid))
            if not task:
                diffs.append(f"pid {pid} of the oracle is not in the dump")
                continue
            try:
                have = [hex(pc) for pc in stack_pcs(opened.prog, task, opened.cpu_regs, table)]
            except StackCut as cut:
                have = [hex(pc) for pc in cut.pcs] + ["<cut>"]
            if have != pcs:
                diffs.append(f"pid {pid}: {have} != {pcs}")
            named[int(pid)] = named_oracle_stack(opened.prog, task, pcs, opened.cpu_regs, table)
        shown = ([got["tasks"]["panic"]] if (got.get("tasks") or {}).get("panic") else []) + \
            list((got.get("tasks") or {}).get("d_state") or [])
        for t in shown:
            if t["pid"] in named and t.get("stack") != named[t["pid"]]:
                diffs.append(f"shown stack of pid {t['pid']}: {t.get('stack')} != {named[t['pid']]}")
    finally:
        opened.close()
    return diffs


def _run(job: Dict[str, Any]) -> Dict[str, Any]:
    try:
        return check_one(job, job.pop("stacks", True))
    except Exception as exc:      # noqa: BLE001 - a sweep reports, it does not stop
        return dict(job, diffs=[f"raised {type(exc).__name__}: {exc}"], leaves=0, stack_tasks=0, stack_diffs=[])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jsonl")
    ap.add_argument("--no-stacks", action="store_true")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    jobs = [dict(j, stacks=not a.no_stacks) for d in a.dirs for j in entries(Path(d))]
    per_set: Dict[str, List[int]] = {}
    sink = open(a.jsonl, "w") if a.jsonl else None
    ctx = multiprocessing.get_context("fork")
    bad = 0
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        for r in pool.imap(_run, jobs):
            ok = not r["diffs"] and not r["stack_diffs"]
            bad += not ok
            s = per_set.setdefault(r["set"], [0, 0, 0, 0])
            s[0] += ok
            s[1] += 1
            s[2] += not r["diffs"]
            s[3] += not r["stack_diffs"]
            print(f"{'EQUAL' if ok else 'DIFF '} {r['dump']} ({r['leaves']} fields, {r['stack_tasks']} stacks)"
                  + "".join(f"\n    {d}" for d in (r["diffs"] + r["stack_diffs"])[:8]), flush=True)
            if sink:
                sink.write(json.dumps(r) + "\n")
                sink.flush()
    print("\n| set | dumps equal (facts and stacks) | facts equal | stacks equal |\n|---|---|---|---|")
    for k, (ok, n, f, st) in per_set.items():
        print(f"| {k} | {ok}/{n} | {f}/{n} | {st}/{n} |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
