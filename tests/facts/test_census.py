"""The page census (triage.facts.census) against makedumpfile itself, run now on
the same real dump: `makedumpfile -d 31 --message-level 31` prints the pages it
excludes per class, and the census must give the same counts. The inputs are
unfiltered ELF dumps (QEMU's dump-guest-memory) and the kdump capture's ELF, of
x86_64 kernels (the host's makedumpfile) and arm64 kernels (Debian's arm64
makedumpfile, which the arm64 generation unpacks and runs under qemu-user; those
tests skip without it). A QEMU kdump-compressed dump, which makedumpfile does
not read, is judged against the QEMU ELF dump of the same paused guest.

makedumpfile (1.7.2) reads program headers only right after the ELF header,
while QEMU writes section headers there first: for QEMU dumps makedumpfile is
given a copy whose headers are moved (same program headers, same memory;
tests/facts/mdf_oracle.py).
"""

import shutil
import sys
from pathlib import Path

import pytest

from triage.facts.census import page_census

sys.path.insert(0, str(Path(__file__).parent))
from mdf_oracle import MakedumpfileFailed, arm64_makedumpfile, makedumpfile_counts, phdrs_after_ehdr  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "sample_dumps" / "out"
ARM64_ROOTS = sorted((ROOT / "sample_dumps").glob("out-arm64*"))   # 6.1 4K pages, 6.12 16K pages
CLASSES = ("zero", "cache", "cache_private", "user", "free", "hwpoison", "offline")
X86_ROOTS = [ROOT / "sample_dumps" / d for d in ("out", "out-5.10", "out-la57")]   # Debian 6.1, 5.10, 6.1 5-level
LZO = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"

def overlapping_loads(dump: Path) -> bool:
    """makedumpfile counts a page twice in Original pages/Memory Hole when two
    PT_LOADs hold it (kexec's kernel-text and direct-map views); the census counts
    page frames once, so those two numbers are compared only without overlap."""
    from triage.logsource import open_reader
    with open_reader([str(dump)]) as r:
        loads = sorted((p, p + m) for p, m, _f in r.phys_ranges())
    return any(b[0] < a[1] for a, b in zip(loads, loads[1:]))


def _elf_dumps(roots):
    return [p for root in roots
            for p in sorted(root.glob("*/vmcore.qemu-elf")) + sorted(root.glob("*/capture/vmcore-elf"))]


def _rel(p):
    return str(p.relative_to(ROOT / "sample_dumps"))


def check_census(dump: Path, want: dict) -> None:
    """The census of `dump` equals makedumpfile's report `want`, class by class."""
    got = page_census([str(dump)])
    for key in CLASSES + ("total_pages",):
        assert got[key] == want[key], (key, got, want)
    if not overlapping_loads(dump):
        assert got["pages_in_dump"] == want["original"]
        assert got["memory_hole"] == want["memory_hole"]
        # makedumpfile's Remaining is Original - Excluded; the census's counts only
        # frames with data, so the frames past p_filesz are the difference
        assert got["remaining"] + got["not_in_file"] == want["original"] - sum(want[k] for k in CLASSES)
    # not a vacuous comparison: these dumps have free pages and pages of every size class
    assert want["free"] > 0 and want["zero"] > 0
    assert got["excluded"] == sum(got[k] for k in CLASSES)


def _makedumpfile_counts(dump: Path, tmp: Path, **kw) -> dict:
    """makedumpfile_counts of `dump`, through a copy with its program headers moved
    when it needs one (deleted at once: a QEMU ELF is 134-268 MB)."""
    given = phdrs_after_ehdr(dump, tmp)
    try:
        return makedumpfile_counts(given, tmp, **kw)
    finally:
        if given != dump:
            given.unlink()


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("dump", _elf_dumps(X86_ROOTS), ids=_rel)
def test_census_equals_makedumpfile(dump, tmp_path):
    if shutil.which("makedumpfile") is None:
        pytest.skip("makedumpfile is not installed: the census oracle cannot run")
    check_census(dump, _makedumpfile_counts(dump, tmp_path))


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("dump", _elf_dumps(ARM64_ROOTS), ids=_rel)
def test_arm64_census_equals_arm64_makedumpfile(dump, tmp_path):
    command, why = arm64_makedumpfile()
    if command is None:
        pytest.skip(why)
    try:
        want = _makedumpfile_counts(dump, tmp_path, command=command)
    except MakedumpfileFailed as e:
        if e.refused is None:
            raise
        # Debian 12's makedumpfile (1.7.2) predates 16K pages with 52-bit VAs
        pytest.skip(f"the arm64 makedumpfile cannot read this dump ({e.refused}): no oracle")
    check_census(dump, want)


def _qemu_kdump_pairs():
    return [(z, z.with_name("vmcore.qemu-elf")) for root in X86_ROOTS + ARM64_ROOTS
            for z in sorted(root.glob("*/vmcore.qemu-flat-zlib")) if z.with_name("vmcore.qemu-elf").is_file()]


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("pair", _qemu_kdump_pairs(), ids=lambda p: _rel(p[0]))
def test_census_of_qemu_kdump_equals_its_elf_twin(pair):
    """QEMU writes both formats from the same stopped guest, so the kdump file's
    census must equal the ELF's, which the tests above hold to makedumpfile. It
    counts in frames of its own block size (64 KiB for every arm64 guest),
    converted to the kernel's pages."""
    kdump, elf = pair
    got, want = page_census([str(kdump)]), page_census([str(elf)])
    for key in CLASSES + ("total_pages", "pages_in_dump", "memory_hole", "remaining", "slab"):
        assert got[key] == want[key], (key, got, want)
    assert want["free"] > 0 and want["zero"] > 0


def test_census_on_committed_kdump_is_bounded_and_consistent():
    """A makedumpfile -d 31 dump holds none of the free, cache or user pages any
    more: the census counts only what the file holds, and says so."""
    c = page_census([str(LZO)])
    assert c["total_pages"] == 98266 and c["pages_in_dump"] <= c["total_pages"]
    assert c["remaining"] + c["excluded"] + c["not_in_file"] == c["pages_in_dump"]
    assert c["unreadable_mem_map"] == 0 and c["slab"] > 0


def _census_with(monkeypatch, key, value):
    import triage.logsource as logsource
    real_open = logsource.open_reader

    def open_reader(paths):
        r = real_open(paths)
        text = r.vmcoreinfo()
        lines = [ln for ln in text.splitlines() if not ln.startswith(key + "=")]
        if value is not None:
            lines.append(f"{key}={value}")
        r.vmcoreinfo = lambda: "\n".join(lines) + "\n"
        return r
    monkeypatch.setattr(logsource, "open_reader", open_reader)
    from triage.facts import read_dump_facts
    return read_dump_facts([str(LZO)], method="vmcoreinfo", census=True)["census"]


@pytest.mark.parametrize("key,value,reason", [
    ("SIZE(page)", "0", "SIZE(page)=0 is not plausible"),
    ("OFFSET(page.flags)", "4096", "OFFSET(page.flags)=4096 does not fit"),
    ("NUMBER(SECTION_SIZE_BITS)", "99", "NUMBER(SECTION_SIZE_BITS)=99 is not plausible"),
    ("NUMBER(MAX_PHYSMEM_BITS)", "200", "NUMBER(MAX_PHYSMEM_BITS)=200 is not plausible"),
    ("SYMBOL(mem_section)", "5", "SYMBOL(mem_section)=0x5 is not a kernel address"),
    ("SYMBOL(mem_section)", None, "no SYMBOL(mem_section)"),
    ("NUMBER(PG_slab)", "500", "NUMBER(PG_slab)=500 is not plausible"),
    # only kernels whose slab is a page type (6.10+, PAGE_SLAB_MAPCOUNT_VALUE) may lack it
    ("NUMBER(PG_slab)", None, "no NUMBER(PG_slab)"),
    ("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", None, "no NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)"),
])
def test_census_damaged_vmcoreinfo(monkeypatch, key, value, reason):
    c = _census_with(monkeypatch, key, value)
    assert reason in c["unavailable"], c


def test_census_wild_mem_section_root(monkeypatch):
    """SYMBOL(mem_section) moved into the middle of the root table: roots read as
    garbage are rejected with the reason, not followed."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    with open_reader([str(LZO)]) as r:
        addr = parse_vmcoreinfo(r.vmcoreinfo()).symbol("mem_section")
    c = _census_with(monkeypatch, "SYMBOL(mem_section)", f"{addr + 4:x}")
    assert "unavailable" in c, c


def test_a_reader_without_a_page_index_is_refused_not_walked():
    """No loop over an untrusted max_mapnr: a reader with neither segments nor a page
    index gets LayoutError at once, however many frames its header claims."""
    from triage.facts.census import dump_ranges
    from triage.facts.vmci import LayoutError

    class NoIndex:
        def phys_ranges(self):
            return None

        def max_pfn(self):
            return 1 << 40

        def facts(self):
            return type("F", (), {"page_size": 4096})()

        def pfn_runs(self, lo, hi):
            return None

        def pfn_ranges(self):
            return None

    with pytest.raises(LayoutError, match="no index of the pages"):
        dump_ranges(NoIndex(), 4096)
