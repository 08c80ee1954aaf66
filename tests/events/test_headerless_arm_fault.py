"""arm/arm64 kernel faults pasted without their "Unable to handle kernel ..." header
(arch/arm/mm/fault.c __do_kernel_fault(), arch/arm64/mm/fault.c die_kernel_fault(): the
header, then the abort decode and show_pte(), then die()):

* arm64 show_pte() prints "[%016lx] pgd=..." right after its "%s pgtable:" line: the
  address opens that line even when the rest of it was cut;
* only the fault path prints show_pte() before die(), so a die line that words itself a BUG
  ("Internal error: Oops - BUG: 17") right after show_pte() lines is that fault;
* arm32 __show_regs()'s "PC is at %pS" opens a headerless report like "pc : ";
* a report opened by the die or abort lines lost its header, and the diagnosis says so.

The logs are tuning-half posted logs cut after their header line."""

from typing import List

from triage.analysis import analyze_lines
from triage.diagnosis.diagnose import HEADER_MISSING, KIND_ASSUMED
from triage.events import parse_log

from _posted import posted_lines as _posted


def _after_header(lines: List[str]) -> List[str]:
    i = next(k for k, s in enumerate(lines) if "Unable to handle kernel" in s)
    return lines[i + 1:]


def _both(lines: List[str]):
    d = analyze_lines(lines)
    return d.verdict.category, d.verdict.culprit.module or ""


def test_cut_arm64_show_pte_line_after_the_pgtable_line_gives_the_address():
    # 543: "user pgtable: 4k pages, ..." then "[0000000000000010] p" (cut by the search tool)
    lines = _after_header(_posted("543"))
    d = analyze_lines(lines)
    assert (d.verdict.category, d.verdict.culprit.module or "") == ("null_deref", "")
    assert HEADER_MISSING in d.source.problems
    assert _both(_posted("543")) == ("null_deref", "")


def test_bracketed_address_elsewhere_is_not_show_pte():
    # the same cut line without the pgtable line before it: no address (a fault of unknown address)
    abort = ["Mem abort info:", "  ESR = 0x96000006", "  EC = 0x25: DABT (current EL), IL = 32 bits",
             "Data abort info:", "  ISV = 0, ISS = 0x00000006", "  CM = 0, WnR = 0"]
    with_pgtable = abort + ["user pgtable: 4k pages, 48-bit VAs, pgdp=000000007436b000", "[0000000000000010] p"]
    without = abort + ["[0000000000000010] p"]
    stamp = lambda ls: [f"[  306.{i:06d}] {s}" for i, s in enumerate(ls)]
    assert parse_log(stamp(with_pgtable)).events[0].kind == "null_deref"
    ev = parse_log(stamp(without)).events[0]
    assert ev.fields.get("address_unknown") and "far" not in ev.fields and "address" not in ev.fields


def test_show_pte_before_a_bug_worded_die_line_is_the_fault():
    # 285: "pgd = eeda4000", "[0000004d] *pgd=36cf1831", "Internal error: Oops - BUG: 17 [#1]"
    lines = _after_header(_posted("285"))
    d = analyze_lines(lines)
    assert (d.verdict.category, d.verdict.culprit.module or "") == ("null_deref", "")
    assert HEADER_MISSING in d.source.problems


def test_bug_die_line_without_show_pte_stays_a_bug():
    lines = ["[  1.000000] Internal error: Oops - BUG: 0 [#1] PREEMPT SMP ARM",
             "[  1.000001] PC is at foo_probe+0x10/0x40 [foo]"]
    assert analyze_lines(lines).verdict.category == "kernel_bug"
    # and a BUG with its "kernel BUG at" header stays one, whatever show_pte line came earlier
    lines = ["[  1.000000] [0000004d] *pgd=36cf1831", "[  1.000001] ------------[ cut here ]------------",
             "[  1.000002] kernel BUG at drivers/foo/foo.c:12!",
             "[  1.000003] Internal error: Oops - BUG: 0 [#1] PREEMPT SMP ARM",
             "[  1.000004] PC is at foo_probe+0x10/0x40 [foo]"]
    assert analyze_lines(lines).verdict.category == "kernel_bug"


def test_arm32_pc_is_at_opens_a_headerless_report():
    # 1220: the excerpt keeps "PC is at msm_open+0x64/0x90" and unwinder lines: msm's oops,
    # not "no crash"; its kind (in the cut header) is lost, and the commonest is assumed
    d = analyze_lines(_after_header(_posted("1220")))
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_null_deref", "msm")
    assert HEADER_MISSING in d.source.problems and KIND_ASSUMED in d.source.problems


def test_pc_is_at_deep_in_a_log_opens_nothing():
    lines = [f"[  1.{i:06d}] random: crng init step {i}" for i in range(40)]
    lines.append("[  2.000000] PC is at cpu_idle_poll+0x10/0x40")
    assert parse_log(lines).events == []


# -- arm64 without any fault line: the load/store show_code() marks at pc, and its base register

def test_arm64_load_from_a_null_base_register_is_a_null_dereference():
    # 1337 (4.14, no abort decode): "Internal error: Oops: 96000004 [#1]" cut; pc __pi_strcmp,
    # "Code: ... (f8408402)" = ldr x2, [x0], #8 with "x0 : 0000000000000000"
    lines = _posted("1337")
    i = next(k for k, s in enumerate(lines) if "Internal error: Oops" in s)
    d = analyze_lines(lines[i + 1:])
    assert (d.verdict.category, d.verdict.culprit.module or "") == ("null_deref", "")
    assert HEADER_MISSING in d.source.problems


def _a64(code_word: str, x0: str = "0000000000000000", sp_word: str = "ffff80000802b8d0"):
    lines = ["pc : f+0x18/0x154", "lr : g+0xc8/0xe8", f"sp : {sp_word}",
             "x29: ffff00000f3c3b10 x28: ffff80003a56a000",
             f"x1 : ffff000000eed688 x0 : {x0}",
             "Call trace:", " f+0x18/0x154", " g+0xc8/0xe8",
             f"Code: f24008ff 540002e1 f2400807 54000141 ({code_word})"]
    return parse_log([f"[  7.{i:06d}] {s}" for i, s in enumerate(lines)]).events[0]


def test_arm64_marked_instruction_negatives():
    assert _a64("f8408402").kind == "null_deref"                          # ldr x2, [x0], #8; x0 = 0
    assert _a64("f8408402", x0="ffff000000eed688").kind == "oops_other"   # a valid base: kind open
    assert _a64("d4210000").kind == "oops_other"                          # brk #0x800: BUG()
    assert _a64("58000040").kind == "oops_other"                          # ldr x0, <literal>: no base
    assert _a64("f94003e0").kind == "oops_other"                          # ldr x0, [sp]
    assert _a64("8b010000").kind == "oops_other"                          # add x0, x0, x1: no access


# -- arm (A32): the same for dump_instr()'s "(%08x)" word and "r%d : %08lx" registers

def test_arm32_store_through_a_null_base_register():
    # 1302: "Internal error: Oops: 805 [#1]" with no "Unable to handle" line nor show_pte();
    # "Code: ... (e5812004)" = str r2, [r1, #4] with "r1 : 00000000": drm's NULL dereference
    lines = _posted("1302")
    assert _both(lines) == ("gpu_null_deref", "drm")
    d = analyze_lines(lines[1:])            # and without the die line: a headerless report
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_null_deref", "drm")
    assert HEADER_MISSING in d.source.problems


def _a32(code_word: str, r1: str = "00000000"):
    lines = ["PC is at f+0x24/0x40", "LR is at g+0x10/0x20",
             "pc : [<c07716c0>]    lr : [<c0785334>]    psr: a00d0013",
             "sp : ee92bde0  ip : 00000001  fp : 00000000",
             "r10: c2d07000  r9 : dd581a00  r8 : c1bf2298",
             f"r3 : 7ff302d8  r2 : 00000000  r1 : {r1}  r0 : c37fe500",
             f"Code: e24dd00c ee1d6f70 e5963530 e58d3004 ({code_word})"]
    return parse_log([f"[  7.{i:06d}] {s}" for i, s in enumerate(lines)]).events[0]


def test_arm32_marked_instruction_negatives():
    assert _a32("e5812004").kind == "null_deref"                        # str r2, [r1, #4]; r1 = 0
    assert _a32("e1d130b4").kind == "null_deref"                        # ldrh r3, [r1, #4]
    assert _a32("e8910003").kind == "null_deref"                        # ldm r1, {r0, r1}
    assert _a32("e5812004", r1="edc164fc").kind == "oops_other"         # a valid base: kind open
    assert _a32("e59f3010").kind == "oops_other"                        # ldr r3, [pc, #16]: literal
    assert _a32("e0010291").kind == "oops_other"                        # mul r1, r1, r2: no access
    assert _a32("f5d1f000").kind == "oops_other"                        # pld [r1]: unconditional space
    assert _a32("e7f001f2").kind == "oops_other"                        # BUG()'s undefined instruction
    assert _a32("e7f101f2").kind == "oops_other"                        # the same space, "Rn" bits = r1
    assert _a32("e7912103").kind == "null_deref"                        # ldr r2, [r1, r3, lsl #2]


def test_an_unclaimed_brk_is_no_fault_of_assumed_kind():
    # 3617: pc, registers and trace, then arm64 brk_handler()'s "Unexpected kernel BRK
    # exception at EL1": a trap the code asked for, so no NULL dereference is assumed
    d = analyze_lines(_posted("3617"))
    assert d.verdict.category == "gpu_fault" and KIND_ASSUMED not in d.source.problems
    # the same pc and trace without that line: the kind is assumed
    lines = [s for s in _posted("3617") if "Unexpected kernel BRK" not in s]
    d = analyze_lines(lines)
    assert d.verdict.category == "gpu_null_deref" and KIND_ASSUMED in d.source.problems


# -- a headerless oops followed by a report with its own header

def _oops_then_warning(first_taint: str):
    return [f"[  80.{i:03d}] {s}" for i, s in enumerate([
        f"CPU: 0 PID: 9 Comm: kworker/0:1 Tainted: {first_taint} 6.4.0 #1",
        "Hardware name: linux,dummy-virt (DT)", "Workqueue: events delayed_fput",
        "pstate: 62400005 (nZCv daif +PAN -UAO +TCO -DIT -SSBS BTYPE=--)",
        "pc : iput+0x2c4/0x328", "lr : iput+0x3c/0x328", "Call trace:", " iput+0x2c4/0x328",
        " dentry_unlink_inode+0x12c/0x240", " __fput+0x140/0x3b0",
        "Code: 17ffffc4 97fffb54 17ffffd4 d65f03c0 (d4210000)", "---[ end trace 0000000000000000 ]---",
        "------------[ cut here ]------------",
        "WARNING: CPU: 0 PID: 0 at kernel/context_tracking.c:128 ct_kernel_exit.constprop.0+0xe0/0xe8",
        "CPU: 0 PID: 0 Comm: swapper/0 Tainted: G    B D W 6.4.0 #1",
        "pc : ct_kernel_exit.constprop.0+0xe0/0xe8", "Call trace:", " ct_kernel_exit.constprop.0+0xe0/0xe8",
        " ct_idle_enter+0x10/0x20", "---[ end trace 0000000000000000 ]---"])]


def test_a_later_report_tainted_d_follows_the_headerless_oops():
    # 3901's shape: the BRK BUG() in iput (header cut) killed its task; the WARNING after it is
    # tainted D (TAINT_DIE) and the oops' own task line is not: the oops is the crash
    log = parse_log(_oops_then_warning("G    B   W"))
    assert [e.kind for e in log.events] == ["oops_other", "warning"]
    assert log.events[0].comm == "kworker/0:1"       # the task line 4 lines above "pc :"
    # already D before the headerless part: its die is older, the later report decides
    log = parse_log(_oops_then_warning("G    B D W"))
    assert [e.kind for e in log.events] == ["warning"]


def test_posted_3901_cut_after_its_abort_lines():
    lines = _posted("3901")
    i = next(k for k, s in enumerate(lines) if "Modules linked in" in s)
    assert analyze_lines(lines[i:]).verdict.category == "kernel_bug"


def test_data_abort_info_opens_a_report_that_lost_its_head():
    # 543 from its "EA = 0" line on: "Data abort info:", ISV/CM, "user pgtable:" and show_pte()'s
    # "[0000000000000010] p" cut: a kernel fault at 0x10 (die_kernel_fault()'s decode)
    lines = _posted("543")
    i = next(k for k, s in enumerate(lines) if "EA = 0" in s)
    d = analyze_lines(lines[i:])
    assert (d.verdict.category, d.verdict.culprit.module or "") == ("null_deref", "")
    assert HEADER_MISSING in d.source.problems
    # with its header and "Mem abort info:" before it, the line stays inside the one report
    whole = parse_log(lines[next(k for k, s in enumerate(lines) if "Unable to handle kernel" in s):])
    assert [e.kind for e in whole.events] == ["null_deref"]
    assert not whole.events[0].fields.get("header_missing")
