"""The report of every real dump: the same verdict from the vmcore, the
vmcore-dmesg.txt beside it and the serial console; and the text report shows
the crashing task, the first reliable non-reporting frames of its call trace
and every loaded module.

Oracles: the serial console (captured outside the guest, every record the
kernel printed) and the dmesg files makedumpfile / vmcore-dmesg extracted
from the same dump (sample_dumps/*/manifest.json lists them).
"""

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import DUMP_DIRS  # noqa: E402

from triage.analysis import analyze_path, load_ruleset  # noqa: E402
from triage.report.render import render  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ORACLES = ("vmcore-dmesg", "vmcore-dmesg-in-guest", "makedumpfile-dmesg")


def _entries():
    out = []
    for top in [ROOT / "sample_dumps", *DUMP_DIRS]:
        man = top / "manifest.json"
        if not man.is_file():
            continue
        committed = top == ROOT / "sample_dumps"
        for it in json.loads(man.read_text()).get("dumps", []):
            if (man.parent / it["path"]).is_file():
                marks = () if committed else (pytest.mark.matrix,)
                out.append(pytest.param(man.parent, it, id=it["path"], marks=marks))
    return out


ENTRIES = _entries()
_RULES = load_ruleset()
_CACHE = {}


def _diag(path: Path):
    if path not in _CACHE:
        _CACHE[path] = analyze_path(str(path), rules=_RULES)
    return _CACHE[path]


def _verdict(d):
    v = d.verdict
    return {"category": v.category, "title": v.title, "culprit": v.culprit.module,
            "function": v.culprit.function, "panicked": v.panicked}


@pytest.mark.skipif(not ENTRIES, reason="no real dumps")
@pytest.mark.parametrize("base,entry", ENTRIES)
def test_same_verdict_from_dump_dmesg_and_serial(base, entry):
    ref = _verdict(_diag(base / entry["path"]))
    assert ref["category"] == entry["expected"]["category"]
    assert ref["culprit"] == entry["expected"].get("culprit_module")
    assert ref["panicked"]
    others = {"serial.log": entry["oracles"]["serial_log"]}
    for k in ORACLES:
        o = entry["oracles"].get(k)
        if isinstance(o, dict) and o.get("status") == "ok":
            others[k] = o["output"]
    for name, rel in others.items():
        assert _verdict(_diag(base / rel)) == ref, name


_SKIP_REPORT = _RULES.skip_patterns(["report"])


def _first_reliable(trace, n=3):
    out = []
    for e in trace:
        if e.boundary or not e.reliable or any(p.search(e.function) for p in _SKIP_REPORT):
            continue
        out.append(e)
        if len(out) == n:
            break
    return out


@pytest.mark.skipif(not ENTRIES, reason="no real dumps")
@pytest.mark.parametrize("base,entry", ENTRIES)
def test_text_report_shows_task_trace_and_modules(base, entry):
    d = _diag(base / entry["path"])
    text = render(d, "text", width=80)
    assert max(len(ln) for ln in text.splitlines()) <= 80
    c = d.crash
    assert c.task is not None and c.task.comm and c.task.pid is not None
    assert re.search(rf"\b{re.escape(c.task.comm)} \(pid {c.task.pid}\)", text)
    frames = _first_reliable(c.trace)
    assert frames
    for e in frames:
        assert e.function in text
    serial = (base / entry["oracles"]["serial_log"]).read_text(errors="replace")
    listed = re.findall(r"Modules linked in: (.*)", serial)
    if listed:
        names = [m.split("(")[0] for m in listed[0].split()]
        assert [m.name for m in c.modules] == names
        for n in names:
            assert n in text
