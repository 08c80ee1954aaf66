"""An x86 page-fault report pasted from after its header ("BUG: kernel NULL pointer
dereference, address: ..." / "BUG: unable to handle ..." cut): what remains says the kind and
the address (arch/x86/mm/fault.c show_fault_oops(), dump_pagetable(), page_fault_oops();
arch/x86/kernel/dumpstack.c show_opcodes(), __show_regs()):

* the lone "CR2: %016lx" summary is the fault's saved address and beats the register dump's CR2;
* an instruction fetch faulted at the IP itself ("RIP: 0010:0x0": a call through NULL);
* a register-dump CR2 after "Code: Unable to access opcode bytes at ..."/"Bad RIP value." is
  the failed code read's own address;
* with no address at all, dump_pagetable()'s "PGD 0" (an empty top-level entry: a user-half
  address) says NULL plus an offset;
* 2.6-4.x show_fault_oops()'s "IP: " line is a page fault's;
* "Attempted to kill init!" after the headerless oops is its consequence.

The logs are tuning-half posted logs cut after their header line, as a poster who copies
from there pastes them; with the header kept, the header decides as before."""

import re
from typing import List

import pytest

from triage.analysis import analyze_lines
from triage.diagnosis.diagnose import ADDRESS_ASSUMED, HEADER_MISSING, KIND_ASSUMED
from triage.events import parse_log

from _posted import posted_lines as _posted

_HEADS = ("BUG: kernel NULL pointer", "BUG: unable to handle")


def _after_header(lines: List[str]) -> List[str]:
    i = next(k for k, s in enumerate(lines) if any(h in s for h in _HEADS))
    return lines[i + 1:]


def _both(lines: List[str]):
    d = analyze_lines(lines)
    return d.verdict.category, d.verdict.culprit.module or ""


@pytest.mark.parametrize("log, want", [
    ("001", ("null_deref", "")),                 # #PF + PGD 0 P4D 0, no CR2 in the excerpt
    ("151", ("gpu_null_deref", "amdgpu")),       # the same in amdgpu
    ("416", ("null_deref", "")),                 # a write, PGD 0
    ("153", ("gpu_null_deref", "amdgpu")),       # 4.x "IP: [<..>] func [amdgpu]" then "PGD 0"
    ("168", ("null_deref", "")),                 # 3.11 "IP:", "PGD 0", "Oops: 0000"
])
def test_pgd_0_without_an_address_is_a_null_dereference(log, want):
    lines = _after_header(_posted(log))
    assert _both(lines) == want
    assert HEADER_MISSING in analyze_lines(lines).source.problems
    assert _both(_posted(log)) == want          # the header, when kept, says the same


def test_pgd_walk_before_the_die_line_counts():
    # 1512: "PGD 0 P4D 0" then "Oops: 0002 [#1]" opens the report: the walk belongs to it,
    # and the die line is not the report's header (show_fault_oops() printed one before it)
    lines = _after_header(_posted("1512"))
    assert lines[0].startswith("PGD 0")
    d = analyze_lines(lines)
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_null_deref", "gpu_sched")
    assert HEADER_MISSING in d.source.problems


def test_a_printed_address_beats_pgd_0():
    # 1216: "PGD 0 P4D 0" but CR2 00000001067fdb67 (the header's address): a paging fault
    assert _both(_after_header(_posted("1216"))) == ("paging_fault", "")
    assert _both(_posted("1216")) == ("paging_fault", "")
    # 778: PGD 0, CR2 0000000000040000 (above NEAR_NULL_LIMIT): i915's paging fault
    assert _both(_after_header(_posted("778"))) == ("gpu_fault", "i915")


def test_a_walk_below_the_top_level_is_no_evidence_either_way():
    # 784: "PGD 5413da067 P4D 5413da067 PUD 112de1067 PMD 1159f9067 PTE 0", cut before CR2:
    # the address is lost (the label's 0x66 was in the header); a present top-level entry is
    # a kernel-half address's or a low user mapping's alike: the base rate reads it as NULL
    d = analyze_lines(_after_header(_posted("784")))
    assert (d.verdict.category, d.verdict.culprit.module or "") == ("null_deref", "")
    assert ADDRESS_ASSUMED in d.source.problems
    # a printed address still decides (1216: "PGD 0 P4D 0" but CR2 00000001067fdb67, above)
    ev = _regs("#PF: supervisor read access in kernel mode", "PGD 5413da067 P4D 5413da067 PUD 0",
               "Oops: 0000 [#1] SMP", "RIP: 0010:f+0x1/0x20",
               "CR2: ffffc90000a3f000 CR3: 0000000104a0e005 CR4: 00000000003706f0")
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffffc90000a3f000


@pytest.mark.parametrize("log, want", [
    ("086", ("null_deref", "")),                 # "RIP: 0010:0x0", "Code: Bad RIP value."
    # "CR2: ffffffffffffffd6" = RIP - 42, where "Code: Unable to access opcode bytes at" read
    ("1019", ("gpu_null_deref", "nouveau")),
    # register dumps say CR2 ffffffffffffffd6, the lone summary "CR2: 0000000000000000"
    ("604", ("gpu_null_deref", "i915")),
])
def test_instruction_fetch_at_null(log, want):
    assert _both(_after_header(_posted(log))) == want
    assert _both(_posted(log)) == want


def _regs(*lines: str):
    return parse_log([f"[  5.{i:06d}] {s}" for i, s in enumerate(lines)]).events[0]


def test_instruction_fetch_at_a_symbol_is_a_paging_fault():
    # an NX fault: the fetch was at kernel text, not near NULL, whatever PGD says
    ev = _regs("#PF: supervisor instruction fetch in kernel mode", "#PF: error_code(0x0011) - permissions violation",
               "PGD 0 P4D 0", "Oops: 0011 [#1] SMP", "RIP: 0010:0xffffffffc0123456",
               "Code: Unable to access opcode bytes at 0xffffffffc012342c.",
               "CR2: ffffffffc012342c CR3: 0000000104a0e005 CR4: 00000000003706f0")
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffffffffc0123456


def test_the_lone_cr2_summary_beats_the_register_dump():
    ev = _regs("#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page",
               "RIP: 0010:f+0x1/0x20", "CR2: 0000000000000010 CR3: 0000000104a0e005 CR4: 00000000003706f0",
               "CR2: ffffc90000a3f000", "---[ end trace 0000000000000000 ]---")
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffffc90000a3f000


def test_a_stale_register_cr2_is_not_the_address():
    # the code bytes could not be read: the register dump's CR2 is that read's, so with nothing
    # else (no summary, no PGD walk) the fault's address stays unknown
    ev = _regs("#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page",
               "RIP: 0010:f+0x1/0x20", "Code: Unable to access opcode bytes at 0x0000000000000010.",
               "CR2: 0000000000000010 CR3: 0000000104a0e005 CR4: 00000000003706f0")
    assert ev.fields.get("address_unknown") and "address" not in ev.fields
    # readable code bytes: the register dump's CR2 is the fault's
    ev = _regs("#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page",
               "RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <48> 8b 00 c3",
               "CR2: 0000000000000010 CR3: 0000000104a0e005 CR4: 00000000003706f0")
    assert ev.kind == "null_deref" and ev.fields.get("address") == 0x10 and not ev.fields.get("address_unknown")
    # ... and a readable CR2 far from NULL is a paging fault, not the assumed NULL
    ev = _regs("#PF: supervisor read access in kernel mode", "#PF: error_code(0x0000) - not-present page",
               "RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <48> 8b 00 c3",
               "CR2: ffffc90000a3f000 CR3: 0000000104a0e005 CR4: 00000000003706f0")
    assert ev.kind == "paging_fault" and not ev.fields.get("address_unknown")


def test_ip_line_alone_is_a_page_fault_of_unknown_address():
    # 004: only "IP: [<..>] _nv011745rm+0x1f/0x170" is left: nvidia's page fault, address lost,
    # read as the commonest kernel page fault (its label: a NULL dereference in nvidia)
    assert _both(_after_header(_posted("004"))) == ("gpu_null_deref", "nvidia")


_NULL_CR2 = "CR2: 0000000000000010 CR3: 0000000104a0e005 CR4: 00000000003706f0"


def test_a_near_null_register_cr2_is_the_fault_address():
    # a register dump with neither #PF, PGD walk, IP: line, lone CR2 nor page-fault die line:
    # CR2 is written by page faults only, and user space cannot fault near NULL without dying
    # of SIGSEGV, so a CR2 there is the kernel's NULL dereference whose header was cut
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <48> 8b 00 c3", _NULL_CR2)
    assert ev.kind == "null_deref" and ev.fields["address"] == 0x10
    assert not ev.fields.get("address_unknown")
    # no code bytes at all: the same
    ev = _regs("RIP: 0010:f+0x1/0x20", "RSP: 0018:ffffc90000013e38 EFLAGS: 00010246", _NULL_CR2)
    assert ev.kind == "null_deref" and ev.fields["address"] == 0x10


@pytest.mark.parametrize("lines", [
    # ud2 (a BUG()'s, int3 padding after it) or div at RIP: a trap, CR2 is an older fault's
    ("RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <0f> 0b cc cc cc cc", _NULL_CR2),
    ("RIP: 0010:f+0x1/0x20", "Code: 0f 1f 44 00 00 31 d2 <48> f7 f1 48 89 c3", _NULL_CR2),
    # the code bytes could not be read: that failed read wrote CR2
    ("RIP: 0010:f+0x1/0x20", "Code: Unable to access opcode bytes at 0xffffffffc0a1b2c3.", _NULL_CR2),
    # a CR2 above NULL's reach
    ("RIP: 0010:f+0x1/0x20", "RSP: 0018:ffffc90000013e38 EFLAGS: 00010246",
     "CR2: 00000000deadb000 CR3: 0000000104a0e005 CR4: 00000000003706f0"),
])
def test_a_near_null_cr2_is_not_read_after_a_trap_or_a_failed_code_read(lines):
    ev = _regs(*lines)
    assert ev.kind in ("oops_other", "warning") and "address" not in ev.fields


def test_a_near_null_cr2_of_registers_inside_the_trace_is_not_read():
    # a stack pasted from its "Call Trace:" line: the registers printed inside it are an
    # interrupted context's (show_regs_if_on_stack), not a faulting location
    ev = parse_log(["Call Trace:", " <IRQ>", " g+0x10/0x40", " </IRQ>", " <TASK>",
                    "RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <48> 8b 00 c3", _NULL_CR2,
                    " h+0x10/0x40", " </TASK>"]).events[0]
    assert ev.kind != "null_deref"


def test_attempted_to_kill_init_follows_the_headerless_oops():
    # 312: nouveau's NULL dereference in swapper/0 (init), then "Kernel panic - not syncing:
    # Attempted to kill init! exitcode=0x0000000b": the oops is the crash, not a leftover
    assert _both(_after_header(_posted("312"))) == ("gpu_null_deref", "nouveau")


def test_attempted_to_kill_init_after_stray_register_lines_is_the_panic():
    # no call trace before it: the stray lines are a leftover, the panic is the report
    lines = ["[  5.000000] RIP: 0010:f+0x1/0x20", "[  5.000001] RSP: 0018:ffffc90000013e38 EFLAGS: 00010246",
             "[  5.100000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009"]
    assert analyze_lines(lines).verdict.category == "panic_other"


# -- the kind when no page-fault line is left: the marked instruction (show_opcodes "<%02x>")

@pytest.mark.parametrize("log", ["1103", "1816", "1828"])
def test_general_protection_fault_without_its_header(log):
    # "general protection fault[, probably for non-canonical address ...]: 0000 [#1]" cut: no
    # #PF decode, PGD walk or page-fault die line, and Code: marks a memory access, not ud2/div
    lines = _after_header_gpf(_posted(log))
    d = analyze_lines(lines)
    assert d.verdict.category == "gpf"
    assert HEADER_MISSING in d.source.problems
    assert analyze_lines(_posted(log)).verdict.category == "gpf"


def _after_header_gpf(lines: List[str]) -> List[str]:
    i = next(k for k, s in enumerate(lines) if "general protection fault" in s)
    return lines[i + 1:]


@pytest.mark.parametrize("code, kind", [
    ("0f 1f 44 00 00 48 8b 47 10 <48> 8b 00 c3", "gpf"),           # mov (%rax),%rax
    # ud2 with live code after it: WARN()'s #UD by the base rate (test_headerless_ud2_warning.py);
    # with int3 padding after it, BUG()'s, which does not return
    ("0f 1f 44 00 00 48 8b 47 10 <0f> 0b 48 8b 00 c3", "warning"),
    ("0f 1f 44 00 00 48 8b 47 10 <0f> 0b cc cc cc cc", "oops_other"),
    ("0f 1f 44 00 00 31 d2 <48> f7 f1 48 89 c3", "oops_other"),    # div %rcx: #DE
    ("0f 1f 44 00 00 31 d2 <f7> 7d f0 48 89 c3", "oops_other"),    # idivl -0x10(%rbp): #DE
    ("0f 1f 44 00 00 48 8b 47 10 <48>", "oops_other"),             # the instruction runs past the dump
])
def test_marked_instruction_says_the_exception(code, kind):
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: " + code,
               "CR2: 00007f1113f68000 CR3: 0000000104a0e005 CR4: 00000000003706f0")
    assert ev.kind == kind


@pytest.mark.parametrize("cr2, kind", [
    ("CR2: 00007f1113f68000 CR3: 0000000104a0e005 CR4: 00000000003706f0", "gpf"),   # a task's stale address
    ("CR2: 0000000000000010 CR3: 0000000104a0e005 CR4: 00000000003706f0", "null_deref"),  # a kernel NULL fault's
    ("CR2: ffffc90000a3f000 CR3: 0000000104a0e005 CR4: 00000000003706f0", "oops_other"),  # a kernel-half fault's
    ("CR2: b7f3c000 CR3: 3ea1c000 CR4: 000406d0", "gpf"),                               # i386, user half
    ("CR2: f8a3c000 CR3: 3ea1c000 CR4: 000406d0", "oops_other"),                        # i386, kernel half
    # no CR2 in the excerpt: the access's address (its registers cut) is lost, no #GP is
    # claimed, and the fault on it is read by the base rate (test_an_unaddressed_access_...)
    ("RSP: 0018:ffffc90000013e38 EFLAGS: 00010246", "null_deref"),
])
def test_only_a_stale_user_cr2_lets_a_protection_fault_be_claimed(cr2, kind):
    # a page fault whose #PF/PGD/Oops lines were cut too leaves the same marked memory access;
    # its CR2 is the kernel fault's address, a GPF's the last user page fault's
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <48> 8b 00 c3", cr2)
    assert ev.kind == kind


def test_no_code_bytes_is_an_oops_of_assumed_kind():
    # 063: CPU, Hardware name and RIP lines only: GPF, BUG, WARNING and page faults look the
    # same; the commonest, a NULL dereference, is assumed and the diagnosis says so. (063 was
    # a GPF, "general protection fault ... rdmsr": the price of the base rate, see _unnamed_fault)
    lines = _after_header_gpf(_posted("063"))
    d = analyze_lines(lines)
    assert (d.verdict.category, d.verdict.culprit.module) == ("null_deref", "kutrace_mod")
    assert KIND_ASSUMED in d.source.problems and HEADER_MISSING in d.source.problems
    assert ADDRESS_ASSUMED not in d.source.problems
    assert analyze_lines(_posted("063")).verdict.category == "gpf"     # the header decides


def test_reporting_frames_come_before_the_code_bytes():
    # a WARN body (4.x warn_slowpath_null calls, no ud2) without its WARNING line
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 0f 1f 44 00 00 48 8b 47 10 <48> 8b 00 c3", "Call Trace:",
               " warn_slowpath_null+0x1d/0x20", " g+0x10/0x40")
    assert ev.kind == "warning"


def test_i386_eip_register_line_is_no_page_fault_evidence():
    # i386 __show_regs() prints "EIP: %pS" for every oops; only show_fault_oops()'s "IP: " is a page fault's
    ev = _regs("Code: 55 89 e5 8b 45 08 <89> c3 5d c3", "EIP: f+0x1/0x20",
               "EAX: 00000000 EBX: f5c3a000 ECX: 00000000 EDX: 00000001")
    assert ev.kind == "oops_other" and not ev.fields.get("ip_line")
    # show_fault_oops()'s "IP: " line: a page fault, at i386 __show_regs()'s "CR0: .. CR2: %08lx"
    ev = _regs("IP: [<c10a1b2c>] f+0x1/0x20", "*pde = 00000000", "Oops: 0000 [#1] SMP",
               "CR0: 80050033 CR2: 00000010 CR3: 3ea1c000 CR4: 000406d0")
    assert ev.kind == "null_deref" and ev.fields["address"] == 0x10


# -- the marked instruction accesses memory through a register the excerpt does not show

@pytest.mark.parametrize("code, access", [
    ("Code: 0f 1f 44 00 00 48 8b 47 10 <8b> 17 48 89 c3", "mov edx, dword ptr [rdi]"),
    ("Code: 0f 1f 44 00 00 48 8b 47 10 <48> c7 40 08 00 00 00 00", "mov qword ptr [rax + 8], 0"),
    ("Code: 0f 1f 44 00 00 48 8b 47 10 <f6> 45 00 01 75 0e", "test byte ptr [rbp], 1"),
])
def test_an_unaddressed_access_is_a_fault_read_by_the_base_rate(code, access):
    # 834, 1033, 093 cut after the header and its page-fault lines: RIP and Code:, the registers
    # cut; the instruction faulted on its access, whose address only the lost lines held
    ev = _regs("RIP: 0010:f+0x1/0x20", code)
    assert ev.kind == "null_deref" and ev.fields["address_unknown"]
    assert ev.fields["access"] == access and "address" not in ev.fields


@pytest.mark.parametrize("code", [
    "Code: 0f 1f 44 00 00 48 8b 47 10 <0f> 0b cc cc cc cc",       # ud2: BUG()
    "Code: 0f 1f 44 00 00 31 d2 <f7> 7d f0 48 89 c3",             # idiv through rbp: #DE
    "Code: 0f 1f 44 00 00 48 8b 47 10 <48> 8d 47 08 c3",          # lea: no access
    "Code: 0f 1f 44 00 00 48 8b 47 10 <48> 8b 05 10 20 30 00",    # RIP-relative: a global, no pointer
    "Code: 0f 1f 44 00 00 48 8b 47 10 <65> 48 8b 04 25 28 00 00 00",  # %gs: per-cpu/stack canary
    "Code: 0f 1f 44 00 00 48 8b 47 10 <48> 89 c3 c3",             # a register move
])
def test_no_register_access_leaves_the_kind_open(code):
    ev = _regs("RIP: 0010:f+0x1/0x20", code)
    assert ev.kind == "oops_other"


def test_an_access_the_registers_place_at_a_valid_address_is_a_page_fault_there():
    # the dump shows RDI: the plain load was at a canonical kernel address, where it can only
    # have raised #PF (no CR2 left to say otherwise): a page fault at that address, read, not
    # assumed (no "address unknown"; the base rate is only for an address the excerpt lost)
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 0f 1f 44 00 00 48 8b 47 10 <8b> 17 48 89 c3",
               "RAX: 0000000000000000 RBX: ffff888100000000 RCX: 0000000000000001",
               "RDX: 0000000000000000 RSI: 0000000000000000 RDI: ffff888100000000")
    assert ev.kind == "paging_fault" and not ev.fields.get("address_unknown")
    assert ev.fields["address"] == 0xffff888100000000
    assert ev.fields["access"] == "mov edx, dword ptr [rdi]"


def test_a_kernel_half_cr2_leaves_an_unaddressed_access_open():
    # a kernel-half CR2 may be a silently handled fault's (a vmalloc or exception-table fixup)
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 0f 1f 44 00 00 <8b> 17 48 89 c3",
               "CR2: ffffc90000a3f000 CR3: 0000000104a0e005 CR4: 00000000003706f0")
    assert ev.kind == "oops_other"


@pytest.mark.parametrize("log, want", [
    ("834", ("null_deref", "")),             # <8b> 17: mov edx, [rdi], the dump cut
    ("1033", ("gpu_null_deref", "i915")),    # <48> c7 40 08: mov qword ptr [rax + 8], the dump cut
    ("2203", ("gpu_null_deref", "amdgpu")),  # the register dump's CR2 0000000000000008
    ("627", ("gpu_null_deref", "ttm")),      # the register dump's CR2 00000000000000c8
    ("086", ("null_deref", "")),             # "RIP: 0010:0x0", "Code: Bad RIP value."
])
def test_posted_oopses_cut_after_their_page_fault_lines(log, want):
    lines = _cut_deep(_posted(log))
    assert _both(lines) == want
    assert HEADER_MISSING in analyze_lines(lines).source.problems
    assert _both(_posted(log)) == want


# the lines x86 show_fault_oops(), dump_pagetable() and page_fault_oops() print right after the
# header (tools/paste_invariance.py _AFTER_HEAD, x86 part; 2.6-4.x "IP: ", not "RIP: ")
_PF_LINES = re.compile(r"#PF:|Oops:|PGD |(?<![A-Z])IP: ")


def _cut_deep(lines: List[str]) -> List[str]:
    rest = _after_header(lines)
    k = 0
    while k < len(rest) and _PF_LINES.search(rest[k]):
        k += 1
    return rest[k:]


def test_the_may_sleep_bug_of_the_oops_exit_path_is_an_after_effect():
    # 3007 cut after its header: the oops' registers again after its end marker, then the
    # atomic-sleep BUG its task prints exiting through rewind_stack_do_exit: the oops is the
    # report, its lone CR2 summary 000000000000c9f4 its address
    lines = _after_header(_posted("3007"))
    log = parse_log(lines)
    assert [e.kind for e in log.events][:2] == ["null_deref", "atomic_sleep"]
    assert log.events[0].fields["address"] == 0xc9f4
    assert _both(lines) == ("gpu_null_deref", "amdgpu")


# -- nothing left names the exception: a faulting location alone (_unnamed_fault)

@pytest.mark.parametrize("log, deep, want", [
    ("635", False, ("null_deref", "intel_lpss")),     # "Workqueue:" and "RIP:" lines only
    ("119", True, ("gpu_null_deref", "nvidia_uvm")),  # RIP, the call trace, make_task_dead()'s notes
    ("622", True, ("gpu_null_deref", "ttm")),         # RIP and the call trace, mail-quoted
    ("1512", True, ("gpu_null_deref", "gpu_sched")),  # CPU, RIP, an elided trace
    ("2107", True, ("null_deref", "")),               # CPU, Tainted, Hardware name, RIP
])
def test_a_faulting_location_alone_is_an_oops_of_assumed_kind(log, deep, want):
    lines = _cut_deep(_posted(log)) if deep else _after_header(_posted(log))
    d = analyze_lines(lines)
    assert (d.verdict.category, d.verdict.culprit.module or "") == want
    assert KIND_ASSUMED in d.source.problems and HEADER_MISSING in d.source.problems
    assert _both(_posted(log)) == want


def test_a_location_with_a_trace_and_a_cut_instruction_is_of_assumed_kind():
    trace = ("Call Trace:", " g+0x10/0x40", " h+0x20/0x80")
    ev = _regs("RIP: 0010:f+0x1/0x20", *trace)
    assert ev.kind == "null_deref" and ev.fields["kind_unknown"] and "address" not in ev.fields
    # the marked bytes end inside the instruction: it says nothing
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 0f 1f 44 00 00 48 8b 47 10 <48>", *trace)
    assert ev.kind == "null_deref" and ev.fields["kind_unknown"]


@pytest.mark.parametrize("extra", [
    ("Code: 0f 1f 44 00 00 48 8b 47 10 <48> 89 c3 c3",),                # a register move: no fault there
    ("CR2: ffffc90000a3f000 CR3: 0000000104a0e005 CR4: 00000000003706f0",),   # a kernel-half CR2
])
def test_a_location_that_something_else_describes_keeps_the_kind_open(extra):
    ev = _regs("RIP: 0010:f+0x1/0x20", *extra, "Call Trace:", " g+0x10/0x40")
    assert ev.kind == "oops_other" and not ev.fields.get("kind_unknown")


def test_registers_inside_a_pasted_trace_are_no_faulting_location():
    ev = parse_log(["Call Trace:", " <IRQ>", " g+0x10/0x40", " </IRQ>", " <TASK>",
                    "RIP: 0010:f+0x1/0x20", "RSP: 0018:ffffc90000013e38 EFLAGS: 00010246",
                    " h+0x10/0x40", " </TASK>"]).events[0]
    assert ev.kind != "null_deref" and not ev.fields.get("kind_unknown")


# -- show_regs_print_info()'s lines right before the register dump that opens the report

def test_task_and_work_item_lines_before_the_registers_belong_to_the_report():
    # 093 cut after its page-fault lines: "CPU: 12 PID: 643 Comm: kworker/u32:10", "Hardware
    # name:", "Workqueue: i915 __i915_gem_free_work [i915]", then "RIP: __rb_erase_color": the
    # oops runs in i915's own work item (the README's rule), as with the header kept
    lines = _cut_deep(_posted("093"))
    assert lines[0].split("kernel: ", 1)[1].startswith("CPU: 12 PID: 643")
    ev = parse_log(lines).events[0]
    assert (ev.comm, ev.pid, ev.cpu) == ("kworker/u32:10", 643, 12)
    assert ev.fields["workqueue"].function == "__i915_gem_free_work"
    assert _both(lines) == ("gpu_null_deref", "i915") == _both(_posted("093"))


def test_task_lines_further_up_are_not_taken():
    far = ["CPU: 3 PID: 77 Comm: kworker/3:1 Not tainted 6.1.0 #1", "Workqueue: events frob_work [frob]",
           "frob: lots of chatter", "frob: more chatter", "frob: still more", "frob: and more"]
    ev = _regs(*far, "RIP: 0010:f+0x1/0x20", "Call Trace:", " g+0x10/0x40")
    assert ev.comm is None and "workqueue" not in ev.fields
    near = far[:2] + ["RIP: 0010:f+0x1/0x20", "Call Trace:", " g+0x10/0x40"]
    ev = _regs(*near)
    assert ev.comm == "kworker/3:1" and ev.fields["workqueue"].module == "frob"


# -- 2.4's i386 page-fault die line, "Oops: %04lx" with no "[#%d]" counter

@pytest.mark.parametrize("log", ["3316", "3801"])
def test_a_2_4_page_fault_die_line_without_its_header(log):
    # "Unable to handle kernel NULL pointer dereference at virtual address 00000000" cut (3316
    # keeps its wrapped tail "at virtual address 00000000"): "Oops: 0000", "EIP: 0010:[<..>]",
    # ksymoops' ">>EIP; ... <[NVdriver]...>": NVdriver's page fault, its address lost
    lines = _after_unable(_posted(log))
    d = analyze_lines(lines)
    assert (d.verdict.category, d.verdict.culprit.module) == ("gpu_null_deref", "NVdriver")
    assert HEADER_MISSING in d.source.problems


def _after_unable(lines: List[str]) -> List[str]:
    i = next(k for k, s in enumerate(lines) if "Unable to handle kernel" in s)
    return lines[i + 1:]


@pytest.mark.parametrize("die, kind", [
    ("Oops: 0000", "null_deref"),                  # 2.4 i386
    ("Oops: 0002 [#1] SMP", "null_deref"),         # 2.6+
    ("Oops: 0004 ilc:2 [#1] SMP", "oops_other"),   # s390's die line: not x86's page fault
    ("Oops: 0000 extra words", "oops_other"),
])
def test_the_page_fault_die_line_forms(die, kind):
    ev = _regs(die, "EIP:    0010:[<d898ef58>]", "EFLAGS: 00010056")
    assert ev.kind == kind


def test_a_near_null_cr2_the_marked_access_did_not_make_is_stale():
    # mov rax, [rax] with RAX a valid kernel address: a page fault on it would have left that
    # address in CR2, so the near-NULL CR2 is an earlier fault's (a user program's own NULL
    # SIGSEGV writes it too) and no NULL dereference is claimed from it
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <48> 8b 00 c3",
               "RAX: ffff888003a1b000 RBX: 0000000000000000 RCX: 0000000000000000", _NULL_CR2)
    assert ev.kind != "null_deref" and ev.fields.get("address") != 0x10, (ev.kind, ev.fields)
    # the same access through a NULL RAX: its address is the CR2, a NULL dereference
    ev = _regs("RIP: 0010:f+0x1/0x20", "Code: 48 8b 47 10 <48> 8b 00 c3",
               "RAX: 0000000000000010 RBX: 0000000000000000 RCX: 0000000000000000", _NULL_CR2)
    assert ev.kind == "null_deref" and ev.fields["address"] == 0x10


def test_i386_page_fault_die_line_reads_the_address_from_the_decode():
    # 3323 (2.6.19 i386) cut after "BUG: unable to handle kernel paging request at virtual
    # address ff7d968c": the die line says page fault, "*pde = 00000000" no address; the marked
    # mov eax, [eax + 0x8c] with eax ff7d9600 gives it back (a kernel address, not NULL)
    lines = _posted("3323")
    i = next(k for k, s in enumerate(lines) if "BUG: unable to handle" in s)
    ev = parse_log(lines[i + 1:]).events[0]
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xff7d968c
