"""The die() line of the BUG() trap on architectures that do not word it "Internal error:"
(triage.events.headers._bug_die), x86's "invalid opcode" die line with ud2 at RIP
(triage.events.parser._name_x86_bug_trap) and riscv's "epc : %pS" faulting location
(triage.events.frames.parse_ip_line).

Formats: riscv die() "%s [#%d]" with do_trap_break()'s "Kernel BUG" (arch/riscv/kernel/traps.c),
sh die() "%s: %04lx [#%d]" with "Kernel BUG", mips die() "%s[#%d]:" with do_bp()'s "Kernel bug
detected", loongarch die() "%s[#%d]:" with do_bp()'s "Oops - BUG"; report_bug() prints "kernel
BUG at %s:%u!" before each."""

import pytest

from triage.analysis import analyze_lines
from triage.diagnosis.diagnose import HEADER_MISSING
from triage.events.frames import parse_ip_line
from triage.events.parser import parse_log

_BODY = ["[   85.813286] CPU: 1 PID: 990 Comm: t Not tainted 6.1.0 #1",
         "[   85.826910] epc : my_check+0x172/0x18c [mydrv]",
         "[   85.832659]  ra : my_caller+0x7e/0x1b6 [mydrv]"]


@pytest.mark.parametrize("die", ["Kernel BUG [#1]", "Kernel BUG: 003e [#1]", "Kernel bug detected[#1]:",
                                 "Oops - BUG[#1]:"])
def test_a_bug_die_line_alone_opens_a_bug_that_lost_its_site(die):
    d = analyze_lines([f"[   85.683090] {die}"] + _BODY)
    assert d.verdict.category == "kernel_bug"
    assert HEADER_MISSING in d.source.problems


@pytest.mark.parametrize("die", ["Kernel BUG [#1]", "Oops - BUG[#1]:"])
def test_after_the_site_line_the_die_line_only_adds_to_it(die):
    log = parse_log(["[   85.678283] kernel BUG at drivers/x/y.c:500!", f"[   85.683090] {die}"] + _BODY)
    assert [e.kind for e in log.events] == ["kernel_bug"]
    assert log.events[0].fields["file"] == "drivers/x/y.c"
    d = analyze_lines(["[   85.678283] kernel BUG at drivers/x/y.c:500!", f"[   85.683090] {die}"] + _BODY)
    assert HEADER_MISSING not in d.source.problems


@pytest.mark.parametrize("line", ["Oops[#1]:", "Kernel BUGS [#1]", "Oops - BUGGY thing"])
def test_other_die_words_are_no_bug(line):
    log = parse_log([f"[   85.683090] {line}"] + _BODY)
    assert all(e.kind != "kernel_bug" for e in log.events)


def test_riscv_epc_names_the_faulting_location():
    fr = parse_ip_line("epc : prepare_alloc_pages.constprop.0+0x172/0x18c")
    assert fr is not None and fr.function == "prepare_alloc_pages.constprop.0"
    # the raw register line that follows it names no symbol
    assert parse_ip_line("epc : ffffffff801e32d0 ra : ffffffff801e8f30 sp : ffffffc80498b840") is None


_X86 = ["[  419.852208] invalid opcode: 0000 [#4] SMP PTI",
        "[  419.852212] CPU: 0 PID: 1522 Comm: Xorg Not tainted 5.11.0 #187",
        "[  419.852216] RIP: 0010:f+0x31a/0x3d0",
        "[  419.852222] Code: {}",
        "[  419.852227] RAX: 0000000000000000 RBX: 0000000000000000 RCX: 000000000000e8e8"]


def _x86(code):
    return [s.format(code) if "Code:" in s else s for s in _X86]


def test_x86_invalid_opcode_at_a_ud2_is_a_bug_that_lost_its_site():
    # a WARN's ud2 returns from the trap and never dies: the #UD die line at ud2 is BUG()
    log = parse_log(_x86("e9 e9 fd ff ff <0f> 0b 0f 0b e9 79 fd ff ff"))
    assert log.events[0].kind == "kernel_bug" and log.events[0].fields.get("header_missing")
    assert HEADER_MISSING in analyze_lines(_x86("e9 e9 fd ff ff <0f> 0b 0f 0b e9 79 fd ff ff")).source.problems


@pytest.mark.parametrize("code", ["e9 e9 fd ff ff <48> 8b 47 10 c3", "Unable to access opcode bytes at 0xffffffff81000000."])
def test_x86_invalid_opcode_elsewhere_stays_an_invalid_opcode(code):
    # a jump into data, or no code bytes: a #UD with nothing to say it was BUG()
    log = parse_log(_x86(code))
    assert log.events[0].kind == "oops_other" and log.events[0].fields.get("headline") == "invalid opcode"


@pytest.mark.parametrize("prefix, die", [("1008", "Kernel BUG [#1]"), ("2904", "Oops - BUG[#1]:")])
def test_posted_die_lines_after_and_without_their_site_line(prefix, die):
    # the real riscv (1008) and loongarch (2904) reports: whole, the die line adds to the
    # "kernel BUG at" line; cut after that line, it opens the BUG that lost its site
    from _posted import posted_lines
    lines = posted_lines(prefix)
    i = next(k for k, s in enumerate(lines) if "kernel BUG at " in s)
    assert lines[i + 1].rstrip().endswith(die)
    whole = [e for e in parse_log(lines).events if e.kind == "kernel_bug"]
    assert len(whole) == 1 and whole[0].fields.get("file") and not whole[0].fields.get("header_missing")
    cut = parse_log(lines[i + 1:]).events[0]
    assert cut.kind == "kernel_bug" and cut.fields.get("header_missing") and not cut.fields.get("file")
