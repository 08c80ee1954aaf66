"""Reading the posted kernel logs of tests/data/posted by their number, shared by the tests
that quote them (each file is named "<number>-<description>.log")."""

import os
from typing import Dict, List, Optional, Tuple

from triage.classify.rules import tomllib   # tomllib on 3.11+, tomli before: the project's one choice

POSTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "posted")


def posted_path(prefix: str) -> str:
    """The path of the posted log numbered `prefix` (its first file in name order)."""
    return os.path.join(POSTED, next(n for n in sorted(os.listdir(POSTED)) if n.startswith(prefix + "-")))


def posted_lines(prefix: str) -> List[str]:
    """The lines of the posted log numbered `prefix` (its first file in name order)."""
    with open(posted_path(prefix), encoding="utf-8") as f:
        return f.read().splitlines()


def verdict(lines: List[str]) -> Tuple[str, Optional[str]]:
    """(category, culprit module or None) of triage's diagnosis of `lines`."""
    from triage.analysis import analyze_lines
    d = analyze_lines(lines)
    return d.verdict.category, d.verdict.culprit.module if d.verdict.culprit else None


def verdict_with_function(lines: List[str]) -> Tuple[str, Optional[str], Optional[str]]:
    """(category, culprit module or None, culprit function or None) of triage's diagnosis of `lines`."""
    from triage.analysis import analyze_lines
    d = analyze_lines(lines)
    c = d.verdict.culprit
    return d.verdict.category, c.module if c else None, c.function if c else None


def labels() -> Dict[str, Tuple[str, str]]:
    """File name -> (category, culprit module) of labels.toml's hand labels; the module with
    '-' as '_' and '' for the core kernel, as tools/posted_agreement.py compares them."""
    with open(os.path.join(POSTED, "labels.toml"), "rb") as f:
        logs = tomllib.load(f)["log"]
    return {l["file"]: (l["category"], (l.get("culprit_module") or "").strip().replace("-", "_")) for l in logs}
