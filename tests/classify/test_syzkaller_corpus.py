"""Agreement with syzkaller's titles on its own report corpus.

Oracle: the TITLE/ALT/CORRUPTED header syzkaller's pkg/report expects for each
of the 360 real crash logs in tests/data/syzkaller (vendored from syzkaller; see
tools/syzkaller_agreement.py for how titles are normalised to (kind, function)
and docs/syzkaller-agreement.md for the measured numbers and disagreements).
"""

import importlib.util
import os

import pytest

from triage.classify import classify, load_rules
from triage.events import parse_log

HERE = os.path.dirname(__file__)
TOOL = os.path.join(HERE, "..", "..", "tools", "syzkaller_agreement.py")
CORPUS = os.environ.get(
    "TRIAGE_SYZKALLER_CORPUS", os.path.join(os.path.dirname(__file__), "..", "data", "syzkaller")
)


# Measured on this corpus: kind 96.4%, kind+function 90.8% (docs/syzkaller-agreement.md).
KIND_FLOOR = 0.90
KIND_AND_FUNCTION_FLOOR = 0.90


def _tool():
    spec = importlib.util.spec_from_file_location("syzkaller_agreement", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def outcomes():
    return _tool().evaluate(CORPUS)


def test_every_log_parses_and_classifies(outcomes):
    assert len(outcomes) >= 300
    rules = load_rules()
    for o in outcomes:
        matches = classify(parse_log(o.case.log), rules)
        assert matches and matches[0].title


def test_crash_kind_agrees(outcomes):
    rate = sum(o.kind_agree for o in outcomes) / len(outcomes)
    assert rate >= KIND_FLOOR, f"kind agreement {rate:.1%}"


def test_kind_and_function_agree(outcomes):
    rate = sum(o.agree for o in outcomes) / len(outcomes)
    assert rate >= KIND_AND_FUNCTION_FLOOR, f"kind+function agreement {rate:.1%}"


def test_normalisation():
    t = _tool()
    assert t.normalize("BUG: unable to handle kernel NULL pointer dereference in foo") == ("null-ptr-deref", "foo")
    assert t.normalize("BUG: kernel NULL pointer dereference in foo.isra.3 [nvidia]") == ("null-ptr-deref", "foo")
    assert t.normalize("BUG: Dentry still in use in unmount") == ("BUG: Dentry still in use", "unmount")
    assert t.normalize("kernel panic: Fatal exception") == ("kernel panic: Fatal exception", None)
