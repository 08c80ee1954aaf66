"""NUMBER(PHYS_OFFSET) missing from VMCOREINFO (kernels before its export, trimmed
notes): the aarch64 translator derives it from swapper_pg_dir and the log is the
same. Real arm64 dumps (sample_dumps/out-arm64*), the key deleted in memory.

Oracles: the dump's own NUMBER(PHYS_OFFSET) (read before deleting it), the
`PHYS_OFFSET:` line arm64's panic printed on the serial console, and the log
triage reads with the key present.
"""
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_arm64_dumps import ENTRIES  # noqa: E402

from triage.logsource import open_reader, read_dump_log  # noqa: E402

# one dump per (run directory, format): every reader path, not every conversion twice
PICK = {}
for base, e in ENTRIES:
    PICK.setdefault((base / e["path"]).parent.parent.name + e["format"] + e["compression"], (base, e))
PICKED = list(PICK.values())


def _read(path: Path, drop_phys_offset: bool):
    reader = open_reader(str(path))
    if drop_phys_offset:
        text = reader.vmcoreinfo()
        stripped = re.sub(r"(?m)^NUMBER\(PHYS_OFFSET\)=.*\n", "", text)
        assert stripped != text
        reader.vmcoreinfo = lambda: stripped
    try:
        log, _info, mem = read_dump_log(reader)
        return [(r.ts_nsec, r.text) for r in log.records], mem.translator.layout
    finally:
        reader.close()


@pytest.mark.matrix
@pytest.mark.slow
@pytest.mark.skipif(not PICKED, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")
@pytest.mark.parametrize("entry", PICKED, ids=[e["path"] for _b, e in PICKED])
def test_log_is_the_same_without_phys_offset(entry):
    base, e = entry
    path = base / e["path"]
    want_records, want_layout = _read(path, drop_phys_offset=False)
    got_records, got_layout = _read(path, drop_phys_offset=True)
    assert want_layout["phys_offset_source"] == "VMCOREINFO"
    assert got_layout["phys_offset_source"].startswith("derived from swapper_pg_dir")
    assert got_layout["phys_offset"] == want_layout["phys_offset"]
    assert {k: v for k, v in got_layout.items() if k != "phys_offset_source"} == \
        {k: v for k, v in want_layout.items() if k != "phys_offset_source"}
    serial = (base / e["oracles"]["serial_log"]).read_text(errors="replace")
    m = re.search(r"PHYS_OFFSET: (0x[0-9a-f]+)", serial)
    if m:
        assert int(got_layout["phys_offset"], 16) == int(m.group(1), 16)
    assert len(got_records) > 100 and got_records == want_records


@pytest.mark.matrix
@pytest.mark.skipif(not PICKED, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")
def test_no_phys_offset_and_no_linear_page_is_one_clear_error():
    """Page tables that map nothing (all-zero pages): no PHYS_OFFSET can be derived,
    and the error says so instead of guessing."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.errors import NoLogError
    from triage.memory.arch import make_translator
    base, e = PICKED[0]
    reader = open_reader(str(base / e["path"]))
    try:
        text = re.sub(r"(?m)^NUMBER\(PHYS_OFFSET\)=.*\n", "", reader.vmcoreinfo())
    finally:
        reader.close()
    with pytest.raises(NoLogError, match=r"no NUMBER\(PHYS_OFFSET\), and no linear-map page"):
        make_translator("aarch64", parse_vmcoreinfo(text), lambda addr, n: bytes(n))
