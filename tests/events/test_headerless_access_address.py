"""A headerless fault report whose marked instruction and register dump give the address it
accessed (what a kernel engineer works out by hand when the header and its address are gone):

* x86_64 (triage.events.x86access, parser._x86_access_kind): at canonical addresses, a page
  fault when the dump's CR2 is one of them (only #PF writes CR2), or, with no CR2 in the
  excerpt, when the instruction is a plain load or store of at most 8 bytes (x86access.
  general_access: #GP is impossible there in 64-bit mode); a vector access (alignment #GP) or a
  CR2 elsewhere leaves the kind open;
* arm64 (parser._a64_access_address), once the abort is known (mem_abort_decode()'s "Mem abort
  info:", a DABT ESR): the address the load/store formed from its base, immediate or index;
* kasan_non_canonical_hook()'s "KASAN: ... in range" line before "Mem abort info:" is arm64's
  die_kernel_fault(), a data abort, not x86's GPF.

The expected decodes are Capstone's disassembly of the same bytes and words (in the comments)."""

import pytest

from triage.events import parse_log
from triage.events import x86access


def _x86(code: str, cr2: str = ""):
    lines = ["CPU: 6 PID: 4869 Comm: t Tainted: P O 5.10.147+ #1",
             "RIP: 0010:f+0x6/0x10",
             f"Code: 48 89 f8 48 89 d1 {code}",
             "RSP: 0018:ffffa5c881373660 EFLAGS: 00010246",
             "RAX: ffffa5c885148a00 RBX: ffff8df93d4f5cd8 RCX: 0000000000000800",
             "RDX: 0000000000000800 RSI: ffff8df950e64008 RDI: ffffa5c885148a00",
             "RBP: ffff8df952075b50 R08: 0000000000000000 R09: 0000000000000000"]
    if cr2:
        lines.append(f"CR2: {cr2} CR3: 000000010aa36005 CR4: 00000000003706e0")
    lines += ["Call Trace:", " g+0x1/0x10", " h+0x2/0x20"]
    return parse_log([f"[ 73.{i:06d}] {s}" for i, s in enumerate(lines)]).events[0]


def test_x86_plain_access_at_a_canonical_address_without_cr2_is_a_page_fault():
    ev = _x86("<f3> a4 c3 cc cc")                       # rep movsb byte ptr [rdi], byte ptr [rsi]
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffffa5c885148a00
    ev = _x86("<48> 8b 47 10 c3")                       # mov rax, qword ptr [rdi + 0x10]
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffffa5c885148a10


def test_x86_cr2_on_the_access_is_its_page_fault():
    ev = _x86("<48> 8b 47 10 c3", cr2="ffffa5c885148a10")
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffffa5c885148a10


@pytest.mark.parametrize("code, cr2", [
    ("<48> 8b 47 10 c3", "ffffffffc0001000"),           # CR2 elsewhere in the kernel half: not this access's
    ("<0f> 28 07 c3 cc", ""),                           # movaps xmm0, xmmword ptr [rdi]: alignment #GP possible
    ("<48> 0f c7 0f c3", ""),                           # cmpxchg16b xmmword ptr [rdi]: the same
])
def test_x86_canonical_access_that_names_no_kind(code, cr2):
    assert _x86(code, cr2).kind == "oops_other"


def test_general_access_forms():
    assert x86access.general_access("<f0> 0f b1 11")    # lock cmpxchg dword ptr [rcx], edx
    assert not x86access.general_access("<48> 8d 47 10")  # lea: no access
    assert not x86access.general_access("<0f> 0b")      # ud2
    assert not x86access.general_access("48 8b 47 10")  # no mark


_X = {0: "ffff000000eed688", 1: "ffff000012340000", 24: "ffff8000db94ffff", 26: "0000000000000001",
      29: "ffff800012345000"}


def _a64(word: str, regs=None, abort: bool = True):
    regs = {**_X, **(regs or {})}
    lines = (["Mem abort info:", "  ESR = 0x0000000096000047", "  EC = 0x25: DABT (current EL), IL = 32 bits"]
             if abort else [])
    lines += ["pc : f+0xcc0/0x1e60 [mod]", "lr : f+0xce8/0x1e60 [mod]",
              f"x29: {regs[29]} x26: {regs[26]} x24: {regs[24]}",
              f"x1 : {regs[1]} x0 : {regs[0]}",
              "Call trace:", " f+0xcc0/0x1e60 [mod]", " g+0x80/0x108",
              f"Code: 540001aa 1ad92768 f85f83aa 6b1a039f ({word})"]
    return parse_log([f"[  7.{i:06d}] {s}" for i, s in enumerate(lines)]).events[0]


@pytest.mark.parametrize("word, addr", [
    ("383a6b08", 0xffff8000db950000),   # strb w8, [x24, x26]
    ("f9401c20", 0xffff000012340038),   # ldr x0, [x1, #0x38]
    ("f8408402", 0xffff000000eed688),   # ldr x2, [x0], #8 (post-index: the base)
    ("a9400420", 0xffff000012340000),   # ldp x0, x1, [x1]
    ("f85f83aa", 0xffff800012344ff8),   # ldur x10, [x29, #-8]
    ("3d800420", 0xffff000012340010),   # str q0, [x1, #0x10] (scaled by 16)
    ("b8617800", 0xfffb000049bed688),   # ldr w0, [x0, x1, lsl #2]
])
def test_arm64_abort_address_from_the_marked_load_store(word, addr):
    ev = _a64(word)
    assert ev.kind == "paging_fault" and ev.fields["address"] == addr


def test_arm64_base_near_null_is_a_null_dereference():
    ev = _a64("f9401c20", {1: "0000000000000000"})      # ldr x0, [x1, #0x38], x1 = 0
    assert ev.kind == "null_deref"


@pytest.mark.parametrize("word", ["a9bf7bfd", "58000040", "8b010000"])  # stp ... [sp, #-0x10]!, ldr literal, add
def test_arm64_no_address_from_the_word_leaves_the_base_rate(word):
    ev = _a64(word)
    assert ev.kind == "null_deref" and ev.fields.get("address_unknown")


def test_arm64_without_abort_evidence_the_kind_stays_open():
    assert _a64("f9401c20", abort=False).kind == "oops_other"


def _kasan_range(arm64: bool):
    lines = ["KASAN: probably user-memory-access in range [0x00000006dca80000-0x00000006dca80007]"]
    if arm64:
        lines += ["Mem abort info:", "  ESR = 0x0000000096000047", "  EC = 0x25: DABT (current EL), IL = 32 bits",
                  "pc : f+0xcc0/0x1e60 [mod]", f"x26: {_X[26]} x25: 0000000000000028 x24: {_X[24]}",
                  "Call trace:", " f+0xcc0/0x1e60 [mod]", "Code: 540001aa 1ad92768 f85f83aa 6b1a039f (383a6b08)"]
    else:
        lines += ["CPU: 0 PID: 1 Comm: t Not tainted 6.1.0 #1", "RIP: 0010:f+0x1/0x20 [mod]", "Call Trace:", " g+0x1/0x10"]
    return parse_log([f"[  7.{i:06d}] {s}" for i, s in enumerate(lines)]).events[0]


def test_kasan_range_line_before_an_arm64_abort_is_a_data_abort():
    ev = _kasan_range(arm64=True)
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffff8000db950000


def test_kasan_range_line_on_x86_stays_a_gpf():
    assert _kasan_range(arm64=False).kind == "gpf"


def test_x86_fault_at_a_ret_is_a_protection_fault():
    # __x86_indirect_thunk_array's "mov [rsp], rax; ret" (posted 2220): the return address was
    # non-canonical; a canonical unmapped one would have faulted at the target, RIP there
    ev = _x86("48 89 04 24 <c3> 66 66 2e 0f 1f 84 00", cr2="0000000000000000")
    assert ev.kind == "gpf"


@pytest.mark.parametrize("code", [
    "<48> 89 c3 c3 cc",            # mov rbx, rax: no memory operand
    "<48> 8b 47 10 c3",            # mov rax, [rdi + 0x10]: RDI places it in the kernel half
])
def test_x86_near_null_cr2_the_instruction_cannot_reach_is_no_null_dereference(code):
    assert _x86(code, cr2="0000000000000008").kind != "null_deref"


def test_x86_near_null_cr2_on_an_access_through_a_register_the_dump_lacks_stays():
    ev = _x86("<49> 8b 47 10 c3", cr2="0000000000000010")   # mov rax, [r15 + 0x10]: R15 not shown
    assert ev.kind == "null_deref" and ev.fields["address"] == 0x10


def test_x86_code_line_wrapped_onto_hex_lines_is_joined():
    # a terminal's hard wrap at 90 columns splits show_opcodes()' line, and a byte with it
    # (posted 3214: "... 59 5b 5d e" / "9 75 f4 ...")
    lines = ["CPU 0", "RIP: 0010:[<ffffffff802a0ebb>]  [<ffffffff802a0ebb>] f+0x8b/0xa2",
             "RAX: ffff88010b253080 RBX: ffff88010c67d618 RCX: dead000000100100",
             "RDX: dead000000200200 RSI: ffff88010b253088 RDI: ffff88010c67d630",
             "CR2: 00000033af86c027 CR3: 00000000c1549000 CR4: 00000000000006e0",
             "Call Trace:", " [<ffffffff802a1cb9>] g+0x50/0x74",
             "Code: 0b 10 eb 04 48 8d 70 08 5d e",
             "9 75 <48> 89 51 08 48 89 0a",
             "RIP  [<ffffffff802a0ebb>] f+0x8b/0xa2"]
    ev = parse_log(lines).events[0]
    assert ev.fields["code"] == "0b 10 eb 04 48 8d 70 08 5d e9 75 <48> 89 51 08 48 89 0a"
    assert ev.kind == "gpf"          # mov [rcx + 8], rdx with RCX list poison: non-canonical
    assert [f.function for f in ev.frames] == ["g"]


@pytest.mark.parametrize("after", ["RSP: 0018:ffff8800bb4ad888  EFLAGS: 00010046", "e5903000 e1a00004",
                                   "Modules linked in: a b"])
def test_other_lines_after_a_code_line_are_not_joined(after):
    ev = parse_log(["RIP: 0010:f+0x8b/0xa2", "Code: 48 8d 70 08 <48> 89 51 08", after]).events[0]
    assert ev.fields["code"] == "48 8d 70 08 <48> 89 51 08"


def test_posted_3214_cut_after_its_header_joins_its_wrapped_code_line():
    # the real 2.6.27 report the join was written for: its Code: line wrapped twice at 90
    # columns, a byte split across the second break ("5d e" / "9 75"); cut after the GPF
    # header, the joined bytes decode mov [rcx + 8], rdx with RCX list poison, the GPF again
    from _posted import posted_lines
    lines = posted_lines("3214")
    assert lines[0].startswith("general protection fault")
    ev = parse_log(lines[1:]).events[0]
    assert "<48> 89 51 08 48 89 0a 48 8b 50 08 59 5b 5d e9 75 f4 09 00 58 5b" in ev.fields["code"]
    assert ev.kind == "gpf" and ev.fields["address"] == 0xdead000000100108
