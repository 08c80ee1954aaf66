"""printk records from real dumps of every format, checked against the serial console (ignore_loglevel).

Oracle: serial.log captured by QEMU while the guest ran, which shows every record
the kernel printed, one line per embedded line, each with the record's timestamp.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _realdumps import dump_files, dump_ids, is_suffix_run, serial_is_oracle, serial_kernel_lines, serial_log_for  # noqa: E402

from triage.logsource import open_reader, read_dump_log  # noqa: E402
from triage.printk.format import record_lines  # noqa: E402

ELF = dump_files("any")     # every format: the printk layer must not care
pytestmark = pytest.mark.skipif(not ELF, reason="no real dumps (sample_dumps/committed, sample_dumps/out)")


@pytest.mark.parametrize("dump", ELF, ids=dump_ids(ELF))
def test_records_equal_serial_console(dump):
    if not serial_is_oracle(dump):
        pytest.skip("guest ran without ignore_loglevel: the serial log is no oracle (see the flood test)")
    serial = serial_log_for(dump)
    with open_reader([str(dump)]) as r:
        log, info, _ = read_dump_log(r)
    assert log.kind == "lockless"
    assert not log.partial and not log.problems
    lines = [ln for rec in log.records for ln in record_lines(rec)]
    ok, why = is_suffix_run(lines, serial_kernel_lines(serial))
    assert ok, why


@pytest.mark.parametrize("dump", ELF, ids=dump_ids(ELF))
def test_records_are_in_sequence(dump):
    """seq numbers rise by one (timestamps may not: CPUs stamp before they reserve)."""
    with open_reader([str(dump)]) as r:
        log, _, _ = read_dump_log(r)
    seqs = [rec.seq for rec in log.records]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert log.records[0].text.startswith(b"Linux version") or seqs[0] > 0


@pytest.mark.parametrize("dump", ELF, ids=dump_ids(ELF))
def test_dev_info_dict_present(dump):
    """dev_printk records carry SUBSYSTEM/DEVICE; the serial line is the same text."""
    with open_reader([str(dump)]) as r:
        log, _, _ = read_dump_log(r)
    with_dict = [rec for rec in log.records if rec.dict]
    if log.records[0].seq == 0:
        assert with_dict, "a booted kernel always logs some dev_printk records"
    for rec in with_dict:
        assert set(rec.dict) <= {"SUBSYSTEM", "DEVICE"}
        if "DEVICE" in rec.dict:
            assert rec.dict["DEVICE"][0] in "+cbn"   # kernel's device key kinds


@pytest.mark.parametrize("dump", ELF[:1], ids=dump_ids(ELF[:1]))
def test_live_window_read_equals_whole_ring_read(dump):
    """Reading only tail..head of the rings gives the same records as reading them whole."""
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.memory.kernel import KernelMemory
    from triage.printk.lockless import read_lockless
    with open_reader([str(dump)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
        mem = KernelMemory(r, info, "x86_64")
        sparse, _, _ = read_lockless(mem, info)
        for k in ("prb_data_ring.head_lpos", "prb_data_ring.tail_lpos"):
            info.offsets.pop(k, None)
        whole, _, _ = read_lockless(mem, info)
    assert sparse == whole and len(sparse) > 100


@pytest.mark.parametrize("dump", ELF[:2], ids=dump_ids(ELF[:2]))
def test_raw_fast_path_equals_record_path(dump):
    """`triage dmesg`'s (timestamps, texts) column path prints exactly what the full records print."""
    from triage.logsource import stream_dump_log
    from triage.printk.format import format_columns, format_records
    with open_reader([str(dump)]) as r:
        log, recs, _, _ = stream_dump_log(r)
        full = b"".join(format_records(recs))
    with open_reader([str(dump)]) as r:
        log, batches, _, _ = stream_dump_log(r, columns=True)
        fast = b"".join(format_columns(batches))
    assert fast == full and fast.count(b"\n") >= 400


def test_caller_column():
    """makedumpfile 1.7.4+ prints `[%*s] ` with PID_CHARS_DEFAULT (8) after the timestamp."""
    from triage.printk.format import format_record
    from triage.printk.record import PrintkRecord
    assert format_record(PrintkRecord(1, 1_500_000_000, b"x", caller_id=42), caller=True) == b"[    1.500000] [     T42] x\n"
    assert format_record(PrintkRecord(1, 0, b"a\nb", caller_id=0x80000003), caller=True) == \
        b"[    0.000000] [      C3] a\n                          b\n"
    assert format_record(PrintkRecord(1, 0, b"\xff\x01\t"), caller=True) == b"[    0.000000] \\xff\\x01\t\n"
