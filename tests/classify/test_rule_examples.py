"""Every signature rule's inline examples (oracle: the expectation written next to
each example in signatures/*.toml: top rule id, title and culprit module)."""

import pytest

from triage.classify import load_rules, run_examples

RULES = load_rules()
RESULTS = run_examples(RULES)


def test_every_rule_has_positive_and_negative_examples():
    for r in RULES.rules:
        kinds = {e.expect for e in r.examples}
        assert kinds == {"match", "no_match"}, f"rule {r.id} needs a positive and a negative example"


@pytest.mark.parametrize("res", RESULTS, ids=[f"{r.rule}#{r.index}" for r in RESULTS])
def test_example(res):
    assert res.ok, res.message
