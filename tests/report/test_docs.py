"""The documentation lists what the code produces.

Oracles: triage.classify.rules.CATEGORIES (every category a rule may carry)
against docs/categories.md; Diagnosis.to_dict() keys against docs/json-schema.md.
"""

import re
from pathlib import Path

from _diag_helpers import gpu_alloc_null_log
from triage.analysis import analyze_path
from triage.classify.rules import CATEGORIES
from triage.diagnosis.diagnose import diagnose

DOCS = Path(__file__).resolve().parents[2] / "docs"
REAL_DUMP = DOCS.parent / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"


def test_every_category_documented():
    text = (DOCS / "categories.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    assert set(CATEGORIES) <= documented, set(CATEGORIES) - documented


def _keys(d, prefix=""):
    for k, v in d.items():
        yield prefix + k
        if isinstance(v, dict) and k not in ("modules_of_interest",):
            yield from _keys(v, prefix + k + ".")


def test_every_json_field_documented():
    text = (DOCS / "json-schema.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    log, matches = gpu_alloc_null_log()
    data = diagnose(log, matches).to_dict()
    fields = set()
    for k in _keys(data):
        fields.add(k.split(".")[-1])
    for lst in ("evidence", "contributing", "hypotheses", "timeline"):
        for item in data[lst]:
            fields |= set(item)
    # the crash object of a real dump (the hand-built log above has no call trace for its oops)
    crash = analyze_path(str(REAL_DUMP)).to_dict()["crash"]
    assert crash["task"] and crash["trace"] and crash["modules"] and crash["header"] and crash["checks"]
    for lst in ("header", "trace", "modules", "checks"):
        for item in crash[lst]:
            fields |= set(item)
    fields |= set(crash["task"]) | set(crash["ip"] or {})
    missing = fields - documented
    assert not missing, missing


def test_analyze_worked_example_is_current():
    """docs/analyze.md is what tools/analyze_example.py prints for the committed dump."""
    import subprocess
    import sys
    root = DOCS.parent
    if not REAL_DUMP.is_file():
        import pytest
        pytest.skip("committed dump missing")
    out = subprocess.run([sys.executable, "tools/analyze_example.py", str(REAL_DUMP.relative_to(root))],
                         cwd=root, capture_output=True, text=True, check=True, timeout=300).stdout
    assert out == (DOCS / "analyze.md").read_text(), \
        "docs/analyze.md is stale: python3 tools/analyze_example.py " \
        "sample_dumps/committed/gpu_alloc_null-kdump-lzo/vmcore > docs/analyze.md"
