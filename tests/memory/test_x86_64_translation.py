"""x86_64 translation from VMCOREINFO against QEMU's own page-table walk.

Oracle: a QEMU `dump-guest-memory -p` (paging) dump records, for every mapped
page of the crashing CPU's page tables, its virtual and physical address in the
PT_LOAD headers. Our walk of init_top_pgt, done from VMCOREINFO alone, must give
the same physical address for the kernel addresses among them.
"""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import dump_files, dump_ids  # noqa: E402

from triage.dumps.elf import ElfReader  # noqa: E402
from triage.dumps.vmcoreinfo import parse_vmcoreinfo  # noqa: E402
from triage.errors import MemoryReadError  # noqa: E402
from triage.memory.kernel import KernelMemory  # noqa: E402
from triage.memory.x86_64 import START_KERNEL_MAP  # noqa: E402

PAGING = [d for d in dump_files("elf") if "paging" in d.name]
ELF = dump_files("elf")
ANY = dump_files("any")


@pytest.mark.skipif(not PAGING, reason="no QEMU paging dump generated")
@pytest.mark.parametrize("dump", PAGING, ids=dump_ids(PAGING))
def test_walk_matches_qemu_paging_headers(dump):
    with ElfReader(str(dump)) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
        mem = KernelMemory(r, info, "x86_64", use_segments=False)
        # Kernel half of a 4- or 5-level address space. QEMU also lists the current task's
        # user pages, sign-extended from the top VA bit; those are not in init_top_pgt.
        kernel_base = 0xFF00000000000000 if info.number("pgtable_l5_enabled") else 0xFFFF800000000000
        segs = [s for s in r.virtual_segments() if s[0] >= kernel_base]
        assert len(segs) > 1000
        rnd = random.Random(1)
        image = [x for x in segs if x[0] >= START_KERNEL_MAP]
        other = [x for x in segs if x[0] < START_KERNEL_MAP]     # direct map, vmalloc, fixmap...
        sample = rnd.sample(image, min(1000, len(image))) + rnd.sample(other, min(1000, len(other)))
        kinds = {"image": 0, "direct/other": 0}
        for vaddr, paddr, size in sample:
            v = vaddr + rnd.randrange(0, size) // 8 * 8
            got = mem.translator.walk(v)[0]
            assert got == paddr + (v - vaddr), hex(v)
            kinds["image" if v >= START_KERNEL_MAP else "direct/other"] += 1
            if v >= START_KERNEL_MAP and v < START_KERNEL_MAP + (1 << 30):
                assert mem.translate(v)[0] == got      # image formula agrees with the walk
        assert kinds["image"] and kinds["direct/other"]


@pytest.mark.skipif(not ANY, reason="no real dumps")
@pytest.mark.parametrize("dump", ANY, ids=dump_ids(ANY))
def test_kernel_reads(dump):
    """Any format: kdump files have no virtual PT_LOADs, so this is the page-table walk."""
    from triage.logsource import open_reader
    with open_reader([str(dump)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
        mem = KernelMemory(r, info, "x86_64")
        # init_uts_ns.name.sysname is "Linux"; release is OSRELEASE.
        base = info.symbol("init_uts_ns") + info.offset("uts_namespace.name")
        assert mem.read(base, 6) == b"Linux\0"
        assert mem.read(base + 2 * 65, len(info.osrelease)) == info.osrelease.encode()
        # the ring pointer leads to printk_rb_static unless the log was resized at boot
        prb = mem.read_pointer(info.symbol("prb"))
        assert prb >> 63
        with pytest.raises(MemoryReadError):
            mem.read(0x1000, 8)   # user half of init_top_pgt is empty
        data, missing = mem.read_tolerant(base, 8192)
        assert data[:6] == b"Linux\0" and missing == []


KEXEC = [d for d in ELF if d.name.startswith("vmcore-elf") or "kexec" in d.name][:1]


@pytest.mark.skipif(not KEXEC, reason="no in-guest /proc/vmcore copy generated")
@pytest.mark.parametrize("dump", KEXEC, ids=dump_ids(KEXEC))
def test_phys_base_from_kernel_text_segment(dump):
    """Without NUMBER(phys_base) the kexec ELF's kernel-text PT_LOAD gives the same value."""
    with ElfReader(str(dump)) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
        expected = info.number("phys_base")
        info.numbers.pop("phys_base")
        mem = KernelMemory(r, info, "x86_64")
        assert mem.translator.phys_base == expected
        mem_walk = KernelMemory(r, info, "x86_64", use_segments=False)
        assert mem_walk.translator.phys_base is None
        with pytest.raises(Exception) as ei:
            mem_walk.translator.walk(info.symbol("prb"))
        assert "phys_base" in str(ei.value)
