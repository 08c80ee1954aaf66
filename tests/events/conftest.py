"""Fixtures the paste-invariance tests of this folder share (test_paste, test_wrap_forms,
test_learned_prefix): the built-in rules and the posted corpus's hand labels, each loaded
once a module."""

import pytest


@pytest.fixture(scope="module")
def rules():
    """The built-in RuleSet."""
    from triage.analysis import load_ruleset
    return load_ruleset()


@pytest.fixture(scope="module")
def labels():
    """tests/data/posted/labels.toml: file name -> its [[log]] table."""
    from _posted import labels
    return labels()
