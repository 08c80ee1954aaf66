"""A client's continuation indent before the rest of a Code: run, a module list, a frame or a cut
__warn header, in a paste without console prefixes (triage.events.paste.rejoin_wrapped).

Oracle: the kernel prints each of these as one line (x86 show_opcodes() "Code: " and its bytes,
print_modules() "Modules linked in:" and the names, a frame "%pS" with its " [mod]" tag, __warn()
"WARNING: CPU: %d PID: %d at %s:%d %pS", arm dump_backtrace_entry() "... from [<%08lx>] (%pS)"),
so a line indented by 2-8 blanks that is nothing but the rest of it is the same line wrapped by a
client. Negatives: a line of another shape stays apart, whatever its indentation, and one blank
(a frame's own indentation) or more than 8 is not a client's indent.
"""

import pytest

from triage.events.paste import normalise


END = "---[ end trace 0000000000000000 ]---"


def _msgs(lines):
    return [s for _, s in normalise(lines)]


@pytest.mark.parametrize("indent", ["  ", "    "])
@pytest.mark.parametrize("head,tail", [
    ("Code: 39 44 89 c0 48 83 c4 08 c3 41 b8 05 00 00 00 83 f8 20 74 ed 41 b8",
     "06 00 00 00 83 f8 40 74 e2 41 b8 04 00 00 00 83 f8 10 74 d7 <0f> 0b 41"),
    ("WARNING: CPU: 1 PID: 3646 at drivers/base/devres.c:795", "devm_release_action+0x51/0x60"),
    ("WARNING: CPU: 28 PID: 6705 at nvidia/nv.c:5039 nvidia_dev_put+0xb1/0xc0", "[nvidia]"),
    ("BUG: KASAN: vmalloc-out-of-bounds in tegra_qspi_isr_thread+0xce8/0x1e60", "[spi_tegra210_quad]"),
    ("RIP: 0010:thunderstrike_hostcmd_req_work_handler+0x1b3/0x390", "[hid_nvidia_shield]"),
    (" mhi_fw_load_handler+0x126/0x340 [mhi", "a96cb91daba500cc77f86bad60c1f332dc3babdf]"),
    ("[<80012a54>](dump_backtrace) from", "[<80012c74>](show_stack+0x18/0x1c)"),
    ("Modules linked in: bridge stp llc iptable_mangle xt_REDIRECT nf_nat_redirect",
     "iptable_nat nf_nat_ipv4 nf_nat ipt_REJECT nf_conntrack_ipv4"),
])
def test_indented_rest_of_a_one_line_print_is_rejoined(indent, head, tail):
    lines = ["Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)", head, indent + tail, END]
    assert _msgs(lines) == [lines[0], head + " " + tail, END]


@pytest.mark.parametrize("head,nxt", [
    # a frame after a frame: the log's own next line, indented by the trace printer
    (" nvidia_dev_put+0xb1/0xc0 [nvidia]", "  nvidia_close+0x10/0x20 [nvidia]"),
    # one blank: a frame's own indentation, not a client's
    ("WARNING: CPU: 28 PID: 6705 at nvidia/nv.c:5039 nvidia_dev_put+0xb1/0xc0", " [nvidia]"),
    # deeper than a client indents: the log's own (a lockdep scenario's columns)
    ("RIP: 0010:nvidia_dev_put+0xb1/0xc0", "          [nvidia]"),
    # lockdep's unsafe-locking scenario under a frame: text, not a tail
    (" lock_acquire+0xd1/0x2f0", "  lock(&dev->struct_mutex);"),
    # after a Code: run, the register line (indented or not) is the next record
    ("Code: 39 44 89 c0 48 83 c4 08 c3 41 b8 05 00 00 00 83 f8 20 74 ed 41 b8 06 00",
     "  RSP: 0018:ffffb9d8c0d4bd28 EFLAGS: 00010246"),
    # a whole WARNING head (symbol given) takes no indented line
    ("WARNING: CPU: 1 PID: 3646 at drivers/base/devres.c:795 devm_release_action+0x51/0x60",
     "  Modules linked in: amdgpu"),
])
def test_indented_line_of_another_shape_stays_apart(head, nxt):
    lines = [head, nxt, END]
    assert _msgs(lines) == lines
