"""The batch's memory: one SQLite row per finished dump, in the output directory.

Each row is keyed by the item's identity (its main path) and carries a
change key built from every file's path, size, mtime and a content
fingerprint (a hash of the first and last chunks plus the size, so a 40 GiB
vmcore costs two small reads). A re-run skips an item whose change key is
unchanged. The database runs in WAL mode and each result is written in its
own transaction under a UNIQUE constraint, so a kill -9 at any moment loses
nothing committed and no item is ever recorded twice.
"""

import contextlib
import hashlib
import json
import os
import sqlite3
import time
import urllib.parse
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from triage.batch.discover import DumpItem, Location
from triage.errors import InputError

DB_NAME = "triage-batch.sqlite"
_CHUNK = 65536
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    item_id     TEXT NOT NULL UNIQUE,
    change_key  TEXT NOT NULL,
    status      TEXT NOT NULL,
    finished_at REAL NOT NULL,
    record      TEXT NOT NULL,
    crash_key   TEXT
);
CREATE TABLE IF NOT EXISTS files (
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    UNIQUE (path, size, mtime_ns)
);
"""


def _open_read_only(path: str) -> sqlite3.Connection:
    """Another store, opened without ever writing to it or beside it. The path is
    quoted into the URI (a '?' or '#' in a directory name would otherwise end
    it, and SQLite would create a database elsewhere); a store on a read-only
    file system whose WAL index (-shm) is absent cannot be opened in mode=ro, so
    it is read as immutable (nothing writes a finished shard)."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(path))
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.DatabaseError:
        pass
    try:
        db = sqlite3.connect(f"{uri}?immutable=1", uri=True)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.DatabaseError as exc:
        raise InputError(f"cannot read this batch store: {exc}", path=path) from None


def check_readable(path: str) -> None:
    """InputError unless `path` is a batch store this version can merge from."""
    db = _open_read_only(path)
    try:
        if not any(row[1] == "record" for row in db.execute("PRAGMA table_info(results)")):
            raise InputError("not a triage batch store (no results table)", path=path)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"cannot read this batch store: {exc}", path=path) from None
    finally:
        db.close()


def fingerprint(path: str, size: int) -> str:
    """Hash of the size, the first and the last 64 KiB of a file."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(_CHUNK))
        if size > 2 * _CHUNK:
            f.seek(size - _CHUNK)
            h.update(f.read(_CHUNK))
        elif size > _CHUNK:
            h.update(f.read())
    return h.hexdigest()


class Store:
    """The results database of one output directory."""

    def __init__(self, outdir: str):
        os.makedirs(outdir, exist_ok=True)
        self.path = os.path.join(outdir, DB_NAME)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._grouped = False       # inside grouped(): put() does not commit
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            cols = {row[1] for row in self.db.execute("PRAGMA table_info(results)")}
            if "crash_key" not in cols:     # a store written before crash identities
                self.db.execute("ALTER TABLE results ADD COLUMN crash_key TEXT")
            self.db.execute("CREATE INDEX IF NOT EXISTS results_crash ON results (crash_key)")
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise InputError(f"the result store cannot be used ({exc}); move it away to start afresh",
                             path=self.path) from None

    def close(self) -> None:
        self.db.close()

    # -- change keys ---------------------------------------------------------

    def fingerprint(self, loc: Location) -> str:
        """The content fingerprint of a file (archive members: of the archive), cached
        per path, size and mtime."""
        return self._fingerprint(loc.path, os.stat(loc.path))

    def _fingerprint(self, path: str, st: os.stat_result) -> str:
        row = self.db.execute("SELECT fingerprint FROM files WHERE path=? AND size=? AND mtime_ns=?",
                              (path, st.st_size, st.st_mtime_ns)).fetchone()
        if row:
            return row[0]
        fp = fingerprint(path, st.st_size)
        self.db.execute("INSERT OR IGNORE INTO files VALUES (?,?,?,?)", (path, st.st_size, st.st_mtime_ns, fp))
        return fp

    def _file_key(self, loc: Location) -> str:
        """path|size|mtime|fingerprint of one file (archive members: of the archive)."""
        st = os.stat(loc.path)
        fp = self._fingerprint(loc.path, st)
        # The cached fingerprint saves re-reading only when size+mtime match;
        # it is still part of the key so a same-size same-mtime rewrite of a
        # new file (fresh cache) is caught.
        return f"{loc.display()}|{loc.size}|{st.st_size}|{st.st_mtime_ns}|{fp}"

    def change_key(self, item: DumpItem, salt: str = "") -> str:
        """What must stay equal for a stored result to still hold (`salt`: the
        analysis itself, e.g. triage version and rules)."""
        parts = [salt] + [self._file_key(loc) for loc in item.locations()]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    # -- results -------------------------------------------------------------

    def done(self) -> Dict[str, str]:
        """item_id -> change_key of every stored result."""
        return dict(self.db.execute("SELECT item_id, change_key FROM results"))

    def stored(self, item_id: str) -> Tuple[Optional[str], Optional[str]]:
        """(change key, status) of an item's stored result; (None, None) without one."""
        row = self.db.execute("SELECT change_key, status FROM results WHERE item_id=?", (item_id,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def put(self, item_id: str, change_key: str, record: Dict[str, Any],
            crash_key: Optional[str] = None, finished_at: Optional[float] = None) -> None:
        """Record one finished item in its own transaction (replacing an outdated row)."""
        blob = json.dumps(record, sort_keys=True, default=str)
        with contextlib.ExitStack() as tx:
            if not self._grouped:
                tx.enter_context(self.db)   # BEGIN ... COMMIT; rolled back if anything fails
                self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO results (item_id, change_key, status, finished_at, record, crash_key) "
                "VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(item_id) DO UPDATE SET change_key=excluded.change_key, "
                "status=excluded.status, finished_at=excluded.finished_at, record=excluded.record, "
                "crash_key=excluded.crash_key",
                (item_id, change_key, record.get("status", "error"),
                 time.time() if finished_at is None else finished_at, blob, crash_key))

    @contextlib.contextmanager
    def grouped(self) -> Iterator[None]:
        """The puts inside share one transaction: one commit (one fsync) for many
        rows. Committed on leaving, also on Ctrl-C (every row put is whole);
        rolled back on an error. A kill -9 inside loses the group's rows, never
        part of one, so the next run writes them again."""
        if self._grouped:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._grouped = True
        end = "ROLLBACK"
        try:
            yield
            end = "COMMIT"
        except KeyboardInterrupt:
            end = "COMMIT"
            raise
        finally:
            self._grouped = False
            self.db.execute(end)

    def by_crash(self, crash_key: str) -> Optional[Dict[str, Any]]:
        """A stored record of the same crash (same identity and analysis), if any.

        Errors are not reused: a timeout or a crash of one copy's worker may not
        happen to the next."""
        row = self.db.execute("SELECT record FROM results WHERE crash_key=? AND status != 'error' "
                              "ORDER BY finished_at LIMIT 1", (crash_key,)).fetchone()
        return json.loads(row[0]) if row else None

    def rows(self) -> Iterable[tuple]:
        """Every stored row: (item_id, change_key, status, finished_at, record, crash_key)."""
        return self.db.execute("SELECT item_id, change_key, status, finished_at, record, crash_key "
                               "FROM results ORDER BY item_id")

    def merge_from(self, other_path: str) -> int:
        """Copy the rows of another store (a shard's) into this one; where both hold an
        item, the one finished last wins. Returns the number of rows taken."""
        taken = 0
        mine = dict(self.db.execute("SELECT item_id, finished_at FROM results"))
        other = _open_read_only(other_path)
        try:
            cols = {row[1] for row in other.execute("PRAGMA table_info(results)")}
            if not cols:
                raise InputError("not a triage batch store (no results table)", path=other_path)
            crash = "crash_key" if "crash_key" in cols else "NULL"     # a store from before crash keys
            for item_id, change_key, status, finished_at, record, crash_key in other.execute(
                    f"SELECT item_id, change_key, status, finished_at, record, {crash} FROM results"):
                if item_id in mine and mine[item_id] >= finished_at:
                    continue
                self.put(item_id, change_key, json.loads(record), crash_key, finished_at)
                taken += 1
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise InputError(f"cannot read this batch store: {exc}", path=other_path) from None
        finally:
            other.close()
        return taken

    def records(self, item_ids: Optional[Iterable[str]] = None) -> List[Dict[str, Any]]:
        """Stored records, for the given items (in that order) or all of them."""
        if item_ids is None:
            return [json.loads(r) for (r,) in self.db.execute("SELECT record FROM results ORDER BY item_id")]
        # decoded row by row: every row's JSON text and its decoded record together
        # would double the peak of a batch of many thousand dumps
        rows = {item_id: json.loads(r) for item_id, r in self.db.execute("SELECT item_id, record FROM results")}
        return [rows[i] for i in item_ids if i in rows]

    def record_texts(self, item_ids: Iterable[str]) -> Iterator[Tuple[str, str]]:
        """(item id, record JSON) of the given items that have a row, in that order,
        one row at a time."""
        for item_id in item_ids:
            row = self.db.execute("SELECT record FROM results WHERE item_id=?", (item_id,)).fetchone()
            if row is not None:
                yield item_id, row[0]

    def all_record_texts(self) -> Iterator[str]:
        """Every stored record's JSON, by item id, one row at a time."""
        for (text,) in self.db.execute("SELECT record FROM results ORDER BY item_id"):
            yield text

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
