"""Find the dumps in an archive of crash directories, whatever tool wrote them.

Layouts recognised (see docs/batch.md):
  * RHEL/CentOS/Fedora kdump: ``<ip>-<YYYY-MM-DD-HH:MM:SS>/`` holding ``vmcore``
    (or ``vmcore.flat``, ``vmcore-incomplete``), ``vmcore-dmesg.txt`` and
    ``kexec-dmesg.log`` (the capture kernel's own log, kept as an extra).
  * Debian/Ubuntu kdump-tools: ``[host-]<YYYYMMDDHHMM>/`` holding
    ``dump.<stamp>[.xz|.gz|.lz4|.bz2|.zst]`` and ``dmesg.<stamp>``.
  * SUSE: ``<YYYY-MM-DD-HH:MM>/`` holding ``vmcore`` and ``README.txt``.
  * bare vmcore files and bare kernel log files, recognised by content.
  * ``.tar``/``.tar.gz``/``.tar.xz``/``.tar.zst`` archives of such directories,
    listed without extracting anything.

Discovery only reads names, sizes and the first bytes of unknown files; it
never opens a dump's body.
"""

import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from triage.batch.archive import ARCHIVE_SUFFIXES, is_archive, scan_members_into
from triage.errors import FormatError, InputError

_COMPRESSED = r"(?:\.(?:xz|gz|lz4|bz2|zst))?"
# Names the kdump tools give a dump file.
_DUMP_NAME = re.compile(
    r"^(?:vmcore|vmcore\.flat|vmcore-incomplete|vmcore\.\d{12}|"
    r"dump\.\d{12}" + _COMPRESSED + r"|dump-incomplete" + _COMPRESSED + r"|"
    r"vmcore" + _COMPRESSED + r")$")
# Names the kdump tools give the crashed kernel's log.
_LOG_NAME = re.compile(r"^(?:vmcore-dmesg\.txt|vmcore-dmesg-incomplete\.txt|dmesg\.\d{12}|dmesg|dmesg\.txt)$")
# Files that belong to a crash directory but are not the crashed kernel's log.
_EXTRA_NAME = re.compile(r"^(?:kexec-dmesg\.log|README\.txt|kernel_link|system\.map_link|config_link)$")

# Crash directory names, used for the crash time and the host fallback.
_RHEL_DIR = re.compile(r"^(?P<host>.+)-(?P<date>\d{4}[-.]\d{2}[-.]\d{2}-\d{2}:\d{2}:\d{2})$")
_DEBIAN_DIR = re.compile(r"^(?:(?P<host>.+)-)?(?P<stamp>\d{12})$")
_SUSE_DIR = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2}-\d{2}:\d{2})$")
_ABRT_PREFIX = "vmcore-"
_STAMP_ONLY = re.compile(r"^[\d:.\-]+$")
_GENERIC_DIRS = {"crash", "var", "kdump", "dumps", "dump", "vmcores", "tmp", "spool", "abrt", ""}
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}

# A kernel log shows itself in its first lines by these marks.
_LOG_MARK = re.compile(
    rb"(?:^|\n)(?:<\d>)?(?:\[\s*\d+\.\d+\]|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel:|"
    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* \S+ kernel:)|Linux version \d|Kernel panic - not syncing|"
    rb"BUG: |Oops: ")
# The reports `triage harvest` writes beside a dump: they quote the kernel log, but
# they are ours, not the crashed kernel's.
_OWN_REPORTS = {"triage.txt", "triage.json"}
# ... and the temporary names it writes them under (one a killed run left behind).
_OWN_TEMP = re.compile(r"^\.triage\.(?:(?:txt|json)\.[0-9a-f]+\.tmp|lock)$")
_SNIFF = 65536
# Why discover(follow_links=False) did not enter a directory (triage harvest warns with it).
LINK_NOT_FOLLOWED = "symbolic link to a directory; not followed"
LOG_PREFETCH = 256 << 20    # log members read from archives during their listing pass, in all


@dataclass
class Location:
    """One file of a dump: a path on disk, or a member inside a tar archive."""

    path: str                       # the file, or the archive holding it
    member: Optional[str] = None    # member name inside the archive
    size: int = 0
    data: Optional[bytes] = field(default=None, repr=False, compare=False)  # a log member read at discovery

    def display(self) -> str:
        """How users see it: ``path`` or ``archive::member``."""
        return f"{self.path}::{self.member}" if self.member else self.path

    @property
    def name(self) -> str:
        return os.path.basename(self.member or self.path)


@dataclass
class DumpItem:
    """One crash to triage: its vmcore and/or its kernel log, plus where it was found."""

    id: str                                   # stable identity: display() of the main file
    layout: str                               # "rhel", "debian", "suse", "bare", ... (+ "/tar")
    vmcore: Optional[Location] = None
    log: Optional[Location] = None            # the crashed kernel's log beside it, if any
    extras: List[Location] = field(default_factory=list)
    host_hint: Optional[str] = None           # from the directory's IP or name
    dir_time: Optional[str] = None            # ISO 8601 from the directory's stamp
    note: Optional[str] = None                # why an item cannot be analysed, found at discovery
    parts: List[Location] = field(default_factory=list)  # the other files of a --split dump

    def locations(self) -> List[Location]:
        """Every file whose change means the result must be recomputed."""
        return [loc for loc in (self.vmcore, *self.parts, self.log) if loc is not None]

    def paths(self) -> List[str]:
        return [loc.display() for loc in self.locations()]


@dataclass
class Discovery:
    """What a walk found: the items, and files it saw but could not place."""

    items: List[DumpItem]
    skipped: List[Tuple[str, str]]            # (path, reason)


def dir_facts(parts: List[str]) -> Tuple[str, Optional[str], Optional[str]]:
    """(layout, host hint, ISO time) from a dump's directory chain, innermost last."""
    layout, host, when = "bare", None, None
    name = parts[-1] if parts else ""
    abrt = name.startswith(_ABRT_PREFIX) and len(name) > len(_ABRT_PREFIX)
    if abrt:
        # ABRT's problem directory for a kdump directory it moved or copied
        # from /var/crash: "vmcore-" + the kdump directory's own name.
        name = name[len(_ABRT_PREFIX):]
    m = _RHEL_DIR.match(name)
    if m:
        layout, host = "rhel", m.group("host")
        date = m.group("date").replace(".", "-")
        when = _iso(date, "%Y-%m-%d-%H:%M:%S")
    else:
        m = _DEBIAN_DIR.match(name)
        if m:
            layout, host, when = "debian", m.group("host"), _iso(m.group("stamp"), "%Y%m%d%H%M")
        else:
            m = _SUSE_DIR.match(name)
            if m:
                layout, when = "suse", _iso(m.group("date"), "%Y-%m-%d-%H:%M")
    if abrt:
        layout = "abrt"
    if host is None or host in _LOOPBACK:
        # A local dump (127.0.0.1) or a date-only directory: the nearest
        # ancestor with a real name is the best guess for the host.
        start = len(parts) - 1 if layout != "bare" else len(parts)
        for anc in reversed(parts[:start]):
            if anc.lower() not in _GENERIC_DIRS and not _STAMP_ONLY.match(anc):
                host = anc
                break
    return layout, host, when


def _iso(text: str, fmt: str) -> Optional[str]:
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
    except ValueError:
        return None


def sniff(head: bytes) -> Optional[str]:
    """'vmcore', 'log' or None, from a file's first bytes (unknown names only)."""
    if head.startswith(b"\x7fELF") and len(head) > 17 and head[16] == 4:   # ET_CORE
        return "vmcore"
    if head.startswith(b"KDUMP   ") or head.startswith(b"makedumpfile") or head.startswith(b"DISKDUMP"):
        return "vmcore"
    if b"\0" in head[:4096]:
        return None
    if _LOG_MARK.search(head):
        return "log"
    return None


def _split_key(loc: Location) -> Optional[tuple]:
    """What the parts of one `makedumpfile --split` dump share (None: not a split part).

    Reads only the kdump header and sub-header (two blocks)."""
    if loc.member is not None:
        return None
    from triage.dumps.kdump_header import parse_header
    from triage.dumps.store import FileStore
    from triage.errors import TriageError
    try:
        store = FileStore(loc.path)
    except (TriageError, OSError):
        return None
    try:
        if store.read(0, 8) != b"KDUMP   ":
            return None
        hdr = parse_header(store)
    except (TriageError, OSError):
        return None
    finally:
        store.close()
    if not hdr.split:
        return None
    return (tuple(sorted(hdr.utsname.items())), hdr.timestamp, hdr.max_mapnr, hdr.block_size,
            hdr.start_pfn)


def split_sets(dumps: List[Location], read: bool = True) -> List[List[Location]]:
    """The dumps of one directory as sets: the parts of one --split dump (same
    header time, utsname and size, ordered by their first page frame) form one
    set, every other file a set of its own. Discovery order is kept. Without
    `read`, no header is read and every file is a set of its own."""
    keyed: Dict[tuple, List[Tuple[int, Location]]] = {}
    order: List[object] = []
    for d in dumps:
        k = _split_key(d) if read else None
        if k is None:
            order.append(d)
            continue
        group = k[:-1]
        if group not in keyed:
            keyed[group] = []
            order.append(group)
        keyed[group].append((k[-1], d))
    out: List[List[Location]] = []
    for entry in order:
        if isinstance(entry, Location):
            out.append([entry])
        else:
            out.append([loc for _, loc in sorted(keyed[entry], key=lambda x: (x[0], x[1].name))])
    return out


def _group(dirparts: List[str], files: List[Location], layout_suffix: str,
           other_dumps: Sequence[Location] = (), read: bool = True) -> Iterator[DumpItem]:
    """Turn the files of one directory into items: pair each dump with its log.
    `other_dumps`: dumps recognised by content, not name (after the named ones).
    Without `read`, pairing goes by names and sizes only: no --split header is read."""
    layout, host, when = dir_facts(dirparts)
    layout += layout_suffix
    dumps = sorted((f for f in files if _DUMP_NAME.match(f.name)), key=lambda f: f.name)
    dumps += sorted(other_dumps, key=lambda f: f.name)
    logs = [f for f in files if _LOG_NAME.match(f.name)]
    extras = [f for f in files if _EXTRA_NAME.match(f.name)]
    # vmcore-dmesg.txt beats the 0-byte vmcore-dmesg-incomplete.txt left by a failed run
    logs.sort(key=lambda f: (f.size == 0, "incomplete" in f.name, f.name))
    used_logs = set()
    for parts in split_sets(dumps, read):
        d = parts[0]
        stamp = _stamp_of(d.name)
        log = None
        for cand in logs:
            if id(cand) in used_logs or cand.size == 0:
                continue
            if stamp is None or _stamp_of(cand.name) in (None, stamp):
                log = cand
                break
        if log is not None:
            used_logs.add(id(log))
        yield DumpItem(id=d.display(), layout=layout, vmcore=d, log=log, extras=list(extras),
                       host_hint=host, dir_time=when, parts=parts[1:])
    for lg in logs:
        if id(lg) in used_logs:
            continue
        if lg.size == 0 and dumps:
            continue            # an empty leftover beside a dump adds nothing
        yield DumpItem(id=lg.display(), layout=layout, log=lg, extras=list(extras),
                       host_hint=host, dir_time=when,
                       note="empty log file" if lg.size == 0 else None)


def log_names_beside(dump_path: str) -> List[str]:
    """Paths of the kernel logs kdump tools save next to `dump_path` (vmcore-dmesg.txt,
    dmesg.<stamp>, ...), best first: same stamp as the dump, complete before incomplete."""
    folder = os.path.dirname(os.path.abspath(dump_path))
    try:
        names = [n for n in os.listdir(folder) if _LOG_NAME.match(n)]
    except OSError:
        return []
    stamp = _stamp_of(os.path.basename(dump_path))
    names = [n for n in names if stamp is None or _stamp_of(n) in (None, stamp)]
    names.sort(key=lambda n: ("incomplete" in n, n))
    return [os.path.join(folder, n) for n in names]


def _stamp_of(name: str) -> Optional[str]:
    m = re.search(r"\.(\d{12})", name)
    return m.group(1) if m else None


def _read_head(path: str) -> bytes:
    try:
        return _sniff_read(path)
    except OSError:
        return b""


def _sniff_read(path: str) -> bytes:
    """The first bytes of a regular file. O_NONBLOCK: a FIFO or device swapped in
    after the stat cannot block the walk (and one that is there is refused)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file", path)
        return os.read(fd, _SNIFF)
    finally:
        os.close(fd)


Trust = Callable[[os.stat_result], bool]


def _walk_dir(root: str, exclude: Optional[str], skipped: List[Tuple[str, str]],
              budget: List[int], seen_dirs: Dict[Tuple[int, int], str],
              follow_links: bool = True, trust: Optional[Trust] = None,
              spool_dir: Optional[str] = None) -> Iterator[DumpItem]:
    """Walk `root`, following symbolic links to directories (unless not
    `follow_links`). `seen_dirs` maps each
    directory entered (device, inode) to the path it was first entered by: a link
    back to an ancestor (a cycle) or to a directory already walked is not entered
    again, so every directory is read once whatever links point at it. In a
    directory `trust` refuses, no file is opened: dumps and logs are found by
    name only."""
    root_parent = os.path.dirname(os.path.abspath(root).rstrip("/"))
    def unreadable(err: OSError) -> None:
        skipped.append((err.filename or root, f"cannot list directory: {err.strerror}"))

    try:
        st = os.stat(root)
    except OSError as exc:
        unreadable(exc)
        return
    if (st.st_dev, st.st_ino) in seen_dirs:
        skipped.append((root, f"directory already walked as {seen_dirs[(st.st_dev, st.st_ino)]}"))
        return
    seen_dirs[(st.st_dev, st.st_ino)] = root
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=follow_links):
        # real directories before links to them: an item's id is its real path when
        # the directory holding it is reachable both ways
        dirnames.sort(key=lambda d: (os.path.islink(os.path.join(dirpath, d)), d))
        if exclude and _same_dir(dirpath, exclude):
            dirnames[:] = []
            continue
        keep = []
        for d in dirnames:
            sub = os.path.join(dirpath, d)
            if exclude and _same_dir(sub, exclude):
                continue
            if not follow_links and os.path.islink(sub):
                skipped.append((sub, LINK_NOT_FOLLOWED))
                continue
            try:
                dst = os.stat(sub)
            except OSError as exc:
                skipped.append((sub, f"cannot stat: {exc.strerror}"))
                continue
            key = (dst.st_dev, dst.st_ino)
            if key in seen_dirs:
                why = "a link back to" if _is_ancestor(seen_dirs[key], sub) else "already walked as"
                skipped.append((sub, f"directory {why} {seen_dirs[key]}"))
                continue
            seen_dirs[key] = sub
            keep.append(d)
        dirnames[:] = keep
        known: List[Location] = []
        bare_dumps: List[Location] = []
        try:
            readable = trust is None or trust(os.stat(dirpath))
        except OSError:
            readable = False
        for fn in sorted(filenames):
            path = os.path.join(dirpath, fn)
            try:
                st = os.stat(path)          # follows symlinks: a linked dump counts
            except OSError as exc:
                skipped.append((path, f"cannot stat: {exc.strerror}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                # a FIFO or device is never opened (a FIFO would block the walk), but said
                skipped.append((path, "not a regular file"))
                continue
            loc = Location(path=path, size=st.st_size)
            if fn in _OWN_REPORTS or _OWN_TEMP.match(fn):
                skipped.append((path, "a report written by triage harvest"))
            elif _DUMP_NAME.match(fn) or _LOG_NAME.match(fn) or _EXTRA_NAME.match(fn):
                known.append(loc)
            elif not readable:
                skipped.append((path, "not opened: a directory others may write to"))
            elif is_archive(fn):
                yield from _walk_archive(path, skipped, budget, spool_dir)
            else:
                try:
                    head = _sniff_read(path)
                except OSError as exc:
                    skipped.append((path, f"cannot read: {exc.strerror}"))
                    continue
                kind = sniff(head)
                if kind == "vmcore":
                    bare_dumps.append(loc)
                elif kind == "log":
                    yield _bare(loc, "log", path, root_parent)
                else:
                    skipped.append((path, "not a dump or kernel log"))
        dirparts = os.path.relpath(os.path.abspath(dirpath), root_parent).split(os.sep)
        # In a crash directory, dumps under other names (the parts of a --split dump:
        # vmcore-1, vmcore-2, ...) are its dumps like a `vmcore`: paired with its
        # log, with its host and time.
        crash_dir = bool(bare_dumps) and dir_facts(dirparts)[0] != "bare"
        for parts in ([] if crash_dir else split_sets(bare_dumps, readable)):
            item = _bare(parts[0], "vmcore", parts[0].path, root_parent)
            item.parts = parts[1:]
            yield item
        if known or crash_dir:
            yield from _group(dirparts, known, "", other_dumps=bare_dumps if crash_dir else [], read=readable)


def _same_dir(path: str, other: str) -> bool:
    return os.path.abspath(path) == other or os.path.realpath(path) == other


def _is_ancestor(anc: str, path: str) -> bool:
    """True when `path` lies under `anc` in the walk (so a link at `path` to `anc` is a cycle)."""
    anc, path = os.path.abspath(anc), os.path.abspath(path)
    return anc != path and os.path.commonpath([anc, path]) == anc


def _bare(loc: Location, kind: str, path: str, root_parent: str) -> DumpItem:
    rel = os.path.relpath(os.path.abspath(os.path.dirname(path)), root_parent)
    _, host, when = dir_facts(rel.split(os.sep) + [""])
    item = DumpItem(id=loc.display(), layout="bare", host_hint=host, dir_time=when)
    if kind == "vmcore":
        item.vmcore = loc
    else:
        item.log = loc
    return item


def _archive_base(path: str) -> str:
    base = os.path.basename(path)
    for suf in ARCHIVE_SUFFIXES:
        if base.endswith(suf):
            return base[: -len(suf)]
    return base


def _known_member(name: str) -> bool:
    fn = os.path.basename(name)
    return bool(_DUMP_NAME.match(fn) or _LOG_NAME.match(fn) or _EXTRA_NAME.match(fn))


def _keep_log(name: str, size: int) -> bool:
    return bool(_LOG_NAME.match(os.path.basename(name)))


def _damaged(path: str, err: FormatError, members: int) -> DumpItem:
    # A damaged archive is a result the user must see, not a skip.
    return DumpItem(id=path, layout="archive", log=None, vmcore=Location(path=path, size=os.path.getsize(path)),
                    note=f"damaged archive ({err.message}); {members} members readable before it")


def _walk_archive(path: str, skipped: List[Tuple[str, str]], budget: List[int],
                  spool_dir: Optional[str] = None) -> Iterator[DumpItem]:
    """The dumps and logs inside one archive: its members grouped by directory
    (directories sorted, members in archive order), the log members read during the
    listing (within `budget`), unknown names skipped. The member list and those logs go
    through a scratch SQLite database: in memory for discover(), or, with `spool_dir`
    (triage batch), in a file there (unlinked at once), so that memory stays bounded
    whatever the number of members."""
    from triage.batch.scratch import from_blob, new_path, open_scratch, to_blob
    scratch = new_path(spool_dir, ".members-") if spool_dir is not None else None
    db = open_scratch(scratch, "CREATE TABLE m (dir BLOB NOT NULL, name BLOB NOT NULL, size INTEGER NOT NULL);"
                               "CREATE TABLE kept (name BLOB PRIMARY KEY, data BLOB NOT NULL);")
    try:
        count = 0

        def sink(name: str, size: int, data: Optional[bytes]) -> None:
            nonlocal count
            count += 1
            if data is not None:        # the last one read under a name, as scan_members keeps
                db.execute("INSERT OR REPLACE INTO kept VALUES (?,?)", (to_blob(name), data))
            if _known_member(name):
                db.execute("INSERT INTO m VALUES (?,?,?)", (to_blob(os.path.dirname(name)), to_blob(name), size))
            else:
                skipped.append((f"{path}::{name}", "not a known dump or log name inside an archive"))
        err = scan_members_into(path, sink, keep=_keep_log, budget=budget[0])
        budget[0] -= db.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM kept").fetchone()[0]
        db.execute("CREATE INDEX m_dir ON m (dir)")
        db.execute("COMMIT")
        if err is not None:
            yield _damaged(path, err, count)
        base = _archive_base(path)
        group: List[Location] = []
        current: Optional[bytes] = None
        for d, name, size, data in db.execute("SELECT m.dir, m.name, m.size, k.data FROM m INDEXED BY m_dir "
                                              "LEFT JOIN kept k ON k.name = m.name ORDER BY m.dir, m.rowid"):
            if group and d != current:
                yield from _group(_member_parts(base, from_blob(current)), group, "/tar")
                group = []
            current = d
            group.append(Location(path=path, member=from_blob(name), size=size, data=data))
        if group:
            yield from _group(_member_parts(base, from_blob(current)), group, "/tar")
    finally:
        db.close()


def _member_parts(base: str, d: str) -> List[str]:
    return [base] + [p for p in d.split("/") if p and p != "."]


def _check_listable(given: str) -> None:
    """InputError for a directory named on the command line that cannot be listed: a
    silent "0 dumps" would hide it (sub-directories are skipped, saying why, instead)."""
    try:
        with os.scandir(given):
            pass
    except OSError as exc:
        what = "permission denied" if isinstance(exc, PermissionError) else f"cannot list: {exc.strerror or exc}"
        raise InputError(what, path=given) from None


def discover(roots: Iterable[str], exclude: Optional[str] = None, follow_links: bool = True,
             trust: Optional[Trust] = None) -> Discovery:
    """Walk files and directories, return every dump item found, in a stable order.

    `exclude` is a directory never entered (the batch's own output directory).
    Without `follow_links`, symbolic links to directories below the roots are
    not entered (skipped with LINK_NOT_FOLLOWED). `trust` judges a directory by
    its stat: in one it refuses no file is opened (`triage harvest`, as root,
    reads nothing others could have planted). A root that does not exist, or a
    root directory that cannot be listed, raises InputError.
    """
    skipped: List[Tuple[str, str]] = []
    seen = set()
    unique = []
    for it in iter_discover(roots, skipped, exclude, follow_links, trust):
        if it.id not in seen:
            seen.add(it.id)
            unique.append(it)
    return Discovery(items=unique, skipped=skipped)


def iter_discover(roots: Iterable[str], skipped: List[Tuple[str, str]], exclude: Optional[str] = None,
                  follow_links: bool = True, trust: Optional[Trust] = None,
                  spool_dir: Optional[str] = None) -> Iterator[DumpItem]:
    """discover() one item at a time, as found (what is skipped goes to `skipped`).
    An item reachable twice is yielded twice: the caller keeps the first (discover
    does; triage batch keeps them in its scratch database, not in memory). With
    `spool_dir`, an archive's member list is sorted in a scratch file there, not
    in memory."""
    exclude = os.path.realpath(exclude) if exclude else None
    budget = [LOG_PREFETCH]
    seen_dirs: Dict[Tuple[int, int], str] = {}
    for given in roots:
        if not os.path.exists(given):
            raise InputError("no such file or directory", path=given)
        # absolute ids: a re-run from another directory finds its stored results
        root = os.path.abspath(given)
        if os.path.isdir(root):
            _check_listable(given)
            yield from _walk_dir(root, exclude, skipped, budget, seen_dirs, follow_links, trust, spool_dir)
            continue
        fn = os.path.basename(root)
        loc = Location(path=root, size=os.path.getsize(root))
        if is_archive(fn):
            yield from _walk_archive(root, skipped, budget, spool_dir)
        elif _LOG_NAME.match(fn):
            yield _bare(loc, "log", root, os.path.dirname(os.path.abspath(root)))
        elif _DUMP_NAME.match(fn):
            yield _bare(loc, "vmcore", root, os.path.dirname(os.path.abspath(root)))
        else:
            kind = sniff(_read_head(root)) or "vmcore"   # named explicitly: let analysis decide
            yield _bare(loc, kind, root, os.path.dirname(os.path.abspath(root)))
