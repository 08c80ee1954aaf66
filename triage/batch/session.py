"""One batch run: discover, skip what the store already holds, analyse the rest, group.

This ties discover -> store -> runner -> work -> fleet together. The CLI
(triage.cli.batch) only parses options, shows progress and renders.
"""

import fcntl
import os
import resource
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from triage.batch import fleet as fleet_views
from triage.batch import runner
from triage.batch.discover import DumpItem, discover
from triage.batch.store import Store
from triage.batch.work import WorkContext, analyze_item, base_record, item_tempdir
from triage.errors import InputError

Progress = Callable[[int, int, DumpItem, Dict[str, Any]], None]
TEMP_DIRNAME = ".triage-tmp"


@dataclass
class BatchOptions:
    outdir: str
    jobs: int = 1
    timeout_s: float = 300.0
    memory_mb: int = 0
    temp_limit_mb: int = 4096
    retry_errors: bool = False
    reports: bool = True
    analyze: Optional[Callable[[str], Any]] = None   # default: triage.analysis.analyze_path
    analysis_key: str = ""      # triage version + rules hash (work.analysis_key); part of the change key


@dataclass
class BatchResult:
    records: List[Dict[str, Any]]               # one per discovered item, discovery order
    views: Dict[str, Any]
    skipped: List[Tuple[str, str]]
    stats: Dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.records if r.get("status") == "error")


def _task_sizes(item: DumpItem) -> Tuple[int, int]:
    """(bytes the worker may map, bytes it must extract) for the limits."""
    files = sum(loc.size for loc in item.locations() if loc.member is None)
    temp = 0
    has_log = item.log is not None and item.log.size > 0
    if item.vmcore is not None and item.vmcore.member and not has_log:
        temp = item.vmcore.size
    return files + temp, temp


def run_batch(roots: List[str], opts: BatchOptions, progress: Optional[Progress] = None) -> BatchResult:
    """Triage every dump under `roots`, resuming from the store in opts.outdir."""
    t0 = time.monotonic()
    outdir = os.path.abspath(opts.outdir)
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output directory: {exc.strerror}", path=outdir) from None
    lock = _lock(outdir)
    try:
        return _run_locked(roots, opts, outdir, progress, t0)
    finally:
        lock.close()


def _lock(outdir: str):
    """Hold DIR/.lock for the whole run: a second batch on the same directory
    would remove the first one's temporary files."""
    f = open(os.path.join(outdir, ".lock"), "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise InputError("another triage batch is using this output directory", path=outdir) from None
    return f


def _run_locked(roots: List[str], opts: BatchOptions, outdir: str, progress: Optional[Progress],
                t0: float) -> BatchResult:
    found = discover(roots, exclude=outdir)
    tempdir = os.path.join(outdir, TEMP_DIRNAME)
    shutil.rmtree(tempdir, ignore_errors=True)    # left by a killed run; ours alone
    os.makedirs(tempdir, exist_ok=True)
    store = Store(outdir)
    try:
        done = store.done()
        statuses = store.statuses()
        tasks = []
        keys: Dict[str, str] = {}
        by_id = {it.id: it for it in found.items}
        for it in found.items:
            try:
                key = store.change_key(it, opts.analysis_key)
            except OSError as exc:
                key = f"unreadable:{exc.errno}"
                if done.get(it.id) != key:
                    rec = base_record(it)
                    rec.update(error=f"cannot read: {exc.strerror}", error_kind="InputError")
                    store.put(it.id, key, rec)
                continue
            keys[it.id] = key
            if done.get(it.id) == key and not (opts.retry_errors and statuses.get(it.id) == "error"):
                continue
            file_bytes, temp_bytes = _task_sizes(it)
            tasks.append((it.id, it, file_bytes, temp_bytes))
        ctx = WorkContext(outdir=outdir, tempdir=tempdir, temp_limit=opts.temp_limit_mb << 20,
                          analyze=opts.analyze, reports=opts.reports)
        limits = runner.Limits(jobs=opts.jobs, timeout_s=opts.timeout_s, memory_mb=opts.memory_mb,
                               temp_budget=opts.temp_limit_mb << 20)

        def work(item: DumpItem) -> Dict[str, Any]:
            return analyze_item(item, ctx)

        def cleanup(item_id: str) -> None:
            shutil.rmtree(item_tempdir(ctx, by_id[item_id]), ignore_errors=True)

        n = 0
        for item_id, rec in runner.run(tasks, work, limits, on_kill=cleanup):
            item = by_id[item_id]
            if "id" not in rec:           # the worker died: only the runner's error fields
                full = base_record(item)
                full.update(rec)
                rec = full
            store.put(item_id, keys[item_id], rec)
            n += 1
            if progress:
                progress(n, len(tasks), item, rec)
        records = store.records([it.id for it in found.items])
    finally:
        store.close()
        shutil.rmtree(tempdir, ignore_errors=True)
    views = fleet_views.fleet(records)
    stats = {"discovered": len(found.items), "analysed_now": len(tasks),
             "reused": len(found.items) - len(tasks), "wall_s": round(time.monotonic() - t0, 3),
             "peak_rss_kb": {"batch": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                             "largest_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}
    return BatchResult(records=records, views=views, skipped=found.skipped, stats=stats)
