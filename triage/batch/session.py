"""One batch run: discover, skip what the store already holds, analyse the rest, group.

This ties discover -> store -> runner -> work -> fleet together. The CLI
(triage.cli.batch) only parses options, shows progress and renders.
"""

import fcntl
import hashlib
import itertools
import os
import resource
import shlex
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from triage.batch import runner
from triage.batch.discover import DumpItem, iter_discover
from triage.batch.fleetdb import FleetDB, fleet_of_texts
from triage.batch.spool import Spool
from triage.batch.identity import crash_identity
from triage.batch.store import Store
from triage.batch.work import WorkContext, analyze_item, base_record, item_tempdir, note_record, save_reports
from triage.errors import InputError, TriageError

Progress = Callable[[int, int, DumpItem, Dict[str, Any]], None]
TEMP_DIRNAME = ".triage-tmp"
NOTED_GROUP = 1000      # rows of items judged at discovery (empty logs) per commit


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
    signature_dirs: Tuple[str, ...] = ()     # extra rule directories (Dask workers load them too)
    scheduler: Optional[str] = None          # Dask scheduler address, "local:N", or None: local forks
    shard: Optional[Tuple[int, int]] = None  # (K, N): only the items whose path hashes to K mod N
    facts: bool = False         # read the dump facts (drgn, BTF) in each dump's worker
    redact_key: Optional[bytes] = None       # --redact: reports with keyed placeholders (triage.batch.redact)

    def analyze_fn(self) -> Optional[Callable[[str], Any]]:
        """The per-dump analysis: `analyze` when given, else analyze_path with or without facts."""
        if self.analyze is not None or not self.facts:
            return self.analyze
        import functools
        from triage.batch.work import default_analyze
        return functools.partial(default_analyze, facts=True)   # picklable: Dask workers run it too


class BatchInterrupted(TriageError):
    """Ctrl-C: finished results are stored; a re-run resumes from them."""

    exit_code = 130

    def __init__(self, done: Optional[int], left: Optional[int]):
        if done is None or left is None:     # before the dumps were even counted
            super().__init__("stopped while looking for dumps; nothing analysed yet; run again to resume")
        else:
            super().__init__(f"{done} done, {left} left; run again to resume")
        self.done, self.left = done, left


def shard_of(item_id: str, n: int) -> int:
    """The shard (0..n-1) an item belongs to: a stable hash of its path, the same on
    every machine and Python run (unlike hash())."""
    digest = hashlib.sha256(item_id.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % n


@dataclass
class BatchResult:
    # one per discovered item, discovery order: a list, or (run_batch) a
    # fleetdb.Records read from the scratch database on each iteration
    records: Sequence[Dict[str, Any]]
    views: Dict[str, Any]                       # "summary" and the fleet views (lists or fleetdb.Rows)
    skipped: List[Tuple[str, str]]
    stats: Dict[str, Any] = field(default_factory=dict)
    scratch: Optional[FleetDB] = None           # what records and views are read from

    @property
    def errors(self) -> int:
        return self.views["summary"]["error"]

    def close(self) -> None:
        """Let go of the scratch database (records and views cannot be read after)."""
        if self.scratch is not None:
            self.scratch.close()
            self.scratch = None


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
    pool = None
    if opts.scheduler:
        # connect before discovery: a wrong or unreachable scheduler is said at once,
        # not after walking a whole archive
        from triage.batch.dask_exec import DaskPool, check_scheduler
        check_scheduler(opts.scheduler)
        try:
            pool = DaskPool(opts.scheduler)
        except KeyboardInterrupt:
            raise BatchInterrupted(None, None) from None
    try:
        outdir = os.path.abspath(opts.outdir)
        lock = open_outdir(outdir)
        try:
            return _run_locked(roots, opts, outdir, progress, t0, pool)
        finally:
            lock.close()
    finally:
        if pool is not None:
            pool.close()


def open_outdir(outdir: str):
    """Create the output directory if needed and hold its lock (see lock_outdir)."""
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output directory: {exc.strerror}", path=outdir) from None
    return lock_outdir(outdir)


def lock_outdir(outdir: str):
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
                t0: float, pool: Any = None) -> BatchResult:
    tempdir = os.path.join(outdir, TEMP_DIRNAME)
    shutil.rmtree(tempdir, ignore_errors=True)    # left by a killed run; ours alone
    os.makedirs(tempdir, exist_ok=True)
    try:
        # The items go to a scratch file as they are found, and the plan reads them
        # back from it: memory stays bounded whatever the number of items.
        spool = Spool(os.path.join(tempdir, "items.sqlite"))
        try:
            skipped: List[Tuple[str, str]] = []
            try:
                for it in iter_discover(roots, skipped, exclude=outdir, spool_dir=tempdir):
                    if not opts.shard or shard_of(it.id, opts.shard[1]) == opts.shard[0]:
                        spool.add(it)
            except KeyboardInterrupt:
                raise BatchInterrupted(None, None) from None
            store = Store(outdir)
            try:
                try:
                    plan = _plan(spool, store, opts)
                except KeyboardInterrupt:
                    raise BatchInterrupted(None, None) from None
                _execute(plan, store, opts, outdir, tempdir, progress, pool)
                # The records and views are read from a scratch database from now on,
                # not held in memory.
                scratch, views = fleet_of_texts(os.path.join(tempdir, "fleet.sqlite"),
                                                (text for _, text in store.record_texts(spool.ids())))
            finally:
                store.close()
        finally:
            spool.close()
    finally:
        shutil.rmtree(tempdir, ignore_errors=True)
    analysed_now = plan.total
    stats = {"discovered": plan.items, "analysed_now": analysed_now,
             "reused": plan.items - analysed_now, "same_crash": plan.same_crash,
             "wall_s": round(time.monotonic() - t0, 3),
             "peak_rss_kb": {"batch": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                             "largest_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}
    return BatchResult(records=scratch.records(), views=views, skipped=skipped, stats=stats,
                       scratch=scratch)


@dataclass
class _Plan:
    spool: Spool                 # every item, with the plan's decision (triage.batch.spool)
    items: int = 0               # items discovered
    tasks: int = 0               # items analysed by a worker
    noted: int = 0               # items discovery judged: settled without a worker
    dups: int = 0                # items of a crash a task analyses: settled from its result
    same_crash: int = 0          # items settled from another copy's result

    @property
    def total(self) -> int:
        """Items this run settles."""
        return self.tasks + self.noted + self.dups

    def task_iter(self) -> Iterator[Tuple[str, DumpItem, int, int]]:
        """(item id, item, file bytes, temp bytes) of every task, read as the runner
        takes them."""
        for _, it in self.spool.items("task"):
            yield (it.id, it, *_task_sizes(it))


def _salt(opts: BatchOptions) -> str:
    """The analysis part of the change key: a redacted run's results (and report
    files) are not reused by a plain run, nor the other way round, and likewise
    with and without dump facts; runs with
    different keys give different placeholders, so the key's hash counts too."""
    key = opts.analysis_key + ("+facts" if opts.facts else "")      # facts read or not: other reports
    if opts.redact_key is None:
        return key
    return f"{key}+redact:{hashlib.sha256(opts.redact_key).hexdigest()[:16]}"


def _plan(spool: Spool, store: Store, opts: BatchOptions) -> _Plan:
    """What must be analysed: items new or changed since their stored result, with
    the copies of one crash folded onto a single task (or onto a stored result).
    Decisions are written beside each item in the spool, one item at a time."""
    plan = _Plan(spool=spool, items=spool.count)
    salt = _salt(opts)
    for seq, it in spool.items(every=True):
        stored_key, status = store.stored(it.id)
        try:
            key = store.change_key(it, salt)
        except OSError as exc:
            key = f"unreadable:{exc.errno}"
            if stored_key != key:
                rec = base_record(it)
                rec.update(error=f"cannot read: {exc.strerror}", error_kind="InputError")
                store.put(it.id, key, rec)
            continue
        if stored_key == key and not (opts.retry_errors and status == "error"):
            continue
        ident = crash_identity(it, store.fingerprint)
        ck = hashlib.sha256(f"{salt}\n{ident}".encode()).hexdigest() if ident else None
        if ck is not None:
            lead = spool.task_of_crash(ck)
            if lead is not None:
                spool.decide(seq, "dup", key, ck, lead)
                plan.dups += 1
                plan.same_crash += 1
                continue
            prev = store.by_crash(ck)
            if prev is not None:
                store.put(it.id, key, same_crash_record(prev, it), ck)
                plan.same_crash += 1
                continue
        if it.note:
            # An empty log or a damaged archive: the record is known without analysis,
            # and a fork per item would dominate a batch of many tiny files.
            spool.decide(seq, "noted", key, ck)
            plan.noted += 1
            continue
        spool.decide(seq, "task", key, ck)
        plan.tasks += 1
    return plan


def same_crash_record(rec: Dict[str, Any], item: DumpItem) -> Dict[str, Any]:
    """`rec` (another copy's result) as the record of `item`: the analysis is shared,
    the paths, directory facts and anything taken from the directory are the item's."""
    out = dict(rec)
    base = base_record(item)
    for k in ("id", "layout", "paths", "vmcore", "log", "extras", "origin"):
        out[k] = base[k]
    if rec.get("host_source") != "utsname":
        out["host"], out["host_source"] = base["host"], base["host_source"]
    if rec.get("crash_time_source") != "dump":
        out["crash_time"], out["crash_time_source"] = base["crash_time"], base["crash_time_source"]
    if rec.get("analyzed"):
        used = item.vmcore if rec.get("analyzed") == rec.get("vmcore") else item.log
        out["analyzed"] = used.display() if used is not None else rec["analyzed"]
        _relocate(out, rec["analyzed"], out["analyzed"])
    out["same_crash_as"] = rec.get("same_crash_as") or rec.get("id")
    return out


def _relocate(rec: Dict[str, Any], old: str, new: str) -> None:
    """Name `new` instead of `old` where a shared result names the file it read:
    source.path and the crash/drgn command lines of the next steps (as
    diagnose.relocate does for a Diagnosis). The nested dicts are copied: the
    other copy's record is not touched."""
    if old == new:
        return
    q_old, q_new = shlex.quote(old), shlex.quote(new)
    verdict = rec.get("verdict")
    if isinstance(verdict, dict) and isinstance(verdict.get("next_steps"), list):
        rec["verdict"] = dict(verdict, next_steps=[x.replace(q_old, q_new) if isinstance(x, str) else x
                                                   for x in verdict["next_steps"]])
    source = rec.get("source")
    if isinstance(source, dict) and source.get("path") == old:
        rec["source"] = dict(source, path=new)


def _execute(plan: _Plan, store: Store, opts: BatchOptions, outdir: str, tempdir: str,
             progress: Optional[Progress], pool: Any = None) -> int:
    """Run the plan's tasks, locally or on Dask, storing each result as it arrives."""
    total = plan.total
    limits = runner.Limits(jobs=opts.jobs, timeout_s=opts.timeout_s, memory_mb=opts.memory_mb,
                           temp_budget=opts.temp_limit_mb << 20)
    n = 0           # results shown
    stored = 0      # results put into the store (committed, or in a group committed on Ctrl-C)
    unreported: List[Tuple[DumpItem, Dict[str, Any]]] = []   # stored, not yet shown
    spool = plan.spool

    def report() -> None:
        """Show the results stored so far: only after their commit, so a progress
        line always names a result a kill cannot lose."""
        nonlocal n
        for item, rec in unreported:
            n += 1
            if progress:
                progress(n, total, item, rec)
        unreported.clear()

    def settle(item_id: str, rec: Dict[str, Any]) -> None:
        nonlocal stored
        seq, item, key, crash = spool.lookup(item_id)
        if "id" not in rec:           # the worker died: only the runner's error fields
            full = base_record(item)
            full.update(rec)
            rec = full
        inline = rec.pop("_reports", None)
        if inline is not None:        # rendered on a Dask worker: written here
            rec["report"], rec["report_files"] = save_reports(outdir, item, inline, opts.redact_key is not None)
        # a task the cluster could not run says nothing about the dump: stored under
        # a change key that never matches, so the next run analyses it again
        retry = "retry:" if rec.get("error_kind") in runner.CLUSTER_FAILURES else ""
        store.put(item_id, retry + key, rec, crash)
        stored += 1
        unreported.append((item, rec))
        for dup, dup_key, dup_crash in spool.dups(seq):
            copy = same_crash_record(rec, dup)
            store.put(dup.id, retry + dup_key, copy, dup_crash)
            stored += 1
            unreported.append((dup, copy))
            if len(unreported) >= NOTED_GROUP:
                report()    # each put above was committed on its own

    try:
        # Items judged at discovery need no worker; their rows are committed in groups
        # (one fsync per NOTED_GROUP rows, not per row). A kill loses at most the
        # uncommitted group, which the next run writes again: nothing is lost or doubled.
        noted = spool.items("noted")
        while True:
            with store.grouped():
                for _, item in itertools.islice(noted, NOTED_GROUP):
                    t = time.monotonic()
                    rec = note_record(item)
                    rec["duration_s"] = round(time.monotonic() - t, 3)
                    settle(item.id, rec)
            if not unreported:
                break
            report()
        if pool is not None:
            for item_id, rec in pool.run(plan.task_iter(), opts.temp_limit_mb << 20, opts.analyze_fn(), limits,
                                         tuple(opts.signature_dirs), opts.analysis_key, opts.redact_key,
                                         opts.facts):
                settle(item_id, rec)
                report()
        else:
            ctx = WorkContext(outdir=outdir, tempdir=tempdir, temp_limit=opts.temp_limit_mb << 20,
                              analyze=opts.analyze_fn(), reports=opts.reports, redact_key=opts.redact_key)

            def work(item: DumpItem) -> Dict[str, Any]:
                return analyze_item(item, ctx)

            def cleanup(item_id: str) -> None:
                shutil.rmtree(item_tempdir(ctx, spool.lookup(item_id)[1]), ignore_errors=True)

            for item_id, rec in runner.run(plan.task_iter(), work, limits, on_kill=cleanup):
                settle(item_id, rec)
                report()
    except KeyboardInterrupt:
        # counted from the store, not from the progress lines: Ctrl-C may land
        # while one is printed (grouped rows are committed on Ctrl-C)
        left = total - stored
        raise BatchInterrupted(plan.items - left, left) from None
    return n

