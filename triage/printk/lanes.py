"""A column of fixed-width unsigned fields packed into one Python int ("lanes").

Lane i of a column of w-byte fields is bits [8*w*i, 8*w*(i+1)) of the int that
int.from_bytes(..., "little") makes of the fields laid side by side. One big-int
operation (and, xor, add, sub, compare) then tests or transforms the whole column
in C, a few microseconds for 16384 fields, where a map over the column costs a
Python int per field. The column path of `triage dmesg` (printk.lockless) runs
its per-record tests this way.

Lanewise addition and subtraction are exact only while no lane carries or
borrows: each caller says why its lanes stay in range.
"""

import sys
from array import array
from typing import List, Optional, Sequence, Tuple

_CODES = {2: "H", 4: "I", 8: "Q"}


def usable(width: int) -> bool:
    """Whether lanes of `width` bytes can be turned back into Python ints here:
    `to_list` casts the bytes to a native array, so the host must be little-endian."""
    code = _CODES.get(width)
    return sys.byteorder == "little" and code is not None and array(code).itemsize == width


class Lanes:
    """The constants of k lanes of `width` bytes (usable(width) must hold)."""

    __slots__ = ("k", "width", "bits", "lane", "ones", "full", "_code", "_splats")

    def __init__(self, k: int, width: int):
        self.k, self.width, self.bits = k, width, 8 * width
        self.lane = (1 << self.bits) - 1
        self.ones = int.from_bytes((b"\x01" + bytes(width - 1)) * k, "little")
        self.full = self.lane * self.ones
        self._code = _CODES[width]
        self._splats = {}

    def splat(self, value: int) -> int:
        """`value` (0 <= value < 2**bits) in every lane (remembered: a multiplication
        of the whole column, while the callers reuse a few constants)."""
        got = self._splats.get(value)
        if got is None:
            if len(self._splats) >= 64:
                self._splats.clear()
            got = self._splats[value] = value * self.ones
        return got

    def iota(self) -> int:
        """0, 1, ..., k-1 in lanes 0..k-1."""
        return int.from_bytes(array(self._code, range(self.k)).tobytes(), "little")

    def to_list(self, value: int) -> List[int]:
        """The lanes of `value` (no lane negative or wider than its width) as ints."""
        return memoryview(value.to_bytes(self.k * self.width, "little")).cast(self._code).tolist()

    def mask(self, ranges: Sequence[Tuple[int, int]]) -> int:
        """Every bit of the lanes in the [a, b) ranges."""
        out = 0
        for a, b in ranges:
            out |= ((1 << (self.bits * (b - a))) - 1) << (self.bits * a)
        return out

    def nonzero(self, value: int, limit: int) -> Optional[List[int]]:
        """Indices of the lanes of `value` (not negative) that are not zero, in order, or
        None when there are more than `limit` (each costs a few passes over `value`)."""
        out: List[int] = []
        base = 0
        while value:
            if len(out) == limit:
                return None
            i = ((value & -value).bit_length() - 1) // self.bits
            out.append(base + i)
            value >>= self.bits * (i + 1)
            base += i + 1
        return out


def pack_column(buf, first: int, k: int, rec_size: int, off: int, width: int) -> Optional[int]:
    """Field `off` (`width` bytes) of records first..first+k-1 of `buf` as lanes, or None
    when the field is not aligned to its width in the records (then no lane view)."""
    if width not in _CODES or rec_size % width or off % width or off + width > rec_size:
        return None
    raw = memoryview(buf)[first * rec_size:(first + k) * rec_size] if isinstance(buf, (bytes, bytearray)) \
        else memoryview(buf[first * rec_size:(first + k) * rec_size])
    # tobytes of the strided view copies each field's bytes as they are (little-endian
    # in the dump), whatever the host's byte order
    return int.from_bytes(raw.cast(_CODES[width])[off // width::rec_size // width].tobytes(), "little")
