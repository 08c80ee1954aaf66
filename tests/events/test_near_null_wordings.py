"""A kernel fault address below mmap_min_addr (NEAR_NULL_LIMIT, 65536) is a NULL dereference
whatever the architecture's wording: arm/arm64 __do_kernel_fault() says "NULL pointer
dereference" only below PAGE_SIZE and "paging request" above it; powerpc before 5.x has
no NULL wording at all; powerpc 5.x says "Kernel NULL pointer dereference on %s at 0x%08lx".
Above the limit the same lines stay paging faults (negative cases)."""

import pytest

from triage.events.headers import match_header

NEAR_NULL = [
    ("Unable to handle kernel paging request at virtual address 00000000000000a8", 0xa8),
    ("Unable to handle kernel paging request at virtual address 00001008", 0x1008),
    ("Unable to handle kernel access to user memory outside uaccess routines at virtual address 0000000000001008",
     0x1008),
    ("Unable to handle kernel paging request for data at address 0x00000010", 0x10),
    ("BUG: Unable to handle kernel data access on read at 0x00000010", 0x10),
    ("BUG: Kernel NULL pointer dereference on read at 0x00000010", 0x10),
    ("BUG: Kernel NULL pointer dereference on write at 0x00000000", 0),
]


@pytest.mark.parametrize("line,addr", NEAR_NULL, ids=[n[0][:50] for n in NEAR_NULL])
def test_near_null_fault_is_a_null_deref(line, addr):
    h = match_header(line)
    assert h is not None and h.kind == "null_deref" and h.fields["address"] == addr


@pytest.mark.parametrize("line", [
    "Unable to handle kernel paging request at virtual address 0000000000010008",
    "Unable to handle kernel paging request at virtual address ffff800012345678",
    "Unable to handle kernel paging request for data at address 0xc0000000deadbeef",
    "BUG: Unable to handle kernel data access on write at 0xc00000000badbeef",
])
def test_far_fault_stays_a_paging_fault(line):
    h = match_header(line)
    assert h is not None and h.kind == "paging_fault"


def test_kasan_null_ptr_deref_range_gives_the_address():
    # mm/kasan/report.c kasan_non_canonical_hook(): the GPF's pointer before KASAN's shadow arithmetic
    h = match_header("KASAN: null-ptr-deref in range [0x0000000000000010-0x0000000000000017]")
    assert h is not None and h.kind == "gpf" and h.secondary
    assert h.fields["kasan_range"] == "null-ptr-deref" and h.fields["address"] == 0x10
    h = match_header("KASAN: maybe wild-memory-access in range [0x0003088000000010-0x0003088000000017]")
    assert h is not None and h.fields["kasan_range"] == "maybe wild-memory-access" and "address" not in h.fields


def _verdict(lines):
    from triage.analysis import analyze_lines
    return analyze_lines([f"[    1.{i:06d}] {l}" for i, l in enumerate(lines)]).verdict


@pytest.mark.parametrize("pte", [
    "[0000000000000010] user address but active_mm is swapper",      # arm64 show_pte()
    "[00000010] *pgd=00000000",                                        # arm32 show_pte()
])
def test_show_pte_before_the_die_line_gives_the_address(pte):
    # the "Unable to handle" line cut off: show_pte() printed the address before die()
    v = _verdict(["pgd = c0004000", pte, "Internal error: Oops: 5 [#1] SMP ARM",
                  "PC is at lima_sched_run_job+0x2c/0x90 [lima]"] if "*pgd" in pte else
                 [pte, "Internal error: Oops: 96000005 [#1] PREEMPT SMP", "pc : panfrost_job_run+0x2c/0x90 [panfrost]"])
    assert v.category == "gpu_null_deref"


def test_show_pte_of_a_kernel_address_stays_a_paging_fault():
    v = _verdict(["[ffff800012345678] pgd=0000000000000000", "Internal error: Oops: 96000005 [#1] PREEMPT SMP",
                  "pc : panfrost_job_run+0x2c/0x90 [panfrost]"])
    assert v.category == "gpu_fault"


@pytest.mark.parametrize("pgd, category", [
    # dump_pagetable() walked below the top level: no address evidence either way, the page
    # fault's address is taken by the base rate (parser._name_x86_fault)
    ("PGD 1e0e067 P4D 1e0e067 PUD 0 ", "gpu_null_deref"),
    # "PGD 0": the top-level entry is empty, a user-half address: NULL plus an offset
    ("PGD 0 ", "gpu_null_deref"),
])
def test_x86_ip_line_opens_a_headerless_page_fault(pgd, category):
    # 2.6-4.x show_fault_oops(): "IP: [<addr>] func" right after the cut "BUG: unable to handle" line
    v = _verdict(["IP: [<ffffffffc0a1b2c4>] amdgpu_vm_bo_update+0x2c/0x90 [amdgpu]", pgd, "Oops: 0000 [#1] SMP"])
    assert v.category == category and v.culprit.module == "amdgpu"
