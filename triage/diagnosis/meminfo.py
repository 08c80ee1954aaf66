"""Read the per-zone free/min watermark lines of a Mem-Info block.

`show_mem()` prints, for every zone, a line such as
`Node 0 DMA32 free:44920kB boost:0kB min:5716kB low:7144kB high:8572kB ...`
(3.10 omits `boost:`). Free memory at or below `min` is what the allocator
calls exhausted; above it, a failed allocation had another cause.
"""

import re
from dataclasses import dataclass
from typing import Iterable, List, Optional

# "Node 0 " may be printed as a separate record when other output interleaves.
_ZONE = re.compile(r"^(?:Node (\d+) )?(DMA|DMA32|Normal|HighMem|Movable|Device) free:(\d+)kB\b.*?\bmin:(\d+)kB\b"
                   r"(?:.*?\blow:(\d+)kB)?(?:.*?\bhigh:(\d+)kB)?")


@dataclass
class ZoneFree:
    """One zone's free memory and watermarks, in kB, from one Mem-Info block."""

    node: int
    zone: str
    free_kb: int
    min_kb: int
    low_kb: Optional[int]
    high_kb: Optional[int]
    line: int

    @property
    def below_min(self) -> bool:
        return self.free_kb <= self.min_kb

    @property
    def below_low(self) -> bool:
        return self.low_kb is not None and self.free_kb <= self.low_kb


def parse_zone_line(number: int, text: str) -> Optional[ZoneFree]:
    """A ZoneFree from one log line, or None when the line is not a zone line."""
    if " free:" not in text[:40]:
        return None
    m = _ZONE.match(text[:600])
    if not m:
        return None
    node, zone, free, mn, low, high = m.groups()
    return ZoneFree(int(node or 0), zone, int(free), int(mn),
                    int(low) if low else None, int(high) if high else None, number)


def zones_in(lines: Iterable) -> List[ZoneFree]:
    """Every zone line in `lines` (LogLine objects), in order."""
    out = []
    for ln in lines:
        z = parse_zone_line(ln.number, ln.text)
        if z is not None:
            out.append(z)
    return out


def usable(zones: List[ZoneFree]) -> List[ZoneFree]:
    """Zones general allocations draw from: DMA is a tiny reserve, and zones
    with no memory at all (free 0, min 0) say nothing."""
    return [z for z in zones if z.zone != "DMA" and not (z.free_kb == 0 and z.min_kb == 0)]


def zone_blocks(lines: Iterable) -> List[List[ZoneFree]]:
    """Zone lines grouped per Mem-Info block: a zone seen twice starts a new block."""
    blocks: List[List[ZoneFree]] = []
    seen = set()
    last_line = -10
    for z in zones_in(lines):
        key = (z.node, z.zone)
        # lowmem_reserve lines sit between zone lines; a gap of more than a
        # few lines or a repeated zone means a new report
        if not blocks or key in seen or z.line - last_line > 40:
            blocks.append([])
            seen = set()
        blocks[-1].append(z)
        seen.add(key)
        last_line = z.line
    return blocks
