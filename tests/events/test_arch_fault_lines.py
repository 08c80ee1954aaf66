"""Fault lines of other architectures read to their address.

MIPS and LoongArch no_context() (arch/mips/mm/fault.c, arch/loongarch/mm/fault.c) print the
fault address with the registers after it on the same line: "CPU %d Unable to handle kernel
paging request at virtual address %0*lx, epc == %0*lx, ra == %0*lx" (LoongArch: "era =="). The
address ends at its comma; below mmap_min_addr it is a NULL dereference, as on every arch.
powerpc's page-fault die line is read with the DAR of its register dump (below)."""

import pytest

from triage.events import parse_log


@pytest.mark.parametrize("line, kind, address", [
    ("CPU 0 Unable to handle kernel paging request at virtual address 00000010, epc == 8f123458, ra == 8f123450",
     "null_deref", 0x10),
    ("CPU 3 Unable to handle kernel paging request at virtual address 0000000000000010, era == 9000000000123458, "
     "ra == 9000000000123450", "null_deref", 0x10),
    ("CPU 0 Unable to handle kernel paging request at virtual address 8f000010, epc == 8f123458, ra == 8f123450",
     "paging_fault", 0x8f000010),
    # arm64 and riscv end the line with the address
    ("Unable to handle kernel paging request at virtual address ffff800012345678", "paging_fault", 0xffff800012345678),
])
def test_fault_address_ends_at_its_comma(line, kind, address):
    ev = parse_log([f"[  120.000000] {line}", "[  120.000001] Oops[#1]:"]).events[0]
    assert (ev.kind, ev.fields.get("address")) == (kind, address)


# powerpc __bad_page_fault() (arch/powerpc/mm/fault.c) prints "BUG: Kernel NULL pointer
# dereference on read at 0x%08lx" (5.x+; "Unable to handle kernel paging request for data at
# address" before), "Faulting instruction address: 0x%08lx", then die("Kernel access of bad
# area"): an excerpt that starts at that die line still shows the data address in show_regs()'s
# "DAR: %016lx DSISR: %08lx" (booke: "DEAR: ... ESR: ...")
PPC_DIE = [
    "Oops: Kernel access of bad area, sig: 11 [#1]",
    "LE PAGE_SIZE=64K MMU=Radix SMP NR_CPUS=2048 NUMA PowerNV",
    "Modules linked in: amdgpu drm_kms_helper drm",
    "CPU: 4 PID: 1234 Comm: Xorg Not tainted 5.15.0 #1",
    "NIP:  c008000012345678 LR: c008000012345600 CTR: c000000000123456",
    "REGS: c000000012345678 TRAP: 0300   Not tainted  (5.15.0)",
    "MSR:  9000000000009033 <SF,HV,EE,ME,IR,DR,RI,LE>  CR: 24002484  XER: 00000000",
    "CFAR: c008000012345600 DAR: 0000000000000040 DSISR: 40000000 IRQMASK: 0",
    "NIP [c008000012345678] amdgpu_vm_bo_update+0x58/0x1f0 [amdgpu]",
    "LR [c008000012345600] amdgpu_vm_bo_update+0x30/0x1f0 [amdgpu]",
    "Call Trace:",
    "[c000000012345900] [c008000012345600] amdgpu_vm_handle_moved+0x30/0x1f0 [amdgpu]",
]


@pytest.mark.parametrize("dar, kind, address", [
    ("CFAR: c008000012345600 DAR: 0000000000000040 DSISR: 40000000 IRQMASK: 0", "null_deref", 0x40),
    ("DEAR: 00000040 ESR: 00000000", "null_deref", 0x40),
    ("CFAR: c008000012345600 DAR: c00800001234f000 DSISR: 40000000 IRQMASK: 0", "paging_fault", 0xc00800001234f000),
])
def test_powerpc_bad_area_die_takes_its_address_from_the_dar(dar, kind, address):
    lines = [l if not l.startswith("CFAR: ") else dar for l in PPC_DIE]
    ev = parse_log([f"[  120.{i:06d}] {l}" for i, l in enumerate(lines)]).events[0]
    assert (ev.kind, ev.fields.get("address")) == (kind, address)


def test_powerpc_bad_area_die_without_a_dar_is_a_page_fault_of_unknown_address():
    # no DAR: a page fault whose address is unknown, read as the commonest one, a NULL
    # dereference, and marked as assumed (address_unknown), with no address made up
    lines = [l for l in PPC_DIE if not l.startswith("CFAR: ")]
    ev = parse_log([f"[  120.{i:06d}] {l}" for i, l in enumerate(lines)]).events[0]
    assert ev.kind == "null_deref" and ev.fields.get("address_unknown") and "address" not in ev.fields


def test_other_powerpc_die_lines_are_not_page_faults():
    lines = ["Oops: Exception in kernel mode, sig: 5 [#1]"] + PPC_DIE[1:]
    ev = parse_log([f"[  120.{i:06d}] {l}" for i, l in enumerate(lines)]).events[0]
    assert ev.kind not in ("paging_fault", "null_deref")
