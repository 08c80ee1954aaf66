"""A bare stack whose first frame after the stack-dumping ones is panic() is the panic's
own backtrace, its "Kernel panic - not syncing" line cut (tuning log 794: the Rockchip
power-domain driver panics while panthor resumes the GPU). When the frame below panic()
is a report that panics on purpose (panic_on_warn, die(), the OOM killer), that report
names the stack instead."""

from triage.analysis import analyze_lines
from triage.events import parse_log

from _posted import posted_lines as _posted


def test_bare_panic_stack_is_a_panic_with_no_gpu_culprit():
    d = analyze_lines(_posted("794"))
    assert d.verdict.category == "panic_other"
    assert d.verdict.culprit is None or d.verdict.culprit.module in (None, "")


def test_panic_on_warn_stack_is_not_named_a_panic_by_this_rule():
    lines = [s.replace("rockchip_pmu_set_idle_request+0x10c/0x1cc", "check_panic_on_warn+0x10/0x20")
             for s in _posted("794")]
    assert parse_log(lines).events[0].kind != "panic"


def test_stack_without_panic_is_not_a_panic():
    lines = [s for s in _posted("794") if "panic+0x12c" not in s]
    assert parse_log(lines).events[0].kind != "panic"
