"""The fleet views of a batch of any size, from a scratch SQLite file, not from memory.

triage.batch.fleet groups whole records held in a list: fine for a few thousand
dumps, but a batch of 100,000 held ~2.5 KiB per record plus its groups. Here
each record is decoded once, reduced to the handful of fields the views use,
and written to a scratch database (with the record's JSON, for the dump table
and batch.json); the views are then SQL aggregates (GROUP BY, COUNT DISTINCT,
MIN/MAX) whose rows are materialised once, in order, and read back one at a
time. Python memory stays bounded by SQLite's page cache whatever the batch's
size; the rows are the same as triage.batch.fleet's (tests/batch/test_fleetdb.py
compares them on random records).

Strings are stored as BLOBs of their UTF-8 (surrogates passed through): SQLite
compares BLOBs with memcmp, and UTF-8 bytes sort in code point order, which is
Python's order for str, so ORDER BY gives what sorted() gave.
"""

import json
import sqlite3
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from triage.batch.facts import MEMORY_STATES
from triage.batch.fleet import EARLY_BOOT_S, VIEWS
from triage.batch.scratch import from_blob, open_scratch, to_blob

Record = Dict[str, Any]

_SCHEMA = """
CREATE TABLE recs (seq INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE f (
    seq INTEGER PRIMARY KEY,
    host BLOB,          -- r.get("host") as is (summary, hosts counts)
    hostkey BLOB,       -- r.get("host") or "unknown" (by_host)
    status TEXT,
    an INTEGER,         -- analysed: ok/partial with a verdict
    title BLOB, category BLOB,
    kq BLOB,            -- kernel_release or "?"        (by_title)
    kn BLOB,            -- kernel_release or "(unknown)" (by_kernel)
    kt BLOB,            -- kernel_release when truthy    (by_host)
    cmod BLOB, cver BLOB, taint TEXT,
    ct BLOB, day BLOB,
    early INTEGER, up,
    err TEXT            -- the errors view's row (JSON), error records only
);
CREATE TABLE vrows (view TEXT NOT NULL, i INTEGER NOT NULL, row TEXT NOT NULL, PRIMARY KEY (view, i));
"""
_INDEXES = """
CREATE INDEX f_title ON f (an, title, host);
CREATE INDEX f_host ON f (hostkey, an, title);
CREATE INDEX f_kernel ON f (an, kn, title);
CREATE INDEX f_culprit ON f (an, cmod, cver, title);
CREATE INDEX f_err ON f (status) WHERE err IS NOT NULL;
"""


def _b(v: Any) -> Optional[bytes]:
    """A string as a sortable BLOB (None stays NULL)."""
    if v is None:
        return None
    return to_blob(str(v))


def _s(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else from_blob(b)


def _loads(text: str) -> Any:
    return json.loads(text)


class _Stored:
    """Rows read back from the scratch database each time they are iterated: a sequence's
    length, truth, indexing, slices and equality, none holding them all but a slice that
    does not start at 0."""

    _n: int

    def __iter__(self) -> Iterator[Record]:
        raise NotImplementedError

    def _at(self, index: int) -> Optional[str]:
        """The JSON of row `index` (0 <= index < len), None when it has none."""
        raise NotImplementedError

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.start is None and index.step is None and index.stop is not None and index.stop >= 0:
                return [r for r, _ in zip(self, range(index.stop))]     # the first rows only
            return list(self)[index]
        if index < 0:
            index += self._n
        text = self._at(index) if 0 <= index < self._n else None
        if text is None:
            raise IndexError(index)
        return _loads(text)

    def __eq__(self, other: Any) -> bool:
        return list(self) == list(other)


class Rows(_Stored):
    """One view's rows, read from the scratch database each time it is iterated."""

    def __init__(self, db: sqlite3.Connection, view: str, n: int):
        self._db, self._view, self._n = db, view, n

    def __iter__(self) -> Iterator[Record]:
        for (text,) in self._db.execute("SELECT row FROM vrows WHERE view=? ORDER BY i", (self._view,)):
            yield _loads(text)

    def _at(self, index: int) -> Optional[str]:
        row = self._db.execute("SELECT row FROM vrows WHERE view=? AND i=?", (self._view, index)).fetchone()
        return row[0] if row else None

    def __repr__(self) -> str:
        return f"<{self._n} {self._view} rows>"


class Records(_Stored):
    """The batch's records in discovery order, decoded one at a time from the scratch database."""

    def __init__(self, db: sqlite3.Connection, n: int):
        self._db, self._n = db, n

    def __iter__(self) -> Iterator[Record]:
        for (text,) in self._db.execute("SELECT record FROM recs ORDER BY seq"):
            yield _loads(text)

    def _at(self, index: int) -> Optional[str]:
        # FleetDB.add numbers the records 1, 2, ...: a key look-up, not an OFFSET scan
        row = self._db.execute("SELECT record FROM recs WHERE seq=?", (index + 1,)).fetchone()
        return row[0] if row else None

    def __repr__(self) -> str:
        return f"<{self._n} records>"


class FleetDB:
    """Records in, fleet views out, through a scratch SQLite database.

    `path`: a file for the scratch data (removed on close; an unlinked file is
    still used through its open descriptor, so a killed run leaves nothing);
    None keeps it in memory (small batches, tests)."""

    def __init__(self, path: Optional[str] = None):
        self.db = open_scratch(path, _SCHEMA)
        self.n = 0
        self._status = {"ok": 0, "partial": 0, "error": 0}
        self._null_host = False
        self._facts = {"of": 0, "read": 0, "exhaustion_confirmed": 0, **{s: 0 for s in MEMORY_STATES}}
        self.summary: Dict[str, Any] = {}
        self.views: Dict[str, Any] = {}

    def close(self) -> None:
        self.db.close()

    def add(self, r: Record, text: Optional[str] = None) -> None:
        """One record, in order (`text`: its JSON when already at hand)."""
        self.n += 1
        status = r.get("status")
        if status in self._status:
            self._status[status] += 1
        host = r.get("host")
        self._null_host |= host is None
        v = r.get("verdict") or {}
        an = status in ("ok", "partial") and bool(r.get("verdict"))
        c = v.get("culprit") or {}
        kr = r.get("kernel_release")
        ct = r.get("crash_time") or None
        up = r.get("uptime_s")
        early = isinstance(up, (int, float)) and up < EARLY_BOOT_S
        err = json.dumps({"dump": r["id"], "host": host, "error": r.get("error")}) if status == "error" else None
        self.db.execute(
            "INSERT INTO f VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (self.n, _b(host), _b(host or "unknown"), status if isinstance(status, str) else None, int(an),
             _b(v.get("title") or "(unclassified)"), _b(v.get("category") or "unknown"),
             _b(kr or "?"), _b(kr or "(unknown)"), _b(kr) if kr else None,
             _b(c.get("module") or "(kernel)"), _b(c.get("version") or ""), json.dumps(c.get("taint")),
             _b(ct), _b(ct[:10]) if an and ct else None,
             int(early), up if early else None, err))
        self.db.execute("INSERT INTO recs VALUES (?,?)", (self.n, text if text is not None else json.dumps(r)))
        facts = r.get("dump_facts")
        if facts:
            self._facts["of"] += 1
            if facts.get("read"):
                self._facts["read"] += 1
                if facts.get("memory") in MEMORY_STATES:
                    self._facts[facts["memory"]] += 1
                if facts.get("memory_exhaustion") == "supported" and facts.get("memory") == "exhausted":
                    self._facts["exhaustion_confirmed"] += 1
        if self.n % 5000 == 0:      # keep the open transaction's dirty pages few
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")

    def finish(self) -> Dict[str, Any]:
        """Compute every view; returns {"summary": dict, view name: Rows} (triage.batch.fleet.fleet's keys)."""
        self.db.execute("COMMIT")
        self.db.executescript(_INDEXES)
        self.db.execute("BEGIN")
        q = self.db.execute
        hosts = q("SELECT COUNT(DISTINCT host) FROM f").fetchone()[0] + int(self._null_host)
        titles = q("SELECT COUNT(DISTINCT title) FROM f WHERE an").fetchone()[0]
        self.summary = {"dumps": self.n, **self._status, "hosts": hosts, "titles": titles}
        fa = self._facts
        if fa["of"]:
            self.summary["dump_facts"] = {
                "read": fa["read"], "of": fa["of"], "memory": {s: fa[s] for s in MEMORY_STATES if fa[s]},
                "exhaustion_confirmed": fa["exhaustion_confirmed"]}
        for name, rows in (("by_title", self._by_title()), ("by_host", self._by_host()),
                           ("by_kernel", self._by_kernel()), ("by_culprit", self._by_culprit()),
                           ("early_boot", self._early_boot()), ("repeat_hosts", self._repeat_hosts()),
                           ("over_time", self._over_time()), ("errors", self._errors())):
            self._store(name, rows)
        self.db.execute("COMMIT")
        assert set(self.views) == set(VIEWS)
        return {"summary": self.summary, **self.views}

    def records(self) -> Records:
        return Records(self.db, self.n)

    # -- views ----------------------------------------------------------------

    def _store(self, name: str, rows: Iterable[Record]) -> None:
        n = 0
        for row in rows:
            self.db.execute("INSERT INTO vrows VALUES (?,?,?)", (name, n, json.dumps(row)))
            n += 1
        self.views[name] = Rows(self.db, name, n)

    def _distinct(self, col: str, where: str, args: tuple) -> List[Optional[str]]:
        return [_s(x) for (x,) in self.db.execute(
            f"SELECT DISTINCT {col} FROM f WHERE {where} ORDER BY {col}", args)]

    def _top_title(self, where: str, args: tuple) -> Optional[str]:
        # Counter.most_common(1): the largest count, the first seen among equals
        row = self.db.execute(f"SELECT title FROM f WHERE {where} GROUP BY title "
                              "ORDER BY COUNT(*) DESC, MIN(seq) LIMIT 1", args).fetchone()
        return _s(row[0]) if row else None

    def _groups(self, keys: Tuple[str, ...], first: str, order: str) -> sqlite3.Cursor:
        """One row per group of the analysed records by `keys`, most dumps first, then
        `order`: (*keys, column `first` of the group's first record, dumps, hosts,
        early-boot dumps, first seen, last seen)."""
        k = ", ".join(keys)
        return self.db.execute(
            f"SELECT {', '.join('g.' + c for c in keys)}, f.{first}, g.dumps, g.hosts, g.early, g.first, g.last "
            f"FROM (SELECT {k}, MIN(seq) s0, COUNT(*) dumps, COUNT(DISTINCT host) hosts, SUM(early) early, "
            f" MIN(ct) first, MAX(ct) last FROM f WHERE an GROUP BY {k}) g JOIN f ON f.seq = g.s0 "
            f"ORDER BY g.dumps DESC, {order}")

    def _by_title(self) -> Iterator[Record]:
        for title, cat, dumps, hosts, early, first, last in self._groups(("title",), "category",
                                                                          "g.hosts DESC, g.title"):
            yield {"title": _s(title), "category": _s(cat), "dumps": dumps, "hosts": hosts,
                   "host_list": self._distinct("host", "an AND title=?", (title,)),
                   "kernels": self._distinct("kq", "an AND title=?", (title,)),
                   "early_boot": early, "first_seen": _s(first), "last_seen": _s(last)}

    def _by_host(self) -> Iterator[Record]:
        cur = self.db.execute(
            "SELECT hostkey, COUNT(*) dumps, SUM(an) nan, COUNT(DISTINCT CASE WHEN an THEN title END), "
            "MIN(ct), MAX(ct) FROM f GROUP BY hostkey ORDER BY dumps DESC, hostkey")
        for host, dumps, nan, titles, first, last in cur:
            yield {"host": _s(host), "dumps": dumps, "errors": dumps - nan, "titles": titles,
                   "top_title": self._top_title("hostkey=? AND an", (host,)) if nan else None,
                   "kernels": self._distinct("kt", "hostkey=? AND an AND kt IS NOT NULL", (host,)) if nan else [],
                   "first_seen": _s(first), "last_seen": _s(last)}

    def _by_kernel(self) -> Iterator[Record]:
        cur = self.db.execute(
            "SELECT kn, COUNT(*) dumps, COUNT(DISTINCT host), COUNT(DISTINCT title), MIN(ct), MAX(ct) "
            "FROM f WHERE an GROUP BY kn ORDER BY dumps DESC, kn")
        for kn, dumps, hosts, titles, first, last in cur:
            yield {"kernel_release": _s(kn), "dumps": dumps, "hosts": hosts, "titles": titles,
                   "top_title": self._top_title("an AND kn=?", (kn,)), "first_seen": _s(first),
                   "last_seen": _s(last)}

    def _by_culprit(self) -> Iterator[Record]:
        for mod, ver, taint, dumps, hosts, _, first, last in self._groups(("cmod", "cver"), "taint",
                                                                           "g.cmod, g.cver"):
            yield {"module": _s(mod), "version": _s(ver) or None, "dumps": dumps, "hosts": hosts,
                   "titles": self._distinct("title", "an AND cmod=? AND cver=?", (mod, ver)),
                   "taint": json.loads(taint), "first_seen": _s(first), "last_seen": _s(last)}

    def _early_boot(self) -> Iterator[Record]:
        cur = self.db.execute(
            "SELECT title, COUNT(*) dumps, COUNT(DISTINCT host), MIN(up), MAX(up) FROM f "
            "WHERE an AND early GROUP BY title ORDER BY dumps DESC, title")
        for title, dumps, hosts, lo, hi in cur:
            yield {"title": _s(title), "dumps": dumps, "hosts": hosts, "min_uptime_s": round(lo, 1),
                   "max_uptime_s": round(hi, 1), "cluster": dumps >= 2}

    def _repeat_hosts(self) -> Iterator[Record]:
        for row in self.views["by_host"]:
            if row["dumps"] < 2:
                break       # by_host is ordered by dumps, most first
            yield {"host": row["host"], "dumps": row["dumps"], "titles": row["titles"],
                   "same_bug": row["titles"] == 1 and row["errors"] == 0,
                   "first_seen": row["first_seen"], "last_seen": row["last_seen"]}

    def _over_time(self) -> Iterator[Record]:
        cur = self.db.execute("SELECT day, category, COUNT(*) FROM f WHERE day IS NOT NULL "
                              "GROUP BY day, category ORDER BY day, category")
        for day, cat, n in cur:
            yield {"day": _s(day), "category": _s(cat), "dumps": n}

    def _errors(self) -> Iterator[Record]:
        for (text,) in self.db.execute("SELECT err FROM f WHERE err IS NOT NULL ORDER BY seq"):
            yield json.loads(text)


def _filled(path: Optional[str], pairs: Iterable[Tuple[Record, Optional[str]]]) -> Tuple[FleetDB, Dict[str, Any]]:
    """A FleetDB at `path` of the (record, its JSON or None) `pairs`, in order, and its
    views (FleetDB.finish); closed, its file gone, when anything fails on the way."""
    fdb = FleetDB(path)
    try:
        for r, text in pairs:
            fdb.add(r, text)
        return fdb, fdb.finish()
    except BaseException:
        fdb.close()
        raise


def fleet_of_texts(path: Optional[str], texts: Iterable[str]) -> Tuple[FleetDB, Dict[str, Any]]:
    """_filled with the records whose JSON `texts` gives (the store's rows)."""
    return _filled(path, ((json.loads(text), text) for text in texts))


def fleet_of_records(path: Optional[str], records: Iterable[Record]) -> Tuple[FleetDB, Dict[str, Any]]:
    """_filled with records made in memory (--redact's copies)."""
    return _filled(path, ((r, None) for r in records))


def fleet_of(records: Iterable[Record]) -> Dict[str, Any]:
    """triage.batch.fleet.fleet's views, computed through an in-memory FleetDB (tests)."""
    fdb, views = fleet_of_records(None, records)
    try:
        return {k: (v if k == "summary" else list(v)) for k, v in views.items()}
    finally:
        fdb.close()
