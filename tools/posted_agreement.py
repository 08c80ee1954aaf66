#!/usr/bin/env python3
"""Measure how often triage agrees with an engineer's labels on real kernel
logs as users posted them (tests/data/posted), per half of the corpus.

Each log in tests/data/posted/labels.toml carries a hand label: `category`
(docs/categories.md) and `culprit_module` ("" = core kernel). For every log
this runs triage.analysis.analyze_path and compares:

* category: verdict.category == label category;
* culprit module: verdict.culprit.module (None -> "", "-" -> "_") == label;
* both together;
* "GPU blamed for a non-GPU crash": the label names no GPU module and no GPU
  category, but triage's verdict has a GPU category or a culprit module from
  `[lists] gpu_modules` in signatures/lists.toml.

The corpus is split once, before any rule is tuned on it, by a rule that does
not look at the content: sha256(file name) even -> "tuning", odd ->
"validation" (see split_half). The figures are reported per half; a gap
between them means the rules were fitted to the tuning half.

Usage:
  tools/posted_agreement.py [--list] [--json] [--half tuning|validation|all]
                            [--batch NAME] [--out docs/posted-agreement.md]

--list prints the tuning half's disagreements unless --half says otherwise.
Logs added later carry a `batch` name in labels.toml; each batch is also
reported on its own, since it was measured against rules that never saw it.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_CORPUS = os.path.join(ROOT, "tests", "data", "posted")
LISTS = os.path.join(ROOT, "signatures", "lists.toml")
HALVES = ("tuning", "validation")
GPU_CATEGORIES = frozenset({"gpu_alloc_fail_null_deref", "gpu_null_deref", "gpu_fault", "gpu_xid"})
MEMORY_CATEGORIES = frozenset({"oom_kill", "oom_panic", "alloc_failure"})


def split_half(file_name: str) -> str:
    """The corpus half of a log: sha256 of its file name, even -> tuning, odd -> validation.

    Decided before any rule was tuned on the corpus; depends only on the name.
    """
    return "tuning" if int(hashlib.sha256(file_name.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "validation"


def load_labels(corpus: str = DEFAULT_CORPUS) -> List[Dict[str, Any]]:
    """The [[log]] tables of labels.toml, in file order."""
    with open(os.path.join(corpus, "labels.toml"), "rb") as fp:
        return list(tomllib.load(fp).get("log", []))


def gpu_modules(lists_path: str = LISTS) -> FrozenSet[str]:
    """`[lists] gpu_modules` from the signature data: the one GPU module list."""
    with open(lists_path, "rb") as fp:
        return frozenset(tomllib.load(fp)["lists"]["gpu_modules"])


def norm_module(name: Optional[str]) -> str:
    """Module names compare with '-' and '_' equal; None (core kernel) is ''."""
    return (name or "").strip().replace("-", "_")


def labelled_verdicts(corpus: str = DEFAULT_CORPUS) -> Dict[str, Tuple[str, str]]:
    """File name -> its hand label as (category, normalised culprit module): what the
    tools that cut or alter a posted log compare triage's (category, module) with."""
    return {lab["file"]: (lab["category"], norm_module(lab.get("culprit_module"))) for lab in load_labels(corpus)}


@dataclass
class Outcome:
    """One log: the label, what triage said, and whether they agree."""

    file: str
    half: str
    label_category: str
    label_module: str
    batch: str = ""                      # labels.toml `batch`: logs added together, measured on arrival
    category: str = ""
    module: str = ""
    title: str = ""
    error: Optional[str] = None
    category_ok: bool = False
    module_ok: bool = False
    gpu_blamed_wrongly: bool = False
    gpu_or_memory: bool = False          # the label is a GPU or OOM/allocation case
    label_gpu: bool = False              # the label has a GPU category or a GPU culprit module
    notes: List[str] = field(default_factory=list)

    @property
    def both_ok(self) -> bool:
        return self.category_ok and self.module_ok


def judge(label: Dict[str, Any], category: str, module: Optional[str], gpu: FrozenSet[str]) -> Dict[str, bool]:
    """Compare one verdict with its label (pure, for tests)."""
    lab_mod, our_mod = norm_module(label.get("culprit_module")), norm_module(module)
    label_is_gpu = label["category"] in GPU_CATEGORIES or lab_mod in gpu
    blamed_gpu = category in GPU_CATEGORIES or our_mod in gpu
    return {
        "category_ok": category == label["category"],
        "module_ok": our_mod == lab_mod,
        "gpu_blamed_wrongly": (not label_is_gpu) and blamed_gpu,
        "gpu_or_memory": label_is_gpu or label["category"] in MEMORY_CATEGORIES,
        "label_gpu": label_is_gpu,
    }


def evaluate(corpus: str = DEFAULT_CORPUS) -> List[Outcome]:
    """Run triage on every labelled log of the corpus."""
    from triage.analysis import analyze_path, load_ruleset

    rules = load_ruleset()
    gpu = gpu_modules()
    out = []
    for label in load_labels(corpus):
        name = label["file"]
        o = Outcome(file=name, half=split_half(name), label_category=label["category"],
                    label_module=norm_module(label.get("culprit_module")), batch=label.get("batch", ""))
        try:
            d = analyze_path(os.path.join(corpus, name), rules)
        except Exception as exc:  # measured, not hidden: an exception is a disagreement
            o.error = f"{type(exc).__name__}: {exc}"
            j = judge(label, "", None, gpu)
            o.gpu_or_memory, o.label_gpu = j["gpu_or_memory"], j["label_gpu"]
            out.append(o)
            continue
        o.category, o.module, o.title = d.verdict.category, norm_module(d.verdict.culprit.module), d.verdict.title
        for k, v in judge(label, o.category, o.module, gpu).items():
            setattr(o, k, v)
        out.append(o)
    return out


def summary(outcomes: List[Outcome]) -> Dict[str, Any]:
    """Counts and rates for one set of outcomes."""
    n = len(outcomes)

    def rate(k: int, m: int) -> Optional[float]:
        return round(k / m, 4) if m else None

    cat = sum(o.category_ok for o in outcomes)
    mod = sum(o.module_ok for o in outcomes)
    both = sum(o.both_ok for o in outcomes)
    gm = [o for o in outcomes if o.gpu_or_memory]
    gm_both = sum(o.both_ok for o in gm)
    non_gpu = [o for o in outcomes if not o.label_gpu]
    return {
        "logs": n,
        "category": cat, "category_rate": rate(cat, n),
        "culprit_module": mod, "culprit_module_rate": rate(mod, n),
        "both": both, "both_rate": rate(both, n),
        "gpu_or_memory_logs": len(gm), "gpu_or_memory_both": gm_both, "gpu_or_memory_both_rate": rate(gm_both, len(gm)),
        "gpu_blamed_for_non_gpu_crash": sum(o.gpu_blamed_wrongly for o in outcomes),
        "non_gpu_logs": len(non_gpu),
        "errors": sum(o.error is not None for o in outcomes),
    }


def batches(outcomes: List[Outcome]) -> List[str]:
    """The named batches of the corpus (labels.toml `batch`), in file order."""
    return list(dict.fromkeys(o.batch for o in outcomes if o.batch))


def report(outcomes: List[Outcome]) -> Dict[str, Any]:
    """Per-half and overall summaries, and each named batch on its own (both halves)."""
    return {
        "halves": {h: summary([o for o in outcomes if o.half == h]) for h in HALVES},
        "all": summary(outcomes),
        "batches": {b: {**{h: summary([o for o in outcomes if o.batch == b and o.half == h]) for h in HALVES},
                        "all": summary([o for o in outcomes if o.batch == b])}
                    for b in batches(outcomes)},
    }


def _revision() -> str:
    """The git commit the figures were measured on ('' outside a git checkout)."""
    try:
        out = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h %cs"], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def print_json(obj: Any) -> None:
    """The --json output every agreement tool prints: `obj` indented by one, then a newline."""
    json.dump(obj, sys.stdout, indent=1)
    sys.stdout.write("\n")


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} = {k / n:.1%}" if n else "0/0"


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


def _arrival_section(corpus: str = DEFAULT_CORPUS) -> List[str]:
    """The blind figures of each batch at arrival (tests/data/posted/arrival.toml), as recorded."""
    path = os.path.join(corpus, "arrival.toml")
    if not os.path.isfile(path):
        return []
    with open(path, "rb") as fp:
        doc = tomllib.load(fp)
    out = ["### Each batch at arrival (blind: before any rule was changed for it)", "",
           "| batch, half | logs | category | culprit module | both | GPU/OOM logs: both | GPU blamed for a non-GPU crash | measured with |",
           "|---|---|---|---|---|---|---|---|"]
    for b in doc.get("batch", []):
        tot = {k: 0 for k in ("logs", "category", "module", "both", "gpu_oom_both", "gpu_oom_logs", "gpu_blamed",
                              "non_gpu_logs")}
        for half in HALVES:
            h = b[half]
            for k in tot:
                tot[k] += h.get(k, 0)
            out.append(_arrival_row(f"{b['name']}, {half}", h, b.get("measured", "")))
        out.append(_arrival_row(f"{b['name']}, all", tot, b.get("measured", "")))
    return out + [""]


def _arrival_row(name: str, h: Dict[str, int], measured: str) -> str:
    n = h["logs"]
    wrong = f"{h['gpu_blamed']} of {h['non_gpu_logs']}" if h.get("non_gpu_logs") else str(h["gpu_blamed"])
    return (f"| {name} | {n} | {_pct(h['category'], n)} | {_pct(h['module'], n)} | {_pct(h['both'], n)} "
            f"| {_pct(h['gpu_oom_both'], h['gpu_oom_logs'])} | {wrong} | {measured} |")


def write_markdown(outcomes: List[Outcome], path: str) -> None:
    """docs/posted-agreement.md: the figures per half and every disagreement."""
    rep = report(outcomes)
    lines = [
        "# Agreement with hand labels on real posted kernel logs",
        "",
        f"Corpus: `tests/data/posted` ({len(outcomes)} logs as users posted them on bug trackers, mailing lists,",
        "forums and GitHub issues; provenance and labelling rules in `tests/data/posted/README.md`).",
        "Generated by `python3 tools/posted_agreement.py --out docs/posted-agreement.md`"
        + (f", triage at commit {_revision()}." if _revision() else "."),
        "",
        "The halves are fixed by the file name alone (sha256 even -> tuning, odd -> validation), decided before",
        "any rule was tuned on these logs. Tune rules on the tuning half only; the validation half measures",
        "how the rules do on logs nobody tuned them on.",
        "",
        "| half | logs | category | culprit module | both | GPU/OOM logs: both | GPU blamed for a non-GPU crash | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in list(rep["halves"].items()) + [("all", rep["all"])]:
        n = s["logs"]
        lines.append(
            f"| {name} | {n} | {_pct(s['category'], n)} | {_pct(s['culprit_module'], n)} | {_pct(s['both'], n)} "
            f"| {_pct(s['gpu_or_memory_both'], s['gpu_or_memory_logs'])} "
            f"| {s['gpu_blamed_for_non_gpu_crash']} of {s['non_gpu_logs']} | {s['errors']} |")
    for b, per in rep["batches"].items():
        for name, s in per.items():
            n = s["logs"]
            lines.append(
                f"| batch {b}, {name} | {n} | {_pct(s['category'], n)} | {_pct(s['culprit_module'], n)} "
                f"| {_pct(s['both'], n)} | {_pct(s['gpu_or_memory_both'], s['gpu_or_memory_logs'])} "
                f"| {s['gpu_blamed_for_non_gpu_crash']} of {s['non_gpu_logs']} | {s['errors']} |")
    lines += [
        "",
        "A batch is a set of logs collected together after the rules existed (labels.toml `batch`); its rows",
        "count the same logs as the half rows above. Its figures at arrival, before any rule was changed for",
        "it (the closest thing to logs nobody has seen), are below (tests/data/posted/arrival.toml); the",
        "rows above are with the current rules, after its tuning-half logs may have been read.",
        "",
    ]
    lines += _arrival_section()
    lines += [
        "\"GPU/OOM logs\" are those labelled with a GPU category or GPU culprit module, or with",
        "`oom_kill`/`oom_panic`/`alloc_failure`. \"GPU blamed for a non-GPU crash\" counts logs whose label has",
        "neither a GPU category nor a GPU module (of `[lists] gpu_modules`) where triage's verdict has one.",
        "",
    ]
    # Only the tuning half's disagreements are listed: the validation half is
    # for measuring, and a list of its misses would invite tuning on it.
    bad = [o for o in outcomes if o.half == "tuning" and not o.both_ok]
    lines += [f"## Disagreements, tuning half ({len(bad)})", "",
              "| file | label | triage | title |", "|---|---|---|---|"]
    for o in bad:
        ours = f"ERROR {o.error}" if o.error else f"{o.category} / {o.module or '(core)'}"
        flag = " **GPU blamed**" if o.gpu_blamed_wrongly else ""
        lines.append(f"| {o.file} | {o.label_category} / {o.label_module or '(core)'} | {_md(ours)}{flag} "
                     f"| {_md(o.title)} |")
    nval = sum(1 for o in outcomes if o.half == "validation" and not o.both_ok)
    lines += ["", f"The validation half has {nval} disagreements; they are deliberately not listed here "
              "(`--list --half validation` shows them, for measuring, not for tuning).", ""]
    with open(path, "w") as fp:
        fp.write("\n".join(lines))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--list", action="store_true", help="print every disagreement")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--half", choices=HALVES + ("all",),
                    help="which half --list prints (default tuning) and --json details (default all)")
    ap.add_argument("--batch", help="limit --list and --json details to one labels.toml batch")
    ap.add_argument("--out", help="also write the markdown report here (e.g. docs/posted-agreement.md)")
    args = ap.parse_args(argv)
    outcomes = evaluate(args.corpus)
    # --list defaults to the tuning half so that reading misses does not leak
    # the validation half into rule tuning.
    half = args.half or ("all" if args.json else "tuning")
    shown = [o for o in outcomes if half in ("all", o.half) and args.batch in (None, o.batch)]
    if args.out:
        write_markdown(outcomes, args.out)
    if args.json:
        rep = report(outcomes)
        rep["logs"] = [dict(asdict(o), both_ok=o.both_ok) for o in shown]
        print_json(rep)
        return 0
    if args.list:
        for o in shown:
            if not o.both_ok:
                ours = f"ERROR {o.error}" if o.error else f"{o.category}/{o.module or '-'}"
                flag = "\tGPU-BLAMED" if o.gpu_blamed_wrongly else ""
                print(f"{o.half}\t{o.file}\tlabel {o.label_category}/{o.label_module or '-'}\ttriage {ours}"
                      f"\t{o.title}{flag}")
    rep = report(outcomes)
    rows = list(rep["halves"].items()) + [("all", rep["all"])]
    rows += [(f"batch {b} {h}", s) for b, per in rep["batches"].items() for h, s in per.items()]
    for name, s in rows:
        n = s["logs"]
        print(f"{name:10s} logs {n:3d}  category {_pct(s['category'], n)}  module {_pct(s['culprit_module'], n)}  "
              f"both {_pct(s['both'], n)}  GPU/OOM both {_pct(s['gpu_or_memory_both'], s['gpu_or_memory_logs'])}  "
              f"GPU blamed wrongly {s['gpu_blamed_for_non_gpu_crash']}  errors {s['errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
