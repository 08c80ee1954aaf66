"""A batch's scratch SQLite files: opened, given their schema and unlinked in one place.

The item spool (triage.batch.spool), the fleet views (triage.batch.fleetdb) and an
archive's member list (triage.batch.discover) each keep data on disk, not in memory,
in a file nothing has to recover after a crash. The file is unlinked as soon as its
schema is written: an open descriptor keeps it usable and a killed run leaves
nothing behind. Unlinked too when opening fails (a full disk, an interrupt), and the
connection closed: merge and --redact put theirs in the output directory, which
no later run clears.
"""

import os
import sqlite3
import tempfile
from typing import Optional

# Page cache of each scratch SQLite file of a batch (members, items, fleet views):
# their memory, whatever their size.
SCRATCH_CACHE_KIB = 1024


def open_scratch(path: Optional[str], schema: str) -> sqlite3.Connection:
    """A connection to a new scratch database at `path` (None: in memory) holding
    `schema`, its file already unlinked, inside an open transaction; on any failure
    the file is unlinked and nothing stays open."""
    db: Optional[sqlite3.Connection] = None
    try:
        db = sqlite3.connect(path or ":memory:", isolation_level=None)
        db.execute("PRAGMA journal_mode=OFF")   # scratch: nothing to recover after a crash
        db.execute("PRAGMA synchronous=OFF")
        db.execute(f"PRAGMA cache_size=-{SCRATCH_CACHE_KIB}")
        db.executescript(schema)
        if path:
            os.unlink(path)
            path = None
        db.execute("BEGIN")
        return db
    except BaseException:
        if db is not None:
            db.close()
        if path:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        raise


def new_path(directory: str, prefix: str) -> str:
    """A new, empty file's path in `directory` for open_scratch (made by mkstemp: no
    other file is taken over)."""
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=".sqlite", dir=directory)
    os.close(fd)
    return path


def to_blob(s: str) -> bytes:
    """A string as a BLOB that sorts as Python sorts strings: SQLite compares BLOBs
    with memcmp, and UTF-8 bytes sort in code point order (surrogates passed through)."""
    return s.encode("utf-8", "surrogatepass")


def from_blob(b: bytes) -> str:
    """The string to_blob() stored."""
    return bytes(b).decode("utf-8", "surrogatepass")
