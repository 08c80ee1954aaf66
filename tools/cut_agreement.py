#!/usr/bin/env python3
"""How often triage's verdict is the hand label when a posted log is pasted only in part.

Users often copy only part of a report: the stack alone, from its "Call Trace:" line on
(`from-trace`) or without that line (`bare-trace`), or everything before the stack
(`until-trace`). For every log of
tests/data/posted that holds a "Call Trace:"/"Call trace:" line, this reads the whole log and
each cut with triage and compares (category, culprit module) with the log's hand label
(tests/data/posted/labels.toml, as tools/posted_agreement.py compares them).

Per cut and half: the logs tried, right on the whole log, right on the cut. Only the tuning
half's logs are ever listed (--list: right on the whole log, wrong on the cut); the
validation half is counted, never listed.

Usage:
  tools/cut_agreement.py [--cut NAME ...] [--list] [--json]
"""

import argparse
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from paste_invariance import corpus_logs, first_holding, verdict  # noqa: E402
from posted_agreement import DEFAULT_CORPUS, HALVES, labelled_verdicts, print_json  # noqa: E402

_TRACE = ("Call Trace:", "Call trace:")


def _trace_line(lines: Sequence[str]) -> Optional[int]:
    """The index of the first line holding a trace header, None without one."""
    return first_holding(lines, _TRACE)


def from_trace(lines: Sequence[str]) -> Optional[List[str]]:
    """The lines from the first trace header on: the stack as a user copies it alone."""
    i = _trace_line(lines)
    return None if i is None else list(lines[i:])


def bare_trace(lines: Sequence[str]) -> Optional[List[str]]:
    """The lines after the first trace header: the stack copied without its "Call Trace:" line."""
    i = _trace_line(lines)
    return None if i is None else list(lines[i + 1:])


def until_trace(lines: Sequence[str]) -> Optional[List[str]]:
    """The lines before the first trace header: the report without its stack."""
    i = _trace_line(lines)
    return None if i is None else list(lines[:i])


CUTS: Dict[str, Callable[[Sequence[str]], Optional[List[str]]]] = {
    "from-trace": from_trace,
    "bare-trace": bare_trace,
    "until-trace": until_trace,
}


def measure(cuts: Sequence[str]) -> Dict[str, Any]:
    """Per cut and half: tried, right on the whole log, right on the cut; tuning-half losses."""
    from triage.analysis import load_ruleset
    rules = load_ruleset()
    want = labelled_verdicts(DEFAULT_CORPUS)
    counts = {c: {h: {"logs": 0, "whole": 0, "cut": 0} for h in HALVES} for c in cuts}
    lost: Dict[str, List[Dict[str, str]]] = {c: [] for c in cuts}
    for name, half, lines in corpus_logs("posted"):
        if name not in want:
            continue
        whole: Optional[tuple] = None
        for c in cuts:
            part = CUTS[c](lines)
            if part is None:
                continue
            if whole is None:
                whole = tuple(verdict(lines, rules)[:2])
            got = tuple(verdict(part, rules)[:2])
            n = counts[c][half]
            n["logs"] += 1
            n["whole"] += whole == want[name]
            n["cut"] += got == want[name]
            if half == "tuning" and whole == want[name] and got != want[name]:
                lost[c].append({"file": name, "label": "/".join(want[name]), "cut": "/".join(got)})
    return {"counts": counts, "lost_tuning": lost}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cut", action="append", choices=sorted(CUTS), help="cuts to measure (default all)")
    ap.add_argument("--list", action="store_true", help="the tuning half's logs right whole, wrong cut")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    args = ap.parse_args(argv)
    result = measure(args.cut or list(CUTS))
    if args.json:
        print_json(result)
        return 0
    print("| cut | half | logs | right on the whole log | right on the cut |")
    print("|---|---|---|---|---|")
    for c, halves in result["counts"].items():
        for h, n in halves.items():
            print(f"| {c} | {h} | {n['logs']} | {n['whole']} | {n['cut']} |")
    if args.list:
        for c, rows in result["lost_tuning"].items():
            for r in rows:
                print(f"{c}\t{r['file']}\tlabel {r['label']}\tcut {r['cut']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
