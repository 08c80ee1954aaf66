"""Run the inline example logs of every rule (`triage signatures test`, pytest)."""

from dataclasses import dataclass
from typing import List, Optional

from triage.classify.engine import classify
from triage.classify.rules import Example, Rule, RuleSet
from triage.events.parser import parse_text


@dataclass
class ExampleResult:
    rule: str
    index: int
    example: Example
    ok: bool
    message: str = ""


def check_example(rules: RuleSet, rule: Rule, index: int, ex: Example) -> ExampleResult:
    """A positive example must make `rule` the top match (with the expected title/module);
    a negative one must not."""
    top = classify(parse_text(ex.log, rules.gpu_data, rules.reporters), rules)[0]
    got = f"got {top.rule.id!r} ({top.category}) titled {top.title!r}"
    if ex.expect == "no_match":
        ok = top.rule.id != rule.id
        return ExampleResult(rule.id, index, ex, ok, "" if ok else f"expected no match, {got}")
    if top.rule.id != rule.id:
        return ExampleResult(rule.id, index, ex, False, f"expected a match, {got}")
    if ex.title is not None and top.title != ex.title:
        return ExampleResult(rule.id, index, ex, False, f"title {top.title!r} != expected {ex.title!r}")
    if ex.module is not None and (top.culprit.module or "") != ex.module:
        return ExampleResult(rule.id, index, ex, False,
                             f"culprit module {top.culprit.module!r} != expected {ex.module!r}")
    return ExampleResult(rule.id, index, ex, True)


def run_examples(rules: RuleSet, only: Optional[str] = None) -> List[ExampleResult]:
    out = []
    for r in rules.rules:
        if only and r.id != only:
            continue
        for i, ex in enumerate(r.examples):
            out.append(check_example(rules, r, i, ex))
    return out
