"""`triage batch --merge DIR...`: the result stores of several batch directories
(the shards of one archive, `--shard K/N`) merged into one, with their reports."""

import fcntl
import os
import shutil
import time
from typing import List

from triage.batch.fleetdb import fleet_of_texts
from triage.batch.scratch import new_path
from triage.batch.session import BatchResult, open_outdir
from triage.batch.store import DB_NAME, Store, check_readable
from triage.errors import InputError


def _still_running(d: str) -> bool:
    """True when a batch holds the directory's lock (its store is not finished)."""
    try:
        f = open(os.path.join(d, ".lock"), "rb")
    except OSError:
        return False            # no lock file (copied without it) or unreadable: nothing runs here
    try:
        fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        f.close()


def merge_stores(dirs: List[str], outdir: str) -> BatchResult:
    """Merge the result stores of several batch directories (the shards of one
    archive) into `outdir`, with their per-dump reports; the fleet views then
    cover every shard."""
    t0 = time.monotonic()
    outdir = os.path.abspath(outdir)
    sources = []
    for d in dirs:
        db = os.path.join(d, DB_NAME)
        if not os.path.isfile(db):
            raise InputError(f"not a triage batch directory (no {DB_NAME})", path=d)
        if os.path.abspath(d) == outdir:
            raise InputError("a shard directory cannot also be the --output directory", path=d)
        if _still_running(d):
            raise InputError("a triage batch is still running in this directory; merge once it is done",
                             path=d)
        check_readable(db)      # every source before anything is written
        sources.append((d, db))
    lock = open_outdir(outdir)
    try:
        store = Store(outdir)
        try:
            taken = 0
            for d, db in sources:
                n = store.merge_from(db)
                taken += n
                reports = os.path.join(d, "reports")
                if n and os.path.isdir(reports):
                    shutil.copytree(reports, os.path.join(outdir, "reports"), dirs_exist_ok=True,
                                    symlinks=True)
            # records and views read from a scratch database, as run_batch's
            scratch, views = fleet_of_texts(new_path(outdir, ".triage-fleet-"), store.all_record_texts())
        finally:
            store.close()
    finally:
        lock.close()
    stats = {"discovered": scratch.n, "merged_from": len(sources), "rows_taken": taken,
             "analysed_now": 0, "reused": scratch.n, "wall_s": round(time.monotonic() - t0, 3)}
    return BatchResult(records=scratch.records(), views=views, skipped=[], stats=stats, scratch=scratch)
