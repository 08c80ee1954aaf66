"""`triage harvest`: a report beside every new dump, at boot.

For every crash directory under the given kdump directories (found as `triage
batch` finds them), write `triage.txt` and `triage.json` beside the dump. The
JSON records the triage version, the rules in use and each dump file's size
and mtime; a directory whose record still matches is left alone, so a second
run writes nothing (an error report too, unless retry_errors).

It runs as root in directories other users may write to, so every output is
created with O_NOFOLLOW|O_EXCL as a temporary name through a descriptor of the
crash directory itself (opened with O_NOFOLLOW) and renamed into place: a
planted `triage.json` symlink is replaced, never followed, and the directory
cannot be swapped for a link mid-way. Group- or world-writable crash
directories, directories owned by another user and crash directories that are
symbolic links are skipped with a warning; in them no file is even opened, and
no directory link below the roots is followed. Dumps are only ever opened
read-only. No directory stays open while the dumps are analysed: each is opened
again to write and must still be the same directory. Dumps still being copied
in are waited for (--settle). Each dump is analysed by the batch's isolated
runner (time and memory limits, crash isolation), so one bad dump cannot stall
boot. Nothing here prints: outcomes are data for the CLI.
"""

import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import triage
from triage.batch import runner
from triage.batch.discover import LINK_NOT_FOLLOWED, Discovery, DumpItem, discover
from triage.batch.work import WorkContext, analyze_item, base_record

REPORT_TXT = "triage.txt"
REPORT_JSON = "triage.json"
LOCK_NAME = ".triage.lock"     # what harvest locks in a crash directory while it writes there
DEFAULT_DIRS = ("/var/crash", "/var/spool/abrt")
_STATE_MAX = 64 << 20       # a triage.json bigger than this is not ours


@dataclass
class HarvestOptions:
    analysis_key: str                       # triage version + rules (work.analysis_key)
    jobs: int = 1
    timeout_s: float = 300.0
    memory_mb: int = 0
    temp_limit_mb: int = 4096
    facts: bool = True                      # read the dump facts (drgn, BTF), as `triage analyze` does
    settle_s: float = 10.0                  # wait until the dumps found have been still this long
    settle_max_s: float = 600.0             # ... but no longer than this
    analyze: Optional[Callable[[Any], Any]] = None
    before_work: Optional[Callable[[], None]] = None   # e.g. work.warm, run once if any dump needs analysis
    retry_errors: bool = False              # analyse again the dumps whose report is an error report


@dataclass
class Outcome:
    """What harvest did in one crash directory."""

    directory: str
    action: str                              # "new", "updated", "unchanged", "skipped", "failed"
    item_id: Optional[str] = None
    status: Optional[str] = None             # ok / partial / error (of the analysis)
    title: Optional[str] = None
    category: Optional[str] = None
    message: Optional[str] = None            # why skipped or failed, or the analysis error
    warnings: List[str] = field(default_factory=list)


def file_state(item: DumpItem) -> List[List[Any]]:
    """[name, size, mtime_ns] of every file the item's analysis read."""
    out = []
    for loc in item.locations():
        st = os.stat(loc.path)
        out.append([os.path.basename(loc.path), st.st_size, st.st_mtime_ns])
    return out


def wanted_state(item: DumpItem, opts: HarvestOptions) -> Dict[str, Any]:
    # with and without dump facts the reports differ: a change of --facts redoes them
    rules = opts.analysis_key + ("+facts" if opts.facts else "")
    return {"triage_version": triage.__version__, "rules": rules, "files": file_state(item)}


def _analyze_fn(opts: HarvestOptions) -> Optional[Callable[[Any], Any]]:
    """The per-dump analysis: `opts.analyze`, else analyze_path with or without the dump facts."""
    if opts.analyze is not None or not opts.facts:
        return opts.analyze
    import functools
    from triage.batch.work import default_analyze
    return functools.partial(default_analyze, facts=True)


class _Dir:
    """An open crash directory: its descriptor (no symlink followed) and lock."""

    def __init__(self, path: str):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        self.st = os.fstat(self.fd)
        self.lock_fd: Optional[int] = None

    def close(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)
        os.close(self.fd)

    def lock(self) -> bool:
        """Take this directory's write lock: flock on LOCK_NAME, a 0600 file only
        root (this user) can open, so that no other user can hold it (any user
        may open and flock a 0755 directory itself). OSError when it cannot be made."""
        if self.lock_fd is None:
            self.lock_fd = os.open(LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                                   | os.O_NONBLOCK, 0o600, dir_fd=self.fd)
            if not stat.S_ISREG(os.fstat(self.lock_fd).st_mode):
                raise OSError(errno.EINVAL, f"{LOCK_NAME} is not a regular file")
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def read_state(self) -> Tuple[Optional[Dict[str, Any]], List[str]]:
        """The `harvest` record of the triage.json here, if one is there and ours."""
        warnings = []
        try:
            fd = os.open(REPORT_JSON, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=self.fd)
        except FileNotFoundError:
            return None, warnings
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                warnings.append(f"{REPORT_JSON} is a symbolic link; not followed, it will be replaced")
            return None, warnings
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > _STATE_MAX:
                return None, warnings
            with os.fdopen(fd, "rb", closefd=False) as f:
                doc = json.loads(f.read(_STATE_MAX))
        except (OSError, ValueError):
            return None, warnings
        finally:
            os.close(fd)
        state = doc.get("harvest") if isinstance(doc, dict) else None
        return (state if isinstance(state, dict) else None), warnings

    def is_regular(self, name: str) -> bool:
        try:
            return stat.S_ISREG(os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mode)
        except OSError:
            return False

    def remove_stale_temps(self) -> None:
        """Unlink the temporary reports a killed run left here (we hold the lock:
        no other harvest is writing them). unlink never follows a link."""
        try:
            names = os.listdir(self.fd)
        except OSError:
            return
        for n in names:
            if _TEMP_RE.match(n):
                try:
                    os.unlink(n, dir_fd=self.fd)
                except OSError:
                    pass

    def write(self, name: str, data: bytes, mode: int) -> None:
        """Write `name` here atomically: a new temporary file (O_EXCL|O_NOFOLLOW),
        fsync, rename over `name` (which replaces a symlink rather than following it)."""
        for _ in range(_TEMP_TRIES):
            tmp = _temp_name(name)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                             dir_fd=self.fd)
                break
            except FileExistsError:
                continue        # something (a planted link?) holds that name: never reuse it, take another
        else:
            raise FileExistsError(errno.EEXIST, f"no free temporary name for {name}")
        try:
            try:
                os.fchmod(fd, mode)          # not widened by the umask, not narrowed either
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=self.fd)
            except OSError:
                pass
            raise
        try:
            os.fsync(self.fd)           # the rename itself survives a crash
        except OSError:
            pass


_TEMP_TRIES = 16
_TEMP_RE = re.compile(r"^\.triage\.(?:txt|json)\.[0-9a-f]{16}\.tmp$")


def _temp_name(name: str) -> str:
    """An unpredictable temporary name beside `name` (a dot file: not a dump name)."""
    return f".{name}.{secrets.token_hex(8)}.tmp"


_MIN_FREE = 4096           # less than one block free: the disk is full (nearly full: the write will tell)


def _no_room(d: _Dir) -> Optional[str]:
    """Why the reports cannot be written in this directory, known from its file
    system (read-only mount, no space, no inodes); None when they may fit."""
    try:
        vfs = os.fstatvfs(d.fd)
    except OSError:
        return None             # not known: the write itself will tell
    if vfs.f_flag & os.ST_RDONLY:
        return os.strerror(errno.EROFS)
    if vfs.f_bfree * vfs.f_frsize < _MIN_FREE:
        return f"{os.strerror(errno.ENOSPC)} ({vfs.f_bfree * vfs.f_frsize >> 10} KiB free)"
    if vfs.f_files and vfs.f_ffree < 2:
        return f"{os.strerror(errno.ENOSPC)} (no free inode)"
    return None


def _dir_problem(d: _Dir) -> Optional[str]:
    """Why harvest must not write in this directory (None: it may)."""
    return _stat_problem(d.st)


def _stat_problem(st: os.stat_result) -> Optional[str]:
    """Why a directory with this stat is not harvest's to read or write (None: it is)."""
    if st.st_mode & 0o022:
        return (f"crash directory is group- or world-writable (mode {stat.S_IMODE(st.st_mode):04o}); "
                "skipped: another user could plant files there")
    if st.st_uid not in (0, os.geteuid()):
        return f"crash directory is owned by uid {st.st_uid}, not by root or this user; skipped"
    return None


def _trusted(st: os.stat_result) -> bool:
    """Discovery may open files in this directory: only root (or this user) can put them there."""
    return _stat_problem(st) is None


def _report_mode(item: DumpItem) -> int:
    """A report is no more readable than the dump it describes."""
    try:
        mode = stat.S_IMODE(os.stat(item.locations()[0].path).st_mode)
    except (OSError, IndexError):
        mode = 0o600
    return (mode & 0o644) | 0o600


def _abrt_in_progress(directory: str) -> bool:
    """ABRT's abrt-harvest-vmcore copies a kdump directory to vmcore-<name>.new and
    renames it when complete: the .new directory is not finished yet."""
    name = os.path.basename(directory)
    return name.startswith("vmcore-") and name.endswith(".new")


def _pick(items: List[DumpItem]) -> Tuple[DumpItem, List[DumpItem]]:
    """The item a directory's report is about (its dump, else its log), and the rest."""
    ordered = sorted(items, key=lambda it: (it.vmcore is None, it.note is not None, it.id))
    return ordered[0], ordered[1:]


def _settled_discovery(dirs: List[str], opts: HarvestOptions) -> Discovery:
    """Discovery, once the dumps and logs found have not changed for opts.settle_s.

    The path unit starts harvest as soon as a crash directory appears; one being
    copied in (cp -r, rsync) is still growing, and nothing would start harvest
    again when the copy ends. Files being written have a young mtime, or ctime
    (cp -p sets the old mtime only at the end; ctime is always now). At boot the
    dumps were written before the reboot, and this costs nothing."""
    deadline = time.monotonic() + opts.settle_max_s
    while True:
        found = discover(dirs, follow_links=False, trust=_trusted)
        if opts.settle_s <= 0:
            return found
        quiet = _quiet_for(found)
        left = deadline - time.monotonic()
        if quiet >= opts.settle_s or left <= 0:
            return found
        time.sleep(min(opts.settle_s - quiet, left) + 0.05)


def _quiet_for(found: Discovery) -> float:
    """Seconds since the last change of a dump or log found in a trusted directory."""
    newest = None
    now = time.time()
    for it in found.items:
        for loc in it.locations():
            if loc.member is not None:
                continue
            try:
                if not _trusted(os.stat(os.path.dirname(loc.path))):
                    continue        # skipped anyway: nobody else can make harvest wait
                st = os.stat(loc.path)
            except OSError:
                continue
            # a time in the future (another clock, a copy with -p) says nothing of a write going on
            times = [t for t in (st.st_mtime, st.st_ctime) if t <= now + 1]
            if times:
                newest = max(times) if newest is None else max(newest, *times)
    return float("inf") if newest is None else now - newest


def harvest(dirs: List[str], opts: HarvestOptions,
            on_outcome: Optional[Callable[[Outcome], None]] = None) -> List[Outcome]:
    """Write a report beside every dump under `dirs` that has none or an outdated one."""
    # Below the roots no directory link is followed (a planted link to /etc or /proc
    # would make root read and write there), and in a directory others may write
    # to no file is even opened: a planted FIFO or /proc/kmsg link would block boot.
    found = _settled_discovery(dirs, opts)
    bydir: Dict[str, List[DumpItem]] = {}
    outcomes: List[Outcome] = []

    def emit(o: Outcome) -> None:
        outcomes.append(o)
        if on_outcome:
            on_outcome(o)

    for path, why in found.skipped:
        if why == LINK_NOT_FOLLOWED:
            emit(Outcome(directory=path, action="skipped",
                         message="a symbolic link to a directory; not followed: harvest reads and writes "
                                 "only in real directories below the ones it is given"))

    for it in found.items:
        main = (it.vmcore or it.log)
        if main is None or main.member is not None:
            continue            # inside an archive: no directory to write beside (use `triage batch`)
        where = os.path.dirname(main.path)
        if _abrt_in_progress(where):
            continue
        bydir.setdefault(where, []).append(it)

    todo: List[Tuple[str, DumpItem, int, int]] = []
    # No descriptor is kept while the dumps are analysed (a thousand new crash
    # directories must not exhaust RLIMIT_NOFILE): each directory is opened again
    # to write, and must still be the very directory (device, inode) planned.
    pending: Dict[str, Tuple[str, Tuple[int, int], DumpItem, Dict[str, Any], Outcome]] = {}
    for path in sorted(bydir):
        item, others = _pick(bydir[path])
        out = Outcome(directory=path, action="skipped", item_id=item.id)
        others = [o for o in others if o.vmcore is not None]
        if others:
            out.warnings.append(f"{len(others)} other dump(s) here not reported: "
                                + ", ".join(os.path.basename(o.id) for o in others))
        try:
            d = _Dir(path)
        except OSError as exc:
            link = exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(path)
            out.message = ("crash directory is a symbolic link; skipped: harvest writes only in "
                           "real directories" if link else f"cannot open the crash directory: {exc.strerror}")
            emit(out)
            continue
        why = _dir_problem(d)
        if why is not None:
            out.message = why
            d.close()
            emit(out)
            continue
        try:
            want = wanted_state(item, opts)
        except OSError as exc:
            out.action, out.status, out.message = "failed", "error", f"cannot stat the dump: {exc.strerror}"
            d.close()
            emit(out)
            continue
        have, warns = d.read_state()
        out.warnings += warns
        retry = opts.retry_errors and have is not None and have.get("status") == "error"
        if have is not None and all(have.get(k) == v for k, v in want.items()) and d.is_regular(REPORT_TXT) \
                and not retry:
            out.action = "unchanged"
            out.status = have.get("status")
            out.title, out.category = have.get("title"), have.get("category")
            if out.status == "error":
                # the earlier run's error: still counted (exit 9), so it must be named
                err = have.get("error")
                out.message = err if isinstance(err, str) and err else "analysis failed"
            d.close()
            emit(out)
            continue
        full = _no_room(d)
        d.close()
        if full is not None:
            # known before analysing: a read-only or full disk costs no analysis time at boot
            out.action, out.message = "failed", f"cannot write the report here: {full}"
            emit(out)
            continue
        out.action = "updated" if have is not None else "new"
        pending[item.id] = (path, (d.st.st_dev, d.st.st_ino), item, want, out)
        files = sum(loc.size for loc in item.locations())
        todo.append((item.id, item, files, 0))

    if not todo:
        return outcomes     # nothing new: not even a temporary directory is made
    if opts.before_work:
        opts.before_work()
    tmp = tempfile.mkdtemp(prefix="triage-harvest-")
    try:
        ctx = WorkContext(outdir=tmp, tempdir=tmp, temp_limit=opts.temp_limit_mb << 20,
                          analyze=_analyze_fn(opts), reports=False, inline_reports=True)
        limits = runner.Limits(jobs=opts.jobs, timeout_s=opts.timeout_s, memory_mb=opts.memory_mb,
                               temp_budget=opts.temp_limit_mb << 20)

        def work(it: DumpItem) -> Dict[str, Any]:
            return analyze_item(it, ctx)

        for item_id, rec in runner.run(todo, work, limits):
            path, ident, item, want, out = pending.pop(item_id)
            d, why = _reopen(path, ident)
            if d is None:
                out.action, out.message = "failed", why
                _fill(item, rec, out)
            else:
                try:
                    _finish(d, item, want, rec, out)
                finally:
                    d.close()
            emit(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return outcomes


_LOCK_WAIT_S = 5.0


def _reopen(path: str, ident: Tuple[int, int]) -> Tuple[Optional[_Dir], str]:
    """The crash directory opened again (no link followed) and locked, if it is still
    the one planned and still harvest's to write in; else (None, why not)."""
    try:
        d = _Dir(path)
    except OSError as exc:
        return None, f"cannot open the crash directory: {exc.strerror}; report not written"
    why = None
    if (d.st.st_dev, d.st.st_ino) != ident:
        why = "the crash directory was replaced while its dump was analysed; report not written"
    else:
        why = _dir_problem(d)
    if why is None:
        deadline = time.monotonic() + _LOCK_WAIT_S
        try:
            while not d.lock():
                if time.monotonic() >= deadline:
                    why = "another triage harvest is writing here; report not written"
                    break
                time.sleep(0.1)
        except OSError as exc:
            why = f"cannot write the report here: {exc.strerror}"
    if why is not None:
        d.close()
        return None, why
    return d, ""


def _fill(item: DumpItem, rec: Dict[str, Any], out: Outcome) -> Dict[str, Any]:
    """Fill the outcome from an analysis record; return the full record."""
    if "id" not in rec:             # the worker died: only the runner's error fields
        full = base_record(item)
        full.update(rec)
        rec = full
    verdict = rec.get("verdict") or {}
    out.status = rec.get("status", "error")
    out.title, out.category = verdict.get("title"), verdict.get("category")
    if out.status == "error" and out.action != "failed":
        out.message = rec.get("error") or "analysis failed"
    return rec


def _finish(d: _Dir, item: DumpItem, want: Dict[str, Any], rec: Dict[str, Any], out: Outcome) -> None:
    """Write the two reports of one analysed item and fill its outcome."""
    rec = _fill(item, rec, out)
    reports = rec.pop("_reports", None) or {}
    state = dict(want, status=out.status, title=out.title, category=out.category,
                 analyzed=rec.get("analyzed"), problems=rec.get("problems") or [],
                 disagreements=rec.get("disagreements") or [], error=rec.get("error"),
                 written_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if "report.json" in reports and out.status != "error":
        doc = json.loads(reports["report.json"])
        text = reports.get("report.txt", "")
    else:
        doc = {}
        text = f"triage could not analyse {item.id}: {out.message}\n"
    doc["harvest"] = state
    mode = _report_mode(item)
    d.remove_stale_temps()
    try:
        # text first: triage.json carries the state, so a run cut between the two redoes both
        d.write(REPORT_TXT, text.encode("utf-8", "surrogateescape"), mode)
        d.write(REPORT_JSON, (json.dumps(doc, indent=2, default=str) + "\n").encode("utf-8", "surrogateescape"),
                mode)
    except OSError as exc:
        out.action = "failed"
        out.message = f"cannot write the report here: {exc.strerror}" + (
            f" (analysis: {out.status})" if out.status else "")
