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
- makedumpfile's own -c/-l/-F/--split conversions (-d 31) of a real guest's QEMU ELF
  (made readable for makedumpfile by sample_dumps/synthetic/qemu_elf_fix.py): every
  kept page equals the unfiltered ELF; `triage dmesg` equals makedumpfile --dump-dmesg.
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


def _still_there(dump: Path) -> None:
    # sample_dumps/out is rewritten while the generator runs; a dump listed at
    # collection time may be gone (never the case for committed dumps or in CI).
    if not dump.exists():
        pytest.skip("dump removed by the generator while the tests ran")


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
    _still_there(dump)
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
    _still_there(dump)
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
    _still_there(dump)
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


QEMU_ELFS = [p for p in dump_files("elf") if p.name == "vmcore.qemu-elf"]


@pytest.fixture(scope="module")
def qemu_mdf_set(tmp_path_factory):
    """makedumpfile's own conversions of a real guest's memory.

    makedumpfile 1.7.2 cannot read QEMU's ELF as written (program headers after the
    section header); qemu_elf_fix moves them, then makedumpfile writes -c, -l,
    uncompressed, -F and --split files with -d 31 (real struct pages, real filtering).
    """
    if MAKEDUMPFILE is None or not QEMU_ELFS:
        pytest.skip("needs makedumpfile and a QEMU ELF dump in sample_dumps/out")
    import qemu_elf_fix
    tmp = tmp_path_factory.mktemp("qemu-mdf")
    src = tmp / "fixed.elf"
    qemu_elf_fix.fix(str(QEMU_ELFS[0]), str(src))
    out = {"orig": QEMU_ELFS[0]}
    for key, args in {"c": ["-c"], "l": ["-l"], "raw": []}.items():
        out[key] = tmp / key
        subprocess.run([MAKEDUMPFILE, *args, "-d", "31", str(src), str(out[key])], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    out["F"] = tmp / "F"
    with open(out["F"], "wb") as f:
        subprocess.run([MAKEDUMPFILE, "-c", "-d", "31", "-F", str(src)], check=True, stdout=f,
                       stderr=subprocess.DEVNULL, timeout=600)
    out["split"] = [tmp / f"split{i}" for i in range(3)]
    # Without --splitblock-size, makedumpfile 1.7.2 puts every page of a dump this small
    # into the first part and leaves the others empty ranges: a split set in name only.
    # 1 MiB split blocks share the pages out, so reading really crosses the parts.
    subprocess.run([MAKEDUMPFILE, "-l", "-d", "31", "--splitblock-size", "1024", "--split", str(src),
                    *map(str, out["split"])],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    out["dmesg"] = tmp / "mdf-dmesg.txt"
    subprocess.run([MAKEDUMPFILE, "--dump-dmesg", str(src), str(out["dmesg"])], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    src.unlink()
    return out


@pytest.mark.parametrize("key", ["c", "l", "raw", "F", "split"])
def test_makedumpfile_conversions_of_real_guest_equal_unfiltered_memory(qemu_mdf_set, key):
    """Oracle: the unfiltered QEMU ELF of the same guest, parsed by pyelftools. Every page
    makedumpfile kept must read back identical; -d 31 must have dropped some pages."""
    f, mm, where = _elf_pages(qemu_mdf_set["orig"])
    paths = qemu_mdf_set[key]
    try:
        with open_dump([str(p) for p in paths] if isinstance(paths, list) else str(paths)) as r:
            facts = r.facts()
            assert facts.complete and facts.dump_level == 31
            kept = 0
            for pfn in sorted(where):
                if r.has_page(pfn):
                    off = where[pfn]
                    assert r.read_phys(pfn * 4096, 4096) == mm[off:off + 4096], f"pfn {pfn:#x}"
                    kept += 1
            assert kept == facts.pages_present
            assert 5000 < kept < len(where)
    finally:
        mm.close()
        f.close()


@pytest.mark.parametrize("key", ["c", "l", "F", "split"])
def test_dmesg_of_real_conversions_equals_makedumpfile(qemu_mdf_set, key):
    paths = qemu_mdf_set[key]
    argv = [str(p) for p in paths] if isinstance(paths, list) else [str(paths)]
    t = subprocess.run([sys.executable, "-m", "triage", "dmesg", *argv],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    assert t.returncode == 0, t.stderr.decode()
    assert t.stdout.decode("utf-8", "replace") == qemu_mdf_set["dmesg"].read_text("utf-8", "replace")


def test_real_split_parts_each_hold_pages(qemu_mdf_set):
    """The split set is a real one: every part covers a pfn range holding kept pages."""
    parts = qemu_mdf_set["split"]
    ranges = []
    for p in parts:
        with open_dump(str(p)) as r:
            ((start, end),) = r.facts().header["split_ranges"]
            ranges.append((start, end))
            assert end > start, f"{p.name} covers no pfn"
    assert [a for a, _ in ranges] == sorted(a for a, _ in ranges)
    assert all(ranges[i][1] == ranges[i + 1][0] for i in range(len(ranges) - 1))


@pytest.mark.parametrize("missing", [0, 1, 2])
def test_split_set_with_a_part_missing_is_partial_or_cut_never_silent(qemu_mdf_set, missing):
    """Oracle: the pfn ranges makedumpfile wrote in each part's sub-header. Leaving a part
    out loses its range: `triage dmesg` says so on stderr, with the range, and exits 6
    (partial: printed what could be read) or 5 (the log lay in the missing part); when it
    prints, what it prints is makedumpfile's log."""
    parts = qemu_mdf_set["split"]
    given = [p for i, p in enumerate(parts) if i != missing]
    with open_dump(str(parts[missing])) as r:
        ((start, end),) = r.facts().header["split_ranges"]
        lost = f"pfns {start:#x}-{end:#x} are in no split file given"
    t = subprocess.run([sys.executable, "-m", "triage", "dmesg", *map(str, given)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    err = t.stderr.decode()
    assert t.returncode in (5, 6), (t.returncode, err)
    assert lost in err and len(err.strip().splitlines()) == 1, err
    if t.returncode == 6:
        assert t.stdout.decode("utf-8", "replace") == qemu_mdf_set["dmesg"].read_text("utf-8", "replace")
    else:
        assert t.stdout == b""
