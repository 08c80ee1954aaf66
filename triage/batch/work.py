"""What a worker does with one item: analyse it and describe the result as a record.

This runs inside a worker process (triage.batch.runner). The record is plain
JSON data: it travels through a pipe to the parent and is stored as is.
When a vmcore and the log written beside it are both present, the vmcore is
analysed and the log is analysed too, only to say where the two disagree.
Archive members are read from the archive: a log member in memory (under a
cap), a vmcore member extracted into the item's temporary directory, only
when no log accompanies it.
"""

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from triage.batch.archive import decompress_file, extract_member, outer_compression, read_member
from triage.batch.discover import DumpItem, Location
from triage.errors import FormatError, InputError, TriageError

AnalyzeFn = Callable[[Any], Any]        # path (or the files of a --split dump) -> Diagnosis
_NO_HOST = {"", "(none)", "localhost", "localhost.localdomain", "(unknown)"}
LOG_LIMIT = 256 << 20                   # a kernel log bigger than this is not a kernel log


@dataclass
class WorkContext:
    """What every worker needs besides its item."""

    outdir: str
    tempdir: str                        # per-batch; each item gets a subdirectory
    temp_limit: int                     # bytes one extracted vmcore may take
    analyze: Optional[AnalyzeFn] = None  # default: triage.analysis.analyze_path
    reports: bool = True
    # Return the rendered reports in the record ("_reports": name -> text) instead of
    # writing them: a Dask worker's or harvest's caller writes them itself.
    inline_reports: bool = False
    # (display name, bytes) -> Diagnosis, for log members; default: analyze_lines
    analyze_lines: Optional[Callable[[str, bytes], Any]] = None
    # `triage batch --redact`: the key of the keyed placeholders (triage.batch.redact)
    redact_key: Optional[bytes] = None


def item_slug(item_id: str, redacted: bool = False) -> str:
    """A file-system-safe, unique, recognisable name for an item's outputs
    (with `redacted`, no part of the path: it may name the host)."""
    import hashlib
    h = hashlib.sha1(item_id.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    if redacted:
        return f"dump-{h}"
    tail = "_".join(item_id.replace("::", "/").split("/")[-3:])
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", tail)[-80:].strip("._") or "dump"
    return f"{tail}-{h}"


def item_tempdir(ctx: WorkContext, item: DumpItem) -> str:
    return os.path.join(ctx.tempdir, item_slug(item.id))


_RULES: Any = None


_WARM_LOG = [
    "[    0.000000] Linux version 6.1.0-0-amd64 (warm-up) #1 SMP PREEMPT_DYNAMIC",
    "[    5.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000",
    "[    5.000001] CPU: 0 PID: 1 Comm: init Tainted: P           OE      6.1.0-0-amd64 #1",
    "[    5.000002] RIP: 0010:warm_up+0x1/0x2 [warm]",
    "[    5.000003] Modules linked in: warm(POE)",
    "[    5.000004] Kernel panic - not syncing: Fatal exception",
]


def analysis_key(signature_dirs: Tuple[str, ...] = ()) -> str:
    """What else a stored result depends on: the triage version and every signature
    rule file's content. A new release or an edited rule makes results stale."""
    import hashlib
    import triage
    from triage.classify.rules import rule_files
    h = hashlib.sha256(f"triage {triage.__version__}".encode())
    for f in rule_files(signature_dirs):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def use_rules(rules: Any) -> None:
    """Make `rules` the ruleset this process's analyses use (a Dask worker serves
    batches with different --signatures one after the other)."""
    global _RULES
    _RULES = rules


def current_rules() -> Any:
    return _RULES


_FACTS_MODULES = ("triage.facts.program", "triage.facts.collect", "triage.facts.finders", "triage.facts.orc",
                  "drgn.helpers.linux.kallsyms", "drgn.helpers.linux.pid", "drgn.helpers.linux.sched",
                  "drgn.helpers.linux.mm", "drgn.helpers.linux.mmzone", "drgn.helpers.linux.vmstat",
                  "drgn.helpers.linux.module", "drgn.helpers.linux.panic", "drgn.helpers.linux.cpumask")


def warm(signature_dirs: Tuple[str, ...] = (), facts: bool = False) -> None:
    """Do once, in the parent, what every analysis would otherwise repeat: import
    the readers, load the signature rules, compile the parsers' patterns (by
    analysing and rendering a tiny log), and with `facts` import drgn and its
    helpers (~0.3 s a dump otherwise; no Program is made, so no drgn threads
    exist when the workers fork). Forked workers start with all of it."""
    global _RULES
    import importlib
    import pkgutil
    from triage.analysis import analyze_lines, load_ruleset
    _RULES = load_ruleset(signature_dirs)
    import triage
    for pkg in ("dumps", "memory", "printk", "events", "classify", "report"):
        mod = importlib.import_module(f"triage.{pkg}")
        for info in pkgutil.iter_modules(mod.__path__):
            try:
                importlib.import_module(f"triage.{pkg}.{info.name}")
            except ImportError:
                pass        # an optional codec library that is not installed
    for name in ("triage.logsource", "lzallright", "cramjam"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if facts:
        from triage.errors import TriageError as _NoDrgn
        try:
            from triage.facts.program import _import_drgn
            _import_drgn()              # sets DRGN_DISABLE_PLUGINS before drgn is imported
            for name in _FACTS_MODULES:
                importlib.import_module(name)
        except (ImportError, _NoDrgn):
            pass                        # no drgn: each dump's facts say so
    try:
        diag = analyze_lines(_WARM_LOG, rules=_RULES)
        for fmt in ("text", "markdown", "html"):
            render_single(diag, fmt)
    except Exception:   # noqa: BLE001 - only a warm-up: the real analyses report their own errors
        pass
    del triage


def default_analyze(path: str, facts: bool = False) -> Any:
    """analyze_path with this process's rules; `facts` also reads the dump facts
    (types from the dump's BTF: a batch does not search for debuginfo, so each
    dump stays within its worker's memory and time limits)."""
    from triage.analysis import analyze_path
    return analyze_path(path, rules=_RULES, facts=facts)


def _diag_dict(diag: Any) -> Dict[str, Any]:
    return diag.to_dict() if hasattr(diag, "to_dict") else dict(diag)


def _log_shape(path: Union[str, List[str]]) -> Optional[Tuple[int, Optional[float]]]:
    """(lines, last timestamp) of a dump's or log's kernel log, for the cross-check."""
    from triage.events.prefix import strip_prefix
    from triage.logsource import open_log
    try:
        src = open_log(path)
    except TriageError:
        return None
    # open_log gives console-style text lines: the timestamp is in their prefix
    last = None
    for text in src.lines:
        ts = strip_prefix(text)[1]
        if ts is not None:
            last = ts
    return len(src.lines), last


def _materialise(loc: Location, ctx: WorkContext, tmp: str) -> str:
    """A path the analysis can open: the file itself, or the vmcore member extracted into `tmp`."""
    if loc.member is None:
        return loc.path
    os.makedirs(tmp, exist_ok=True)
    dest = os.path.join(tmp, os.path.basename(loc.member) or "member")
    return extract_member(loc.path, loc.member, dest, ctx.temp_limit)


def _analyze_log(loc: Location, ctx: WorkContext, analyze: AnalyzeFn) -> Any:
    """Analyse a log file, or a log member read from its archive in place."""
    if loc.member is None:
        return analyze(loc.path)
    data = loc.data if loc.data is not None else read_member(loc.path, loc.member, LOG_LIMIT)
    if ctx.analyze_lines is not None:
        return ctx.analyze_lines(loc.display(), data)
    from triage.analysis import SourceInfo, analyze_lines
    text = data.decode("utf-8", "replace")      # as open_log decodes a log file
    return analyze_lines(text.splitlines(), SourceInfo(path=loc.display(), kind="log", format="text"),
                         rules=_RULES)


def analyze_item(item: DumpItem, ctx: WorkContext) -> Dict[str, Any]:
    """Analyse one item and return its record (errors become records too)."""
    analyze = ctx.analyze or default_analyze
    t0 = time.monotonic()
    if item.note:
        return note_record(item)
    rec = base_record(item)
    tmp = item_tempdir(ctx, item)
    try:
        diag, used, problems, disagree = _analyze(item, ctx, analyze, tmp)
    except TriageError as exc:
        rec.update(status="error", error=str(exc), error_kind=type(exc).__name__)
        return rec
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if hasattr(diag, "source") and not (item.parts and used is item.vmcore):
        if hasattr(diag, "verdict"):
            from triage.diagnosis.diagnose import relocate
            relocate(diag, used.display())   # not the temporary copy it was read from
        elif hasattr(diag.source, "path"):
            diag.source.path = used.display()
    if ctx.redact_key is not None and hasattr(diag, "crash"):
        from triage.redact import redact
        diag = redact(diag, ctx.redact_key, [item.host_hint] if item.host_hint else [])
    d = _diag_dict(diag)
    fill_from_diagnosis(rec, d, item)
    rec["analyzed"] = used.display()
    if d.get("dump"):
        from triage.batch.facts import dump_summary
        rec["dump_facts"] = dump_summary(d["dump"], d.get("hypotheses") or [])
    rec["problems"] = list(dict.fromkeys((d.get("source") or {}).get("problems", []) + problems))
    rec["disagreements"] = disagree
    partial = bool((d.get("source") or {}).get("partial")) or bool(problems)
    rec["status"] = "partial" if partial else "ok"
    if ctx.inline_reports:
        rec["_reports"] = render_reports(diag, d)
    elif ctx.reports:
        rec["report"], rec["report_files"] = write_reports(ctx.outdir, item, diag, d,
                                                           redacted=ctx.redact_key is not None)
    rec["analysis_s"] = round(time.monotonic() - t0, 3)
    return rec


def _analyze(item: DumpItem, ctx: WorkContext, analyze: AnalyzeFn, tmp: str):
    problems: List[str] = []
    disagree: List[str] = []
    log_ok = item.log is not None and item.log.size > 0
    # Inside an archive the log is read in place and the vmcore left packed.
    if item.vmcore is not None and not (item.vmcore.member and log_ok):
        vpath = _materialise(item.vmcore, ctx, os.path.join(tmp, "v"))
        if item.parts:      # the files of one --split dump are read together
            vpath = [vpath] + [p.path for p in item.parts]
        try:
            try:
                diag = analyze(vpath)
            except FormatError:
                # dump.<stamp>.xz and friends: kdump-tools' whole-file compression
                if not isinstance(vpath, str) or outer_compression(vpath) is None:
                    raise
                os.makedirs(os.path.join(tmp, "z"), exist_ok=True)
                vpath = decompress_file(vpath, os.path.join(tmp, "z", "vmcore"), ctx.temp_limit)
                diag = analyze(vpath)
        except TriageError as exc:
            if not log_ok:
                raise
            # The vmcore is beyond use but the log written at crash time is not.
            diag = _analyze_log(item.log, ctx, analyze)
            problems.append(f"vmcore unusable ({_reason(exc)}); verdict taken from {item.log.name}")
            _mark_partial(diag, problems[-1])
            return diag, item.log, problems, disagree
        if log_ok:
            disagree = _cross_check(diag, vpath, item, ctx, analyze, tmp)
        return diag, item.vmcore, problems, disagree
    if item.log is None:
        raise InputError("nothing to analyse", path=item.id)
    diag = _analyze_log(item.log, ctx, analyze)
    return diag, item.log, problems, disagree


def _reason(exc: TriageError) -> str:
    """What is wrong with a dump, without its path (the item names it) or its hint
    to read the log beside it (the verdict already comes from that log)."""
    tail = f" (at offset {exc.offset:#x})" if exc.offset is not None else ""
    return f"{exc.message}{tail}"


def _mark_partial(diag: Any, problem: str) -> None:
    """Make the report of a log read in place of an unusable vmcore say so: its
    input, the crash, is only partly there (PARTIAL INPUT in the text report,
    source.partial in the JSON), though the log itself was read whole."""
    src = getattr(diag, "source", None)
    if src is None or not hasattr(src, "partial"):
        return                  # a test's stand-in analysis returns plain dicts
    src.partial = True
    src.problems = [problem] + [p for p in src.problems if p != problem]


def _cross_check(diag: Any, vpath: str, item: DumpItem, ctx: WorkContext,
                 analyze: AnalyzeFn, tmp: str) -> List[str]:
    """Where the vmcore and the log saved beside it tell different stories."""
    out: List[str] = []
    try:
        other = _diag_dict(_analyze_log(item.log, ctx, analyze))
    except TriageError as exc:
        return [f"{item.log.name} could not be analysed: {exc}"]
    mine = _diag_dict(diag)
    t1, t2 = mine["verdict"].get("title"), other["verdict"].get("title")
    if t1 != t2:
        out.append(f"verdict title differs: vmcore says {t1!r}, {item.log.name} says {t2!r}")
    if item.log.member is not None:
        return out
    s1, s2 = _log_shape(vpath), _log_shape(item.log.path)
    if s1 and s2:
        if s1[0] != s2[0]:
            out.append(f"log line count differs: vmcore has {s1[0]}, {item.log.name} has {s2[0]}")
        if s1[1] is not None and s2[1] is not None and abs(s1[1] - s2[1]) > 0.001:
            out.append(f"last timestamp differs: vmcore {s1[1]:.6f}, {item.log.name} {s2[1]:.6f}")
    return out


def note_record(item: DumpItem) -> Dict[str, Any]:
    """The record of an item discovery already judged (an empty log, a damaged
    archive): nothing is analysed, so the parent writes it without a worker."""
    rec = base_record(item)
    rec.update(status="error", error=item.note)
    return rec


def base_record(item: DumpItem) -> Dict[str, Any]:
    """The fields every record has, before (or without) any analysis."""
    return {
        "id": item.id,
        "layout": item.layout,
        "paths": item.paths(),
        "vmcore": item.vmcore.display() if item.vmcore else None,
        "log": item.log.display() if item.log else None,
        "extras": [x.display() for x in item.extras],
        "origin": item.host_hint,
        "host": item.host_hint or "unknown",
        "host_source": "directory" if item.host_hint else "none",
        "crash_time": item.dir_time,
        "crash_time_source": "directory" if item.dir_time else None,
        "status": "error",
        "error": None,
        "verdict": None,
        "kernel_release": None,
        "uptime_s": None,
        "problems": [],
        "disagreements": [],
    }


def fill_from_diagnosis(rec: Dict[str, Any], d: Dict[str, Any], item: DumpItem) -> None:
    """Copy host, kernel, time and verdict from a Diagnosis dict into the record."""
    system = d.get("system") or {}
    hostname = (system.get("hostname") or "").strip()
    if hostname.lower() not in _NO_HOST:
        rec["host"], rec["host_source"] = hostname, "utsname"
    rec["kernel_release"] = system.get("kernel_release")
    rec["uptime_s"] = system.get("uptime_s")
    if system.get("crash_time"):
        rec["crash_time"], rec["crash_time_source"] = system["crash_time"], "dump"
    rec["verdict"] = d.get("verdict")
    rec["source"] = d.get("source")


def render_reports(diag: Any, d: Dict[str, Any]) -> Dict[str, str]:
    """report.{json,txt,md,html}: the item's reports as `triage analyze` renders them."""
    outputs = {"report.json": json.dumps(d, indent=2, sort_keys=True, default=str) + "\n"}
    for fmt, name in (("json", "report.json"), ("text", "report.txt"), ("markdown", "report.md"),
                      ("html", "report.html")):
        text = render_single(diag, fmt)
        if text is not None:
            outputs[name] = text
    return outputs


def write_reports(outdir: str, item: DumpItem, diag: Any, d: Dict[str, Any],
                  redacted: bool = False) -> Tuple[str, List[str]]:
    """Write the item's report files the way `triage analyze` renders them; return the dir."""
    return save_reports(outdir, item, render_reports(diag, d), redacted)


def save_reports(outdir: str, item: DumpItem, outputs: Dict[str, str],
                 redacted: bool = False) -> Tuple[str, List[str]]:
    """Write rendered reports under outdir/reports/<slug>/; return (that dir, file names)."""
    rel = os.path.join("reports", item_slug(item.id, redacted))
    target = os.path.join(outdir, rel)
    os.makedirs(target, exist_ok=True)
    for name, text in outputs.items():
        tmp = os.path.join(target, f".{name}.{os.getpid()}")
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        os.replace(tmp, os.path.join(target, name))    # a kill never leaves half a report
    return rel, sorted(outputs)


def render_single(diag: Any, fmt: str) -> Optional[str]:
    """One Diagnosis rendered exactly as `triage analyze --format fmt` renders it."""
    if not hasattr(diag, "verdict"):
        return None             # a test's stand-in analysis returns plain dicts
    from triage.report.render import render
    return render(diag, fmt)
