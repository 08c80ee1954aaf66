"""D-state tasks on real hung_task dumps equal drgn+DWARF's, stack included.

The generator's `hung_task` scenario leaves a task of `init` in uninterruptible
sleep in acme_storage (wait_for_completion) until khungtaskd panics. Its stack
is unwound with the kernel's ORC tables found in the dump (no debuginfo) and
must equal drgn's DWARF-CFI unwinding with Debian's -dbg vmlinux on the same
file: the oracle sample_dumps/generate wrote beside the dump
(<dump>.drgn-dwarf.json, refused when made from another file), else computed
live with the -dbg vmlinux (tests/facts/_dbg.py). Skips when no hung_task dump
was generated (`sample_dumps/generate --scenarios hung_task`, into
sample_dumps/out or out-*; .ci/run makes out-hung; TRIAGE_EXTRA_DUMP_DIRS adds a
directory) or no oracle can be had; with TRIAGE_REQUIRE_HUNG_TASK_DUMP=1 (CI) a
missing dump fails instead.
"""

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("drgn")
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _realdumps  # noqa: E402
from _dbg import ROOT, dbg_vmlinux, dump_identity  # noqa: E402


def _hung_dumps():
    dirs = list(_realdumps.DUMP_DIRS) + sorted((ROOT / "sample_dumps").glob("out-*"))
    old = _realdumps.DUMP_DIRS
    try:
        _realdumps.DUMP_DIRS = list(dict.fromkeys(d.resolve() for d in dirs))
        return [p for p in _realdumps.dump_files("any") if "hung_task" in str(p)]
    finally:
        _realdumps.DUMP_DIRS = old


HUNG = _hung_dumps()
pytestmark = [pytest.mark.matrix, pytest.mark.slow]


def _ids(paths):
    return [str(p).split("hung_task-", 1)[1] for p in paths]


def _oracle(dump: Path):
    """(d_state [{pid, comm}], pid -> stack) as drgn reads them with DWARF, from the
    generation-time oracle file or live; the return addresses are named from the
    dump's kallsyms, as triage names them (the vmlinux's ELF symbols name some
    addresses by an alias: entry_SYSCALL_64+0xa6 for entry_SYSCALL_64_after_hwframe+0x6e)."""
    import json
    from triage.facts.program import open_program
    saved = Path(str(dump) + ".drgn-dwarf.json")
    if saved.is_file():
        doc = json.loads(saved.read_text())
        assert doc.get("dump_size") == dump.stat().st_size, f"{saved.name} was made from another file"
        d_state, stacks = doc["facts"]["tasks"]["d_state"], doc["stacks"]
    else:
        # CI's hung_task dump comes with its generation-time oracle: never a live one there
        assert os.environ.get("TRIAGE_REQUIRE_HUNG_TASK_DUMP") != "1", f"no {saved.name} beside the dump"
        vmlinux = dbg_vmlinux(dump_identity(dump)[0])
        if vmlinux is None:
            pytest.skip("no <dump>.drgn-dwarf.json and no -dbg vmlinux for this dump's release: no oracle")
        from drgn_dwarf_oracle import dwarf_facts, dwarf_stacks
        opened = open_program([str(dump)], vmlinux=str(vmlinux))
        try:
            d_state = dwarf_facts(opened.prog)["tasks"]["d_state"]
            stacks = dwarf_stacks(opened.prog)
        finally:
            opened.close()
    from drgn.helpers.linux.pid import find_task
    from test_facts_oracle import named_oracle_stack
    from triage.facts.orc import OrcTable
    named = open_program([str(dump)])
    try:
        orc = OrcTable(named.prog)
        text = {int(pid): named_oracle_stack(named.prog, find_task(named.prog, int(pid)), pcs,
                                             named.cpu_regs, orc)
                for pid, pcs in stacks.items() if int(pid) in {d["pid"] for d in d_state}}
    finally:
        named.close()
    return d_state, text


@pytest.mark.parametrize("dump", HUNG, ids=_ids(HUNG))
def test_d_state_tasks_equal_dwarf(dump):
    from triage.facts import read_dump_facts
    want, want_stacks = _oracle(dump)
    got = read_dump_facts([str(dump)])
    assert got["source"]["method"] == "btf+kallsyms" and got["source"]["missing"] == []
    d_state = got["tasks"]["d_state"]
    assert [{"pid": d["pid"], "comm": d["comm"]} for d in d_state] == want
    for d in d_state:
        assert "stack_reason" not in d, d
        assert d["stack"] == want_stacks[d["pid"]]
    # the scenario's waiter is there, blocked in the module (not a vacuous comparison)
    assert any("acme_trigger_write+" in " ".join(d["stack"]) and d["stack"][0].startswith("__schedule+")
               for d in d_state), d_state


@pytest.mark.parametrize("dump", HUNG[:1], ids=_ids(HUNG[:1]))
def test_text_report_lists_d_state_briefly(dump):
    from triage.cli import cli
    res = CliRunner().invoke(cli, ["analyze", "--no-debuginfo-search", str(dump)])
    assert res.exit_code == 0, res.output
    assert "Tasks in uninterruptible sleep (D): " in res.output
    section = res.output.split("Tasks in uninterruptible sleep (D): ", 1)[1]
    # past the scheduler's frames: where the task waits, up to the module's write handler
    assert "__wait_for_common+" in section and "acme_trigger_write+" in section
    assert "__schedule+" not in section.split("\n\n", 1)[0]


def test_hung_task_dumps_present_or_skipped():
    if not HUNG:
        if os.environ.get("TRIAGE_REQUIRE_HUNG_TASK_DUMP") == "1":
            pytest.fail("TRIAGE_REQUIRE_HUNG_TASK_DUMP=1 but no hung_task dump was generated "
                        "(.ci/run: sample_dumps/generate --scenarios hung_task ... --out sample_dumps/out-hung)")
        pytest.skip("no hung_task dump generated (sample_dumps/generate --scenarios hung_task)")
    assert all(p.stat().st_size > 1 << 20 for p in HUNG)
