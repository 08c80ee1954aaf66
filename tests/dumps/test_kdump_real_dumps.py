"""kdump-compressed and flattened readers on the real dumps the generator made.

Oracles:
- the ELF dump of the same crash in the same directory (QEMU's dump-guest-memory
  ELF, or makedumpfile's -E conversion), parsed with pyelftools: every page both
  files hold must be identical;
- `makedumpfile -R` (rearrange) output of each flattened file: our in-place view
  must equal it byte for byte over sampled ranges;
- `makedumpfile --dump-dmesg` of the (rearranged) dump, where makedumpfile can read
  it (it cannot read QEMU's kdump output: wrong phys_base in the header): `triage
  dmesg` must print the same text.
Skipped when no real kdump/flattened dump is present (sample_dumps/out is made by
the generator; sample_dumps/committed holds the small committed set).
"""

import mmap
import random
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import DUMP_DIRS, dump_files  # noqa: E402
from _synthetic import MAKEDUMPFILE, needs_makedumpfile  # noqa: E402
from triage.dumps import open_dump  # noqa: E402
from triage.dumps.flattened import FlatStore  # noqa: E402
from triage.dumps.store import FileStore  # noqa: E402

KDUMPS = dump_files("kdump") + dump_files("flattened")


def _elf_sibling(dump: Path):
    """An ELF dump of the same crash in the same directory, if any."""
    for cand in sorted(dump.parent.iterdir()):
        if cand == dump or not cand.is_file() or cand.stat().st_size < 4096:
            continue
        if "paging" in cand.name:
            continue
        with open(cand, "rb") as f:
            if f.read(4) == b"\x7fELF":
                return cand
    return None


def _elf_pages(path: Path):
    """(mmap, {pfn: file offset}) of an ELF dump, headers read by pyelftools."""
    from elftools.elf.elffile import ELFFile
    f = open(path, "rb")
    ef = ELFFile(f)
    where = {}
    for seg in ef.iter_segments():
        if seg["p_type"] != "PT_LOAD" or not seg["p_filesz"]:
            continue
        for i in range(0, seg["p_filesz"] - 4095, 4096):
            where.setdefault((seg["p_paddr"] + i) // 4096, seg["p_offset"] + i)
    return f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), where


pytestmark = pytest.mark.skipif(not KDUMPS, reason=f"no real kdump/flattened dumps under {DUMP_DIRS}")


@pytest.mark.parametrize("dump", KDUMPS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_equal_elf_of_same_crash(dump):
    elf = _elf_sibling(dump)
    if elf is None:
        pytest.skip("no ELF dump of the same crash beside it")
    f, mm, where = _elf_pages(elf)
    try:
        with open_dump(str(dump)) as r:
            facts = r.facts()
            assert facts.complete, facts.problems
            pfns = sorted(where)
            sample = pfns[::3] if len(pfns) > 30000 else pfns
            compared = 0
            for pfn in sample:
                if r.has_page(pfn):
                    off = where[pfn]
                    assert r.read_phys(pfn * 4096, 4096) == mm[off:off + 4096], f"pfn {pfn:#x}"
                    compared += 1
            assert compared > 1000
    finally:
        mm.close()
        f.close()


@needs_makedumpfile
@pytest.mark.parametrize("dump", dump_files("flattened"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_flattened_view_equals_rearranged(dump, tmp_path):
    out = tmp_path / "R"
    with open(dump, "rb") as src:
        subprocess.run([MAKEDUMPFILE, "-R", str(out)], stdin=src, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    flat = FlatStore(FileStore(str(dump)))
    want = FileStore(str(out))
    try:
        assert flat.complete
        assert flat.size == want.size
        rnd = random.Random(7)
        for _ in range(3000):
            off = rnd.randrange(0, flat.size)
            n = rnd.randrange(1, 70000)
            assert flat.read(off, n) == want.read(off, n), f"offset {off:#x}"
        assert flat.read(0, 1 << 20) == want.read(0, 1 << 20)
    finally:
        flat.close()
        want.close()
    (tmp_path / "R").unlink()


@needs_makedumpfile
@pytest.mark.parametrize("dump", KDUMPS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_dmesg_equals_makedumpfile_where_it_reads(dump, tmp_path):
    src = dump
    with open(dump, "rb") as f:
        flattened = f.read(12) == b"makedumpfile"
    if flattened:
        src = tmp_path / "R"
        with open(dump, "rb") as f:
            r = subprocess.run([MAKEDUMPFILE, "-R", str(src)], stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=600)
        assert r.returncode == 0, r.stdout.decode()[-1000:]
    out = tmp_path / "mdf.txt"
    p = subprocess.run([MAKEDUMPFILE, "--dump-dmesg", str(src), str(out)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if p.returncode != 0:
        pytest.skip("makedumpfile cannot read this dump: " + p.stderr.decode().strip().splitlines()[-1])
    t = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(dump)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    assert t.returncode == 0, t.stderr.decode()
    assert t.stdout.decode("utf-8", "replace") == out.read_text("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.parametrize("codec", ["snappy", "zstd"])
def test_recompressed_real_dump_equals_elf_of_same_crash(codec, tmp_path):
    """The recompressor's snappy/zstd copies (codecs Debian's makedumpfile cannot write)
    hold the same pages as the ELF dump of the same crash (pyelftools oracle)."""
    candidates = [d for d in KDUMPS if _elf_sibling(d) is not None]
    if not candidates:
        pytest.skip("no real kdump with an ELF of the same crash beside it")
    import recompress
    dump = candidates[0]
    moved = Path(recompress.recompress(str(dump), str(tmp_path), [codec])[0])
    elf = _elf_sibling(dump)
    (tmp_path / elf.name).symlink_to(elf)          # so the oracle sits beside the copy
    with open_dump(str(moved)) as r:
        assert r.facts().compression == codec
    test_pages_equal_elf_of_same_crash(moved)
