"""mm/oom_kill.c dump_tasks() rows cut by a terminal's width (`less -S`, cut-80 of
tools/paste_invariance.py): "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents
oom_score_adj name" loses its name column first; the numbers still make it a task-table row."""

from triage.events import meminfo, parse_log


def test_a_row_cut_before_its_name_keeps_its_columns():
    assert meminfo.task_row_columns("[ 255959]     0 255959     4296     1334    73728        0") == 6
    assert meminfo.task_row_columns("[ 255959]     0 255959     4296     1334    73728        0             0 sshd") == 7


def test_cut_rows_alone_are_an_oom_reports_tail():
    # real log 2321 (tests/data/posted) read from the file: three of its dump_tasks() rows,
    # their syslog prefix dropped, as `less -S` on an 80-column terminal shows them
    from _posted import posted_lines
    real = [s.split(" kernel: ", 1)[1] for s in posted_lines("2321")
            if any(f"[ {pid}] " in s for pid in (255959, 256039, 256361))]
    rows = [s[:80] for s in real]
    assert len(rows) == 3 and all(len(s) > 80 and s[80:].split()[-1].isalpha() for s in real)
    assert [e.kind for e in parse_log(rows).events] == ["oom_invoked"]


def test_bracketed_numbers_that_are_no_row_stay_text():
    # negative: too few columns, or words after them
    assert meminfo.task_row_columns("[ 1234]  5 6") == 0
    assert parse_log(["[ 1234]  5 6 7", "[ 1235]  5 6 7"]).events == []
