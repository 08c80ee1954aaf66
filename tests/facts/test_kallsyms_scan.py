"""The kallsyms tables found by scanning the kernel image (kernels before 6.0 have no
kallsyms_* in VMCOREINFO) are the ones VMCOREINFO names on 6.1, and give the same
symbol table and the same dump facts.

Oracles: on 6.1 dumps, VMCOREINFO's SYMBOL(kallsyms_*) (the scan is run as if
they were absent) and drgn's own kallsyms loader on them; on dumps whose
VMCOREINFO has no kallsyms (Debian 11's 5.10), the -dbg package's System.map and
drgn with its DWARF vmlinux on the same file, computed live
(tests/facts/drgn_dwarf_oracle.py), or a skip saying that the vmlinux is absent;
their facts and stacks are also judged by tests/facts/test_facts_oracle.py
against the generator's oracle.
"""

import json
import random
import struct
import sys
from collections import Counter
from pathlib import Path

import pytest

from triage.dumps.vmcoreinfo import parse_vmcoreinfo
from triage.facts.kallsyms_scan import KallsymsScanError, decode_names, scan_kallsyms
from triage.facts.program import _image_span, _vmcoreinfo_locations, kernel_stext
from triage.logsource import open_reader
from triage.memory.kernel import KernelMemory

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = [ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore",
             ROOT / "sample_dumps" / "committed" / "oom_panic-qemu-flat-zlib-nokaslr" / "vmcore.flat"]
TABLES = ("kallsyms_num_syms", "kallsyms_names", "kallsyms_token_table", "kallsyms_token_index",
          "kallsyms_offsets", "kallsyms_relative_base", "kallsyms_addresses")


def generated_dumps():
    """Every dump the generator listed in sample_dumps/out*/manifest.json that is present."""
    out = []
    for m in sorted((ROOT / "sample_dumps").glob("out*/manifest.json")):
        for d in json.loads(m.read_text())["dumps"]:
            p = m.parent / d["path"]
            if p.is_file():
                out.append(p)
    return out


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT / "sample_dumps"))
    except ValueError:
        return str(p)


class Scanned:
    """One dump's VMCOREINFO and the tables the scan finds, read through triage's reader."""

    def __init__(self, path: Path):
        self.reader = open_reader([str(path)])
        self.info = parse_vmcoreinfo(self.reader.vmcoreinfo())
        self.arch = self.reader.facts().arch
        self.mem = KernelMemory(self.reader, self.info, arch=self.arch)
        self.stext = kernel_stext(self.info, self.arch)
        self.loc = scan_kallsyms(self.read, self.stext, self.stext, _image_span(self.info, self.stext))

    def read(self, vaddr: int, size: int) -> bytes:
        return bytes(self.mem.read_tolerant(vaddr, size)[0])

    def close(self):
        self.reader.close()


def _check_locations_equal_vmcoreinfo(path: Path) -> Scanned:
    s = Scanned(path)
    try:
        want = _vmcoreinfo_locations(s.info)
        assert want is not None, "VMCOREINFO names no kallsyms: not a 6.0+ dump"
        for k in TABLES:
            assert getattr(s.loc, k) == getattr(want, k), k
        (n,) = struct.unpack("<I", s.read(want.kallsyms_num_syms, 4))
        assert s.loc.num_syms == n > 10000
        # the Python decoder reads the same names as drgn (checked below) from these tables
        names = decode_names(s.read(s.loc.kallsyms_names, s.loc.kallsyms_markers - s.loc.kallsyms_names),
                             n, _tokens(s), s.loc.long_names)
        assert len(names) == n and (("T", "_stext") in names or ("t", "_stext") in names)
        return s
    except BaseException:
        s.close()
        raise


def _tokens(s: Scanned):
    index = struct.unpack("<256H", s.read(s.loc.kallsyms_token_index, 512))
    table = s.read(s.loc.kallsyms_token_table, index[255] + 128)
    return [table[i:table.index(b"\0", i)] for i in index]


def _drgn_symbols(prog, index):
    return sorted((sym.name, sym.address, sym.size, sym.binding, sym.kind) for sym in index(prog, None, None, False))


def _check_symbol_table_equal(path: Path, s: Scanned):
    """drgn's table from VMCOREINFO's addresses == drgn's table from the scanned ones
    == the names the Python decoder reads, for a file drgn opens itself."""
    import os
    os.environ.setdefault("DRGN_DISABLE_PLUGINS", "*")
    import drgn
    from drgn.helpers.linux.kallsyms import load_vmlinux_kallsyms
    from triage.facts.program import _load_kallsyms_at
    prog = drgn.Program()
    try:
        prog.set_core_dump(str(path))
    except Exception as exc:    # noqa: BLE001 - flattened files: drgn cannot open them
        pytest.skip(f"drgn does not open this file ({exc})"[:200])
    want = _drgn_symbols(prog, load_vmlinux_kallsyms(prog))
    got = _drgn_symbols(prog, _load_kallsyms_at(prog, s.loc, s.stext))
    assert len(want) == s.loc.num_syms
    assert got == want
    names = decode_names(s.read(s.loc.kallsyms_names, s.loc.kallsyms_markers - s.loc.kallsyms_names),
                         s.loc.num_syms, _tokens(s), s.loc.long_names)
    assert Counter(n for _t, n in names) == Counter(w[0] for w in want)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.parent.name)
def test_scan_finds_the_tables_vmcoreinfo_names(path):
    s = _check_locations_equal_vmcoreinfo(path)
    s.close()


def test_scanned_symbol_table_equals_vmcoreinfo_one():
    pytest.importorskip("drgn")
    s = _check_locations_equal_vmcoreinfo(COMMITTED[0])
    try:
        _check_symbol_table_equal(COMMITTED[0], s)
    finally:
        s.close()


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.parent.name)
def test_scanned_facts_equal_vmcoreinfo_facts(path):
    """With VMCOREINFO's kallsyms entries ignored, every fact is the same (and those
    equal drgn+DWARF: tests/facts/test_facts_oracle.py)."""
    pytest.importorskip("drgn")
    from triage.facts import read_dump_facts
    want = read_dump_facts([str(path)], kallsyms="vmcoreinfo")
    got = read_dump_facts([str(path)], kallsyms="scan")
    assert want["source"].pop("kallsyms") == "vmcoreinfo"
    assert got["source"].pop("kallsyms") == "scan"
    assert got["source"]["unavailable"] is None and got["source"]["missing"] == []
    assert got == want
    assert got["tasks"]["count"] > 10 and got["tasks"]["panic"]["stack"]


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in generated_dumps()], ids=_rel)
def test_matrix_scan_finds_the_tables_and_symbols(path):
    """Generated x86_64 and arm64 6.1 dumps: the scanned tables are VMCOREINFO's and
    give drgn the same symbol table; dumps without kallsyms in VMCOREINFO are
    judged against DWARF in test_matrix_pre60_facts_equal_dwarf."""
    with open_reader([str(path)]) as r:
        if _vmcoreinfo_locations(parse_vmcoreinfo(r.vmcoreinfo())) is None:
            pytest.skip("VMCOREINFO names no kallsyms (judged against DWARF instead)")
    s = _check_locations_equal_vmcoreinfo(path)
    try:
        if path.name.endswith(("elf", "lzo")) or path.name == "vmcore":
            pytest.importorskip("drgn")
            _check_symbol_table_equal(path, s)
    finally:
        s.close()


# -- kernels whose VMCOREINFO has no kallsyms --------------------------------------------
# Their facts and stacks are compared with the generator's drgn+DWARF oracle of the
# same file by tests/facts/test_facts_oracle.py (the scan is what "auto" uses there);
# here: the symbol table against the -dbg package's System.map, and the BTF-built
# types against DWARF, live when the vmlinux is at hand.

def _pre60_dumps():
    out = []
    for p in generated_dumps():
        try:
            with open_reader([str(p)]) as r:
                info = parse_vmcoreinfo(r.vmcoreinfo())
                if r.facts().arch in (None, "x86_64") and _vmcoreinfo_locations(info) is None:
                    out.append(p)
        except Exception:   # noqa: BLE001 - an unreadable dump is other tests' business
            continue
    return out


PRE60 = _pre60_dumps()


def _vmlinux_for(path: Path):
    sys.path.insert(0, str(Path(__file__).parent))
    import drgn_dwarf_oracle as O
    with open_reader([str(path)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
    vmlinux = O.default_vmlinux(info.osrelease)
    if vmlinux is None:
        pytest.skip(f"no -dbg vmlinux for {info.osrelease} (linux-image-{info.osrelease}-dbg in "
                    f"/usr/lib/debug/boot or sample_dumps/cache/dbg-{info.osrelease}/)")
    return O, vmlinux, info


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("path", PRE60, ids=_rel)
def test_matrix_pre60_symbols_equal_system_map(path):
    """Every symbol the scanned tables give drgn is in the -dbg package's System.map
    at the same address, moved by KASLR (KERNELOFFSET); per-CPU symbols unmoved."""
    pytest.importorskip("drgn")
    _O, vmlinux, info = _vmlinux_for(path)
    system_map = vmlinux.parent / f"System.map-{info.osrelease}"
    if not system_map.is_file():
        pytest.skip(f"{system_map} absent")
    want = {}
    for line in system_map.read_text().splitlines():
        addr, _type, name = line.split()[:3]
        want.setdefault(name, set()).add(int(addr, 16))
    from triage.facts.program import open_program
    opened = open_program([str(path)])
    try:
        assert opened.kallsyms == "scan"
        opened.prog.set_enabled_symbol_finders(["kallsyms"])     # vmlinux's, not the modules'
        syms = opened.prog.symbols()
    finally:
        opened.close()
    offset = info.kernel_offset or 0
    # scripts/mksysmap leaves assembler-local .L labels out of System.map
    bad = [s.name for s in syms if not s.name.startswith(".L")
           and not ({s.address, s.address - offset} & want.get(s.name, set()))]
    assert len(syms) > 50000
    assert not bad, f"{len(bad)} of {len(syms)} symbols differ, e.g. {bad[:10]}"


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("path", PRE60[:4], ids=_rel)
def test_matrix_pre60_btf_types_equal_dwarf(path):
    """On a kernel before 6.0 (its BTF has no per-CPU VAR records), the drgn types built
    from BTF equal DWARF's for every type the facts use, and the facts read through
    the scanned kallsyms equal drgn+DWARF's, stacks included (live oracle)."""
    pytest.importorskip("drgn")
    from drgn.helpers.linux.pid import find_task
    from triage.facts import read_dump_facts
    from triage.facts.collect import stack_pcs
    from triage.facts.orc import OrcTable
    from triage.facts.program import open_program
    O, vmlinux, _info = _vmlinux_for(path)
    dw = open_program([str(path)], vmlinux=str(vmlinux))
    try:
        facts, stacks, layouts = O.dwarf_facts(dw.prog), O.dwarf_stacks(dw.prog), O.layouts(dw.prog)
    finally:
        dw.close()
    got = read_dump_facts([str(path)])
    assert got["source"]["kallsyms"] == "scan" and got["source"]["unavailable"] is None, got["source"]
    assert got["source"]["missing"] == []
    diffs = _diff(got, facts)
    opened = open_program([str(path)])
    try:
        orc = OrcTable(opened.prog)
        for pid, pcs in stacks.items():
            mine = [hex(pc) for pc in stack_pcs(opened.prog, find_task(opened.prog, int(pid)),
                                                opened.cpu_regs, orc)]
            if mine != pcs:
                diffs.append(f"stack of pid {pid}: {mine} != {pcs}")
        for name, w in layouts.items():
            try:
                g = O.describe(opened.prog.type(name))
            except LookupError:
                g = None
            diffs += _diff(g, w, name)
    finally:
        opened.close()
    assert not diffs, "\n".join(diffs[:20])
    assert facts["tasks"]["count"] > 10 and facts["memory"]["zones"] and facts["modules"]
    assert len(stacks) > 10 and sum(1 for w in layouts.values() if w) > 30


def _diff(got, want, path="dump"):
    if isinstance(want, dict) and isinstance(got, dict):
        return [d for k in want for d in _diff(got.get(k), want[k], f"{path}.{k}")]
    if isinstance(want, list) and isinstance(got, list) and len(got) == len(want):
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in _diff(g, w, f"{path}[{i}]")]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


# -- what the scan refuses --------------------------------------------------------------

BASE = 0xFFFFFFFF81000000


def _image_reader(image: bytes, base: int = BASE):
    def read(vaddr: int, size: int) -> bytes:
        off = vaddr - base
        head = bytes(min(-off, size)) if off < 0 else b""
        return (head + image[max(off, 0):off + size]).ljust(size, b"\0")
    return read


def test_scan_of_an_image_without_tables_says_why():
    with pytest.raises(KallsymsScanError, match="no kallsyms token table"):
        scan_kallsyms(_image_reader(bytes(1 << 20)), BASE, BASE, 1 << 20)


@pytest.fixture(scope="module")
def real_tables():
    """The committed lzo dump's kallsyms region (offsets .. token index) and its base."""
    s = Scanned(COMMITTED[0])
    try:
        lo = s.loc.kallsyms_offsets - 64
        hi = s.loc.kallsyms_token_index + 512 + 64
        return bytes(s.read(lo, hi - lo)), lo, s.stext, s.loc
    finally:
        s.close()


def test_scan_of_the_real_tables_alone(real_tables):
    image, lo, stext, loc = real_tables
    assert scan_kallsyms(_image_reader(image, lo), lo, stext, len(image)) == loc


@pytest.mark.parametrize("split", [0.0, 0.3, 0.9, 1.0])
def test_scan_from_the_data_start_down_finds_the_same_tables(real_tables, monkeypatch, split):
    """Searching downwards from the data start first (then upwards from it) covers
    the image once, whatever the split: the same tables, with the token table in
    the first piece read, the second, or across two pieces (CHUNK made small)."""
    import triage.facts.kallsyms_scan as K
    image, lo, stext, loc = real_tables
    monkeypatch.setattr(K, "CHUNK", 1 << 16)
    pad = bytes(1 << 18)                  # image below and above the tables, no DIGITS in it
    whole = pad + image + pad
    base = lo - len(pad)
    reads = []

    def read(vaddr, size):
        reads.append(vaddr)
        return _image_reader(whole, base)(vaddr, size)
    split = base + int(len(whole) * split)
    assert scan_kallsyms(read, base, stext, len(whole), data_start=split) == loc
    inside = base < split < base + len(whole)
    assert reads[0] == (max(split - K.CHUNK, base) if inside else base)     # the first piece read


@pytest.mark.parametrize("what", ["token_index", "marker", "num_syms", "name_length", "stext"])
def test_scan_rejects_damaged_tables(real_tables, what):
    """Each table damaged in turn: the scan names a reason, never a wrong table."""
    image, lo, stext, loc = real_tables
    b = bytearray(image)
    if what == "token_index":
        b[loc.kallsyms_token_index - lo + 2 * 0x41] ^= 0x01
    elif what == "marker":
        b[loc.kallsyms_markers - lo + 4 * 3] ^= 0x10
    elif what == "num_syms":
        struct.pack_into("<I", b, loc.kallsyms_num_syms - lo, loc.num_syms + 300)
    elif what == "name_length":
        b[loc.kallsyms_names - lo] += 1
    else:
        stext += 0x1000
    with pytest.raises(KallsymsScanError):
        scan_kallsyms(_image_reader(bytes(b), lo), lo, stext, len(b))


def test_scan_survives_random_damage(real_tables):
    """Random bytes flipped anywhere in the tables: a located table or a stated
    reason, nothing else (the atheris target fuzz_kallsyms goes further)."""
    image, lo, stext, loc = real_tables
    rnd = random.Random(9)
    for _ in range(6):
        b = bytearray(image)
        for _ in range(rnd.randrange(1, 40)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        try:
            got = scan_kallsyms(_image_reader(bytes(b), lo), lo, stext, len(b))
        except KallsymsScanError as exc:
            assert exc.message
        else:
            assert got.kallsyms_token_table == loc.kallsyms_token_table


def test_facts_from_a_dump_whose_scan_fails_say_why(tmp_path, monkeypatch):
    """No tables in the image: the facts fall back to VMCOREINFO alone, and
    dump.source.notes states the scan's reason."""
    pytest.importorskip("drgn")
    from triage.facts import read_dump_facts
    import triage.facts.kallsyms_scan as K
    monkeypatch.setattr(K, "DIGITS", b"\xff\xfe\xfd no such token table \xfc")
    got = read_dump_facts([str(COMMITTED[0])], kallsyms="scan")
    src = got["source"]
    assert src["method"] == "vmcoreinfo" and src["unavailable"] is None
    why = src["notes"][0]
    assert why.startswith("BTF+kallsyms facts not read: no kallsyms tables found by scanning the kernel image")
    assert "no kallsyms token table in the" in why
    assert got["memory"]["zones"] and got["tasks"] is None


def _private_kallsyms_replaced(monkeypatch, replacement):
    """Facts of the committed dump through the scan, with drgn's private kallsyms
    decoder removed (replacement None) or replaced."""
    _drgn = pytest.importorskip("_drgn")
    from triage.facts import read_dump_facts
    from triage.facts.program import PRIVATE_KALLSYMS
    if replacement is None:
        monkeypatch.delattr(_drgn, PRIVATE_KALLSYMS)
    else:
        monkeypatch.setattr(_drgn, PRIVATE_KALLSYMS, replacement)
    return read_dump_facts([str(COMMITTED[0])], kallsyms="scan")["source"]


def test_scanned_kallsyms_without_drgns_private_decoder_say_why(monkeypatch):
    """drgn 0.3.0 has no public call that decodes kallsyms at given addresses; a
    drgn without the private one degrades to VMCOREINFO alone, saying so."""
    src = _private_kallsyms_replaced(monkeypatch, None)
    assert src["method"] == "vmcoreinfo" and src["unavailable"] is None
    assert src["notes"][0].startswith("BTF+kallsyms facts not read: drgn ")
    assert "has no _linux_helper_load_builtin_kallsyms" in src["notes"][0]


def test_scanned_kallsyms_with_a_changed_private_decoder_say_why(monkeypatch):
    def other_signature(prog, tables):      # a later drgn's, taking other arguments
        raise AssertionError("called with drgn 0.3.0's keywords")
    src = _private_kallsyms_replaced(monkeypatch, other_signature)
    assert src["method"] == "vmcoreinfo" and src["unavailable"] is None
    assert "_linux_helper_load_builtin_kallsyms takes other arguments than drgn 0.3.0's" in src["notes"][0]
    assert "unexpected keyword argument" in src["notes"][0]


def test_report_says_the_kallsyms_were_scanned():
    from types import SimpleNamespace
    from triage.report.dumpfacts import status_line
    src = {"method": "btf+kallsyms", "memory": "drgn core dump", "kallsyms": "scan", "missing": []}
    assert "kallsyms found by scanning the kernel image" in status_line(SimpleNamespace(dump={"source": src}))
    src["kallsyms"] = "vmcoreinfo"
    assert "scanning" not in status_line(SimpleNamespace(dump={"source": src}))


def test_sorted_check_equals_the_plain_definition():
    """_sorted_relative (C-level comparisons, the sign-bit search) says what the plain
    definition says: the decoded addresses, in table order, never fall."""
    from array import array
    from triage.facts.kallsyms_scan import _sorted_relative

    def plain(offs, rb, absolute_percpu):
        vals = ([o if o >= 0 else rb - 1 - o for o in offs] if absolute_percpu
                else [o & 0xFFFFFFFF for o in offs])
        return all(a <= b for a, b in zip(vals, vals[1:]))

    rng = random.Random(9)
    sorted_seen = 0
    for _ in range(20000):
        n = rng.randint(0, 8)
        if rng.random() < 0.5:       # near the real shape: absolutes rising, then negatives falling
            k = rng.randint(0, n)
            offs = sorted(rng.randint(0, 50) for _ in range(k)) + \
                sorted((rng.randint(-50, -1) for _ in range(n - k)), reverse=True)
            if offs and rng.random() < 0.3:
                offs[rng.randrange(len(offs))] = rng.randint(-60, 60)
        else:
            offs = [rng.choice([rng.randint(-2**31, 2**31 - 1), rng.randint(-60, 60)]) for _ in range(n)]
        rb = rng.choice([0, 10, 1 << 31, (1 << 31) + 1, 1 << 63, (1 << 64) - (1 << 31)])
        for ap in (False, True):
            want = plain(offs, rb, ap)
            sorted_seen += want
            assert _sorted_relative(array("i", offs), rb, ap) == want, (offs, rb, ap)
    assert 1000 < sorted_seen < 39000
