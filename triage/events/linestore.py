"""A compact, append-only store of LogLine values.

A million-line log would cost ~220 bytes per line as LogLine objects (object,
int, float, str). The store keeps the fields in parallel arrays instead
(8 bytes for the number, 8 for the timestamp, one list slot for the text;
caller and host lists only once a line has one) and builds LogLine objects
on access. Texts shorter than INTERN_MAX characters are shared through a
bounded table, so the "Call Trace:" and "Modules linked in: ..." lines that
repeat in every report are stored once.
"""

import math
from array import array
from bisect import bisect_left, bisect_right
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union, overload

from triage.events.model import LogLine

INTERN_MAX = 160           # longer texts are rarely repeated verbatim
INTERN_TABLE = 1 << 16     # distinct texts shared; past it new texts are stored as they are

_NAN = float("nan")


class LineStore(Sequence[LogLine]):
    """Lines in input order; `line(number)` finds one by its line number."""

    __slots__ = ("_numbers", "_ts", "_texts", "_callers", "_hosts", "_shared", "_sorted")

    def __init__(self) -> None:
        self._numbers = array("q")
        self._ts = array("d")
        self._texts: List[str] = []
        self._callers: Optional[List[Optional[str]]] = None
        self._hosts: Optional[List[Optional[str]]] = None
        self._shared: Dict[str, str] = {}
        self._sorted = True     # numbers non-decreasing: line() can bisect

    def append(self, ll: LogLine) -> None:
        """Store one line (its fields are copied; `ll` itself is not kept)."""
        text = ll.text
        if len(text) < INTERN_MAX:
            shared = self._shared.get(text)
            if shared is not None:
                text = shared
            elif len(self._shared) < INTERN_TABLE:
                self._shared[text] = text
        n = len(self._texts)
        if n and ll.number < self._numbers[-1]:
            self._sorted = False
        self._numbers.append(ll.number)
        self._ts.append(_NAN if ll.ts is None else ll.ts)
        self._texts.append(text)
        if ll.caller is not None and self._callers is None:
            self._callers = [None] * n
        if self._callers is not None:
            self._callers.append(ll.caller)
        if ll.host is not None and self._hosts is None:
            self._hosts = [None] * n
        if self._hosts is not None:
            self._hosts.append(ll.host)

    def _at(self, i: int) -> LogLine:
        ts = self._ts[i]
        return LogLine(self._numbers[i], self._texts[i], None if math.isnan(ts) else ts,
                       self._callers[i] if self._callers is not None else None,
                       self._hosts[i] if self._hosts is not None else None)

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, i: int) -> LogLine: ...

    @overload
    def __getitem__(self, i: slice) -> List[LogLine]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[LogLine, List[LogLine]]:
        if isinstance(i, slice):
            return [self._at(k) for k in range(*i.indices(len(self._texts)))]
        if i < 0:
            i += len(self._texts)
        if not 0 <= i < len(self._texts):
            raise IndexError("line index out of range")
        return self._at(i)

    def __iter__(self) -> Iterator[LogLine]:
        for i in range(len(self._texts)):
            yield self._at(i)

    def line(self, number: int) -> Optional[LogLine]:
        """The first kept line numbered `number`, None when it was not kept."""
        nums = self._numbers
        if 0 < number <= len(nums) and nums[number - 1] == number and (number == 1 or nums[number - 2] != number):
            return self._at(number - 1)
        if self._sorted:
            i = bisect_left(nums, number)
            return self._at(i) if i < len(nums) and nums[i] == number else None
        for i, n in enumerate(nums):
            if n == number:
                return self._at(i)
        return None

    def between(self, first: int, last: int) -> List[LogLine]:
        """Kept lines numbered first..last, in order."""
        if not self._sorted:
            return [ln for ln in self if first <= ln.number <= last]
        i = bisect_left(self._numbers, first)
        out = []
        nums = self._numbers
        while i < len(nums) and nums[i] <= last:
            out.append(self._at(i))
            i += 1
        return out

    def retain_after(self, floor: int, keep: Callable[[int], bool]) -> int:
        """Drop the lines numbered above `floor` for which keep(number) is false;
        return how many were dropped. Lines at or below `floor` are never touched."""
        nums = self._numbers
        start = bisect_right(nums, floor) if self._sorted else 0
        idx = [i for i in range(start, len(nums)) if nums[i] <= floor or keep(nums[i])]
        dropped = len(nums) - start - len(idx)
        if not dropped:
            return 0
        # cut the tail in place and append what stays: the kept head is never copied
        for name in ("_numbers", "_ts", "_texts", "_callers", "_hosts"):
            col = getattr(self, name)
            if col is not None:
                rest = [col[i] for i in idx]
                del col[start:]
                col.extend(rest)
        return dropped
