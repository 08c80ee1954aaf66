"""mm/oom_kill.c dump_tasks() rows cut by a terminal's width (`less -S`, cut-80 of
tools/paste_invariance.py): "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents
oom_score_adj name" loses its name column first; the numbers still make it a task-table row."""

from triage.events import meminfo, parse_log


def test_a_row_cut_before_its_name_keeps_its_columns():
    assert meminfo.task_row_columns("[ 255959]     0 255959     4296     1334    73728        0") == 6
    assert meminfo.task_row_columns("[ 255959]     0 255959     4296     1334    73728        0             0 sshd") == 7


def test_cut_rows_alone_are_an_oom_reports_tail():
    # real log 2321 (tests/data/posted) as `less -S` on an 80-column terminal shows it
    rows = ["[145715.505411] [ 255959]     0 255959     4296     1334    73728        0      ",
            "[145715.505414] [ 256039]     0 256039     2274      962    57344        0      ",
            "[145715.505418] [ 256361]   113 256361  2169806    48203   528384        0      "]
    assert [e.kind for e in parse_log(rows).events] == ["oom_invoked"]


def test_bracketed_numbers_that_are_no_row_stay_text():
    # negative: too few columns, or words after them
    assert meminfo.task_row_columns("[ 1234]  5 6") == 0
    assert parse_log(["[ 1234]  5 6 7", "[ 1235]  5 6 7"]).events == []
