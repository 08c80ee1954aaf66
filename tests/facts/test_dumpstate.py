"""The memory_exhaustion hypothesis weighs the dump's zones (triage.diagnosis.dumpstate).

Inputs are real: the committed dumps' logs (vmcore-dmesg / serial), some with
their Mem-Info zone lines removed to stand for a log that lost them, and the
DWARF oracle's facts of the same dumps (what drgn with debuginfo read)."""

import json
from pathlib import Path

from triage.analysis import analyze_lines
from triage.diagnosis.dumpstate import apply_dump_facts, consumers, fragmentation
from triage.diagnosis.meminfo import parse_zone_line

ROOT = Path(__file__).resolve().parents[2]
LZO = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo"
FLAT = ROOT / "sample_dumps" / "committed" / "oom_panic-qemu-flat-zlib-nokaslr"


def _facts(path: Path) -> dict:
    return json.loads(path.read_text())["facts"]


def _without_meminfo(lines):
    out = []
    for i, ln in enumerate(lines, 1):
        msg = ln.split("] ", 1)[1] if ln.startswith("[") and "] " in ln else ln
        if parse_zone_line(i, msg) is None:
            out.append(ln)
    assert len(out) < len(lines)
    return out


def _hyp(d):
    return next(h for h in d.hypotheses if h.name == "memory_exhaustion")


def test_no_meminfo_in_log_judged_on_the_dump():
    lines = _without_meminfo((LZO / "vmcore-dmesg.txt").read_text(errors="replace").splitlines())
    d = analyze_lines(lines)
    assert _hyp(d).status == "inconclusive" and "no Mem-Info" in _hyp(d).reason
    d.dump = _facts(LZO / "vmcore.facts-oracle.json")
    apply_dump_facts(d, lines)
    h = _hyp(d)
    assert h.status == "ruled_out"
    assert "dump's zones at the crash decide it" in h.reason and "DMA32 free 161.9 MiB" in h.reason


def test_meminfo_in_log_is_cross_checked_not_overridden():
    lines = (FLAT / "serial.log").read_text(errors="replace").splitlines()
    d = analyze_lines(lines)
    before = _hyp(d).status
    d.dump = _facts(FLAT / "vmcore.flat.facts-oracle.json")
    apply_dump_facts(d, lines)
    h = _hyp(d)
    assert h.status == before == "supported"
    assert "the dump at the crash:" in h.reason and "memory exhausted" in h.reason
    assert "largest processes in the dump: hog (pid 95) 53.2 MiB" in h.reason


def test_silent_exhaustion_makes_a_clean_log_inconclusive():
    lines = ["[    1.000000] Linux version 6.1.0-57-amd64", "[    2.000000] random: crng init done"]
    d = analyze_lines(lines)
    assert _hyp(d).status == "ruled_out"
    d.dump = _facts(FLAT / "vmcore.flat.facts-oracle.json")     # zones at/below low
    apply_dump_facts(d, lines)
    assert _hyp(d).status == "inconclusive" and "__GFP_NOWARN" in _hyp(d).reason


def test_fragmentation_statement_against_the_failed_order():
    oom = _facts(FLAT / "vmcore.flat.facts-oracle.json")        # DMA32: largest free block order 6
    assert "largest free block order 6 (64 pages)" in fragmentation(oom, None)
    assert "no zone had a free block of order 7" in fragmentation(oom, 7)
    assert "an order-3 block was free in DMA, DMA32" in fragmentation(oom, 3)
    assert "above the allocator's maximum order 10" in fragmentation(oom, 11)


def test_consumers_and_absent_facts():
    assert consumers({"tasks": {"top_rss": []}}) is None
    d = analyze_lines(["[    1.000000] hello"])
    before = _hyp(d).reason
    d.dump = {"source": {"unavailable": "drgn is not installed"}, "memory": None}
    apply_dump_facts(d, [])
    assert _hyp(d).reason == before


def test_vmcoreinfo_only_facts_state_fragmentation_but_do_not_judge():
    """Facts read from VMCOREINFO alone have free pages and free blocks but no
    watermarks: the hypothesis keeps the log's status, and the reason says why."""
    from triage.facts import read_dump_facts
    lines = _without_meminfo((LZO / "vmcore-dmesg.txt").read_text(errors="replace").splitlines())
    d = analyze_lines(lines)
    before = _hyp(d).status
    assert before == "inconclusive"
    d.dump = read_dump_facts([str(LZO / "vmcore")], method="vmcoreinfo")
    apply_dump_facts(d, lines)
    h = _hyp(d)
    assert h.status == before
    assert "no watermarks (read from VMCOREINFO alone)" in h.reason
    assert "DMA32 has 41440 free pages, largest free block order 10" in h.reason
    assert "above the high watermark" not in h.reason
