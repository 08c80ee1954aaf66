"""A flipped bit in a kdump page descriptor's flags field is named as the flags field.

makedumpfile and QEMU write page_desc.flags as exactly one codec bit (zlib 0x1, lzo
0x2, snappy 0x4, zstd 0x20) or 0 for a page stored raw, and nothing else (checked
below on every real kdump-format dump). A value with several codec bits or unknown
bits is therefore damage in the descriptor, not in the page data: before, 0x2 -> 0x3
was reported as "zlib page data does not decompress" and 0x1 -> 0x3 or a stray high
bit passed unseen. The page is still read when exactly one codec the bits name
decodes its data to one page.

Oracles: the real dumps the generator made (a copy with one bit flipped against the
intact file: the same log, byte for byte), and the synthetic centos7 set (zstd,
snappy) read in place with its page data read from the intact file.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from _synthetic import DATA, ring_infos_desc_offset
from triage.dumps import open_dump
from triage.dumps.codecs import codec_name, flags_damage
from triage.dumps.kdump import KdumpReader
from triage.dumps.kdump_header import PAGE_DESC, PAGE_DESC_SIZE
from triage.dumps.store import FileStore
from triage.errors import MemoryReadError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from _realdumps import dump_files  # noqa: E402

FLAGS_AT = 12               # page_desc: offset (8 bytes), size (4), flags (4), page_flags (8)
COMMITTED = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
KDUMPS = [p for p in dump_files("kdump")]


def _generated(suffix: str):
    return next((p for p in KDUMPS if "committed" not in p.parts and p.name.endswith(suffix)), None)


# lzo: the committed in-guest capture; zlib: makedumpfile -c of a generated one (when made)
REAL = [p for p in (COMMITTED, _generated(".mdf-zlib")) if p is not None and p.exists()]


def _ring_page_flags_offset(path: Path) -> int:
    """File offset of the flags field of the descriptor of the page holding the
    printk_info array (a page the log cannot do without)."""
    return ring_infos_desc_offset(path) + FLAGS_AT


def _flipped_copy(src: Path, dst: Path, at: int, xor: int) -> int:
    """Copy `src` to `dst` with the 32-bit field at `at` xored; the old value."""
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(at)
        old = int.from_bytes(f.read(4), "little")
        f.seek(at)
        f.write((old ^ xor).to_bytes(4, "little"))
    return old


def _triage(*args):
    return subprocess.run([sys.executable, "-m", "triage", *map(str, args)], capture_output=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)


@pytest.mark.parametrize("src", REAL, ids=[p.parent.name + "/" + p.name for p in REAL])
@pytest.mark.parametrize("bit", ["other", 0x20, 0x100])
def test_real_dump_flags_flip_names_the_flags_field(tmp_path, src, bit):
    """"other": lzo 0x2 -> 0x3 (was "zlib page data does not decompress"), zlib 0x1 -> 0x3
    (was silent); 0x20 adds the zstd bit; 0x100 is a bit no writer uses (was silent)."""
    at = _ring_page_flags_offset(src)
    with open(src, "rb") as f:
        f.seek(at)
        old = int.from_bytes(f.read(4), "little")
    assert old in (0x1, 0x2), old                                     # the ring page is compressed
    xor = (0x3 ^ old) if bit == "other" else bit
    p = tmp_path / "vmcore"
    _flipped_copy(src, p, at, xor)
    whole = _triage("dmesg", src)
    r = _triage("dmesg", p)
    err = r.stderr.decode()
    assert r.returncode == 6, err
    # the real codec bit is still there: the page reads as that codec, the log is whole
    assert r.stdout == whole.stdout
    [line] = err.splitlines()
    assert f"has a damaged page descriptor (flags field {old ^ xor:#x}: " in line, line
    assert f"reads as {codec_name(old)}" in line and f"(at offset {at:#x})" in line and str(p) in line, line
    assert "page data does not decompress" not in line, line
    a = _triage("analyze", p)
    assert a.returncode == 6 and f"flags field {old ^ xor:#x}" in a.stderr.decode(), a.stderr


def test_real_kdump_dumps_use_only_the_flags_writers_write():
    """The premise, on every real kdump-format dump here: flags are 0 or one codec bit."""
    seen = set()
    for path in KDUMPS:
        with KdumpReader([FileStore(str(path))]) as r:
            for part in r._parts:
                n = part.dumpable_count()
                raw = part.store.read_present(part.hdr.page_desc_offset, n * PAGE_DESC_SIZE)
                if raw is None:
                    continue
                for _o, size, flags, _pf in PAGE_DESC.iter_unpack(raw):
                    if size:
                        assert codec_name(flags) is not None, (path, hex(flags))
                        seen.add(flags)
    if not KDUMPS:
        pytest.skip("no real kdump-format dump")
    assert seen & {0x1, 0x2}, seen


SYN = "centos7-wrapped.kdump-zstd"
PFN = 0x1000                 # first page of the kernel image, zstd-compressed


def _desc(path: Path):
    with open_dump(str(path)) as r:
        at = r._parts[0].desc_offset(PFN)
        want = r.read_phys(PFN * 4096, 4096)
        other = r.read_phys(0x1001 * 4096, 4096)
    off, size, flags, _ = PAGE_DESC.unpack_from(path.read_bytes(), at)
    return at, off, size, flags, want, other


@pytest.mark.parametrize("xor,why", [(0x1, "several codec bits (zlib, zstd)"),
                                     (0x4, "several codec bits (snappy, zstd)"),
                                     (0x80000, "unknown bits 0x80000")])
def test_synthetic_flags_flip_reads_the_page_and_names_the_field(tmp_path, xor, why):
    src = DATA / SYN
    at, _off, _size, flags, want, _other = _desc(src)
    assert flags == 0x20
    p = tmp_path / "flipped"
    _flipped_copy(src, p, at + FLAGS_AT, xor)
    with open_dump(str(p)) as r:
        assert r.read_phys(PFN * 4096, 4096) == want
        f = r.facts()
        assert not f.complete
        [prob] = [x for x in f.problems if "flags field" in x]
        assert f"(flags field {0x20 ^ xor:#x}: {why}); its page data reads as zstd" in prob, prob
        assert prob.endswith(f"(at offset {at + FLAGS_AT:#x})"), prob
        r.read_phys(PFN * 4096, 4096)                       # read again: named once
        assert sum("flags field" in x for x in r.facts().problems) == 1


def test_synthetic_flags_flip_over_damaged_data_is_unreadable_and_named(tmp_path):
    """No codec the bits name decodes the data: that page is unreadable, the flags
    field is what is named, and the other pages read as before."""
    src = DATA / SYN
    at, off, size, _flags, _want, other = _desc(src)
    data = bytearray(src.read_bytes())
    data[at + FLAGS_AT] ^= 0x1                                # zstd 0x20 -> 0x21
    data[off:off + size] = b"\xa5" * size                     # and garbage page data
    p = tmp_path / "flipped"
    p.write_bytes(data)
    with open_dump(str(p)) as r:
        with pytest.raises(MemoryReadError) as exc:
            r.read_phys(PFN * 4096, 16)
        assert exc.value.offset == at + FLAGS_AT
        assert "damaged page descriptor (flags field 0x21: several codec bits (zlib, zstd))" in str(exc.value)
        assert r.read_phys(0x1001 * 4096, 4096) == other
        assert r.facts().compression == "zstd"


def test_flags_damage_wording():
    assert codec_name(0x3) is None and codec_name(0x102) is None and codec_name(0x8) is None
    assert flags_damage(0x3) == "several codec bits (zlib, lzo)"
    assert flags_damage(0x102) == "unknown bits 0x100"
    assert flags_damage(0x123) == "several codec bits (zlib, lzo, zstd) and unknown bits 0x100"


def test_flags_flip_onto_a_codec_whose_library_is_missing(tmp_path, monkeypatch):
    """lzo 0x2 -> 0x6 adds the snappy bit; without cramjam snappy cannot be tried, which
    says nothing about the page: it reads as lzo, and the flags field is named (not
    'install cramjam')."""
    import builtins
    from triage.dumps import codecs
    src = DATA / "centos7-wrapped.kdump-lzo"
    with open_dump(str(src)) as r:
        at = r._parts[0].desc_offset(PFN)
        want = r.read_phys(PFN * 4096, 4096)
    p = tmp_path / "flipped"
    assert _flipped_copy(src, p, at + FLAGS_AT, 0x4) == 0x2
    real_import = builtins.__import__

    def no_cramjam(name, *a, **kw):
        if name == "cramjam":
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_cramjam)
    monkeypatch.setattr(codecs, "_cache", {})
    with open_dump(str(p)) as r:
        assert r.read_phys(PFN * 4096, 4096) == want
        assert any("flags field 0x6: several codec bits (lzo, snappy)); its page data reads as lzo" in x
                   for x in r.facts().problems)
