#!/usr/bin/env python3
"""How well triage reads an oops excerpt that starts after its header (issue 8), against
the hand labels of tests/data/posted.

For every posted log whose lines hold an oops header (tools/paste_invariance.OOPS_HEADS:
"BUG: kernel NULL pointer dereference", "BUG: unable to handle", "Unable to handle kernel",
"general protection fault", "kernel BUG at", "Oops:", "Internal error:"), triage's verdict
(category, culprit module) is compared with the log's label three ways: on the file as
posted; with every line up to and including the first such header left out ("header");
and also without the page-fault lines printed right after it ("deep": the #PF decode, the
"Oops:" die line, the PGD walk, arm64's abort decode and show_pte()). The lines are the
posted file's own (as tools/posted_agreement.py reads them), so the paste form is kept.

Per half: logs, right with the header, right without it. Only the tuning half's logs are
ever listed (--list: those right with the header and wrong without it).

Usage:
  tools/headless_agreement.py [--list] [--json]
"""

import argparse
import os
import sys
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from paste_invariance import change_row, corpus_logs, cut_after_header, print_rows, verdict  # noqa: E402
from posted_agreement import DEFAULT_CORPUS, HALVES, labelled_verdicts, print_json  # noqa: E402

MODES = ("header", "deep")


def measure() -> Dict[str, Any]:
    """Per half: logs, right as posted, right per cut mode; and the tuning half's losses."""
    from triage.analysis import load_ruleset
    rules = load_ruleset()
    want = labelled_verdicts(DEFAULT_CORPUS)
    res: Dict[str, Dict[str, int]] = {h: {"logs": 0, "with_header": 0, **{m: 0 for m in MODES}} for h in HALVES}
    lost: Dict[str, List[str]] = {m: [] for m in MODES}
    for name, half, lines in corpus_logs("posted"):
        if cut_after_header(lines) is None:
            continue
        label = want[name]
        cell = res[half]
        cell["logs"] += 1
        whole = verdict(lines, rules)[:2] == label
        cell["with_header"] += whole
        for m in MODES:
            cut: Optional[List[str]] = cut_after_header(lines, deep=m == "deep")
            got = verdict(cut or [], rules)[:2]
            cell[m] += got == label
            if whole and got != label and half == "tuning":
                lost[m].append(change_row(name, label, got))
    return {"halves": res, "tuning_lost": lost}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="the tuning half's logs right with the header, wrong without")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    args = ap.parse_args(argv)
    got = measure()
    if args.json:
        print_json(got["halves"])
        return 0
    if args.list:
        print_rows(got["tuning_lost"])
    for h in HALVES:
        c = got["halves"][h]
        n = max(c["logs"], 1)
        print(f"{h:10s} logs with an oops header {c['logs']:4d}  right with it {c['with_header']:4d} = "
              f"{c['with_header'] / n:6.1%}  without it {c['header']:4d} = {c['header'] / n:6.1%}  "
              f"without its page-fault lines too {c['deep']:4d} = {c['deep'] / n:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
