"""`triage batch` reads the dump facts in each dump's isolated worker, keeps a summary of
them in its store and JSON, and says what the zones show; `--no-facts` turns it off.

Oracle: `triage analyze --format json --no-debuginfo-search` on the same file (whose
facts tests/facts compare with drgn+DWARF), and the two committed real dumps: the
in-guest kdump lzo of gpu_alloc_null (a failed 64 GiB vmalloc: the zones have
plenty free) and QEMU's flattened dump of oom_panic (the zones exhausted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("drgn")
ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "sample_dumps" / "committed"
DUMPS = {"gpu": COMMITTED / "gpu_alloc_null-kdump-lzo" / "vmcore",
         "oom": COMMITTED / "oom_panic-qemu-flat-zlib-nokaslr" / "vmcore.flat"}
TRIAGE = [sys.executable, "-m", "triage"]


def run(*args):
    r = subprocess.run(TRIAGE + list(args), capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    for host, dump in DUMPS.items():
        (root / host).mkdir()
        (root / host / dump.name).symlink_to(dump)
    return root


@pytest.fixture(scope="module")
def with_facts(tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    text = run("batch", str(tree), "-o", str(out), "--no-progress", "-j", "2")
    return json.loads((out / "batch.json").read_text()), text, out


def test_records_hold_the_facts_analyze_reads(with_facts):
    doc, _, out = with_facts
    by_host = {d["host"]: d for d in doc["dumps"]}
    for host, dump in DUMPS.items():
        rec = by_host[host]
        want = json.loads(run("analyze", "--format", "json", "--no-debuginfo-search", str(dump)))["dump"]
        assert want["source"]["method"] == "btf+kallsyms"
        f = rec["dump_facts"]
        assert f["read"] and f["method"] == "btf+kallsyms" and f["unavailable"] is None
        assert f["tasks"] == want["tasks"]["count"] and f["free_pages"] == want["memory"]["free_pages"]
        assert f["totalram_pages"] == want["memory"]["totalram_pages"]
        assert f["panic"] == {"pid": want["tasks"]["panic"]["pid"], "comm": want["tasks"]["panic"]["comm"]}
        assert f["top_rss"] == want["tasks"]["top_rss"][:3] and f["d_state"] == len(want["tasks"]["d_state"])
        # the whole facts are in the dump's own report, as analyze gives them
        assert json.loads((out / rec["report"] / "report.json").read_text())["dump"] == want


def test_zones_judged_and_summarised(with_facts):
    doc, text, _ = with_facts
    by_host = {d["host"]: d for d in doc["dumps"]}
    assert by_host["oom"]["dump_facts"]["memory"] == "exhausted"
    assert by_host["oom"]["dump_facts"]["memory_exhaustion"] == "supported"
    assert by_host["gpu"]["dump_facts"]["memory"] == "ample"
    assert doc["summary"]["dump_facts"] == {"read": 2, "of": 2, "memory": {"exhausted": 1, "ample": 1},
                                            "exhaustion_confirmed": 1}
    assert ("dump facts read from 2 of 2 dumps; memory at the crash by the dumps' zones: 1 exhausted, "
            "1 ample; memory exhaustion confirmed from the zones in 1") in text
    row = [line for line in text.splitlines() if line.startswith("oom/vmcore.flat")][0]
    assert row.split()[-1] == "exhausted"          # the memory column (no note follows)


def test_no_facts_reads_none_and_is_stored_apart(tree, with_facts, tmp_path):
    """--no-facts: no facts in records, reports or summary; and a store made without
    facts is not taken for one with them (the change key says which)."""
    out = tmp_path / "out"
    text = run("batch", str(tree), "-o", str(out), "--no-progress", "--no-facts")
    doc = json.loads((out / "batch.json").read_text())
    assert all(d["dump_facts"] is None for d in doc["dumps"]) and "dump_facts" not in doc["summary"]
    assert "dump facts" not in text
    rep = json.loads((out / doc["dumps"][0]["report"] / "report.json").read_text())
    assert rep.get("dump") is None
    run("batch", str(tree), "-o", str(out), "--no-progress")          # facts on: analysed again
    doc = json.loads((out / "batch.json").read_text())
    assert all(d["dump_facts"]["read"] for d in doc["dumps"])
