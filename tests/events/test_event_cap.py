"""The parser's cap on events (MAX_EVENTS): a log whose every line is a report
keeps the head, the tail and the first report of each kind between them, counts
the rest, and forgets the stored lines that only dropped reports needed."""

from triage.analysis import analyze_lines
from triage.events import parser
from triage.events.parser import EVENTS_HEAD, EVENTS_TAIL, MAX_CONTEXTS, MAX_EVENTS, cap_events, parse_log
from triage.events.model import Event

OOPS = ["[9999999.000000] BUG: kernel NULL pointer dereference, address: 0000000000000010",
        "[9999999.000000] RIP: 0010:foo_ioctl+0x1/0x2 [nvidia]"]


def _warnings(n, start=0):
    return [f"[{i}.000000] WARNING: CPU: 0 PID: {i} at drivers/x/y.c:1 bar_{i % 7}+0x1/0x2"
            for i in range(start, start + n)]


def test_short_log_keeps_every_event():
    log = parse_log(_warnings(50) + OOPS)
    assert len(log.events) == 51 and log.dropped_events == 0


def test_flood_is_capped_and_counted():
    n = 3 * MAX_EVENTS
    log = parse_log(_warnings(n) + OOPS)
    assert len(log.events) <= MAX_EVENTS + 1
    assert len(log.events) + log.dropped_events == n + 1
    assert log.events[-1].kind == "null_deref"          # the tail is kept
    assert log.events[0].line == 1                        # so is the head


def test_oops_inside_a_flood_is_kept():
    lines = _warnings(2 * MAX_EVENTS) + OOPS + _warnings(2 * MAX_EVENTS, 10 ** 6)
    log = parse_log(lines)
    kinds = [e.kind for e in log.events]
    assert "null_deref" in kinds and log.dropped_events > 0


def test_cap_events_keeps_head_tail_and_first_of_each_kind():
    evs = [Event("warning", i, "w") for i in range(MAX_EVENTS + 100)]
    evs[EVENTS_HEAD + 10] = Event("gpf", EVENTS_HEAD + 10, "g")
    evs[EVENTS_HEAD + 11] = Event("gpf", EVENTS_HEAD + 11, "g")
    kept, dropped = cap_events(evs)
    assert kept[:EVENTS_HEAD] == evs[:EVENTS_HEAD] and kept[-EVENTS_TAIL:] == evs[-EVENTS_TAIL:]
    assert [e.line for e in kept if e.kind == "gpf"] == [EVENTS_HEAD + 10]
    assert len(kept) + dropped == len(evs)
    assert cap_events(evs[:MAX_EVENTS]) == (evs[:MAX_EVENTS], 0)


def test_stored_lines_of_dropped_events_are_forgotten(monkeypatch):
    # a small kept head, so that the flood runs past it as a real log's flood would
    monkeypatch.setattr(parser, "MAX_KEPT_LINES", 100)
    log = parse_log(_warnings(4 * MAX_EVENTS) + OOPS)
    assert len(log.lines) < 100 + 2 * MAX_EVENTS
    last = log.events[-1]
    assert log.lines.line(last.line).text.startswith("BUG:")


def test_report_says_reports_were_dropped():
    diag = analyze_lines(_warnings(2 * MAX_EVENTS) + OOPS)
    assert diag.verdict.category == "gpu_null_deref"
    assert any("more crash reports than triage keeps" in p for p in diag.source.problems)
    assert not any("more crash reports" in p for p in analyze_lines(_warnings(5) + OOPS).source.problems)


def test_one_caller_id_per_report_keeps_the_contexts_bounded():
    # every report under its own caller id: the parser holds at most MAX_CONTEXTS contexts
    # (it held one per id, and rescanned them all for each new id: quadratic time)
    n = 3 * MAX_CONTEXTS
    lines = [f"[{i}.000000] [T{i + 1}] WARNING: CPU: 0 PID: {i} at drivers/x/y.c:1 bar+0x1/0x2" for i in range(n)]
    p = parser.LogParser()
    for number, raw in enumerate(lines + ["[99999.000000] [T1] " + OOPS[0].split("] ", 1)[1],
                                          "[99999.000000] [T1] " + OOPS[1].split("] ", 1)[1]], 1):
        p.feed(raw, number)
        assert len(p._ctx) <= MAX_CONTEXTS + 1
    log = p.result()
    assert log.events[-1].kind == "null_deref" and log.events[-1].ip.function == "foo_ioctl"
    assert len(log.events) + log.dropped_events == n + 1


def test_in_spans_is_membership_in_the_union_of_the_spans():
    import random
    rnd = random.Random(7)
    for _ in range(200):
        spans = [(a, a + rnd.randrange(0, 6)) for a in (rnd.randrange(0, 60) for _ in range(rnd.randrange(0, 8)))]
        inside = parser._in_spans(spans)
        for n in range(-2, 70):
            assert inside(n) == any(a <= n <= b for a, b in spans), (spans, n)
