"""The items of one batch run and what the plan decided for each, on disk, not in memory.

A batch of 100,000 members held every DumpItem (with the log bytes read at
discovery), its change key, crash key and the store's keys in dicts: ~1 KiB per
item. Here discovery writes each item as it is found to a scratch SQLite file
(pickled; the first of two items with one id wins, as discover() keeps the
first); the plan then reads them back a page at a time and writes its decision
beside each: the change key, the crash key, and the kind: settled without a
worker ("noted"), analysed ("task"), or a copy of a task's crash ("dup", with
its task's seq). The file is unlinked as soon as it is opened: a killed run
leaves nothing behind.
"""

import pickle
from typing import Iterator, Optional, Tuple

from triage.batch.discover import DumpItem
from triage.batch.scratch import from_blob, open_scratch, to_blob

PAGE = 500

_SCHEMA = """
CREATE TABLE items (
    seq   INTEGER PRIMARY KEY,
    id    BLOB NOT NULL UNIQUE,     -- UTF-8 of the id, surrogates passed through
    item  BLOB NOT NULL,            -- the pickled DumpItem
    kind  TEXT,                     -- NULL (nothing to do), 'noted', 'task', 'dup'
    ckey  TEXT,                     -- change key
    crash TEXT,                     -- crash key
    lead  INTEGER                   -- dup: the seq of the task analysing its crash
);
CREATE INDEX items_kind ON items (kind, seq);
CREATE INDEX items_crash ON items (crash, kind);
CREATE INDEX items_lead ON items (lead, seq);
"""


class Spool:
    """The run's items, in discovery order, and the plan's decisions."""

    def __init__(self, path: str):
        self.db = open_scratch(path, _SCHEMA)
        self.count = 0

    def close(self) -> None:
        self.db.close()

    def add(self, item: DumpItem) -> None:
        """An item as found; one whose id was already added is ignored."""
        cur = self.db.execute("INSERT OR IGNORE INTO items (id, item) VALUES (?,?)",
                              (to_blob(item.id), pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)))
        self.count += cur.rowcount

    def _pages(self, cols: str, where: str, args: tuple) -> Iterator[tuple]:
        """Rows (seq, `cols`) of the items matching `where`, in seq order, read PAGE
        rows at a time (no cursor stays open across the caller's decide())."""
        last = 0
        while True:
            page = self.db.execute(f"SELECT seq, {cols} FROM items WHERE {where} AND seq > ? ORDER BY seq "
                                   "LIMIT ?", (*args, last, PAGE)).fetchall()
            if not page:
                return
            yield from page
            last = page[-1][0]

    def items(self, kind: Optional[str] = None, every: bool = False) -> Iterator[Tuple[int, DumpItem]]:
        """(seq, item) in discovery order: all of them (`every`), or those of one kind;
        read a page at a time, so the caller may decide() as it goes."""
        where, args = ("1", ()) if every else ("kind=?", (kind,))
        for seq, blob in self._pages("item", where, args):
            yield seq, pickle.loads(blob)

    def ids(self) -> Iterator[str]:
        """Every item's id, in discovery order."""
        for (b,) in self.db.execute("SELECT id FROM items ORDER BY seq"):
            yield from_blob(b)

    def decide(self, seq: int, kind: Optional[str], ckey: Optional[str] = None, crash: Optional[str] = None,
               lead: Optional[int] = None) -> None:
        self.db.execute("UPDATE items SET kind=?, ckey=?, crash=?, lead=? WHERE seq=?",
                        (kind, ckey, crash, lead, seq))

    def task_of_crash(self, crash: str) -> Optional[int]:
        """The seq of the task already analysing this crash, if any."""
        row = self.db.execute("SELECT seq FROM items WHERE crash=? AND kind='task' ORDER BY seq LIMIT 1",
                              (crash,)).fetchone()
        return row[0] if row else None

    def lookup(self, item_id: str) -> Tuple[int, DumpItem, Optional[str], Optional[str]]:
        """(seq, item, change key, crash key) of one item."""
        seq, blob, ckey, crash = self.db.execute("SELECT seq, item, ckey, crash FROM items WHERE id=?",
                                                 (to_blob(item_id),)).fetchone()
        return seq, pickle.loads(blob), ckey, crash

    def dups(self, seq: int) -> Iterator[Tuple[DumpItem, Optional[str], Optional[str]]]:
        """(item, change key, crash key) of the copies of task `seq`'s crash, a page at a time."""
        for _, blob, ckey, crash in self._pages("item, ckey, crash", "lead=?", (seq,)):
            yield pickle.loads(blob), ckey, crash

    def counts(self) -> dict:
        return dict(self.db.execute("SELECT kind, COUNT(*) FROM items WHERE kind IS NOT NULL GROUP BY kind"))
