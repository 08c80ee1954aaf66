"""KernelMemory.read reads a physically contiguous run with one read_phys however many
translations it spans, and fails exactly as a read of one translation at a time would
(the oracle below: the page table walked page by page, without KernelMemory)."""

import pytest

from triage.errors import MemoryReadError
from triage.memory.kernel import KernelMemory

CHUNK = 0x1000


class Reader:
    """Physical memory whose page p holds bytes derived from p; some pages absent."""

    def __init__(self, absent=()):
        self.absent, self.calls = set(absent), []

    def read_phys(self, paddr, size):
        self.calls.append((paddr, size))
        for page in range(paddr // CHUNK, (paddr + size - 1) // CHUNK + 1):
            if page in self.absent:
                raise MemoryReadError(f"physical address {page * CHUNK:#x} is not in the dump",
                                      address=page * CHUNK)
        return bytes((a * 7 + 3) & 0xFF for a in range(paddr, paddr + size))


class Mem(KernelMemory):
    """Translations of CHUNK bytes from a table (vpage -> ppage); others fail."""

    def __init__(self, reader, table):
        self.reader, self.table = reader, table

    def translate(self, vaddr):
        p = self.table.get(vaddr // CHUNK)
        if p is None:
            raise MemoryReadError(f"virtual address {vaddr:#x} is not mapped", address=vaddr)
        return p * CHUNK + vaddr % CHUNK, CHUNK - vaddr % CHUNK


def page_by_page(start, size, absent):
    """The expected outcome from the page table and the byte rule alone (independent of
    KernelMemory): the bytes, or the error of the first page in address order that is
    unmapped or absent."""
    out, addr, end = bytearray(), start, start + size
    while addr < end:
        n = min(end, (addr // CHUNK + 1) * CHUNK) - addr
        ppage = TABLE.get(addr // CHUNK)
        if ppage is None:
            return ("error", str(MemoryReadError(f"virtual address {addr:#x} is not mapped")), addr)
        paddr = ppage * CHUNK + addr % CHUNK
        if ppage in absent:
            return ("error", str(MemoryReadError(f"cannot read virtual {addr:#x} (physical {paddr:#x}): "
                                                 f"physical address {ppage * CHUNK:#x} is not in the dump")), addr)
        out += bytes((a * 7 + 3) & 0xFF for a in range(paddr, paddr + n))
        addr += n
    return bytes(out)


def outcome(fn):
    try:
        return fn()
    except MemoryReadError as exc:
        return ("error", str(exc), exc.address)


TABLE = {0x100: 0x20, 0x101: 0x21, 0x102: 0x22, 0x103: 0x40, 0x104: 0x41, 0x106: 0x50}


@pytest.mark.parametrize("absent", [(), (0x21,), (0x22,), (0x41,), (0x20, 0x40)])
@pytest.mark.parametrize("start, size", [(0x100000 + 8, 3 * CHUNK - 16), (0x100000 + 100, 5 * CHUNK - 200),
                                         (0x100000, 7 * CHUNK), (0x101000 + 5, 10), (0x104ff0, 0x20)])
def test_runs_read_as_one_translation_at_a_time(absent, start, size):
    got = outcome(lambda: Mem(Reader(absent), TABLE).read(start, size))
    want = page_by_page(start, size, set(absent))
    assert got == want


def test_a_contiguous_run_is_one_read():
    r = Reader()
    data = Mem(r, TABLE).read(0x100000 + 8, 5 * CHUNK - 16)
    assert r.calls == [(0x20 * CHUNK + 8, 3 * CHUNK - 8), (0x40 * CHUNK, 2 * CHUNK - 8)]
    assert data == page_by_page(0x100000 + 8, 5 * CHUNK - 16, set())
