"""A kdump file whose page data runs past its end is never handed to libkdumpfile.

libkdumpfile (drgn's kdump reader) maps the page data and reads it in place: a page
that runs past the end of the file kills the process with SIGBUS, which no handler
catches. Hostile campaign (session 8): 1% of the committed dump's page descriptors
given random bad offsets made `triage analyze` die with SIGBUS (exit 135, no
message); bisected to one descriptor, 9869 (a raw page drgn reads for the dump
facts), whose offset was moved to 10 bytes before the end of the file.
"""

import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from triage.dumps.kdump import KdumpReader
from triage.dumps.store import FileStore
from triage.facts.program import _libkdumpfile_refusal

ROOT = Path(__file__).resolve().parents[2]
KDUMP = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
DRGN_READS = 9869            # index of a page descriptor whose page drgn reads for the facts

pytestmark = pytest.mark.skipif(not KDUMP.exists(), reason="committed dump missing")


def _desc_table(raw: bytes):
    bs, sub, bmb = struct.unpack_from("<iiI", raw, 428)
    return (1 + sub + bmb) * bs


def _moved(tmp_path, index: int, offset_from_end: int) -> Path:
    raw = bytearray(KDUMP.read_bytes())
    at = _desc_table(raw) + index * 24
    struct.pack_into("<q", raw, at, len(raw) - offset_from_end)
    p = tmp_path / "vmcore"
    p.write_bytes(raw)
    return p


def test_committed_dump_has_every_page_in_the_file():
    with KdumpReader([FileStore(str(KDUMP))]) as r:
        assert r.page_data_past_end() is None
        assert _libkdumpfile_refusal(r, r.facts()) is None


def test_a_page_running_past_the_end_is_named(tmp_path):
    p = _moved(tmp_path, DRGN_READS, 10)
    with KdumpReader([FileStore(str(p))]) as r:
        why = r.page_data_past_end()
        assert why and f"page descriptor {DRGN_READS} " in why and "past the end of the file" in why, why
        assert _libkdumpfile_refusal(r, r.facts()) == why


def test_a_file_cut_inside_a_page_is_named(tmp_path):
    raw = KDUMP.read_bytes()
    pd = _desc_table(raw) + DRGN_READS * 24
    offset, size = struct.unpack_from("<qI", raw, pd)
    p = tmp_path / "vmcore"
    p.write_bytes(raw[:offset + size // 2])
    with KdumpReader([FileStore(str(p))]) as r:
        why = r.page_data_past_end()
        assert why and f"page descriptor {DRGN_READS} " in why, why


@pytest.mark.skipif(importlib.util.find_spec("drgn") is None, reason="drgn is not installed")
def test_analyze_survives_a_page_past_the_end(tmp_path):
    p = _moved(tmp_path, DRGN_READS, 10)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "triage", "analyze", "--format", "json", str(p)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode in (0, 6), (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
