"""Damaged input: truncations at many points, flipped header bytes, empty files,
directories and non-dumps. The readers may only raise TriageError subclasses (never
another exception), and a dump cut short after its headers opens as partial with
every page before the cut still readable.

Oracle for "still readable": the same page read from the intact file.
"""

import os

import pytest

from _synthetic import DATA
from triage.dumps import detect, open_dump
from triage.errors import CorruptDumpError, FormatError, InputError, MemoryReadError, TriageError

FILES = ["centos7-wrapped.kdump-zstd", "centos8-dynamic.mdf-l-d31.kdump", "centos8-dynamic.mdf-c-d31.flat"]


def exercise(path):
    """Open, ask for facts and VMCOREINFO, read a spread of pages. Returns the facts."""
    with open_dump(str(path)) as r:
        f = r.facts()
        r.vmcoreinfo()
        r.notes()
        for pfn in range(0, 0x2100, 97):
            try:
                if r.has_page(pfn):
                    r.read_phys(pfn * 4096, 4096)
            except MemoryReadError:
                pass
            except CorruptDumpError:
                pass
        return f


@pytest.mark.parametrize("name", FILES)
def test_truncated_everywhere(tmp_path, name):
    src = (DATA / name).read_bytes()
    points = sorted(set([1, 8, 16, 100, 463, 464, 4095, 4096, 4100, 4200, 8192, 8200, 12288, 16384])
                    | set(range(0, len(src), max(1, len(src) // 60))))
    partial_opened = 0
    for cut in points:
        if cut <= 0 or cut >= len(src):
            continue
        p = tmp_path / f"cut{cut}"
        p.write_bytes(src[:cut])
        try:
            f = exercise(p)
        except TriageError:
            continue
        assert not f.complete, f"cut at {cut} not reported as partial"
        assert f.problems
        partial_opened += 1
        os.unlink(p)
    assert partial_opened > 20


def _late_cut(name: str, src: bytes) -> int:
    """A cut inside the page data (kdump) or inside the last record (flattened)."""
    if src.startswith(b"makedumpfile"):
        pos = last = 4096
        while src[pos:pos + 8] != b"\xff" * 8:
            last = pos
            pos += 16 + int.from_bytes(src[pos + 8:pos + 16], "big")
        return last + 16 + 100
    from triage.dumps.kdump_header import parse_header
    from triage.dumps.store import FileStore
    store = FileStore(str(DATA / name))
    h = parse_header(store)
    with open_dump(str(DATA / name)) as r:
        pd_end = h.page_desc_offset + 24 * r.facts().pages_present
    store.close()
    return pd_end + (len(src) - pd_end) // 2


@pytest.mark.parametrize("name", FILES)
def test_truncated_late_keeps_early_pages(tmp_path, name):
    src = (DATA / name).read_bytes()
    p = tmp_path / "cut"
    p.write_bytes(src[:_late_cut(name, src)])
    with open_dump(str(DATA / name)) as good, open_dump(str(p)) as bad:
        f = bad.facts()
        assert not f.complete
        assert bad.vmcoreinfo() == good.vmcoreinfo()
        same = missing = 0
        for pfn in range(0x2000):
            if not good.has_page(pfn):
                continue
            try:
                page = bad.read_phys(pfn * 4096, 4096)
            except MemoryReadError:
                missing += 1
                continue
            assert page == good.read_phys(pfn * 4096, 4096)
            same += 1
        assert same > 100 and missing > 0


@pytest.mark.parametrize("name", FILES)
def test_flipped_header_bytes(tmp_path, name):
    src = bytearray((DATA / name).read_bytes())
    offsets = list(range(0, 480, 3)) + list(range(4096, 4096 + 200, 5))
    for off in offsets:
        for val in (0x00, 0xFF, src[off] ^ 0x80):
            data = bytearray(src)
            data[off] = val
            p = tmp_path / "flip"
            p.write_bytes(data)
            try:
                exercise(p)
            except TriageError:
                pass


def test_empty_directory_missing_and_non_dump(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        open_dump(str(empty))
    with pytest.raises(InputError, match="directory"):
        open_dump(str(tmp_path))
    with pytest.raises(InputError):
        open_dump(str(tmp_path / "nope"))
    text = tmp_path / "dmesg.txt"
    text.write_text("[    0.000000] Linux version 6.1.0\n")
    with pytest.raises(FormatError, match="not a vmcore"):
        open_dump(str(text))
    assert detect(str(text)) is None
    with pytest.raises(InputError):
        detect(str(tmp_path))


def test_flattened_without_end_marker_is_partial(tmp_path):
    src = (DATA / "centos8-dynamic.mdf-c-d31.flat").read_bytes()
    assert src[-16:] == b"\xff" * 16
    p = tmp_path / "noend"
    p.write_bytes(src[:-16])
    with open_dump(str(p)) as r, open_dump(str(DATA / "centos8-dynamic.mdf-c-d31.flat")) as good:
        f = r.facts()
        assert not f.complete
        assert any("end-of-stream marker" in x for x in f.problems)
        for pfn in range(0, 0x2000, 13):
            if good.has_page(pfn):
                assert r.read_phys(pfn * 4096, 4096) == good.read_phys(pfn * 4096, 4096)


def test_corrupt_error_carries_offset(tmp_path):
    src = bytearray((DATA / "centos7-wrapped.kdump-zstd").read_bytes())
    src[428:432] = (12345).to_bytes(4, "little")          # block_size
    p = tmp_path / "bs"
    p.write_bytes(src)
    with pytest.raises(CorruptDumpError) as exc:
        open_dump(str(p))
    assert exc.value.offset == 428 and "block_size" in str(exc.value)


def test_damaged_page_data_makes_only_that_page_unreadable(tmp_path):
    from triage.dumps.kdump_header import PAGE_DESC, parse_header
    from triage.dumps.store import FileStore
    name = DATA / "centos7-wrapped.kdump-zstd"
    src = bytearray(name.read_bytes())
    h = parse_header(FileStore(str(name)))
    with open_dump(str(name)) as good:
        pfn = 0x1000                                   # first page of the kernel image
        want_other = good.read_phys(0x1001 * 4096, 4096)
        desc = good._parts[0].desc_offset(pfn)
    off, size, flags, _ = PAGE_DESC.unpack_from(src, desc)
    assert flags == 0x20 and off > h.page_desc_offset
    src[off:off + size] = b"\xa5" * size               # garbage instead of a zstd frame
    p = tmp_path / "badpage"
    p.write_bytes(src)
    with open_dump(str(p)) as r:
        with pytest.raises(MemoryReadError) as exc:
            r.read_phys(pfn * 4096, 16)
        assert exc.value.offset == off and "damaged page data" in str(exc.value)
        assert r.read_phys(0x1001 * 4096, 4096) == want_other
        f = r.facts()
        assert not f.complete and any("damaged page data" in x for x in f.problems)


def test_big_endian_header_is_named(tmp_path):
    src = bytearray((DATA / "centos7-wrapped.kdump-zstd").read_bytes())
    src[8:12] = (6).to_bytes(4, "big")
    p = tmp_path / "be"
    p.write_bytes(src)
    with pytest.raises(FormatError, match="big-endian"):
        open_dump(str(p))
