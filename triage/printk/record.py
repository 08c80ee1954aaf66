"""PrintkRecord: one kernel log record as the ring buffer stores it."""

from typing import Dict, Optional

CALLER_CPU_FLAG = 0x80000000


def caller_string(caller_id: Optional[int]) -> Optional[str]:
    """"T<pid>" or "C<cpu>" the way the kernel's CONFIG_PRINTK_CALLER prefix spells it."""
    if caller_id is None:
        return None
    if caller_id & CALLER_CPU_FLAG:
        return f"C{caller_id & ~CALLER_CPU_FLAG}"
    return f"T{caller_id}"


class PrintkRecord:
    """One record. `text` is the raw message bytes (may hold newlines and any byte).

    seq is None for buffers that do not store it (struct printk_log, plain log_buf);
    level/facility are None unless the layout beside text_len was verified; `dict`
    holds SUBSYSTEM/DEVICE (lockless dev_info) or the printk_log dictionary.
    A __slots__ class, not a dataclass: a large ring has hundreds of thousands.
    """

    __slots__ = ("seq", "ts_nsec", "text", "caller_id", "level", "facility", "flags", "dict")

    def __init__(self, seq: Optional[int], ts_nsec: int, text: bytes, caller_id: Optional[int] = None,
                 level: Optional[int] = None, facility: Optional[int] = None, flags: Optional[int] = None,
                 dict: Optional[Dict[str, str]] = None):  # noqa: A002 - the kernel's name for it
        self.seq = seq
        self.ts_nsec = ts_nsec
        self.text = text
        self.caller_id = caller_id
        self.level = level
        self.facility = facility
        self.flags = flags
        self.dict = {} if dict is None else dict

    @property
    def caller(self) -> Optional[str]:
        return caller_string(self.caller_id)

    def _key(self) -> tuple:
        return tuple(getattr(self, k) for k in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrintkRecord) and self._key() == other._key()

    def __repr__(self) -> str:
        return "PrintkRecord(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"
