"""PrintkRecord: one kernel log record as the ring buffer stores it."""

from dataclasses import dataclass, field
from typing import Dict, Optional

CALLER_CPU_FLAG = 0x80000000


def caller_string(caller_id: Optional[int]) -> Optional[str]:
    """"T<pid>" or "C<cpu>" the way the kernel's CONFIG_PRINTK_CALLER prefix spells it."""
    if caller_id is None:
        return None
    if caller_id & CALLER_CPU_FLAG:
        return f"C{caller_id & ~CALLER_CPU_FLAG}"
    return f"T{caller_id}"


@dataclass
class PrintkRecord:
    """One record. `text` is the raw message bytes (may hold newlines and any byte).

    seq is None for buffers that do not store it (struct printk_log, plain log_buf);
    level/facility are None unless the layout beside text_len was verified.
    """

    seq: Optional[int]
    ts_nsec: int
    text: bytes
    caller_id: Optional[int] = None
    level: Optional[int] = None
    facility: Optional[int] = None
    flags: Optional[int] = None
    dict: Dict[str, str] = field(default_factory=dict)

    @property
    def caller(self) -> Optional[str]:
        return caller_string(self.caller_id)
