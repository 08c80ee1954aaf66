"""LineStore keeps what a list of LogLine keeps, in a fraction of the memory.
Oracle: a plain list of the same LogLine values, and the parser's own view of
the log (every line number it kept must come back with the same fields)."""

from triage.events.linestore import INTERN_TABLE, LineStore
from triage.events.model import LogLine, line_at
from triage.events.parser import MAX_KEPT_LINES, parse_text


def _store(lines):
    st = LineStore()
    for ln in lines:
        st.append(ln)
    return st


ROWS = [LogLine(1, "Linux version 6.1.0", 0.0), LogLine(2, "no timestamp"),
        LogLine(3, "first half", 1.5, "T12"), LogLine(3, "second half", 1.5, "C0"),
        LogLine(7, "from syslog", None, None, "host-a"), LogLine(9, "Call Trace:", 2.25)]


def test_sequence_behaves_like_the_list():
    st = _store(ROWS)
    assert len(st) == len(ROWS)
    assert list(st) == ROWS
    assert [st[i] for i in range(len(ROWS))] == ROWS
    assert st[-1] == ROWS[-1] and st[1:4] == ROWS[1:4] and st[:50] == ROWS[:50]
    assert st[1].ts is None and st[2].caller == "T12" and st[4].host == "host-a" and st[0].host is None


def test_lookup_by_number_and_range():
    st = _store(ROWS)
    assert st.line(3) == ROWS[2]           # the first of the two halves of a merged line
    assert st.line(7) == ROWS[4]
    assert st.line(4) is None and st.line(0) is None and st.line(100) is None
    assert st.between(3, 7) == ROWS[2:5]
    assert line_at(st, 9) == ROWS[5] and line_at(ROWS, 9) == ROWS[5] and line_at(ROWS, 5) is None


def test_out_of_order_numbers_still_found():
    rows = [LogLine(5, "a"), LogLine(2, "b"), LogLine(8, "c")]
    st = _store(rows)
    assert st.line(2) == rows[1] and st.between(2, 5) == [rows[0], rows[1]]


def test_repeated_texts_are_stored_once():
    st = _store([LogLine(i, "Call Trace:".join(["", ""]) + "Call Trace:") for i in range(1, 4)])
    assert st._texts[0] is st._texts[1] is st._texts[2]
    assert INTERN_TABLE > 1000


def test_parser_keeps_head_and_block_lines():
    noise = "\n".join("[%d.000000] audit: noise %d" % (i, i) for i in range(20))
    oops = ("[30.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
            "[30.000001] RIP: 0010:crashme_write+0x1a/0x40 [crashme]\n")
    log = parse_text(noise + "\n" + oops)
    assert MAX_KEPT_LINES >= 1000                  # a short log is kept whole
    assert [ln.number for ln in log.lines] == list(range(1, 23))
    assert log.lines.line(22).text.startswith("RIP: 0010:crashme_write")
    assert log.lines.line(22).ts == 30.000001
