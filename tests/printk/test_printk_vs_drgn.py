"""Every field of our records against drgn's get_printk_records with debuginfo.

Oracle: drgn 0.3.0 with Debian's vmlinux debuginfo (full struct printk_info
types), recorded by tests/printk/drgn_oracle.py into tests/data/drgn-oracle/.
This is what proves level and facility, which VMCOREINFO does not export: we read
them at text_len+2 (facility) and the top 3 bits of text_len+3 (level).
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdumps import dump_files, dump_ids  # noqa: E402
from drgn_oracle import oracle_path  # noqa: E402

from triage.dumps.elf import ElfReader  # noqa: E402
from triage.logsource import read_dump_log  # noqa: E402

WITH_ORACLE = [d for d in dump_files("elf") if oracle_path(d).is_file()]


@pytest.mark.skipif(not WITH_ORACLE, reason="no dump with a recorded drgn oracle")
@pytest.mark.parametrize("dump", WITH_ORACLE, ids=dump_ids(WITH_ORACLE))
def test_fields_equal_drgn(dump):
    oracle = json.loads(oracle_path(dump).read_text())
    with ElfReader(str(dump)) as r:
        log, info, _ = read_dump_log(r)
    assert info.build_id == oracle["build_id"]
    assert log.levels_known
    ours = [{"seq": x.seq, "ts_nsec": x.ts_nsec, "text": x.text.decode("latin-1"), "level": x.level,
             "facility": x.facility, "caller": x.caller, "continuation": bool(x.flags & 8),
             "dict": x.dict} for x in log.records]
    theirs = oracle["records"]
    assert len(ours) == len(theirs)
    levels = set()
    for a, b in zip(ours, theirs):
        assert a == b
        levels.add(a["level"])
    assert len(levels) >= 3      # a boot log mixes levels; a constant would not prove the offset
