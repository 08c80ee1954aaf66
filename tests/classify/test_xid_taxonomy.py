"""signatures/xid.toml against what each entry cites: the causes NVIDIA's Xid
table marks (its `source` "table: ..." part) are exactly the entry's cause and
`also`, mapped the way the file's header says; every entry cites a source."""

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

from triage.analysis import analyze_lines

ROOT = Path(__file__).resolve().parents[2]
XIDS = tomllib.loads((ROOT / "signatures" / "xid.toml").read_text())["xid"]
COLUMNS = {"HW": "hardware", "driver": "driver", "user app": "application", "system memory": "memory",
           "bus": "bus", "thermal": "thermal", "FB": "memory"}


def _table(source: str):
    m = re.match(r"table: ([^;]*);", source)
    assert m, source
    if m.group(1) in ("none",) or m.group(1).startswith("3 causes"):
        return None
    return {COLUMNS[c.strip()] for c in m.group(1).split(",")}


@pytest.mark.parametrize("number", sorted(XIDS, key=int))
def test_entry_matches_the_causes_nvidia_marks(number):
    e = XIDS[number]
    assert e.get("source", "").startswith("table: ") and "catalog: " in e["source"]
    marked = _table(e["source"])
    if marked is None:
        return
    if number == "58":      # the EDC sub-row (memory link error detection) adds memory, see its source
        marked = marked | {"memory"}
    # `also` is what the table marks besides the cause ...
    assert set(e.get("also", [])) == marked - {e["cause"]}, (number, e.get("also"), marked)
    # ... and a cause the table does not mark is one NVIDIA's prose or catalog names, quoted in the source
    if e["cause"] not in marked:
        assert "NVIDIA: '" in e["source"] or "single-bit ECC" in e["source"] or "catalog's" in e["source"], e


def test_nvlink5_xid_from_a_real_posted_line_is_a_bus_fault():
    # tests/data/posted/224 (leptonai/gpud#1174): Xid 149 was unknown to the taxonomy
    line = "NVRM: Xid (PCI:0019:01:00): 149, NETIR Fatal XC0 i0 Link -1 (0x000fe406 0x00000000 0x00000000 " \
           "0x00000000 0x00000000 0x00000000)"
    d = analyze_lines([line])
    assert d.verdict.category == "gpu_xid"
    assert "NVLink: NETIR error" in d.verdict.title
    hw = [h for h in d.hypotheses if h.name == "hardware"]
    assert hw and hw[0].status == "supported", [(h.name, h.status, h.reason) for h in d.hypotheses]
