"""The VMCOREINFO-only facts (triage.facts.fallback) against drgn with DWARF on the
same real dumps, the fallback taking over when drgn, BTF or kallsyms fail, and
damaged VMCOREINFO values or kernel data (altered in memory) degrading to a
stated reason, never a traceback or a hang."""

import json
import sys
import time
from pathlib import Path

import pytest

from triage.facts import read_dump_facts

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted((ROOT / "sample_dumps" / "committed").glob("*/*.facts-oracle.json"))
LZO = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
OUT = ROOT / "sample_dumps" / "out"
# x86_64 generations: Debian 6.1 (kallsyms in VMCOREINFO) and 5.10 (none: the fallback's own case)
X86_ROOTS = [ROOT / "sample_dumps" / "out", ROOT / "sample_dumps" / "out-5.10"]

# what VMCOREINFO gives, compared field by field; the rest must be null and listed as missing
ZONE_FIELDS = ("node", "name", "spanned_pages", "free_pages", "free_blocks_by_order")
NULL_ZONE_FIELDS = ("managed_pages", "present_pages", "wmark_min", "wmark_low", "wmark_high")


def _dump_of(oracle: Path) -> Path:
    return Path(str(oracle)[:-len(".facts-oracle.json")])


def check_against(got, want_memory):
    """The fallback's memory facts equal the oracle's where VMCOREINFO describes them."""
    src = got["source"]
    assert src["unavailable"] is None, src
    assert src["method"] == "vmcoreinfo"
    mem = got["memory"]
    assert mem["page_size"] == want_memory["page_size"]
    assert mem["free_pages"] == want_memory["free_pages"]
    assert len(mem["zones"]) == len(want_memory["zones"]) > 0
    for z, w in zip(mem["zones"], want_memory["zones"]):
        for k in ZONE_FIELDS:
            assert z[k] == w[k], (k, z, w)
        for k in NULL_ZONE_FIELDS:
            assert z[k] is None
    missing = {m["fact"] for m in src["missing"]}
    assert {f"memory.zones.{k}" for k in NULL_ZONE_FIELDS} <= missing
    assert {"memory.totalram_pages", "tasks", "modules"} <= missing
    assert mem["totalram_pages"] is None and got["tasks"] is None and got["modules"] is None
    assert "memory.zones" not in missing and "memory.zones.name" not in missing


@pytest.mark.parametrize("oracle", COMMITTED, ids=lambda p: p.parent.name)
def test_committed_fallback_equals_dwarf(oracle):
    want = json.loads(oracle.read_text())["facts"]["memory"]
    got = read_dump_facts([str(_dump_of(oracle))], method="vmcoreinfo")
    check_against(got, want)
    assert any("asked for VMCOREINFO-only" in n for n in got["source"]["notes"])


def _matrix_dumps():
    out = []
    for root in X86_ROOTS:
        for p in sorted(root.glob("*/vmcore.qemu-*")) + sorted(root.glob("*/capture/vmcore-elf")) + \
                sorted(root.glob("*/converted/vmcore.mdf-*")):
            if not p.name.endswith((".txt", ".err", ".json")):
                out.append(p)
    return out


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("dump", _matrix_dumps(), ids=lambda p: str(p.relative_to(ROOT / "sample_dumps")))
def test_matrix_fallback_equals_dwarf(dump):
    """The oracle was read from the same file with drgn and Debian's -dbg vmlinux:
    <dump>.drgn-dwarf.json, written by sample_dumps/generate beside the dump (the
    dumps are regenerated, so no committed numbers), else computed now when the
    -dbg vmlinux is at hand; skipped otherwise."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    with open_reader([str(dump)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
    made = Path(str(dump) + ".drgn-dwarf.json")
    if made.is_file():
        oracle = json.loads(made.read_text())
        assert oracle.get("dump_size") == dump.stat().st_size, f"{made.name} was made from another {dump.name}"
        want = oracle["facts"]["memory"]
    else:
        want = _live_dwarf_memory(dump, info.osrelease)
    check_against(read_dump_facts([str(dump)], method="vmcoreinfo"), want)
    if info.symbol("kallsyms_names") is None:
        # a kernel before 6.0 whose kallsyms the image scan cannot find either: the
        # fallback is automatic (the scan finds them on every real 5.10 dump here,
        # so they are hidden from it)
        import triage.facts.kallsyms_scan as K
        with pytest.MonkeyPatch.context() as m:
            m.setattr(K, "DIGITS", b"\xff\xfe\xfd no such token table \xfc")
            got = read_dump_facts([str(dump)])
        check_against(got, want)
        assert "kallsyms" in got["source"]["notes"][0]


def _live_dwarf_memory(dump: Path, osrelease: str):
    pytest.importorskip("drgn")
    sys.path.insert(0, str(Path(__file__).parent))
    from drgn_dwarf_oracle import default_vmlinux, dwarf_facts
    from triage.facts.program import open_program
    vmlinux = default_vmlinux(osrelease)
    if vmlinux is None:
        pytest.skip(f"no generation-time oracle beside the dump and no -dbg vmlinux for {osrelease}")
    opened = open_program([str(dump)], vmlinux=str(vmlinux))
    try:
        return dwarf_facts(opened.prog)["memory"]
    finally:
        opened.close()


# -- the fallback takes over ------------------------------------------------------

def test_no_drgn_falls_back(monkeypatch):
    from triage.facts import program

    def no_drgn():
        raise program.FactsUnavailable("drgn is not installed (pip install drgn) so dump facts were not read")
    monkeypatch.setattr(program, "_import_drgn", no_drgn)
    got = read_dump_facts([str(LZO)])
    want = json.loads((Path(str(LZO) + ".facts-oracle.json")).read_text())["facts"]["memory"]
    check_against(got, want)
    assert any("drgn is not installed" in n for n in got["source"]["notes"])


def test_corrupt_btf_falls_back(monkeypatch):
    pytest.importorskip("drgn")
    from triage.facts import program
    real = program.read_btf

    def garbled(prog):
        blob = bytearray(real(prog))
        blob[24:64] = b"\xff" * 40          # type and string section offsets/lengths wild
        return bytes(blob)
    monkeypatch.setattr(program, "read_btf", garbled)
    got = read_dump_facts([str(LZO)])
    assert got["source"]["method"] == "vmcoreinfo", got["source"]
    note = got["source"]["notes"][0]
    assert note.startswith("BTF+kallsyms facts not read:") and "BTF" in note, note
    assert got["memory"]["zones"]


def test_damaged_kallsyms_falls_back(monkeypatch):
    pytest.importorskip("drgn")
    from triage.facts import program
    monkeypatch.setattr(program, "MAX_KALLSYMS", 10)     # the real count now reads as implausible
    got = read_dump_facts([str(LZO)])
    assert got["source"]["method"] == "vmcoreinfo"
    assert "kallsyms_num_syms" in got["source"]["notes"][0]


def test_cli_facts_method_and_census(tmp_path):
    from click.testing import CliRunner
    from triage.cli import cli as main
    res = CliRunner().invoke(main, ["analyze", "--format", "json", "--facts-method", "vmcoreinfo",
                                    "--page-census", str(LZO)])
    assert res.exit_code == 0, res.output
    dump = json.loads(res.output)["dump"]
    assert dump["source"]["method"] == "vmcoreinfo"
    c = dump["census"]
    assert c["total_pages"] == 98266 and c["free"] >= 0
    text = CliRunner().invoke(main, ["analyze", "--facts-method", "vmcoreinfo", "--page-census", str(LZO)])
    assert "Page census" in text.output and "read from VMCOREINFO alone" in text.output


# -- damaged input: bounded, one stated reason -------------------------------------

def _with_vmcoreinfo(monkeypatch, edit):
    """Serve the real dump with its VMCOREINFO text altered by `edit`."""
    import triage.logsource as logsource
    real_open = logsource.open_reader

    def open_reader(paths):
        r = real_open(paths)
        text = r.vmcoreinfo()
        r.vmcoreinfo = lambda: edit(text)
        return r
    monkeypatch.setattr(logsource, "open_reader", open_reader)


def _set(key, value):
    def edit(text):
        lines = [ln for ln in text.splitlines() if not ln.startswith(key + "=")]
        if value is not None:
            lines.append(f"{key}={value}")
        return "\n".join(lines) + "\n"
    return edit


BAD = [
    ("OFFSET(zone.free_area)", "99999", "OFFSET(zone.free_area)=99999 does not fit"),
    ("SIZE(zone)", "0", "SIZE(zone)=0 is not plausible"),
    ("SIZE(free_area)", "100000", "runs past the end of struct zone"),
    ("LENGTH(zone.free_area)", "1000000", "LENGTH(zone.free_area)=1000000 is not plausible"),
    ("NUMBER(NR_FREE_PAGES)", "-5", "NUMBER(NR_FREE_PAGES)=-5 is not plausible"),
    ("LENGTH(node_data)", "4000000000", "LENGTH(node_data)=4000000000 is not plausible"),
    ("SYMBOL(node_data)", "1234", "SYMBOL(node_data)=0x1234 is not a kernel address"),
    ("SYMBOL(node_data)", None, "neither SYMBOL(node_data) nor SYMBOL(contig_page_data)"),
    ("OFFSET(pglist_data.node_zones)", "8", "loops or is longer than the zone"),  # zones read 8 bytes off
    ("OFFSET(list_head.next)", "3", "not a kernel address"),           # links read mid-pointer
]


@pytest.mark.parametrize("key,value,reason", BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_damaged_vmcoreinfo_states_reason(monkeypatch, key, value, reason):
    _with_vmcoreinfo(monkeypatch, _set(key, value))
    t = time.monotonic()
    got = read_dump_facts([str(LZO)], method="vmcoreinfo")
    assert time.monotonic() - t < 20
    src = got["source"]
    assert src["method"] == "vmcoreinfo" and got["memory"]["zones"] == []
    reasons = {m["fact"]: m["reason"] for m in src["missing"]}
    assert reason in reasons["memory.zones"], reasons["memory.zones"]


def test_wild_node_data_pointer(monkeypatch):
    """node_data[] moved by 8 bytes: node 0's entry is whatever follows (NULL or wild)."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    with __import__("triage.logsource", fromlist=["x"]).open_reader([str(LZO)]) as r:
        addr = parse_vmcoreinfo(r.vmcoreinfo()).symbol("node_data")
    _with_vmcoreinfo(monkeypatch, _set("SYMBOL(node_data)", f"{addr + 8:x}"))
    got = read_dump_facts([str(LZO)], method="vmcoreinfo")
    reason = {m["fact"]: m["reason"] for m in got["source"]["missing"]}["memory.zones"]
    assert "node 0" in reason or "node_data[0]" in reason, reason


def test_looping_free_list_is_cut(monkeypatch):
    """A free list whose links loop (kernel data damaged: every next pointer read
    leads back to the first block) ends with a reason, bounded by the zone's size."""
    from triage.facts import vmci
    real = vmci.VmciMemory.kernel_pointer
    first = {}

    def looping(self, addr, what):
        p = real(self, addr, what)
        if what.startswith("free list of order"):
            return first.setdefault("node", p)
        if what == "free list head" and p != addr - 0 and "node" not in first:
            first["node"] = p
        return p
    monkeypatch.setattr(vmci.VmciMemory, "kernel_pointer", looping)
    t = time.monotonic()
    got = read_dump_facts([str(LZO)], method="vmcoreinfo")
    assert time.monotonic() - t < 30
    reason = {m["fact"]: m["reason"] for m in got["source"]["missing"]}["memory.zones"]
    assert "loops or is longer than the zone" in reason


def test_no_vmcoreinfo_at_all(monkeypatch):
    _with_vmcoreinfo(monkeypatch, lambda text: "")
    got = read_dump_facts([str(LZO)], method="vmcoreinfo")
    assert got["source"]["method"] is None
    assert "no VMCOREINFO" in got["source"]["unavailable"]


def test_reports_show_vmcoreinfo_facts_without_watermarks():
    """Every format shows the zones with '-' for what VMCOREINFO lacks; the HTML
    draws the free blocks by order (no watermark chart without watermarks)."""
    import xml.dom.minidom
    from triage.analysis import analyze_path
    from triage.report.render import render
    d = analyze_path(str(LZO), facts=True, facts_method="vmcoreinfo")
    text = render(d, "text")
    assert "read from VMCOREINFO alone" in text and "DMA32" in text
    assert "2 5 19 17 10 11 10 9 10 5 33" in text          # DMA32's free blocks, as the oracle has them
    html = render(d, "html")
    assert html.count("<svg") == 1 and "Free blocks by order" in html
    svg = html[html.index("<svg"):html.index("</svg>") + 6]
    xml.dom.minidom.parseString(svg)
    assert "Memory zones" in render(d, "markdown")


FUZZ_KEYS = ["SYMBOL(node_data)", "LENGTH(node_data)", "SYMBOL(node_online_map)", "SIZE(nodemask_t)",
             "SIZE(pglist_data)", "OFFSET(pglist_data.node_zones)", "OFFSET(pglist_data.nr_zones)",
             "OFFSET(pglist_data.node_id)", "SIZE(zone)", "OFFSET(zone.free_area)", "OFFSET(zone.vm_stat)",
             "OFFSET(zone.spanned_pages)", "LENGTH(zone.free_area)", "SIZE(free_area)",
             "OFFSET(free_area.free_list)", "LENGTH(free_area.free_list)", "SIZE(list_head)",
             "OFFSET(list_head.next)", "NUMBER(NR_FREE_PAGES)", "SIZE(atomic_long_t)",
             "SYMBOL(mem_section)", "LENGTH(mem_section)", "SIZE(mem_section)",
             "OFFSET(mem_section.section_mem_map)", "NUMBER(SECTION_SIZE_BITS)", "NUMBER(MAX_PHYSMEM_BITS)",
             "SIZE(page)", "OFFSET(page.flags)", "OFFSET(page._mapcount)", "OFFSET(page.mapping)",
             "OFFSET(page.private)", "OFFSET(page.compound_head)", "OFFSET(page.compound_order)",
             "OFFSET(page.compound_dtor)", "NUMBER(PG_slab)", "NUMBER(PG_head_mask)",
             "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", "NUMBER(phys_base)", "SYMBOL(init_top_pgt)"]


@pytest.mark.slow
def test_fuzzed_vmcoreinfo_never_raises_or_hangs(monkeypatch):
    """Any of the keys the fallback and the census use, set to any value (or
    removed, or nudged off its real value): facts or a stated reason, in bounded
    time, never an exception."""
    from hypothesis import HealthCheck, given, settings, strategies as st
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    with open_reader([str(LZO)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())

    def real(key):
        kind, name = key[:-1].split("(", 1)
        return {"SYMBOL": info.symbol, "SIZE": info.size, "OFFSET": info.offset, "LENGTH": info.length,
                "NUMBER": info.number}[kind](name)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(key=st.sampled_from(FUZZ_KEYS),
           value=st.one_of(st.none(), st.integers(-(1 << 63), (1 << 64) - 1), st.integers(-8, 8),
                           st.integers(-64, 64).map(lambda d: ("delta", d))))
    def run(key, value):
        if isinstance(value, tuple):
            value = (real(key) or 0) + value[1]
        text = None if value is None else (f"{value % (1 << 64):x}" if key.startswith("SYMBOL") else str(value))
        with monkeypatch.context() as m:
            _with_vmcoreinfo(m, _set(key, text))
            t = time.monotonic()
            got = read_dump_facts([str(LZO)], method="vmcoreinfo", census=True)
            assert time.monotonic() - t < 60
        src = got["source"]
        assert src["method"] == "vmcoreinfo" or src["unavailable"]
        assert isinstance(got["census"], dict)
        json.dumps(got)
    run()


def test_page_frames_counts_kernel_pages_not_file_blocks():
    """A kdump file's max_mapnr counts its blocks: QEMU writes an arm64 guest of
    4 KiB pages in 64 KiB blocks, and the free-list bound must be in pages."""
    from triage.facts.fallback import page_frames

    class Blocks:
        page_size = 65536

        def phys_ranges(self):
            return []

        def max_pfn(self):
            return 0x4000          # 1 GiB in 64 KiB blocks

    assert page_frames(Blocks(), 4096) == 0x40000
    Blocks.page_size = 4096
    assert page_frames(Blocks(), 4096) == 0x4000
