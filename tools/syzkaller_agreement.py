#!/usr/bin/env python3
"""Measure how often triage's title agrees with syzkaller's on syzkaller's own
report corpus, and write docs/syzkaller-agreement.md.

Each corpus file holds a header (TITLE, ALT, TYPE, FRAME, CORRUPTED,
SUPPRESSED, PANICKED), a blank line, then the raw log. Agreement is defined
on normalised (kind, function) pairs:

* kind: the title before the last " in " (the whole title when there is
  none), with the NULL-dereference and paging wordings of all kernel
  generations mapped to one kind each ("BUG: unable to handle kernel NULL
  pointer dereference" == "BUG: kernel NULL pointer dereference").
* function: the part after the last " in ", our " [module]" suffix removed,
  compiler suffixes (.isra.N, .constprop.N, .part.N, .cold) stripped.
  When syzkaller's function is "corrupted" (it could not trust the report)
  only the kind is compared.
* an empty syzkaller TITLE means "no crash": we agree when our category is
  "none". syzkaller suppresses OOM reports as expected under fuzzing; triage
  does not, so an empty syzkaller title where triage reports an OOM kill or
  allocation failure (and nothing worse) also counts as agreement.

Usage: tools/syzkaller_agreement.py [CORPUS_DIR] [--out docs/syzkaller-agreement.md]
"""

import argparse
import glob
import os
import re
import sys
from dataclasses import dataclass
from typing import List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from triage.classify import classify, load_rules  # noqa: E402
from triage.events import parse_log  # noqa: E402

DEFAULT_CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "syzkaller")
MEMORY_CATEGORIES = {"oom_kill", "oom_panic", "alloc_failure"}

_KIND_ALIASES = {
    "BUG: unable to handle kernel NULL pointer dereference": "null-ptr-deref",
    "BUG: kernel NULL pointer dereference": "null-ptr-deref",
    "BUG: unable to handle kernel paging request": "paging-request",
    "BUG: unable to handle page fault": "paging-request",
}
_SUFFIX = re.compile(r"(\.(isra|constprop|part|cold|llvm|lto_priv)(\.\d+)?)+$")
_MODULE = re.compile(r" \[[\w-]+\]$")


@dataclass
class Case:
    path: str
    title: str
    alts: List[str]
    corrupted: bool
    log: List[str]


@dataclass
class Outcome:
    case: Case
    ours: str
    category: str
    agree: bool
    note: str
    kind_agree: bool = False


def load_case(path: str) -> Case:
    with open(path, "rb") as fp:
        data = fp.read().decode("utf-8", errors="replace")
    head, _, body = data.partition("\n\n")
    title, alts, corrupted = "", [], False
    for line in head.splitlines():
        if line.startswith("TITLE:"):
            title = line[6:].strip()
        elif line.startswith("ALT:"):
            alts.append(line[4:].strip())
        elif line.startswith("CORRUPTED:"):
            corrupted = line[10:].strip() == "Y"
    return Case(path, title, alts, corrupted, body.split("\n"))


def normalize(title: str) -> Tuple[str, Optional[str]]:
    """(kind, function or None)."""
    t = _MODULE.sub("", title.strip())
    kind, func = t, None
    if " in " in t:
        kind, func = t.rsplit(" in ", 1)
        func = _SUFFIX.sub("", func.strip())
    kind = _KIND_ALIASES.get(kind.strip(), kind.strip())
    return kind, func


def compare(case: Case, ours: str, category: str) -> Tuple[bool, str]:
    if not case.title:
        if category == "none":
            return True, "no crash"
        if category in MEMORY_CATEGORIES:
            return True, "OOM/allocation report (suppressed by syzkaller, reported by triage)"
        return False, "syzkaller sees no crash"
    if category == "none":
        return False, "triage found no crash"
    sk, sf = normalize(case.title)
    ok, of = normalize(ours)
    if case.corrupted and sf is None and ours.startswith(case.title):
        return True, "kind only (syzkaller: corrupted report, truncated title)"
    if sk != ok:
        return False, f"kind {ok!r} != {sk!r}"
    if sf in (None, "corrupted") or case.corrupted:
        return True, "kind only (syzkaller: corrupted report)" if sf == "corrupted" or case.corrupted else "kind"
    if sf != of:
        return False, f"function {of!r} != {sf!r}"
    return True, "kind and function"


def kind_agrees(case: Case, ours: str, category: str) -> bool:
    """The crash kind alone (no function)."""
    if not case.title:
        return category == "none" or category in MEMORY_CATEGORIES
    if category == "none":
        return False
    return normalize(case.title)[0] == normalize(ours)[0]


def evaluate(corpus: str = DEFAULT_CORPUS) -> List[Outcome]:
    rules = load_rules()
    out = []
    for path in sorted(glob.glob(os.path.join(corpus, "*.txt")), key=lambda p: int(re.sub(r"\D", "", os.path.basename(p)) or 0)):
        case = load_case(path)
        top = classify(parse_log(case.log), rules)[0]
        agree, note = compare(case, top.title, top.category)
        out.append(Outcome(case, top.title, top.category, agree, note, agree or kind_agrees(case, top.title, top.category)))
    return out


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


def write_report(outcomes: List[Outcome], path: str, corpus: str) -> float:
    n = len(outcomes)
    good = sum(o.agree for o in outcomes)
    kinds = sum(o.kind_agree for o in outcomes)
    rate = good / n if n else 0.0
    lines = [
        "# Agreement with syzkaller's crash titles",
        "",
        f"Corpus: `{os.path.relpath(corpus, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))}` ({n} logs from syzkaller's pkg/report test data).",
        "Generated by `python3 tools/syzkaller_agreement.py`; checked by `tests/classify/test_syzkaller_corpus.py`.",
        "",
        f"**Crash kind agrees: {kinds}/{n} = {kinds / n:.1%}**  ",
        f"**Crash kind and function agree: {good}/{n} = {rate:.1%}** (target 90%: "
        + ("met" if rate >= 0.9 else "NOT met") + ")",
        "",
        "## How agreement is defined",
        "",
        "Both titles are normalised to (kind, function): kind is the text before the last ` in `, function the",
        "text after it. Our ` [module]` suffix and compiler suffixes (`.isra.N`, `.constprop.N`, `.part.N`, `.cold`)",
        "are dropped. The NULL-dereference wordings of all kernel generations are one kind (syzkaller keeps the",
        "pre-5.2 wording `BUG: unable to handle kernel NULL pointer dereference`, triage titles it",
        "`BUG: kernel NULL pointer dereference`), likewise the paging-request wordings.",
        "When syzkaller marks the report corrupted (function `corrupted`), only the kind is compared; a corrupted",
        "title that syzkaller truncated (`BUG: unable to handle kernel`) agrees when it is a prefix of ours.",
        "An empty syzkaller title means no crash; triage agrees when it reports category `none`.",
        "",
        "OOM: syzkaller suppresses OOM-killer reports because fuzzing causes them on purpose; triage reports",
        "them (category `oom_kill`/`oom_panic`/`alloc_failure`). A log syzkaller calls crash-free but where",
        "triage finds only such memory reports counts as agreement.",
        "",
        f"## Disagreements ({n - good})",
        "",
        "| file | syzkaller | triage | category | why |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        if not o.agree:
            lines.append(f"| {os.path.basename(o.case.path)} | {_md(o.case.title or '(no crash)')} | {_md(o.ours)} "
                         f"| {o.category} | {_md(o.note)} |")
    with open(path, "w") as fp:
        fp.write("\n".join(lines) + "\n")
    return rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "docs", "syzkaller-agreement.md"))
    ap.add_argument("--show", action="store_true", help="print every disagreement")
    args = ap.parse_args()
    outcomes = evaluate(args.corpus)
    rate = write_report(outcomes, args.out, args.corpus)
    if args.show:
        for o in outcomes:
            if not o.agree:
                print(f"{os.path.basename(o.case.path)}\t{o.case.title!r}\t{o.ours!r}\t{o.note}")
    kinds = sum(o.kind_agree for o in outcomes)
    print(f"kind {kinds}/{len(outcomes)} = {kinds / len(outcomes):.1%}; "
          f"agreement {sum(o.agree for o in outcomes)}/{len(outcomes)} = {rate:.1%} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
