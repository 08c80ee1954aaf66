"""Parse results shared between the reports of one log.

A log that repeats one report a hundred thousand times repeats the same call
trace lines, RIP lines and `Modules linked in:` lists. Parsing each distinct
line once and handing out the same Frame/Module objects keeps the memory of
such a log proportional to what is distinct in it, not to its length. The
tables are bounded (TABLE entries each): past that, lines are parsed afresh,
which costs time, never correctness.

Shared Frame and Module objects and module lists must not be modified by
their users: build a new one (dataclasses.replace, list + list) instead.
"""

from typing import Dict, List, Optional, Tuple

from triage.events import blockinfo
from triage.events.frames import parse_ip_line, parse_trace_line
from triage.events.model import Frame, Module

TABLE = 1 << 15


class Shared:
    """Per-parse caches of frame, faulting-IP and module-list parses."""

    __slots__ = ("_trace", "_ip", "_modules", "_frames", "_texts")

    def __init__(self) -> None:
        self._trace: Dict[Tuple[str, str], Optional[Frame]] = {}
        self._ip: Dict[str, Tuple[Optional[Frame], Optional[str]]] = {}
        self._modules: Dict[str, Tuple[List[Module], Optional[str]]] = {}
        self._frames: Dict[Tuple, Frame] = {}
        self._texts: Dict[str, str] = {}

    def frame(self, fr: Optional[Frame]) -> Optional[Frame]:
        """An equal Frame seen before (shared), else `fr`."""
        if fr is None:
            return None
        key = (fr.function, fr.offset, fr.size, fr.module, fr.reliable, fr.context)
        got = self._frames.get(key)
        if got is None:
            got = fr
            if len(self._frames) < TABLE:
                self._frames[key] = fr
        return got

    def text(self, s: str) -> str:
        """An equal short string seen before (shared), else `s`."""
        if len(s) > 120:
            return s
        got = self._texts.get(s)
        if got is None:
            got = s
            if len(self._texts) < TABLE:
                self._texts[s] = s
        return got

    def trace_frame(self, text: str, context: str = "task") -> Optional[Frame]:
        """parse_trace_line(text, context), shared."""
        key = (text, context)
        try:
            return self._trace[key]
        except KeyError:
            fr = parse_trace_line(text, context)
            if len(self._trace) < TABLE:
                self._trace[key] = fr
            return fr

    def ip_frame(self, text: str) -> Tuple[Optional[Frame], Optional[str]]:
        """(parse_ip_line(text), its str()), shared."""
        got = self._ip.get(text)
        if got is None:
            fr = parse_ip_line(text)
            got = (fr, str(fr) if fr is not None else None)
            if len(self._ip) < TABLE:
                self._ip[text] = got
        return got

    def modules(self, text: str) -> Tuple[List[Module], Optional[str]]:
        """blockinfo.parse_modules(text), shared: the list itself is shared too."""
        got = self._modules.get(text)
        if got is None:
            got = blockinfo.parse_modules(text)
            if len(self._modules) < TABLE:
                self._modules[text] = got
        return got
