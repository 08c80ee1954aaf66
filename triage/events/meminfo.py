"""The OOM report's body: the Mem-Info block and the task table."""

from typing import Any, Dict, List, Optional

from triage.lazyre import lazy_compile

_COUNTER = lazy_compile(r"([a-z_]{2,40}):(\d{1,20})(kB)?")
_ZONE = lazy_compile(r"Node (\d{1,4}) (\w{1,16}) free:(\d{1,20})kB(?: boost:\d{1,20}kB)? min:(\d{1,20})kB low:(\d{1,20})kB high:(\d{1,20})kB")
_SWAP = lazy_compile(r"(Free swap|Total swap)\s{0,4}=\s{0,4}(-?\d{1,20})kB")
_PAGES = lazy_compile(r"(\d{1,20}) (pages RAM|pages reserved|total pagecache pages|pages HighMem/MovableOnly|pages in swap cache)")
_TASK_ROW = lazy_compile(r"\[\s{0,10}(\d{1,10})\]((?:\s{1,20}-?\d{1,20}){4,12})\s{1,20}(\S.{0,63})$")
# The same row cut by a terminal's width (`less -S`, a console) before or inside its name: only
# numbers after the pid
_TASK_ROW_CUT = lazy_compile(r"\[\s{0,10}(\d{1,10})\]((?:\s{1,20}-?\d{1,20}){4,12})\s{0,20}$")

TOP_TASKS = 10


def new_meminfo() -> Dict[str, Any]:
    return {"counters": {}, "zones": [], "swap": {}, "pages": {}}


def feed_meminfo(info: Dict[str, Any], text: str) -> bool:
    """Add one Mem-Info line; False when the line is not part of the block."""
    s = text.strip()
    if not s:
        return False
    if s.startswith("Node ") and " free:" in s:
        m = _ZONE.match(s)
        if m and len(info["zones"]) < 64:
            info["zones"].append({"node": int(m.group(1)), "zone": m.group(2), "free_kb": int(m.group(3)),
                                  "min_kb": int(m.group(4)), "low_kb": int(m.group(5)), "high_kb": int(m.group(6))})
        return True
    if s.startswith(("Node ", "lowmem_reserve", "Active:", "hugepages", "Swap cache", "HighMem")):
        return True
    m = _SWAP.match(s)
    if m:
        info["swap"][m.group(1).lower().replace(" ", "_") + "_kb"] = int(m.group(2))
        return True
    m = _PAGES.match(s)
    if m:
        info["pages"][m.group(2).replace(" ", "_").replace("/", "_")] = int(m.group(1))
        return True
    if s[0].islower() and ":" in s[:42]:
        n = 0
        for cm in _COUNTER.finditer(s):
            if len(info["counters"]) < 64:
                info["counters"][cm.group(1)] = int(cm.group(2))
            n += 1
        return n > 0
    if s[0].isdigit() and ("kB" in s or "pages" in s):
        return True
    return False


def is_task_header(text: str) -> bool:
    s = text.strip()
    return s.startswith("[ pid ]") or s.startswith("[  pid  ]")


def task_row_columns(text: str) -> int:
    """How many numeric columns follow the pid of a `[  pid]  uid tgid total_vm rss ... name`
    row (0 when the line is not such a row)."""
    s = text.strip()
    # cut before or inside the name column: every number after the pid is a column, the last
    # one possibly cut short (a row of nothing but numbers has lost its name)
    m = _TASK_ROW_CUT.match(s) or _TASK_ROW.match(s)
    return len(m.group(2).split()) if m else 0


def task_columns(text: str) -> List[str]:
    return text.strip().replace("[ pid ]", "pid").replace("[  pid  ]", "pid").split()


def feed_task_row(table: Dict[str, Any], text: str) -> bool:
    """One `[  pid]  uid tgid total_vm rss ... name` row into a bounded top-N table."""
    m = _TASK_ROW.match(text.strip())
    if not m:
        return False
    nums = m.group(2).split()
    cols = table.get("columns") or []
    row = {"pid": int(m.group(1)), "name": m.group(3).strip()}
    for name, val in zip(cols[1:], nums):
        try:
            row[name] = int(val)
        except ValueError:
            pass
    table["count"] = table.get("count", 0) + 1
    top = table.setdefault("top", [])
    top.append(row)
    if len(top) > TOP_TASKS * 4:
        top.sort(key=lambda r: r.get("rss", 0), reverse=True)
        del top[TOP_TASKS:]
    return True


def finish_tasks(table: Optional[Dict[str, Any]]) -> None:
    if table and "top" in table:
        table["top"].sort(key=lambda r: r.get("rss", 0), reverse=True)
        del table["top"][TOP_TASKS:]
