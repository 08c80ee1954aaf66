"""arm/arm64 reports that start at "Mem abort info:" or at the die() line
("Internal error: ...") because the "Unable to handle kernel ..." line is not in
the excerpt: named from the ESR/fault status and the show_pte() address, with
the culprit from the pc line.

The arm64 lines are the serial console of sample_dumps/out-arm64/gpu_null-128M-
kaslr-qemu (Debian 6.1.0-57-arm64, real kernel output); the cut versions are what
users paste when they copy from the second line on.
"""

import os

from triage.analysis import analyze_lines
from triage.events.parser import parse_text

ARM64_NULL = """\
[   23.254767] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008
[   23.255254] Mem abort info:
[   23.255433]   ESR = 0x0000000096000006
[   23.255702]   EC = 0x25: DABT (current EL), IL = 32 bits
[   23.255995]   SET = 0, FnV = 0
[   23.256209]   EA = 0, S1PTW = 0
[   23.256416]   FSC = 0x06: level 2 translation fault
[   23.257153] Data abort info:
[   23.257353]   ISV = 0, ISS = 0x00000006
[   23.257579]   CM = 0, WnR = 0
[   23.257813] user pgtable: 4k pages, 48-bit VAs, pgdp=0000000042407000
[   23.258206] [0000000000000008] pgd=0800000043438003, p4d=0800000043438003, pud=0800000043439003, pmd=0000000000000000
[   23.259358] Internal error: Oops: 0000000096000006 [#1] SMP
[   23.259795] Modules linked in: acme_storage(OE) nvidia(POE) qemu_fw_cfg
[   23.260804] CPU: 0 PID: 1 Comm: init Tainted: P           OE      6.1.0-57-arm64 #1  Debian 6.1.192-3
[   23.261378] Hardware name: linux,dummy-virt (DT)
[   23.261755] pstate: 00400005 (nzcv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)
[   23.262599] pc : nv_channel_kick.constprop.0.isra.0+0x18/0x24 [nvidia]
[   23.263552] lr : nv_trigger_write+0xd8/0x14c [nvidia]
[   23.263877] sp : ffff80000802b8d0
[   23.264090] x29: ffff80000802b8d0 x28: ffff0000025b9040 x27: 0000000000000000
[   23.264955] x26: 0000000000000000 x25: 0000000000000000 x24: 0000000000000000
[   23.265465] x23: ffff80000802b9e0 x22: ffff00000259d800 x21: 000000000c1b0a70
[   23.266002] x20: 000000000c1b0a70 x19: 0000000000000005 x18: 0000000000000006
[   23.266502] x17: 0000000000000000 x16: ffffbc4ae4c9b470 x15: ffff80000802b3a0
[   23.267001] x14: 0000000000000000 x13: 276c6c756e272072 x12: 656767697274203a
[   23.267503] x11: 00000000ffffefff x10: 00003c4ad24a37a8 x9 : ffffbc4ada4ce1c8
[   23.268023] x8 : 0101010101010101 x7 : c0000000ffffefff x6 : 0000000080808080
[   23.269062] x5 : 0000000000000000 x4 : 8080808000000000 x3 : 0000000000000000
[   23.269568] x2 : 0000000000000000 x1 : 0000000000000001 x0 : 0000000000000000
[   23.270194] Call trace:
[   23.270492]  nv_channel_kick.constprop.0.isra.0+0x18/0x24 [nvidia]
[   23.271006]  proc_reg_write+0xac/0x100
[   23.271494]  vfs_write+0xdc/0x3a0
[   23.271739]  ksys_write+0x7c/0x11c
[   23.271983]  __arm64_sys_write+0x24/0x30
[   23.272246]  invoke_syscall+0x68/0xe0
[   23.272706]  el0_svc_common.constprop.0+0x4c/0xf4
[   23.273015]  do_el0_svc+0x2c/0x9c
"""

# arm32 die() for BUG(): tests/data/posted/254 (beagleboard/linux#89), without its "kernel BUG at" line
ARM32_BUG = """\
[48816.076047] Internal error: Oops - BUG: 0 [#7] PREEMPT SMP THUMB2
[48816.076104] CPU: 0 PID: 73 Comm: irq/162-mmc1 Tainted: G      D         4.1.22-ti-rt-r59 #1
[48816.076107] Hardware name: Generic AM33XX (Flattened Device Tree)
[48816.076119] PC is at __schedule+0x3ce/0x4f8
[48816.076124] LR is at rcu_preempt_qs+0x17/0x48
"""


def _verdict(text):
    d = analyze_lines(text.splitlines())
    return d.verdict.category, (d.verdict.culprit.module if d.verdict.culprit else None)


def test_full_report_is_a_gpu_null_deref():
    assert _verdict(ARM64_NULL) == ("gpu_null_deref", "nvidia")


def test_cut_before_mem_abort_info_keeps_kind_address_and_culprit():
    cut = ARM64_NULL.split("\n", 1)[1]           # starts at "Mem abort info:"
    ev = parse_text(cut).events[0]
    assert ev.kind == "null_deref" and ev.fields["address"] == 8
    assert _verdict(cut) == ("gpu_null_deref", "nvidia")


def test_cut_at_the_die_line_is_a_fault_in_the_pc_module():
    lines = ARM64_NULL.splitlines()
    cut = "\n".join(lines[lines.index(next(x for x in lines if "Internal error" in x)):])
    ev = parse_text(cut).events[0]
    # the ESR's exception class 0x25 is a data abort; without show_pte's address it is not known
    # to be NULL: the commonest page fault is assumed, and said to be
    assert ev.kind == "null_deref" and ev.fields.get("address_unknown")
    assert _verdict(cut) == ("gpu_null_deref", "nvidia")


def test_far_address_from_show_pte_is_a_paging_fault():
    text = ARM64_NULL.split("\n", 1)[1].replace("[0000000000000008] pgd=", "[000fffc081e0daf0] pgd=")
    assert parse_text(text).events[0].kind == "paging_fault"


def test_oops_bug_without_kernel_bug_line_is_a_kernel_bug():
    log = parse_text(ARM32_BUG)
    assert log.events[0].kind == "kernel_bug"
    d = analyze_lines(ARM32_BUG.splitlines())
    assert d.verdict.category == "kernel_bug"


def test_unhandled_fault_at_gives_the_address():
    # tests/data/posted/269 (HEAPLab/ASPIS#13): arm64 "ttbr address size fault" with ESR DABT
    path = os.path.join(os.path.dirname(__file__), "..", "data", "posted",
                        "269-arm64-ttbr-address-size-fault-phytium-prompt-glued.log")
    with open(path) as fp:
        ev = parse_text(fp.read()).events[0]
    assert ev.kind == "paging_fault" and ev.fields["address"] == 0xffff800010003eb0
