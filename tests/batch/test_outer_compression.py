"""kdump-tools' whole-file compression (KDUMP_COMPRESSION): dump.<stamp>.xz/.gz/.zst/.lz4.

Oracle: `triage analyze` of the same real dump uncompressed; batch must reach
the same verdict from each compressed copy, and leave no temporary file.
"""

import bz2
import gzip
import json
import lzma
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dumps import finished_dumps  # noqa: E402

from triage.batch.archive import decompress_file  # noqa: E402
from triage.batch.session import BatchOptions, run_batch  # noqa: E402
from triage.batch.work import warm  # noqa: E402
from triage.errors import CorruptDumpError, InputError  # noqa: E402


def smallest_dump() -> Path:
    dumps = finished_dumps()
    if not dumps:
        pytest.fail("no real dumps under sample_dumps/committed or sample_dumps/out")
    return dumps[0]


def compress(src: Path, dst: Path, kind: str) -> None:
    data = src.read_bytes()
    if kind == "xz":
        dst.write_bytes(lzma.compress(data, preset=0))
    elif kind == "gz":
        dst.write_bytes(gzip.compress(data, compresslevel=1))
    elif kind == "bz2":
        dst.write_bytes(bz2.compress(data, compresslevel=1))
    elif kind == "zst":
        import zstandard
        dst.write_bytes(zstandard.ZstdCompressor(level=1).compress(data))
    elif kind == "lz4":
        subprocess.run(["lz4", "-q", "-1", str(src), str(dst)], check=True)


def without_next_steps(verdict: dict) -> dict:
    return {k: v for k, v in verdict.items() if k != "next_steps"}


def test_compressed_dumps_get_the_verdict_of_the_plain_dump(tmp_path):
    dump = smallest_dump()
    oracle = json.loads(subprocess.run([sys.executable, "-m", "triage", "analyze", str(dump), "--format", "json"],
                                       capture_output=True, text=True, timeout=300).stdout)
    kinds = ["xz", "gz", "zst"] + (["lz4"] if shutil.which("lz4") else [])
    root = tmp_path / "crash"
    for i, kind in enumerate(kinds):
        d = root / f"web{i}" / f"20261120100{i}"
        d.mkdir(parents=True)
        compress(dump, d / f"dump.20261120100{i}.{kind}", kind)
    warm()
    res = run_batch([str(root)], BatchOptions(outdir=str(tmp_path / "out"), jobs=2))
    assert [r["status"] for r in res.records] == ["ok"] * len(kinds), [r.get("error") for r in res.records]
    for r in res.records:
        # next steps' crash/drgn command lines name the file analysed (here the compressed copy)
        assert without_next_steps(r["verdict"]) == without_next_steps(oracle["verdict"]), r["id"]
        assert r["source"]["path"] == r["id"]          # the report names the file, not the temp copy
    assert not (tmp_path / "out" / ".triage-tmp").exists()


def test_decompression_is_bounded_and_damage_is_reported(tmp_path):
    src = tmp_path / "x.xz"
    src.write_bytes(lzma.compress(b"\0" * (4 << 20)))
    with pytest.raises(InputError, match="temporary-space limit"):
        decompress_file(str(src), str(tmp_path / "out1"), 1 << 20)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(os.urandom(100000))[:5000])
    with pytest.raises(CorruptDumpError, match="damaged"):
        decompress_file(str(cut), str(tmp_path / "out2"), 1 << 30)
