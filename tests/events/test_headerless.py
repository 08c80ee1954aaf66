"""An excerpt that starts after the oops header is still classified, and the
diagnosis says the header is missing. Oracle: the same real log with its
header (Debian 6.1 NVIDIA NULL dereference from sample_dumps/generate; the
arm64 5.10 mlx5 oops in tests/data/logs)."""

import os

import pytest

from triage.analysis import analyze_lines
from triage.classify import classify, load_rules
from triage.diagnosis.diagnose import HEADER_MISSING
from triage.events import parse_log

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


def _lines(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read().splitlines()


def _after(lines, marker):
    """The lines from the first `marker` after the crash header on."""
    h = next(k for k, s in enumerate(lines) if "BUG: kernel NULL" in s or "Unable to handle" in s)
    i = next(k for k, s in enumerate(lines) if k > h and marker in s)
    return lines[i:]


@pytest.mark.parametrize("start,kind,function", [
    ("#PF: supervisor", "null_deref", "nv_gpu_init_channel"),      # #PF: and CR2 < 4096: a NULL dereference
    # the faulting location, then the trace; both excerpts still hold the lone "CR2: %016lx"
    # page-fault summary (arch/x86/mm/fault.c) after the trace: a NULL dereference
    ("RIP: 0010:nv_gpu", "null_deref", "nv_gpu_init_channel"),
    ("Call Trace:", "null_deref", "nv_trigger_write"),
])
def test_x86_excerpt_without_header(start, kind, function):
    lines = _after(_lines("journal/gpu_alloc_null.vmcore-dmesg.txt"), start)
    log = parse_log(lines)
    ev = log.events[0]
    assert ev.kind == kind and ev.fields["header_missing"]
    top = classify(log, load_rules())[0]
    assert top.culprit.module == "nvidia" and top.culprit.function.startswith(function)
    d = analyze_lines(lines)
    assert HEADER_MISSING in d.source.problems


def test_arm64_excerpt_from_pc():
    lines = _after(_lines("logs/arm64-5.10-null-deref-mlx5.log"), "pc : ")
    top = classify(parse_log(lines), load_rules())[0]
    assert top.culprit.module == "mlx5_core"
    assert top.culprit.function == "mlx5e_tx_reporter_timeout_recover"


def test_full_log_has_no_missing_header():
    d = analyze_lines(_lines("journal/gpu_alloc_null.vmcore-dmesg.txt"))
    assert HEADER_MISSING not in d.source.problems


def test_register_dump_deep_in_a_log_is_not_a_crash():
    # sysrq/dump_stack output far from the start, with no report header: not an excerpt
    lines = ["[ 1.0] booting"] * 40 + ["[ 9.0] RIP: 0010:default_idle+0x1/0x2", "[ 9.0] Code: 90 90 <c3>"]
    assert [e.kind for e in parse_log(lines).events] == []


def test_tail_of_an_earlier_report_is_not_the_crash():
    # the log was cut inside an earlier report; the report with a header that follows is the crash
    lines = ["[ 1.0] RIP: 0010:old_func+0x1/0x2", "[ 1.1] Code: 90 90 <c3>",
             "[ 2.0] WARNING: CPU: 0 PID: 1 at net/x.c:10 new_func+0x5/0x10",
             "[ 2.1] RIP: 0010:new_func+0x5/0x10"]
    kinds = [e.kind for e in parse_log(lines).events]
    assert kinds == ["warning"]


def test_oom_task_table_excerpt():
    # a real posted excerpt: the OOM killer's task table, the header above it not pasted
    lines = _lines("posted/069-oom-task-table-dmesg-T-rss-breakdown.log")
    log = parse_log(lines)
    assert [e.kind for e in log.events] == ["oom_invoked"] and log.events[0].fields["header_missing"]
    assert classify(log, load_rules())[0].category == "oom_kill"
    assert HEADER_MISSING in analyze_lines(lines).source.problems


def test_warning_tail_is_named_by_the_warn_frames():
    # a real posted excerpt (3.18): CPU line, stack words and a trace through warn_slowpath_fmt
    log = parse_log(_lines("posted/039-drm-setversion-warning-tail-3.18.log"))
    assert [e.kind for e in log.events] == ["warning"]


def test_bare_stack_is_named_by_its_reporting_frames():
    # a real posted excerpt: the NMI watchdog's stack only, with <4> level prefixes
    lines = _lines("posted/103-hard-lockup-nmi-trace-level-prefix-coreos.log")
    top = classify(parse_log(lines), load_rules())[0]
    assert top.category == "hard_lockup" and top.event.fields["header_missing"]


def test_work_function_is_the_last_resort_section():
    # a real posted excerpt cut before its trace: RIP in an rbtree helper, "Workqueue: i915 __i915_gem_free_work [i915]"
    top = classify(parse_log(_lines("posted/093-i915-gem-free-work-rb-erase-null-journal-precise.log")), load_rules())[0]
    assert (top.culprit.module, top.culprit.function) == ("i915", "__i915_gem_free_work")


def test_x86_excerpt_without_header_or_page_fault_summary_is_named_by_its_marked_instruction():
    # a real 6.1 kernel's oops cut before the lone CR2 summary: no header, #PF or die line says
    # which oops it was, but the instruction show_opcodes() marks, with the register dump,
    # accessed NULL + 8; the kernel's own CR2 summary, cut here, printed the same address
    whole = _lines("journal/gpu_alloc_null.vmcore-dmesg.txt")
    lines = _after(whole, "RIP: 0010:nv_gpu")
    cut = next(k for k, s in enumerate(lines) if s.rstrip().endswith("] CR2: 0000000000000008"))
    ev = parse_log(lines[:cut]).events[0]
    assert ev.kind == "null_deref" and ev.fields["header_missing"]
    assert ev.fields["address"] == 0x8 and not ev.fields.get("address_unknown")
    assert ev.fields["access"].startswith("mov")
    # without the register dump (and its CR2) the access's address cannot be computed: a fault
    # on that access all the same, its address taken by the base rate, said to be assumed
    no_regs = [s for s in lines[:cut] if not s.split("] ", 1)[-1].startswith(("RAX:", "RDX:", "RBP:", "R10:", "R13:",
                                                                             "CR2:", "CS:"))]
    ev = parse_log(no_regs).events[0]
    assert ev.kind == "null_deref" and "address" not in ev.fields and ev.fields["address_unknown"]


def test_unindented_arm32_unwinder_lines_open_a_headerless_report():
    # the arm32 unwinder before 5.x: "[<addr>] (callee) from [<addr>] (caller+0x../0x..)", not
    # indented; through warn_slowpath_null it is a WARN's stack (posted 420)
    log = parse_log([
        "[   16.118849] [<80320044>] (dump_stack) from [<80025300>] (warn_slowpath_common+0x98/0xc8)",
        "[   16.118861] [<80025300>] (warn_slowpath_common) from [<800253ec>] (warn_slowpath_null+0x2c/0x34)",
        "[   16.118899] [<800253ec>] (warn_slowpath_null) from [<7f133a9c>] (drm_update_vblank_count+0x188/0x368 [drm])",
        "[   16.118972] [<7f133a9c>] (drm_update_vblank_count [drm]) from [<7f133cec>] (vblank_disable_and_save+0x70/0x80 [drm])",
    ])
    assert [e.kind for e in log.events] == ["warning"]
    top = classify(log, load_rules())[0]
    assert top.category == "warning" and top.culprit.module == "drm"
    # a bracketed word that is no frame opens nothing
    assert parse_log(["[   16.1] [<none>] (not a frame)", "[   16.2] [<80320044>] text"]).events == []


def _syzkaller_log(number):
    """The log of a syzkaller report test file (the lines after its header block)."""
    lines = _lines(f"syzkaller/{number}.txt")
    return lines[lines.index("") + 1:]


def test_blocked_task_shown_without_its_header_is_a_hung_task():
    """sched_show_task() prints "task:%-15.15s state:%c"; a task in state D pasted
    from after check_hung_task()'s "INFO: task ... blocked for more than" line is
    that report's body. Oracle: the same real report (syzkaller 550, arm32 5.10)
    with its header."""
    full = _syzkaller_log(550)
    cut = full[next(k for k, s in enumerate(full) if s.startswith("task:")):]
    log = parse_log(cut)
    assert log.events[0].kind == "hung_task" and log.events[0].fields["header_missing"]
    want = classify(parse_log(full), load_rules())[0]
    got = classify(log, load_rules())[0]
    assert want.category == got.category == "hung_task"
    assert got.culprit.function == want.culprit.function == "mpage_prepare_extent_to_map"


def test_task_line_inside_a_hung_task_report_opens_no_second_report():
    full = _syzkaller_log(550)
    assert [ev.kind for ev in parse_log(full).events if ev.kind == "hung_task"] == ["hung_task"]


def test_running_task_shown_without_a_header_is_not_a_hung_task():
    """A task in state R (the holdout an RCU-tasks stall shows, syzkaller 1002) is
    not blocked: its "task:" line opens no hung-task report."""
    full = _syzkaller_log(1002)
    cut = full[next(k for k, s in enumerate(full) if "task:" in s):]
    assert "task:" in cut[0] and "state:R" in cut[0]
    assert all(ev.kind != "hung_task" for ev in parse_log(cut).events)
