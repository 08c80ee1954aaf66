"""classify() must cost a bounded amount of work per event, whatever the log
length: a log with 4x the events may touch the event list at most ~4x as
often. Counted, not timed. Oracles: the work count of the log with N reports
(the per-report cost) and, for the verdicts, the labelled fixture
tests/data/logs/centos8-4.18-nvidia-alloc-fail-null-deref.log whose expected
classification (allocation failure in nvidia, then the NULL dereference in
the same module 0.2 s later) holds for every copy."""

import re
from pathlib import Path

from triage.classify import classify, load_rules
from triage.events import parse_text

FIXTURE = (Path(__file__).resolve().parent.parent / "data" / "logs"
           / "centos8-4.18-nvidia-alloc-fail-null-deref.log").read_text()
RULES = load_rules()
_TS = re.compile(r"^\[\s*(\d+\.\d+)\]", re.M)


class CountingList(list):
    """A list that counts how many elements are read from it."""

    reads = 0

    def __getitem__(self, i):
        got = super().__getitem__(i)
        CountingList.reads += len(got) if isinstance(i, slice) else 1
        return got

    def __iter__(self):
        for x in super().__iter__():
            CountingList.reads += 1
            yield x


def _log(copies: int):
    # Each copy 1000 s after the previous one: beyond the 600 s within which the
    # GPU rule pairs an allocation failure with a NULL dereference, but well
    # inside its 3000-line window, so the window search has work to do.
    parts = []
    for k in range(copies):
        parts.append(_TS.sub(lambda m: "[%12.6f]" % (float(m.group(1)) + 1000 * k), FIXTURE))
        parts.append("[%12.6f] audit: noise\n" % (1000 * k + 999))
    log = parse_text("".join(parts))
    log.events = CountingList(log.events)
    return log


def _work(copies: int):
    log = _log(copies)
    CountingList.reads = 0
    matches = classify(log, RULES)
    return CountingList.reads, matches


def test_event_reads_grow_linearly_with_the_number_of_reports():
    # 4n copies of the fixture's reports stay under the parser's event cap (MAX_EVENTS),
    # so every copy is classified
    n = 60
    small, _ = _work(n)
    big, matches = _work(4 * n)
    # A per-match rescan of the log (the old _memory_context) makes this ~16x.
    assert big <= 4.5 * small, (small, big)
    gpu = [m for m in matches if m.rule.id == "gpu-alloc-fail-null-deref"]
    # every copy's NULL dereference is classified with the allocation failure 0.2 s before it
    assert len(gpu) == 4 * n
    for m in gpu:
        fails = [e for e in m.related if e.kind == "alloc_failure"]
        assert 1 <= len(fails) <= 10 and abs(m.event.ts - fails[-1].ts - 0.2) < 1e-3


def test_memory_context_is_the_last_ten_memory_events_before_the_report():
    _, matches = _work(30)
    last = max((m for m in matches if m.rule.id == "gpu-alloc-fail-null-deref"), key=lambda m: m.event.line)
    before = [e for e in last.related if e.line < last.event.line and e.kind == "alloc_failure"]
    # the rule pairs one failure; the memory context adds the nine before it (the 10 most recent)
    assert len(before) == 10
    assert [e.line for e in before] == sorted(e.line for e in before)
    assert before[-1].line < last.event.line
