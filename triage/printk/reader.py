"""Find and read whichever printk buffer the dumped kernel has, from VMCOREINFO alone.

SYMBOL(prb) means the lockless ring (5.10+); SYMBOL(log_first_idx) the struct
printk_log buffer (3.5-5.9); SYMBOL(log_end) the plain character ring (<3.5).
"""

from typing import List, Optional

from triage.datarecord import DataRecord, Factory
from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import NoLogError
from triage.printk.record import PrintkRecord


class PrintkLog(DataRecord):
    """The log of one dump: records (or raw text for the plain ring), and what went wrong."""

    kind: str                                   # "lockless", "printk_log", "plain"
    records: List[PrintkRecord] = Factory(list)
    raw_text: Optional[bytes] = None            # only for kind == "plain"
    problems: List[str] = Factory(list)
    partial: bool = False
    levels_known: bool = False


def buffer_kind(info: VmcoreInfo) -> str:
    if info.symbol("prb") is not None:
        return "lockless"
    if info.symbol("log_first_idx") is not None:
        return "printk_log"
    if info.symbol("log_end") is not None:
        return "plain"
    raise NoLogError("VMCOREINFO names no printk buffer (no SYMBOL(prb), log_first_idx or log_end)")


def read_printk(mem, info: VmcoreInfo) -> PrintkLog:
    """Read the kernel log through a KernelMemory."""
    kind = buffer_kind(info)
    if kind == "lockless":
        from triage.printk.lockless import read_lockless
        recs, problems, partial = read_lockless(mem, info)
        known = bool(recs) and recs[0].level is not None
        return PrintkLog(kind, recs, problems=problems, partial=partial, levels_known=known)
    if kind == "printk_log":
        from triage.printk.structured import read_printk_log
        recs, problems, partial = read_printk_log(mem, info)
        return PrintkLog(kind, recs, problems=problems, partial=partial)
    from triage.printk.plain import read_plain, split_plain
    text, problems, partial = read_plain(mem, info)
    return PrintkLog(kind, split_plain(text), raw_text=text, problems=problems, partial=partial)


def stream_printk(mem, info: VmcoreInfo, columns: bool = False):
    """(PrintkLog without records, iterator of records): the lean path of `triage dmesg`.

    columns=True iterates (timestamps, texts) batches instead of PrintkRecords
    (all that makedumpfile-style output needs). The log's `problems` list fills
    in while the iterator runs; read it afterwards.
    """
    kind = buffer_kind(info)
    if kind == "lockless":
        from triage.printk.lockless import read_lockless
        it, problems, partial = read_lockless(mem, info, stream=True, columns=columns)
        return PrintkLog(kind, problems=problems, partial=partial), it
    log = read_printk(mem, info)
    records, log.records = log.records, []
    if columns:
        return log, _as_columns(records)
    return log, iter(records)


def _as_columns(records: List[PrintkRecord], batch: int = 4096):
    for i in range(0, len(records), batch):
        part = records[i:i + batch]
        yield [r.ts_nsec for r in part], [r.text for r in part]
