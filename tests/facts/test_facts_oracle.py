"""Dump facts read with BTF + kallsyms equal drgn's with Debian's DWARF vmlinux.

Oracle: tests/facts/drgn_dwarf_oracle.py runs drgn 0.3.0 with the -dbg package's
vmlinux on the same files. Its JSON is committed beside the committed dumps; for
the generated matrix, sample_dumps/generate writes it beside each dump when it
makes the dump (the entry's `facts_oracle` in out*/manifest.json), since every
generation has other bytes.
"""

import json
from pathlib import Path

import pytest

pytest.importorskip("drgn")

from triage.facts import read_dump_facts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted((ROOT / "sample_dumps" / "committed").glob("*/*.facts-oracle.json"))


def _matrix_oracles():
    """(dump, oracle) for every generated x86_64 dump whose manifest entry has a facts
    oracle (arm64's: tests/facts/test_arm64_facts_oracle.py, no ORC there)."""
    pairs = []
    for manifest in sorted((ROOT / "sample_dumps").glob("out*/manifest.json")):
        for e in json.loads(manifest.read_text())["dumps"]:
            res = e.get("facts_oracle") or {}
            if res.get("status") == "ok" and e.get("arch", "x86_64") == "x86_64":
                pairs.append(pytest.param(manifest.parent / e["path"], manifest.parent / res["output"],
                                          id=f"{manifest.parent.name}/{e['path']}"))
    return pairs


MATRIX_ORACLES = _matrix_oracles()


def _same_file(dump: Path, oracle: Path) -> None:
    """The oracle was read from this very file (the generator writes both together)."""
    size = json.loads(oracle.read_text()).get("dump_size")
    assert size == dump.stat().st_size, (
        f"{oracle.name} was made from another {dump.name} ({size} bytes, now "
        f"{dump.stat().st_size}): rerun sample_dumps/generate --facts-oracle-only")


def compare(got, want, path="dump"):
    """Every leaf of `want` equals the same leaf of `got`; returns the differences."""
    diffs = []
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not an object"]
        for k, v in want.items():
            diffs += compare(got.get(k), v, f"{path}.{k}")
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: {got!r} != {want!r}"]
        for i, (g, w) in enumerate(zip(got, want)):
            diffs += compare(g, w, f"{path}[{i}]")
    elif got != want:
        diffs.append(f"{path}: {got!r} != {want!r}")
    return diffs


def _check(dump: Path, oracle: Path):
    want = json.loads(oracle.read_text())
    got = read_dump_facts([str(dump)])
    assert got["source"]["unavailable"] is None, got["source"]
    assert got["source"]["missing"] == []
    assert got["source"]["method"] == "btf+kallsyms"
    diffs = compare(got, want["facts"])
    assert not diffs, "\n".join(diffs[:20])
    # the comparison covered the facts that matter (not an empty oracle)
    f = want["facts"]
    assert f["tasks"]["count"] > 10 and f["memory"]["zones"] and f["modules"]
    assert f["tasks"]["panic"] is not None


@pytest.mark.parametrize("oracle", COMMITTED, ids=lambda p: p.parent.name)
def test_committed_dump_facts_equal_dwarf(oracle):
    _check(Path(str(oracle)[:-len(".facts-oracle.json")]), oracle)


def test_committed_oracles_present():
    assert len(COMMITTED) == 2


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("dump,oracle", MATRIX_ORACLES)
def test_matrix_dump_facts_equal_dwarf(dump, oracle):
    _same_file(dump, oracle)
    _check(dump, oracle)


def test_compare_reports_differences():
    assert compare({"a": [1, 2]}, {"a": [1, 3]}) == ["dump.a[1]: 2 != 3"]
    assert compare({"a": {"b": None}}, {"a": {"b": 0}}) == ["dump.a.b: None != 0"]
    assert compare({}, {"a": []})


@pytest.mark.parametrize("oracle", COMMITTED, ids=lambda p: p.parent.name)
def test_btf_types_equal_dwarf_types(oracle):
    """The drgn types built from BTF have DWARF's names, sizes, member names, bit
    offsets, bitfield sizes and member type names (and enumerators), for every type
    the facts' helpers use (drgn_dwarf_oracle.LAYOUT_TYPES)."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from drgn_dwarf_oracle import describe
    from triage.facts.program import open_program
    want = json.loads(oracle.read_text())["types"]
    opened = open_program([str(oracle)[:-len(".facts-oracle.json")]])
    try:
        diffs = []
        for name, w in want.items():
            try:
                got = describe(opened.prog.type(name))
            except LookupError:
                got = None
            diffs += compare(got, w, name)
            if w is not None:
                assert got == w or diffs
    finally:
        opened.close()
    assert not diffs, "\n".join(diffs[:30])
    assert sum(1 for w in want.values() if w) > 30


def stacks_equal(dump: Path, want, orc: bool, triage_reader: bool = False) -> None:
    """Every task's kernel stack (return addresses) as triage unwinds it without
    debuginfo (x86_64: the dump's own ORC tables; arm64: frame pointers) equals
    the oracle's, drgn's DWARF-CFI unwinding with the vmlinux."""
    from drgn.helpers.linux.pid import find_task
    from triage.facts.collect import stack_pcs
    from triage.facts.orc import OrcTable
    from triage.facts.program import open_program
    opened = open_program([str(dump)], triage_reader=triage_reader)
    try:
        diffs = []
        table = OrcTable(opened.prog) if orc else None
        for pid, pcs in want.items():
            task = find_task(opened.prog, int(pid))
            assert task, f"pid {pid} of the oracle is not in {dump.name}"
            got = [hex(pc) for pc in stack_pcs(opened.prog, task, opened.cpu_regs, table)]
            if got != pcs:
                diffs.append(f"pid {pid}: {got} != {pcs}")
    finally:
        opened.close()
    assert not diffs, "\n".join(diffs[:10])
    assert len(want) > 40 and sum(len(p) for p in want.values()) > 200


def named_oracle_stack(prog, task, pcs, cpu_regs=None, orc=None):
    """The oracle's return addresses `pcs` for `task` named as triage names them
    (frame_text): each pc that is a return address by pc - 1, which function holds
    the call (drgn's StackFrame.symbol() rule). Which pcs are return addresses is
    taken from triage's own unwinding of the task, and only where it found the very
    same pcs: a stack that differs stays unnamed, so the comparison fails."""
    from triage.facts.collect import frame_text, stack_frames
    from triage.facts.orc import StackCut
    try:
        mine = stack_frames(prog, task, cpu_regs, orc)
    except StackCut as cut:
        mine = cut.frames
    if [hex(pc) for pc, _ in mine] != pcs:
        return [f"(unwound otherwise) {pc}" for pc in pcs]
    return [frame_text(prog, pc, call) for pc, call in mine]


def _naming_differences(dump: Path):
    """(differences, frames checked, frames whose return-address name differs from
    the bare pc's) of frame_text against drgn's StackFrame.symbol() (pc - 1 for a
    frame that was not interrupted) over every task of `dump`."""
    import drgn
    from drgn.helpers.linux.pid import for_each_task
    from triage.facts.collect import frame_text
    from triage.facts.program import open_program
    opened = open_program([str(dump)])
    try:
        prog, diffs, checked, differs = opened.prog, [], 0, 0
        for task in for_each_task(prog):
            try:
                frames = [f for f in prog.stack_trace(task) if not f.is_inline]
            except (LookupError, ValueError, drgn.FaultError):
                continue        # no registers for it (a running task drgn has no notes for)
            for f in frames:
                try:
                    sym = f.symbol()
                except LookupError:
                    continue
                want = f"{sym.name}+{f.pc - sym.address:#x}"
                got = frame_text(prog, f.pc, not f.interrupted)
                checked += 1
                if got.split(" [")[0] != want:
                    diffs.append(f"pid {task.pid.value_()}: {got} != {want}")
                differs += got != frame_text(prog, f.pc)
    finally:
        opened.close()
    return diffs, checked, differs


@pytest.mark.parametrize("oracle", COMMITTED, ids=lambda p: p.parent.name)
def test_return_addresses_named_as_drgn_names_frames(oracle):
    """frame_text names a frame's pc as drgn's StackFrame.symbol() does, on every task."""
    diffs, checked, _ = _naming_differences(Path(str(oracle)[:-len(".facts-oracle.json")]))
    assert not diffs, "\n".join(diffs[:10])
    assert checked > 200


GPU_QEMU = ROOT / "sample_dumps" / "out" / "gpu_alloc_null-128M-kaslr-qemu" / "vmcore.qemu-elf"


@pytest.mark.matrix
@pytest.mark.skipif(not GPU_QEMU.is_file(), reason="sample_dumps/generate made no gpu_alloc_null QEMU ELF dump")
def test_return_address_after_a_noreturn_call_named_by_the_call():
    """QEMU's dump keeps the panicking CPU inside panic(), called from oops_end.cold
    as its last instruction: the return address is the next function's first byte,
    and the frame is named oops_end.cold, as drgn names it, not that next function."""
    diffs, checked, differs = _naming_differences(GPU_QEMU)
    assert not diffs, "\n".join(diffs[:10])
    assert differs >= 1
    stack = read_dump_facts([str(GPU_QEMU)])["tasks"]["panic"]["stack"]
    assert any(f.startswith("oops_end.cold+") for f in stack) and not any(f.endswith("+0x0") for f in stack[1:]), stack


def _stacks_match(dump: Path, oracle: Path, triage_reader: bool = False):
    stacks_equal(dump, json.loads(oracle.read_text())["stacks"], orc=True, triage_reader=triage_reader)


@pytest.mark.parametrize("oracle", COMMITTED, ids=lambda p: p.parent.name)
def test_stacks_equal_dwarf(oracle):
    _stacks_match(Path(str(oracle)[:-len(".facts-oracle.json")]), oracle)


def test_running_task_unwound_from_prstatus_like_drgn():
    """The kdump file read through triage's reader (drgn then has no PRSTATUS
    registers): the crashed task is unwound from the note's pt_regs, with the same
    addresses drgn gets from the notes itself (and DWARF)."""
    oracle = COMMITTED[0]
    assert oracle.parent.name == "gpu_alloc_null-kdump-lzo"
    _stacks_match(Path(str(oracle)[:-len(".facts-oracle.json")]), oracle, triage_reader=True)


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.parametrize("dump,oracle", MATRIX_ORACLES)
def test_matrix_stacks_equal_dwarf(dump, oracle):
    _same_file(dump, oracle)
    _stacks_match(dump, oracle)
