"""Fleet views: the finished records of a batch grouped the ways an OS expert asks.

Every view is a list of plain dict rows (column -> value), ordered for
reading: the same bug across hosts (grouped by the stable verdict title),
per host, per kernel release, per culprit module and version, crashes soon
after boot, and hosts that crash again and again. Nothing here prints.
"""

from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, List, Optional

# A crash this soon after boot is "at start-up" (a service that crashes the
# kernel when it starts shows as a cluster of these).
EARLY_BOOT_S = 600.0

Record = Dict[str, Any]


def _title(r: Record) -> str:
    v = r.get("verdict") or {}
    return v.get("title") or "(unclassified)"


def _category(r: Record) -> str:
    v = r.get("verdict") or {}
    return v.get("category") or "unknown"


def _culprit(r: Record) -> Dict[str, Any]:
    v = r.get("verdict") or {}
    return v.get("culprit") or {}


def _span(rs: List[Record]) -> Dict[str, Optional[str]]:
    times = sorted(r["crash_time"] for r in rs if r.get("crash_time"))
    return {"first_seen": times[0] if times else None, "last_seen": times[-1] if times else None}


def analysed(records: Iterable[Record]) -> List[Record]:
    """Records that carry a verdict (ok or partial)."""
    return [r for r in records if r.get("status") in ("ok", "partial") and r.get("verdict")]


def by_title(records: Iterable[Record]) -> List[Record]:
    """The same bug across hosts: one row per verdict title."""
    groups: Dict[str, List[Record]] = defaultdict(list)
    for r in analysed(records):
        groups[_title(r)].append(r)
    rows = []
    for title, rs in groups.items():
        hosts = sorted({r["host"] for r in rs})
        early = sum(1 for r in rs if _early(r))
        rows.append({"title": title, "category": _category(rs[0]), "dumps": len(rs),
                     "hosts": len(hosts), "host_list": hosts,
                     "kernels": sorted({r.get("kernel_release") or "?" for r in rs}),
                     "early_boot": early, **_span(rs)})
    rows.sort(key=lambda x: (-x["dumps"], -x["hosts"], x["title"]))
    return rows


def by_host(records: Iterable[Record]) -> List[Record]:
    """One row per host: how often it crashed, with what, and when."""
    groups: Dict[str, List[Record]] = defaultdict(list)
    for r in records:
        groups[r.get("host") or "unknown"].append(r)
    rows = []
    for host, rs in groups.items():
        ok = analysed(rs)
        titles = Counter(_title(r) for r in ok)
        rows.append({"host": host, "dumps": len(rs), "errors": len(rs) - len(ok),
                     "titles": len(titles),
                     "top_title": titles.most_common(1)[0][0] if titles else None,
                     "kernels": sorted({r.get("kernel_release") for r in ok if r.get("kernel_release")}),
                     **_span(rs)})
    rows.sort(key=lambda x: (-x["dumps"], x["host"]))
    return rows


def by_kernel(records: Iterable[Record]) -> List[Record]:
    """One row per kernel release: which bugs it shows, on how many hosts."""
    groups: Dict[str, List[Record]] = defaultdict(list)
    for r in analysed(records):
        groups[r.get("kernel_release") or "(unknown)"].append(r)
    rows = []
    for rel, rs in groups.items():
        titles = Counter(_title(r) for r in rs)
        rows.append({"kernel_release": rel, "dumps": len(rs), "hosts": len({r["host"] for r in rs}),
                     "titles": len(titles), "top_title": titles.most_common(1)[0][0], **_span(rs)})
    rows.sort(key=lambda x: (-x["dumps"], x["kernel_release"]))
    return rows


def by_culprit(records: Iterable[Record]) -> List[Record]:
    """One row per culprit module and version (core kernel as '(kernel)')."""
    groups: Dict[tuple, List[Record]] = defaultdict(list)
    for r in analysed(records):
        c = _culprit(r)
        groups[(c.get("module") or "(kernel)", c.get("version") or "")].append(r)
    rows = []
    for (mod, ver), rs in groups.items():
        c = _culprit(rs[0])
        rows.append({"module": mod, "version": ver or None, "dumps": len(rs),
                     "hosts": len({r["host"] for r in rs}),
                     "titles": sorted({_title(r) for r in rs}),
                     "taint": c.get("taint"), **_span(rs)})
    rows.sort(key=lambda x: (-x["dumps"], x["module"], x["version"] or ""))
    return rows


def _early(r: Record) -> bool:
    up = r.get("uptime_s")
    return isinstance(up, (int, float)) and up < EARLY_BOOT_S


def early_boot(records: Iterable[Record]) -> List[Record]:
    """Titles that crash within EARLY_BOOT_S of boot, flagged when it happens more than once."""
    groups: Dict[str, List[Record]] = defaultdict(list)
    for r in analysed(records):
        if _early(r):
            groups[_title(r)].append(r)
    rows = []
    for title, rs in groups.items():
        ups = sorted(r["uptime_s"] for r in rs)
        rows.append({"title": title, "dumps": len(rs), "hosts": len({r["host"] for r in rs}),
                     "min_uptime_s": round(ups[0], 1), "max_uptime_s": round(ups[-1], 1),
                     "cluster": len(rs) >= 2})
    rows.sort(key=lambda x: (-x["dumps"], x["title"]))
    return rows


def repeat_hosts(records: Iterable[Record]) -> List[Record]:
    """Hosts with more than one crash, and whether it is the same bug each time."""
    rows = []
    for row in by_host(records):
        if row["dumps"] >= 2:
            rows.append({"host": row["host"], "dumps": row["dumps"], "titles": row["titles"],
                         "same_bug": row["titles"] == 1 and row["errors"] == 0,
                         "first_seen": row["first_seen"], "last_seen": row["last_seen"]})
    return rows


def over_time(records: Iterable[Record]) -> List[Record]:
    """Crashes per day and category (rows: day, category, dumps), for the chart."""
    c: Counter = Counter()
    for r in analysed(records):
        if r.get("crash_time"):
            c[(r["crash_time"][:10], _category(r))] += 1
    return [{"day": d, "category": cat, "dumps": n} for (d, cat), n in sorted(c.items())]


def errors(records: Iterable[Record]) -> List[Record]:
    """Dumps that could not be analysed, with the reason."""
    return [{"dump": r["id"], "host": r.get("host"), "error": r.get("error")}
            for r in records if r.get("status") == "error"]


def summary(records: List[Record]) -> Dict[str, Any]:
    from triage.batch.facts import fleet_summary
    c = Counter(r.get("status") for r in records)
    out = {"dumps": len(records), "ok": c.get("ok", 0), "partial": c.get("partial", 0),
           "error": c.get("error", 0), "hosts": len({r.get("host") for r in records}),
           "titles": len({_title(r) for r in analysed(records)})}
    facts = fleet_summary(records)
    if facts:
        out["dump_facts"] = facts
    return out


VIEWS = {
    "by_title": by_title,
    "by_host": by_host,
    "by_kernel": by_kernel,
    "by_culprit": by_culprit,
    "early_boot": early_boot,
    "repeat_hosts": repeat_hosts,
    "over_time": over_time,
    "errors": errors,
}


def fleet(records: List[Record]) -> Dict[str, Any]:
    """Every view, plus the summary counts."""
    out: Dict[str, Any] = {"summary": summary(records)}
    for name, fn in VIEWS.items():
        out[name] = fn(records)
    return out
