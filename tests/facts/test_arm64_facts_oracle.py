"""arm64 dump facts read with BTF + kallsyms (no debuginfo) equal drgn's with
Debian's DWARF vmlinux, field by field, on the real arm64 dumps.

The oracle is made from the same file (CI regenerates the dumps, so numbers
committed from this machine's generation would not apply): the one
sample_dumps/generate wrote beside the dump (the entry's `facts_oracle`, checked
to be of this very file), else computed live here, drgn 0.3.0 with
linux-image-<release>-dbg's vmlinux, through tests/facts/drgn_dwarf_oracle.py's
dwarf_facts() and dwarf_stacks(). Skipped, with the reason, where neither exists
(the vmlinux is looked for under sample_dumps/cache/dbg-<release>/,
/work/dbg-arm64/ and /usr/lib/debug/boot/).
"""

import sys
from pathlib import Path

import pytest

pytest.importorskip("drgn")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))
from test_arm64_dumps import ENTRIES  # noqa: E402
from test_facts_oracle import compare, stacks_equal  # noqa: E402

from _dbg import dbg_vmlinux as arm64_vmlinux  # noqa: E402


IDS = [f"{b.name}/{e['path']}" for b, e in ENTRIES]     # out-arm64-16k and -16k-va47 share paths


def _generated_oracle(base: Path, e):
    """(facts, stacks) the generator recorded for this very file, or None."""
    import json
    res = e.get("facts_oracle") or {}
    if res.get("status") != "ok":
        return None
    doc = json.loads((base / res["output"]).read_text())
    if doc.get("dump_size") != (base / e["path"]).stat().st_size:
        return None             # made from another generation's file
    return doc["facts"], doc["stacks"]


def _oracle(dump: Path, vmlinux: Path):
    from drgn_dwarf_oracle import dwarf_facts, dwarf_stacks
    from triage.facts.program import open_program
    opened = open_program([str(dump)], vmlinux=str(vmlinux))
    try:
        return dwarf_facts(opened.prog), dwarf_stacks(opened.prog)
    finally:
        opened.close()


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.skipif(not ENTRIES, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_arm64_facts_equal_dwarf(entry):
    base, e = entry
    dump = base / e["path"]
    made = _generated_oracle(base, e)
    if made is None:
        vmlinux = arm64_vmlinux(e["kernel_release"])
        if vmlinux is None:
            pytest.skip(f"no facts oracle beside the dump and no DWARF vmlinux-{e['kernel_release']} "
                        f"(sample_dumps/generate makes one; or apt-get download "
                        f"linux-image-{e['kernel_release']}-dbg:arm64 and unpack its vmlinux)")
        made = _oracle(dump, vmlinux)
    want, want_stacks = made
    from triage.facts import read_dump_facts
    got = read_dump_facts([str(dump)])
    src = got["source"]
    assert src["unavailable"] is None, src
    assert src["method"] == "btf+kallsyms"
    assert src["missing"] == [], src["missing"]
    diffs = compare(got, want)
    assert not diffs, "\n".join(diffs[:20])
    # the comparison covered the facts that matter
    assert want["tasks"]["count"] > 10 and want["memory"]["zones"] and want["modules"]
    assert want["tasks"]["panic"] is not None
    _check_stacks(dump, want_stacks)


def _check_stacks(dump: Path, want):
    """Every task's kernel stack unwound through frame pointers (drgn's aarch64
    fallback, no DWARF CFI) equals drgn's DWARF-CFI unwinding with the vmlinux."""
    stacks_equal(dump, want, orc=False)
