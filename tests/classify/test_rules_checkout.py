"""The built-in rules come from the checkout the code runs from.

An editable install maps the package triage.signatures onto the signatures/ of
the checkout it was made from; code run from another checkout (PYTHONPATH, a git
worktree) must still read its own rules, or a rule change is measured against
rules that do not have it."""

from pathlib import Path

import pytest

import triage
from triage.classify.rules import builtin_dir, load_rules


def test_a_source_checkout_reads_its_own_signatures():
    root = Path(triage.__file__).resolve().parent.parent
    if not (root / "setup.py").is_file():
        pytest.skip("an installed triage, not a source checkout: its rules are package data")
    assert Path(str(builtin_dir())).resolve() == (root / "signatures").resolve()
    rs = load_rules()
    assert any(str(f).startswith(str(root / "signatures")) for f in rs.files)
