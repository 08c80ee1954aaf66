"""A stack pasted without its report's header (the excerpt starts at its "Call Trace:" line) is
named by the frames its reporter leaves at the top of it ([[report_frames]] in
signatures/lists.toml, triage.events.reporters), or, for a WARNING, by __warn()'s order of
printing: the end marker right after the trace. Real tuning-half posted logs, whole (their
verdict is the label) and cut at their first "Call Trace:" line; negative cases are the same
real stacks with the one thing the rule rests on removed or changed."""

import os
import sys
from typing import List

import pytest

from tests._posted import POSTED, labels, posted_lines, verdict
from triage.analysis import analyze_lines
from triage.diagnosis.diagnose import ADDRESS_ASSUMED, HEADER_MISSING
from triage.events.model import Frame
from triage.events.parser import parse_log
from triage.events.reporters import parse_report_tables, reporters

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools"))
import cut_agreement  # noqa: E402


def _name(num: str) -> str:
    return next(n for n in sorted(os.listdir(POSTED)) if n.startswith(num + "-"))


def _from_trace(lines: List[str]) -> List[str]:
    """The lines from the first "Call Trace:"/"Call trace:" line on (a user copying only the
    stack), cut as tools/cut_agreement.py measures it."""
    cut = cut_agreement.from_trace(lines)
    assert cut is not None
    return cut


def test_cuts_of_the_tool():
    lines = ["a", "x Call Trace:", " f+0x1/0x2", "y"]
    assert cut_agreement.from_trace(lines) == lines[1:]
    assert cut_agreement.until_trace(lines) == lines[:1]
    assert cut_agreement.from_trace(["a", "b"]) is None


def _first(lines: List[str]):
    return parse_log(lines).events[0]


# (posted log, event kind read from its stack alone, why)
FROM_TRACE = [
    ("319", "warning", "nouveau WARN_ON: trace, then only the end marker (kernel/panic.c __warn order)"),
    ("1515", "warning", "4.13 x86 amdgpu WARN: show_regs() printed the Code: bytes after the trace, then the end marker"),
    ("966", "warning", "i915 WARN in a tasklet: the idle task's registers printed inside the trace are no fault site"),
    ("045", "hung_task", "lima: __switch_to/__schedule/schedule first, no end marker (sched_show_task)"),
    ("1430", "hung_task", "memcg: __schedule first"),
    ("265", "rcu_stall", "rcu_dump_cpu_stacks/rcu_sched_clock_irq under the NMI backtrace (tree_stall.h)"),
    ("357", "lockdep", "dump_stack then check_noncircular (lockdep.c)"),
    ("1633", "lockdep", "dump_stack then spin_dump (spinlock_debug.c: spinlock recursion)"),
    ("035", "panic", "dump_stack, panic, out_of_memory: the OOM killer's own panic"),
    ("1722", "panic", "dump_stack, panic, check_panic_on_oom (3.10 memcg)"),
    ("1811", "panic", "arm64 nmi_panic from arm64_serror_panic"),
    ("1723", "alloc_failure", "3.4: __alloc_pages_nodemask is the first reliable frame (warn_alloc line cut)"),
    ("616", "null_deref", "? page_fault_oops ? exc_page_fault atop the trace, no CR2 in the excerpt: address assumed"),
    ("950", "kasan", "KASAN: print_address_description under dump_stack_lvl (mm/kasan/report.c), no kasan_report frame"),
    ("1524", "bad_page", "dump_stack then bad_page (mm/page_alloc.c: BUG: Bad page state)"),
    ("189", "alloc_failure", "mips 2.6: the trace, then warn_alloc's show_mem ('Mem-info:'), no OOM kill"),
    ("1319", "warning", "arm64: the trace, then print_irqtrace_events() ('irq event stamp:'), excerpt cut there"),
    ("030", "soft_lockup", "dump_stack_lvl, panic, watchdog_timer_fn (kernel/watchdog.c softlockup_panic)"),
    ("109", "soft_lockup", "watchdog_timer_fn under the <IRQ> marker (kernel/watchdog.c)"),
    ("674", "atomic_sleep", "arm64 dump_stack then __schedule_bug (kernel/sched/core.c: scheduling while atomic)"),
    ("2501", "alloc_failure", "dump_stack then pcpu_alloc (mm/percpu.c: percpu: allocation failed)"),
]


@pytest.mark.parametrize("num,kind,why", FROM_TRACE, ids=[c[0] for c in FROM_TRACE])
def test_stack_names_its_report(num, kind, why):
    whole = posted_lines(num)
    want = labels()[_name(num)]
    assert verdict(whole) == (want[0], want[1] or None)     # the header there: verdict as labelled
    assert not _first(whole).fields.get("header_missing")
    cut = _from_trace(whole)
    ev = _first(cut)
    assert ev.fields.get("header_missing") and ev.kind == kind, why


@pytest.mark.parametrize("num", [c[0] for c in FROM_TRACE if c[0] != "1319"])
def test_cut_verdict_is_the_label(num):
    """From the trace on, the verdict is still the hand label (616 lost its fault address:
    the NULL dereference is the assumed reading)."""
    want = labels()[_name(num)]
    assert verdict(_from_trace(posted_lines(num))) == (want[0], want[1] or None)


def test_builtin_warning_cut_keeps_category():
    """1319's msm is built in and its first frames carry no msm_ prefix: the category holds,
    the module was named only by the WARNING line's source path."""
    assert verdict(_from_trace(posted_lines("1319")))[0] == "warning"


def test_unaddressed_page_fault_keeps_its_module_and_says_the_address_was_assumed():
    d = analyze_lines(_from_trace(posted_lines("616")))
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_null_deref", "amdgpu")
    assert ADDRESS_ASSUMED in d.source.problems
    assert ADDRESS_ASSUMED not in analyze_lines(posted_lines("616")).source.problems


def test_cut_report_says_the_header_is_missing():
    d = analyze_lines(_from_trace(posted_lines("319")))
    assert HEADER_MISSING in d.source.problems
    assert HEADER_MISSING not in analyze_lines(posted_lines("319")).source.problems


# -- negative: the same real stacks without what the rule rests on ------------------------------

def test_oops_tail_is_no_warning():
    """arm64 __die() prints "Code:" after the trace, then the end marker (350, 333): an oops."""
    for num in ("350", "333"):
        ev = _first(_from_trace(posted_lines(num)))
        assert ev.fields.get("die_tail") and ev.fields.get("end_marker")
        assert ev.kind != "warning"


def test_x86_modules_after_trace_is_no_warning():
    """x86 __die_body() prints the modules after the trace: with the end marker after them
    (302's null dereference, CR2 dropped) the stack is still no WARNING."""
    cut = [s for s in _from_trace(posted_lines("302")) if "CR2:" not in s]
    ev = _first(cut)
    assert ev.fields.get("end_marker") and ev.fields.get("die_tail")
    assert ev.kind != "warning"


def test_executive_summary_after_end_marker_is_no_warning():
    """310: a built-in kernel (no "Modules linked in:"): after the trace only the end marker,
    then oops_end()'s register summary "RIP: 0010:..." (4.15+): a die(), not a WARNING."""
    ev = _first(_from_trace(posted_lines("310")))
    assert ev.fields.get("end_marker") and ev.kind == "oops_other"
    assert verdict(_from_trace(posted_lines("310"))) == ("gpu_fault", "nouveau")


def test_show_mem_without_kill_or_tasks_only():
    """Mem-info after the stack: an allocation failure; with the OOM killer's task table after
    it, the OOM report (dump_header() prints show_mem() too); without the memory state, nothing."""
    cut = _from_trace(posted_lines("189"))
    table = posted_lines("1027")[3:5]      # dump_tasks(): "[  pid  ]   uid  tgid ..." and a row
    assert _first(cut + table).kind == "oom_invoked"
    assert _first([s for s in cut if "Mem-info" not in s]).kind == "oops_other"


def test_warning_without_end_marker_stays_unnamed():
    cut = [s for s in _from_trace(posted_lines("319")) if "end trace" not in s]
    assert _first(cut).kind == "oops_other"


def test_sleeping_stack_with_end_marker_is_no_hung_task():
    """A stack that starts in schedule() but ends with an end marker was an oops' or WARNING's
    (sched_show_task prints none)."""
    cut = _from_trace(posted_lines("045")) + ["[  100.000000] ---[ end trace 0000000000000000 ]---"]
    assert _first(cut).kind != "hung_task"


@pytest.mark.parametrize("prefix, dropped, kind", [
    # check_noncircular first, without dump_stack above it: the trace of an oops in lockdep
    # code starts at the faulting function's caller, no report frame above
    ("357", "dump_stack", "lockdep"),
    ("1524", "dump_stack", "bad_page"),
    ("030", "watchdog_timer_fn", "soft_lockup"),
    # 674 without __schedule_bug: the dump_stack() above __schedule no longer names it
    ("674", "__schedule_bug", "atomic_sleep"),
    # pcpu_alloc first without dump_stack above it: an oops inside the percpu allocator
    ("2501", "dump_stack", "alloc_failure"),
])
def test_report_frames_need_the_reporters_own_frame(prefix, dropped, kind):
    cut = [s for s in _from_trace(posted_lines(prefix)) if dropped not in s]
    assert _first(cut).kind != kind


def test_oom_frames_without_panic_are_the_oom_report():
    cut = [s for s in _from_trace(posted_lines("035")) if " panic+" not in s]
    ev = _first(cut)
    assert ev.kind == "oom_invoked"


def test_serror_frames_without_panic_are_no_panic():
    cut = [s for s in _from_trace(posted_lines("1811")) if "panic+" not in s]
    assert _first(cut).kind != "panic"


def test_alloc_caller_below_a_real_frame_is_not_first():
    """__alloc_pages_nodemask names the report only as the innermost reliable frame (1723
    with its warn_alloc_failed frame, on the "<IRQ>" line, left out)."""
    cut = [s.split("<IRQ>")[0] + "<IRQ>" if "<IRQ>  [<" in s else s for s in _from_trace(posted_lines("1723"))]
    frames = _first(cut).frames
    assert frames[0].function == "skb_copy_bits" and not frames[0].reliable
    assert reporters().report_of(frames, has_ip=False, ended=False).kind == "alloc_failure"
    i = next(i for i, s in enumerate(cut) if "__alloc_pages_nodemask" in s)
    cut.insert(i, cut[i].replace("__alloc_pages_nodemask", "mlx4_en_fake_helper"))
    assert reporters().report_of(_first(cut).frames, has_ip=False, ended=False) is None


# -- the data ----------------------------------------------------------------------------------

def test_window_ends_at_first_reliable_frame_outside_report():
    r = reporters()
    frames = [Frame("dump_stack"), Frame("my_driver_func", module="x"), Frame("__warn")]
    assert r.report_of(frames, has_ip=False, ended=True) is None
    assert r.report_of(frames[:1] + frames[2:], has_ip=False, ended=True).kind == "warning"
    assert r.report_of([Frame("__warn", reliable=False), Frame("f")], has_ip=False, ended=True).kind == "warning"


@pytest.mark.parametrize("table", [
    {"kind": "warning", "frames": ["^__warn"]},                          # no headline
    {"kind": "warning", "headline": "W", "frames": ["__warn"]},          # unanchored
    {"kind": "warning", "headline": "W", "frames": ["^__warn"], "first_frame": "yes"},
    {"kind": "warning", "headline": "W", "frames": ["^__warn"], "colour": "red"},
])
def test_malformed_tables_are_refused(table):
    with pytest.raises(ValueError):
        parse_report_tables([table])


# -- a stack copied without its "Call Trace:" line ----------------------------------------------

BARE = [
    ("1901", "hung_task", "arm64 frames dedented as a whole by the paste: '__switch_to+0x244/0x4e4'"),
    ("1100", "null_deref", "one blank after the stamp lost: '? nvkm_object_insert+0x6f/0x80 [nouveau]'"),
    ("191", "oom_invoked", "journald drops the frames' blank: 'kernel: dump_stack_lvl+0x34/0x48'"),
    ("045", "hung_task", "indented frames, as before"),
]


@pytest.mark.parametrize("num,kind,why", BARE, ids=[c[0] for c in BARE])
def test_bare_stack_names_its_report(num, kind, why):
    cut = cut_agreement.bare_trace(posted_lines(num))
    ev = _first(cut)
    assert ev.fields.get("header_missing") and ev.kind == kind, why
    want = labels()[_name(num)]
    assert verdict(cut) == (want[0], want[1] or None)


def test_unindented_line_opens_only_as_a_whole_frame():
    """Only a line that is one func+0xoff/0xsize (printk's %pS in a trace) opens a stack
    without its indentation: a word before it, or no size, is text."""
    frames = ["schedule+0x80/0x164", "rwsem_down_read_slowpath+0x4fc/0xf9c"]
    assert parse_log(frames).events[0].kind == "hung_task"
    for first in ("waiting in schedule+0x80/0x164", "schedule+0x80"):
        assert parse_log([first]).events == []


def test_trace_before_init_killed_panic_is_the_oops():
    """kernel/exit.c do_exit() panics "Attempted to kill init!" when the task an oops killed
    (make_task_dead()) was init: the headerless trace before it is that oops (312, a nouveau
    NULL dereference during boot's initcalls), not the tail of an earlier report."""
    cut = _from_trace(posted_lines("312"))
    assert [e.kind for e in parse_log(cut).events] == ["null_deref", "panic"]
    assert verdict(cut) == ("gpu_null_deref", "nouveau")


def test_trace_before_another_panic_is_a_leftover():
    cut = [s.replace("Attempted to kill init! exitcode=0x0000000b", "VFS: Unable to mount root fs on unknown-block(0,0)")
           for s in _from_trace(posted_lines("624"))]
    assert [e.kind for e in parse_log(cut).events] == ["panic"]
    assert [e.kind for e in parse_log(_from_trace(posted_lines("624"))).events][0] == "oops_other"


# -- 2.6.x x86_64 traces: the marker's line holds the first frame, every frame '?' ---------------

@pytest.mark.parametrize("num", ["2325", "2301"])
def test_rhel6_unvouched_trace_names_its_allocation_failure(num):
    """RHEL 6 (2.6.32) prints " <IRQ>  [<addr>] ? __alloc_pages_nodemask+.." (dump_trace()'s
    marker and first frame on one line) and marks every frame '?': the first frame is the
    reporter's call (__alloc_pages_nodemask printed the failure and called dump_stack())."""
    for cut in (_from_trace(posted_lines(num)), cut_agreement.bare_trace(posted_lines(num))):
        ev = _first(cut)
        assert ev.frames[0].function == "__alloc_pages_nodemask" and ev.frames[0].context == "irq"
        assert ev.kind == "alloc_failure"
        want = labels()[_name(num)]
        assert verdict(cut) == (want[0], want[1] or None)


def test_vouched_trace_needs_a_reliable_first_frame():
    """With one frame the unwinder vouched for, '?' frames are stale words again: the '?'
    __alloc_pages_nodemask on top no longer names the report."""
    cut = [s.replace("] ? kmem_getpages", "] kmem_getpages") for s in _from_trace(posted_lines("2325"))]
    assert _first(cut).kind != "alloc_failure"


def test_stack_under_a_running_task_is_no_hung_task():
    """sched_show_task() prints "task:%s state:%c" above the stack: only state D is a hung
    task's (check_hung_task()); the same real stack under state R is not (045's lima task)."""
    cut = _from_trace(posted_lines("045"))
    shown = "[ 3021.775800] task:lima-test       state:{} stack:    0 pid: 1234 ppid:     1 flags:0x00000008"
    assert _first([shown.format("D")] + cut).kind == "hung_task"
    assert _first([shown.format("R")] + cut).kind != "hung_task"


# -- tables no posted tuning log reaches: stacks as the kernel source prints them ---------------

def _stack(*frames: str) -> List[str]:
    """An x86 stack pasted from its "Call Trace:" line, innermost frame first."""
    return ["[  50.000000] Call Trace:", "[  50.000000]  <TASK>"] + [f"[  50.000000]  {f}" for f in frames]


# kernel/sched/core.c __might_resched() (___might_sleep() before 5.16) prints "BUG: sleeping
# function called from invalid context at %s:%d" and calls dump_stack(); mm/memory.c
# print_bad_pte() prints "BUG: Bad page map in process %s  pte:%08llx pmd:%08llx" and does too.
_MIGHT_RESCHED = ("__might_resched.cold+0xcc/0xf2", "mutex_lock+0x16/0x40", "my_ioctl+0x2c/0x90 [mydrv]",
                  "__x64_sys_ioctl+0x8b/0xc0", "do_syscall_64+0x5c/0x90")
_BAD_PTE = ("print_bad_pte.cold+0x6a/0xc5", "zap_pte_range+0x6d4/0x8b0", "unmap_page_range+0x2ac/0x430",
            "unmap_vmas+0x86/0x100", "exit_mmap+0xaa/0x1f0")


@pytest.mark.parametrize("frames,kind,headline", [
    (_MIGHT_RESCHED, "atomic_sleep", "BUG: sleeping function called from invalid context"),
    (("___might_sleep+0x104/0x120",) + _MIGHT_RESCHED[1:], "atomic_sleep",
     "BUG: sleeping function called from invalid context"),
    (_BAD_PTE, "bad_page", "BUG: Bad page map"),
])
def test_source_reporter_frames_name_the_report(frames, kind, headline):
    ev = _first(_stack("dump_stack_lvl+0x34/0x48", *frames))
    assert (ev.kind, ev.fields["headline"]) == (kind, headline)
    # without the reporter's dump_stack() above them (after_report), the frames are the
    # innermost ones of some other report's stack: not named by them
    assert _first(_stack(*frames)).kind != kind
