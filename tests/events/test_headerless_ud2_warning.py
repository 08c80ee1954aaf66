"""A headerless x86 report whose Code: marks ud2 at RIP is read as a WARNING.

ud2 raises #UD for BUG() and WARN() alike (report_bug(), 4.11+). With the header and
die()'s tail both outside the excerpt, the base rate decides: the kernel's rule is WARN_ON
plus recovery, not BUG() (checkpatch.pl), and of the tuning half's GPU-module logs whose
Code: marks ud2, 42 are WARNINGs and 8 anything else (posted 3513, tuning half).
"""

from triage.analysis import analyze_lines

HEADERLESS = [
    "RIP: 0010:dcn10_get_dig_frontend+0x76/0xb0 [amdgpu]",
    "Code: 39 44 89 c0 48 83 c4 08 c3 41 b8 05 00 00 00 83 f8 20 74 ed 41 b8 06 00 00 00 83 f8 40 74 e2 "
    "41 b8 04 00 00 00 83 f8 10 74 d7 {marked} 41 b8 ff ff ff ff 48 83 c4 08 44 89 c0 c3 45 31 c0 83 f8 01",
    "RSP: 0018:ffffa376c2dffca8 EFLAGS: 00210297",
    "RAX: 0000000000000000 RBX: ffff8ecf6b760000 RCX: 0000000000000008",
    "RDX: 0000000000000000 RSI: 000000000000596f RDI: ffff8ecf6db20000",
    "CR2: 00007fb5fb4a8000 CR3: 0000000356446000 CR4: 00000000003506e0",
    "Call Trace:",
    " dcn10_init_hw+0x6ed/0x930 [amdgpu]",
    " dc_set_power_state+0xf5/0x140 [amdgpu]",
    " dm_resume+0x328/0x500 [amdgpu]",
    " process_one_work+0x1b4/0x370",
]


def _lines(marked: str, header: str = ""):
    out = [l.replace("{marked}", marked) for l in HEADERLESS]
    return ([header] if header else []) + out


def test_headerless_ud2_in_a_gpu_module_is_that_drivers_warning():
    v = analyze_lines(_lines("<0f> 0b")).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == ("warning", "amdgpu", "dcn10_get_dig_frontend")


def test_headerless_ud2_in_core_code_is_a_core_warning():
    core = {"dcn10_get_dig_frontend": "rq_qos_wait", "dcn10_init_hw": "wbt_wait", "dc_set_power_state": "rq_qos_throttle",
            "dm_resume": "blk_mq_submit_bio", " [amdgpu]": ""}
    lines = _lines("<0f> 0b")
    for a, b in core.items():
        lines = [l.replace(a, b) for l in lines]
    v = analyze_lines(lines).verdict
    assert v.category == "warning" and not v.culprit.module and v.culprit.function == "rq_qos_wait"


def test_headerless_other_instruction_is_not_a_warning():
    # a load through RAX = 0 at RIP: a NULL dereference, not a WARN
    v = analyze_lines(_lines("<48> 8b 40 08")).verdict
    assert v.category != "warning"


def test_ud2_under_its_invalid_opcode_header_is_not_read_as_a_warning():
    v = analyze_lines(_lines("<0f> 0b", header="invalid opcode: 0000 [#1] PREEMPT SMP NOPTI")).verdict
    assert v.category != "warning"


def test_ud2_that_nothing_follows_is_not_read_as_a_warning():
    # BUG() does not return: int3 padding or the next BUG()'s ud2 follows its ud2 (posted 087, 295)
    for marked in ("<0f> 0b cc cc", "<0f> 0b 0f 0b"):
        v = analyze_lines(_lines(marked)).verdict
        assert v.category != "warning", marked


def test_old_invalid_operand_die_line_is_a_header():
    # 2.4-2.6.1x i386 do_invalid_op() died with "invalid operand: 0000": the report's header
    from triage.events.headers import match_header
    h = match_header("invalid operand: 0000")
    assert h is not None and h.kind == "oops_other"
    assert match_header("invalid operands to binary expression") is None
    v = analyze_lines(_lines("<0f> 0b", header="invalid operand: 0000")).verdict
    assert v.category != "warning"
