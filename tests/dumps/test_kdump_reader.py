"""kdump-compressed and flattened readers against independent oracles.

Oracles:
- files makedumpfile 1.7.2 wrote (-c, -l, -d 31, -F, --split) compared page by page
  with makedumpfile's own ELF conversion (-E) of the same source, read by pyelftools;
- the committed synthetic kdump files (written by sample_dumps/synthetic) compared
  with the page contents the generator put in (regenerated in memory);
- `makedumpfile -R` (rearrange) output compared byte for byte with our in-place view
  of the flattened stream.
"""

import os
import random
import struct
import subprocess
import sys

import pytest

from _synthetic import (DATA, elf_oracle_pages, generate, mdf_set, needs_makedumpfile,  # noqa: F401
                        synthetic_elf)
from triage.dumps import detect, open_dump
from triage.dumps.flattened import FlatStore
from triage.dumps.store import FileStore
from triage.errors import FormatError, MemoryReadError


def _compare_with_oracle(reader, oracle, max_pfn):
    """Every oracle page reads the same; every other present page is a zero page."""
    checked = 0
    for pfn in range(max_pfn):
        if pfn in oracle:
            assert reader.has_page(pfn), f"pfn {pfn:#x} missing"
            assert reader.read_phys(pfn * 4096, 4096) == oracle[pfn], f"pfn {pfn:#x} differs"
            checked += 1
        elif reader.has_page(pfn):
            # makedumpfile -E drops zero pages; kdump files keep them as one shared page
            assert not any(reader.read_phys(pfn * 4096, 4096)), f"pfn {pfn:#x} not zero"
        else:
            # absent, or left out as zeros (ELF p_filesz..p_memsz; kdump dump level bit 1):
            # then it reads as zeros, as crash reads it
            try:
                assert not any(reader.read_phys(pfn * 4096, 4096)), f"pfn {pfn:#x} not zero"
            except MemoryReadError:
                pass
    return checked


@needs_makedumpfile
@pytest.mark.parametrize("key,fmt,comp", [("c", "kdump", "zlib"), ("l", "kdump", "lzo"),
                                          ("raw", "kdump", "none"), ("cF", "flattened-kdump", "zlib"),
                                          ("EF", "flattened-elf", "none")])
def test_makedumpfile_outputs_match_its_elf_conversion(mdf_set, key, fmt, comp):
    oracle = elf_oracle_pages(str(mdf_set["E"]))
    assert len(oracle) > 500
    assert detect(str(mdf_set[key])) == fmt
    with open_dump(str(mdf_set[key])) as r:
        f = r.facts()
        assert (f.format, f.compression, f.complete) == (fmt, comp, True)
        if fmt.endswith("kdump"):
            assert f.dump_level == 31
            assert f.header["header_version"] == 6
            assert f.vmcoreinfo_source == "kdump sub-header"
        assert "OSRELEASE=4.18.0-305.3.1.el8.x86_64" in r.vmcoreinfo()
        assert _compare_with_oracle(r, oracle, 0x2000) == len(oracle)


@needs_makedumpfile
def test_excluded_free_pages_raise(mdf_set):
    # The generator marks 0x1a00000-0x1c00000 as buddy-free with stale contents: -d 30
    # drops them, and without dump level bit 1 (zero pages) an excluded page is absent.
    with open_dump(str(mdf_set["c30"])) as r:
        assert r.facts().dump_level == 30
        assert not r.has_page(0x1a00)
        with pytest.raises(MemoryReadError, match="excluded"):
            r.read_phys(0x1a00000 + 100, 10)
    with open_dump(str(mdf_set["c0"])) as r:
        assert r.read_phys(0x1a00000, 16) == b"stale free page "


@needs_makedumpfile
def test_excluded_pages_read_as_zeros_at_dump_level_with_bit_1(mdf_set):
    # -d 31 includes bit 1 (zero pages): excluded RAM reads as zeros, as crash does;
    # the page is still not "present", and memory outside RAM is still absent.
    with open_dump(str(mdf_set["c"])) as r:
        assert not r.has_page(0x1a00)
        assert r.read_phys(0x1a00000 + 100, 10) == bytes(10)
        with pytest.raises(MemoryReadError):
            r.read_phys(r.facts().header["max_mapnr"] * 4096 + 4096, 8)


@needs_makedumpfile
def test_makedumpfile_split_set_matches_oracle(mdf_set):
    oracle = elf_oracle_pages(str(mdf_set["E"]))
    parts = [str(mdf_set[f"split{i}"]) for i in range(3)]
    with open_dump(list(reversed(parts))) as r:
        f = r.facts()
        assert f.complete and f.header["split_files"] == 3
        assert _compare_with_oracle(r, oracle, 0x2000) == len(oracle)
    with pytest.raises(FormatError):
        open_dump([parts[0], str(mdf_set["c"])])


def test_split_set_with_a_missing_part_is_partial(tmp_path):
    import kdump_writer
    g = generate.make_guest("centos8-dynamic")
    ranges = [(0, 0x900), (0x900, 0x1500), (0x1500, 0x2000)]
    parts = []
    for i, rng in enumerate(ranges):
        p = tmp_path / f"vmcore-{i}"
        generate.write_kdump(g, str(p), kdump_writer.KdumpSpec(codec="zstd", split=rng, phys_base=g.phys_base))
        parts.append(str(p))
    with open_dump(parts) as r:
        f = r.facts()
        assert f.complete and f.header["split_ranges"] == ranges
        for pfn in (0x10, 0x8ff, 0x900, 0x1234, 0x1500, 0x1fff):
            assert r.read_phys(pfn * 4096, 4096) == bytes(g.pages[pfn])
    with open_dump([parts[2], parts[0]]) as r:
        f = r.facts()
        assert not f.complete
        assert any("0x900-0x1500" in p and "no split file" in p for p in f.problems)
        assert r.read_phys(0x8ff * 4096, 4096) == bytes(g.pages[0x8ff])
        with pytest.raises(MemoryReadError):
            r.read_phys(0x900 * 4096, 8)


@needs_makedumpfile
def test_flattened_view_equals_makedumpfile_rearranged(mdf_set, tmp_path):
    for key in ("cF", "EF"):
        rearranged = tmp_path / f"{key}.R"
        with open(mdf_set[key], "rb") as src:
            from _synthetic import MAKEDUMPFILE
            subprocess.run([MAKEDUMPFILE, "-R", str(rearranged)], stdin=src, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        want = rearranged.read_bytes()
        flat = FlatStore(FileStore(str(mdf_set[key])))
        assert flat.complete and flat.size == len(want)
        assert flat.read(0, flat.size) == want
        rnd = random.Random(1)
        for _ in range(200):
            off = rnd.randrange(0, flat.size)
            n = rnd.randrange(1, 20000)
            assert flat.read(off, n) == want[off:off + n]
        flat.close()


def _flatten(data: bytes, chunks, order_seed=None, overwrite=None) -> bytes:
    """A flattened stream of `data` in records of the given sizes (optionally shuffled,
    with an early garbage record that a later one overwrites)."""
    recs = []
    pos = 0
    for n in chunks:
        if pos >= len(data):
            break
        recs.append((pos, data[pos:pos + n]))
        pos += n
    if pos < len(data):
        recs.append((pos, data[pos:]))
    if order_seed is not None:
        random.Random(order_seed).shuffle(recs)
    if overwrite:
        off, n = overwrite
        recs.insert(0, (off, b"\xee" * n))
    out = bytearray(b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1))
    out += bytes(4096 - len(out))
    for off, blob in recs:
        out += struct.pack(">qq", off, len(blob)) + blob
    out += struct.pack(">qq", -1, -1)
    return bytes(out)


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_flattened_shuffled_and_overwritten_records(tmp_path, seed):
    src = (DATA / "centos7-wrapped.kdump-zstd").read_bytes()
    flat = _flatten(src, [4096, 100, 7000, 1, 30000] * 20, order_seed=seed, overwrite=(50, 9000))
    p = tmp_path / "x.flat"
    p.write_bytes(flat)
    store = FlatStore(FileStore(str(p)))
    assert store.read(0, len(src)) == src
    assert store.read_present(0, len(src)) == src
    store.close()
    with open_dump(str(p)) as r, open_dump(str(DATA / "centos7-wrapped.kdump-zstd")) as ref:
        assert r.facts().format == "flattened-kdump"
        for pfn in range(0, 0x2000, 7):
            if ref.has_page(pfn):
                assert r.read_phys(pfn * 4096, 4096) == ref.read_phys(pfn * 4096, 4096)


@pytest.mark.parametrize("codec", ["zlib", "lzo", "snappy", "zstd"])
def test_committed_synthetic_pages_equal_generated_guest(codec):
    g = generate.make_guest("centos7-wrapped")
    with open_dump(str(DATA / f"centos7-wrapped.kdump-{codec}")) as r:
        f = r.facts()
        assert f.compression == codec and f.complete
        assert f.pages_present == f.pages_total == len(g.pages)
        for pfn, page in g.pages.items():
            assert r.read_phys(pfn * 4096, 4096) == bytes(page), f"pfn {pfn:#x}"
        assert r.vmcoreinfo() == g.vmcoreinfo
        assert [n.name for n in r.notes()] == ["CORE", "VMCOREINFO"]


def test_qemu_style_header_prefers_vmcoreinfo(tmp_path):
    """QEMU leaves utsname empty and writes phys_base oddly: VMCOREINFO wins."""
    import kdump_writer
    g = generate.make_guest("centos8-dynamic")
    spec = kdump_writer.KdumpSpec(codec="zlib", utsname=("", "", "", "", "x86_64", ""),
                                  phys_base=0xFFFFFFFF12345678, dump_level=1)
    p = tmp_path / "qemu.kdump"
    generate.write_kdump(g, str(p), spec)
    with open_dump(str(p)) as r:
        f = r.facts()
        assert f.writer == "qemu dump-guest-memory"
        assert f.header["phys_base"] == int(r.vmcoreinfo().split("NUMBER(phys_base)=")[1].split()[0])
        assert f.header["phys_base_source"] == "VMCOREINFO"


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("signature", [b"KDUMP   ", b"DISKDUMP"])
def test_header_versions_and_signatures(tmp_path, version, signature):
    import kdump_writer
    g = generate.make_guest("centos7-static")
    spec = kdump_writer.KdumpSpec(codec="snappy", header_version=version, signature=signature)
    p = tmp_path / "v.kdump"
    generate.write_kdump(g, str(p), spec)
    with open_dump(str(p)) as r:
        f = r.facts()
        assert f.header["header_version"] == version
        assert f.header["signature"] == signature.decode().strip()
        for pfn in (0x1000, 0x1001, 0x1c00, 0x1fff, 0x9):
            assert r.read_phys(pfn * 4096, 4096) == bytes(g.pages[pfn])
        has_vmci = signature == b"KDUMP   " and version >= 3
        assert (r.vmcoreinfo() == g.vmcoreinfo) if has_vmci else r.vmcoreinfo() is None
        assert bool(r.notes()) == (signature == b"KDUMP   " and version >= 4)


def test_incomplete_status_bit_is_partial(tmp_path):
    import kdump_writer
    g = generate.make_guest("centos7-static")
    p = tmp_path / "inc.kdump"
    generate.write_kdump(g, str(p), kdump_writer.KdumpSpec(codec="zlib", status=0x8))
    with open_dump(str(p)) as r:
        f = r.facts()
        assert not f.complete
        assert any("incomplete" in x for x in f.problems)


def _sparse_terabyte_kdump(path):
    """A kdump file for a 1 TiB machine (2**28 pfns: two 32 MiB bitmaps, sparse on disk)
    holding pfns 0-1023 and the very last pfn."""
    bs, max_mapnr = 4096, 1 << 28
    one = max_mapnr // 8
    uts = b"".join(x.ljust(65, b"\0") for x in [b"Linux", b"big", b"6.1.0", b"#1", b"x86_64", b""])
    hdr = struct.pack("<8si390s6xqqIiiIIIIIIi", b"KDUMP   ", 6, uts, 0, 0, 0, bs, 1, 2 * one // bs,
                      max_mapnr & 0xFFFFFFFF, 0, 0, 0, 0, 1)
    vmci = b"OSRELEASE=6.1.0\nPAGESIZE=4096\n"
    sub = struct.pack("<QiiQQqQqQqQQQQ", 0, 31, 0, 0, 0, bs + 104, len(vmci), 0, 0, 0, 0, 0, 0, max_mapnr)
    bm_off = 2 * bs
    pd_off = bm_off + 2 * one
    pfns = list(range(1024)) + [max_mapnr - 1]
    data_off = pd_off + 24 * len(pfns)
    with open(path, "wb") as f:
        f.write(hdr.ljust(bs, b"\0"))
        f.write((sub + vmci).ljust(bs, b"\0"))
        f.truncate(pd_off)
        for base in (bm_off, bm_off + one):
            f.seek(base)
            f.write(b"\xff" * 128)
            f.seek(base + one - 1)
            f.write(b"\x80")
        f.seek(pd_off)
        for i, _pfn in enumerate(pfns):
            f.write(struct.pack("<qIIQ", data_off + (bs if i == len(pfns) - 1 else 0), bs, 0, 0))
        f.write(b"\0" * bs + b"last page".ljust(bs, b"\0"))
    return max_mapnr


def test_terabyte_bitmap_rank(tmp_path):
    """Oracle: the layout written above (ranks known by construction)."""
    p = tmp_path / "tb.kdump"
    max_mapnr = _sparse_terabyte_kdump(p)
    with open_dump(str(p)) as r:
        f = r.facts()
        assert (f.pages_present, f.pages_total, f.complete) == (1025, 1025, True)
        assert r.read_phys((max_mapnr - 1) * 4096, 9) == b"last page"
        assert not r.has_page(5000)
        with pytest.raises(MemoryReadError):
            r.read_phys((max_mapnr - 2) * 4096, 1)


@pytest.mark.skipif(not os.path.exists("/usr/bin/time"), reason="GNU time is not installed")
def test_terabyte_bitmap_memory_stays_bounded(tmp_path):
    """Counting two 32 MiB bitmaps must not map them all into RSS (GNU time measures
    a separate process: a child of this one would inherit its RSS high-water mark)."""
    p = tmp_path / "tb.kdump"
    max_mapnr = _sparse_terabyte_kdump(p)
    code = ("from triage.dumps import open_dump\n"
            f"r = open_dump({str(p)!r}); r.facts(); r.read_phys({(max_mapnr - 1) * 4096}, 9)\n")
    out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c", code],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, timeout=120)
    peak_kb = int(out.stderr.split()[-1])
    assert peak_kb < 60_000, f"peak RSS {peak_kb} KB while counting two 32 MiB bitmaps"
