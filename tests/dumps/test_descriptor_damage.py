"""A damaged page descriptor or 2nd-bitmap bit of a real dump is named as damage, not
as an unfinished dump.

makedumpfile fills the descriptor table in pfn order, so a dump it could not finish
ends in descriptors that are all zero bytes ("never written"). A flipped byte that
leaves one descriptor without an offset, with written descriptors after it, or one
extra bit in the 2nd bitmap (which shifts every later pfn onto its neighbour's
descriptor), is damage, and the message says which.

Oracle: the committed real dump (makedumpfile -c, Debian 6.1 guest), patched in place
at offsets computed from its own header (makedumpfile's diskdump_mod.h layout).
"""

import struct
import sys
from pathlib import Path

import pytest

from triage.dumps.base import Damage
from triage.dumps.kdump import PAGE_DESC_SIZE, KdumpReader
from triage.errors import TriageError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "dumps"))
from test_damage_named import KDUMP, Patched, _flip, _kdump_problem, _log_error, _ring_infos_desc_offset  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from _realdumps import dump_files  # noqa: E402

# every real kdump-format file that is a whole dump (not a --split part)
WHOLE = [p for p in dump_files("kdump") if "split" not in str(p)]


def _layout():
    """(descriptor count, table offset, 2nd bitmap offset, its bytes) of the committed dump."""
    with KdumpReader([Patched(KDUMP, {})]) as r:
        p = r._parts[0]
        head = p.store.read(p.hdr.page_desc_offset, 1024 * PAGE_DESC_SIZE)
        return p.dumpable_count(), p.hdr.page_desc_offset, p.bitmap2.offset, \
            p.store.read(p.bitmap2.offset, p.bitmap2.nbytes), head


def _zero(offset: int, n: int) -> dict:
    return {offset + i: 0 for i in range(n)}


def test_the_committed_dump_is_clean():
    said = _kdump_problem({})
    assert "descriptor" not in said and "bitmap" not in said, said


def test_a_never_written_tail_is_an_incomplete_dump():
    n, base, _bm, _bits, _h = _layout()
    said = _kdump_problem(_zero(base + (n - 3) * PAGE_DESC_SIZE, 3 * PAGE_DESC_SIZE))
    assert "the last 3 page descriptors were never written (dump incomplete)" in said, said
    said = _kdump_problem(_zero(base + (n - 1) * PAGE_DESC_SIZE, PAGE_DESC_SIZE))
    assert "the last page descriptor was never written" in said, said


def test_a_descriptor_without_offset_among_written_ones_is_damage():
    n, base, _bm, _bits, _h = _layout()
    i = n - 10
    said = _kdump_problem(_zero(base + i * PAGE_DESC_SIZE, 8))     # offset only: size, flags kept
    assert f"page descriptor {i} (at offset {base + i * PAGE_DESC_SIZE:#x}) is damaged" in said, said
    assert "never written" not in said and "incomplete" not in said, said


def test_a_zeroed_descriptor_with_written_ones_after_it_is_damage():
    n, base, _bm, _bits, _h = _layout()
    i = n - 5
    said = _kdump_problem(_zero(base + i * PAGE_DESC_SIZE, PAGE_DESC_SIZE))
    assert f"page descriptor {i} " in said and "is damaged" in said, said
    assert "never written" not in said, said


def _said(path: Path, patches: dict) -> str:
    try:
        with KdumpReader([Patched(path, patches)]) as r:
            return " | ".join(r.facts().problems)
    except TriageError as exc:
        return str(exc)


@pytest.mark.parametrize("path", WHOLE, ids=[str(p.relative_to(ROOT)) for p in WHOLE])
def test_an_extra_bit_in_the_2nd_bitmap_is_named(path):
    """The first descriptor no longer points at the computed data start or one block past
    it: the message names the 2nd bitmap, whether the first pfn is a zero page or not."""
    with KdumpReader([Patched(path, {})]) as r:
        p = r._parts[0]
        if p.hdr.split:
            pytest.skip("a --split part")
        n, base = p.dumpable_count(), p.hdr.page_desc_offset
        bm, bits = p.bitmap2.offset, p.store.read(p.bitmap2.offset, min(p.bitmap2.nbytes, 1 << 16))
    byte = next(i for i, b in enumerate(bits) if b not in (0, 0xFF) and i > 0)
    bit = next(k for k in range(8) if not bits[byte] >> k & 1)
    said = _said(path, {bm + byte: bits[byte] | 1 << bit})
    assert "2nd bitmap" in said, said
    assert f"place the page data at {base + (n + 1) * PAGE_DESC_SIZE:#x}" in said, said


@pytest.mark.parametrize("patch", ["sign", "offset"])
def test_a_damaged_descriptor_the_log_needs_is_damage_not_a_cut(patch):
    """The log ring's own descriptor, in the middle of the table, with its offset's sign bit
    flipped (one bit) or its offset zeroed (size and flags kept): written bytes, so damage; the
    log cannot be read, and neither the reader nor the CLI's message says incomplete or cut."""
    at = _ring_infos_desc_offset()
    said = _log_error(_flip(at + 7, 0x80) if patch == "sign" else _zero(at, 8))
    assert said.startswith(f"{KDUMP}: its kernel log cannot be read (")
    assert "has a damaged page descriptor (data offset " in said and f"(at offset {at:#x})" in said, said
    assert "incomplete" not in said and "cut short" not in said and "truncated" not in said, said


def test_an_all_zero_descriptor_the_log_needs_before_written_ones_is_damage():
    """The log ring's descriptor, in the middle of the table, zeroed whole (all 24 bytes): as
    a never-written descriptor looks, but written ones follow it, and makedumpfile fills the
    table in pfn order, so the dump was not cut there; the message says damaged."""
    at = _ring_infos_desc_offset()
    said = _log_error(_zero(at, PAGE_DESC_SIZE))
    assert said.startswith(f"{KDUMP}: its kernel log cannot be read (")
    assert "has a damaged page descriptor (all zero bytes, with written descriptors after it)" in said, said
    assert f"(at offset {at:#x})" in said, said
    assert "incomplete" not in said and "cut short" not in said and "truncated" not in said, said


def test_an_all_zero_descriptor_in_a_never_written_tail_stays_incomplete():
    """Every descriptor from the log ring's on zeroed, as a dump cut short there leaves the
    table: the read error says incomplete, not damaged."""
    n, base, _bm, _bits, _h = _layout()
    at = _ring_infos_desc_offset()
    said = _log_error(_zero(at, base + n * PAGE_DESC_SIZE - at))
    assert "damaged" not in said, said
    assert "never written (dump incomplete)" in said or "incomplete or truncated" in said, said


class _Facts:
    """A reader that read no log, with one problem: what _cut_before_log words."""

    def __init__(self, path: str, why: str):
        self.paths, self._why = [path], why

    def facts(self):
        from triage.dumps.base import DumpFacts, with_path
        return DumpFacts(format="kdump", complete=False, problems=[with_path(self.paths[0], self._why)])


@pytest.mark.parametrize("why, said", [
    (Damage("page descriptor 7 (at offset 0x10b8) is damaged (data offset 0, size 4096)"), "cannot be read"),
    (Damage("program header 3 field p_offset or p_filesz: its file data [0x1000, 0x2000) overlaps that of "
            "program header 2"), "cannot be read"),
    ("the last 3 page descriptors were never written (dump incomplete)", "is cut short before"),
    ("file is truncated inside the page descriptor table (100 descriptors expected)", "is cut short before"),
    # the kind decides, not the words
    ("page data is damaged, says a problem not marked as damage", "is cut short before"),
])
def test_the_log_error_says_damage_or_a_cut_as_the_reader_marked_it(tmp_path, why, said):
    from triage.logsource import _cut_before_log
    path = str(tmp_path / "vmcore")
    err = _cut_before_log(_Facts(path, why), TriageError("no log"))
    assert said in str(err) and why in str(err), str(err)


def test_the_readers_mark_damage_as_damage():
    """The real dump's damaged descriptor and ELF program header problems come out as Damage;
    a never-written tail does not."""
    n, base, _bm, _bits, _h = _layout()
    with KdumpReader([Patched(KDUMP, _zero(base + (n - 10) * PAGE_DESC_SIZE, 8))]) as r:
        probs = r.facts().problems
    assert any(isinstance(p, Damage) and "is damaged" in p for p in probs), probs
    with KdumpReader([Patched(KDUMP, _zero(base + (n - 3) * PAGE_DESC_SIZE, 3 * PAGE_DESC_SIZE))]) as r:
        probs = r.facts().problems
    assert probs and not any(isinstance(p, Damage) for p in probs), probs
