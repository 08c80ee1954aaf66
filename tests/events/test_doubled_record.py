"""A report header pasted twice with the same stamp is one record: the copy that
goes on to its trace is the report (posted 1309: the hung-task head doubled)."""

from triage.events.parser import parse_log

HEAD = "[124212.547403] INFO: task Xorg:797 blocked for more than 120 seconds."
BODY = ["[124212.551331] Call Trace:",
        "[124212.551336]  __schedule+0x2b9/0x6c0",
        "[124212.551352]  ttm_eu_reserve_buffers+0x1cc/0x2f0 [ttm]",
        "[124212.551371]  qxl_release_reserve_list+0x6d/0x150 [qxl]"]


def test_doubled_head_is_one_report_with_its_trace():
    evs = parse_log([HEAD, "[124212.548639]       Not tainted 5.3.0 #1", HEAD] + BODY).events
    assert [(e.kind, len(e.frames)) for e in evs] == [("hung_task", 3)]


def test_two_reports_with_different_stamps_stay_two():
    other = HEAD.replace("124212.547403", "124333.000000")
    evs = parse_log([HEAD] + BODY + [other] + BODY).events
    assert len(evs) == 2


def test_unstamped_repeats_stay_two():
    head = HEAD.split("] ", 1)[1]
    evs = parse_log([head, head] + [b.split("] ", 1)[1] for b in BODY]).events
    assert len(evs) == 2
