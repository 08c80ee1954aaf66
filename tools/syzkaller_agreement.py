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

Tuning and validation halves: a case belongs to the tuning half when the
first byte of sha256(file name) is even, else to the validation half
(`half_of`). Rules and skip lists are changed only by looking at the tuning
half's disagreements; the validation half measures how well that generalises.

Usage: tools/syzkaller_agreement.py [CORPUS_DIR] [--out docs/syzkaller-agreement.md]
"""

import argparse
import glob
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

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


TUNING, VALIDATION = "tuning", "validation"


def half_of(name: str) -> str:
    """The half a corpus file belongs to, from its base name alone (stable, no list to keep)."""
    return TUNING if hashlib.sha256(name.encode("utf-8")).digest()[0] % 2 == 0 else VALIDATION


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

    @property
    def half(self) -> str:
        return half_of(os.path.basename(self.case.path))


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
        top = classify(parse_log(case.log, rules.gpu_data, rules.reporters), rules)[0]
        agree, note = compare(case, top.title, top.category)
        out.append(Outcome(case, top.title, top.category, agree, note, agree or kind_agrees(case, top.title, top.category)))
    return out


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


def rates(outcomes: List[Outcome]) -> Tuple[int, int, int]:
    """(cases, kind agreements, kind+function agreements)."""
    return len(outcomes), sum(o.kind_agree for o in outcomes), sum(o.agree for o in outcomes)


def split(outcomes: List[Outcome]) -> Dict[str, List[Outcome]]:
    """Outcomes by half."""
    out: Dict[str, List[Outcome]] = {TUNING: [], VALIDATION: []}
    for o in outcomes:
        out[o.half].append(o)
    return out


def _pct(a: int, n: int) -> str:
    return f"{a}/{n} = {a / n:.1%}" if n else "0/0"


# Measured figures at earlier points, newest last (kept by hand: the tool only measures the present).
HISTORY = [
    # Both halves were seen while the earlier rules were written, so this baseline is not a blind
    # figure; issue 8 quotes 81% kind / 62% kind+function on syzkaller logs outside this corpus.
    ("baseline (56c2f71): rules tuned on the whole corpus before the split", (175, 168, 160), (185, 179, 167)),
    ("[section] per report type in lists.toml; per-log skip entries replaced by their principle", (175, 168, 160), (185, 179, 167)),
    ("stall anchors by category (kthreads, timers, softirqs, task work, fault entry, file/socket ops); "
     "helper categories (tracing hooks, atomics, MMIO, teardown, page cache)", (175, 168, 160), (185, 179, 170)),
    ("a deadlock's held-lock site read before the trace; fence/reservation waits are wait primitives",
     (175, 168, 161), (185, 179, 170)),
    ("posted GPU/OOM round (branch tune): hostless stamps, OOM tails, all-'?' traces fall back to module "
     "frames, near-NULL below mmap_min_addr, arm32 unwind_backtrace, page-fragment allocators",
     (175, 168, 161), (185, 179, 170)),
    ("posted batch fresh-2026-12-06b round (branch posted): arm/arm64 die() reports without their fault line, "
     "newest-first pastes, sanitizer entry points as reporting frames, frame-only excerpts, DMA allocators, "
     "nouveau 3.x PFIFO, amdgpu GPU reset, GPU source directories", (175, 168, 161), (185, 179, 170)),
    ("posted batch fresh-2026-12-06c round (branch posted2): OOM victim sizes with digit-group separators, "
     "drm_kms_helper by prefix and source file, the lone CR2 page-fault summary and its sleeping-in-atomic "
     "after-effect", (175, 168, 161), (185, 179, 170)),
]


def write_report(outcomes: List[Outcome], path: str, corpus: str) -> float:
    halves = split(outcomes)
    n, kinds, good = rates(outcomes)
    tn, tk, tg = rates(halves[TUNING])
    vn, vk, vg = rates(halves[VALIDATION])
    vrate = vg / vn if vn else 0.0
    lines = [
        "# Agreement with syzkaller's crash titles",
        "",
        f"Corpus: `{os.path.relpath(corpus, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))}` ({n} logs from syzkaller's pkg/report test data;",
        "the same set as `/work/shared/corpus/syzkaller`).",
        "Generated by `python3 tools/syzkaller_agreement.py`; checked by `tests/classify/test_syzkaller_corpus.py`.",
        "",
        "## Tuning and validation halves",
        "",
        "Before any rule was changed for this measure, the corpus was split by a rule that needs no list:",
        "a file belongs to the **tuning** half when the first byte of `sha256(<file name>)` (e.g. `sha256(b\"0.txt\")`)",
        "is even, otherwise to the **validation** half (`half_of()` in the tool). Rules, skip lists and",
        "guilty-frame strategies are changed only from the tuning half's disagreements (listed below); the",
        "validation half's disagreements are counted but not listed, so that nobody tunes on them by accident",
        "(`--show validation` prints them; use it only to measure).",
        "Caveat: the rules before the split had been written against the whole corpus, so the validation",
        "half is not blind to them; it is blind only to the changes made since. The lead's own hold-out",
        "(syzkaller logs outside this corpus) is the blind measure.",
        "",
        "| half | logs | crash kind agrees | kind and function agree |",
        "|---|---|---|---|",
        f"| tuning | {tn} | {_pct(tk, tn)} | {_pct(tg, tn)} |",
        f"| validation | {vn} | {_pct(vk, vn)} | **{_pct(vg, vn)}** (target 90%: " + ("met" if vrate >= 0.9 else "NOT met") + ") |",
        f"| all | {n} | {_pct(kinds, n)} | {_pct(good, n)} |",
        "",
        "A large gap between the halves would mean the rules fit the logs they were tuned on.",
        "",
        "### History",
        "",
        "| when | tuning kind | tuning kind+function | validation kind | validation kind+function |",
        "|---|---|---|---|---|",
    ]
    for label, (hn, hk, hg), (wn, wk, wg) in HISTORY:
        lines.append(f"| {label} | {_pct(hk, hn)} | {_pct(hg, hn)} | {_pct(wk, wn)} | {_pct(wg, wn)} |")
    lines += [
        f"| now | {_pct(tk, tn)} | {_pct(tg, tn)} | {_pct(vk, vn)} | {_pct(vg, vn)} |",
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
        "## How the guilty function is chosen",
        "",
        "As in syzkaller's pkg/report, the report type decides which section names the guilty function, and",
        "skip lists hold the frames that only report or help: `[section]` in `signatures/lists.toml` (one",
        "entry per event kind: faulting location then trace for oopses, WARNINGs and sanitizers; the trace",
        "for hung tasks, allocation failures and leaks; the stuck IP for soft lockups; the interrupted code for",
        "hard lockups and RCU stalls, with anchor frames whose callee names the operation) and the `[skip]`",
        "lists by category (reporting, sanitizer runtime, library helpers, locking and waiting, interrupt",
        "plumbing, allocator). Rules inherit their kind's section (docs/signatures.md).",
        "",
        "Disagreements left on the tuning half that follow from a principle rather than a missing rule:",
        "",
        "* which report is the crash: syzkaller titles the first report in the log; triage names the report",
        "  that made the kernel panic, else the most severe (351, 396, 696): an expert triaging a dump needs",
        "  what brought the host down;",
        "* soft lockups: triage names the stuck CPU's IP unless it is a helper (264); syzkaller walks the trace",
        "  to an anchor;",
        "* syzkaller's skip patterns are substrings (`timer_` skips `rose_timer_expiry`, 753); triage's name",
        "  categories of frames and do not skip a function for containing a word;",
        "* a report syzkaller marks corrupted (132), non-kernel titles (716 `SYZFAIL`, 749 a Rust panic);",
        "* not yet explained by a principle (so left alone rather than fitted): 334 (a corrupted stack end whose",
        "  own trace is cut short), 502 (an RCU stall report that carries no stack of its own), 549 (syzkaller",
        "  drops the `sys_` of a syscall entry), 614 (a stack-overflow trace cut before the anchor), 657, 679.",
        "",
        f"## Tuning-half disagreements ({tn - tg})",
        "",
        "| file | syzkaller | triage | category | why |",
        "|---|---|---|---|---|",
    ]
    for o in halves[TUNING]:
        if not o.agree:
            lines.append(f"| {os.path.basename(o.case.path)} | {_md(o.case.title or '(no crash)')} | {_md(o.ours)} "
                         f"| {o.category} | {_md(o.note)} |")
    with open(path, "w") as fp:
        fp.write("\n".join(lines) + "\n")
    return vrate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "docs", "syzkaller-agreement.md"))
    ap.add_argument("--show", nargs="?", const=TUNING, choices=(TUNING, VALIDATION),
                    help="print the disagreements of one half (default: tuning)")
    args = ap.parse_args()
    outcomes = evaluate(args.corpus)
    write_report(outcomes, args.out, args.corpus)
    halves = split(outcomes)
    if args.show:
        for o in halves[args.show]:
            if not o.agree:
                print(f"{os.path.basename(o.case.path)}\t{o.case.title!r}\t{o.ours!r}\t{o.note}")
    for name in (TUNING, VALIDATION):
        hn, hk, hg = rates(halves[name])
        print(f"{name}: kind {_pct(hk, hn)}; kind+function {_pct(hg, hn)}")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
