"""Signature rules as data: load, validate and hold `signatures/*.toml`.

A rule file holds `[[rule]]` tables; `lists.toml` (any file may) holds
`[lists]` (named module lists such as gpu_modules), `[skip]` (named
guilty-frame skip lists of regexes) and the event parser's data (the GPU
tables, `[[report_frames]]`, `[parser]`), which a RuleSet carries as
gpu_data and reporters. Search order: built-ins, then every
`--signatures DIR`, then $TRIAGE_SIGNATURES (colon-separated), then
/etc/triage/signatures.d. A later rule with the same id replaces the earlier.
The rule schema is documented in docs/signatures.md.

The built-ins are the package data of `triage.signatures` (setup.py maps the
top-level signatures/ directory onto that package), read through
importlib.resources so that a wheel, a venv, `--user`, `--prefix`, an
editable install and a zipapp all find them.
"""

import os
import re
import sys
from importlib import resources
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Pattern, Sequence, Tuple

from triage.errors import SignatureError
from triage.events.gpudevs import WORDING_TABLES, GpuData, PrefixTable
from triage.events.reporters import (Reporters, check_parser_entry, parse_parser_names, parse_report_frames,
                                     parse_report_tables)
from triage.lazyre import LazyPattern

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - exercised on 3.9/3.10 only
    from importlib.abc import Traversable

CATEGORIES = (
    "oom_panic", "oom_kill", "alloc_failure", "gpu_alloc_fail_null_deref", "gpu_null_deref", "gpu_fault", "gpu_xid",
    "null_deref", "paging_fault", "gpf", "kernel_bug", "warn_panic", "warning", "soft_lockup", "hard_lockup",
    "hung_task", "rcu_stall", "lockdep", "kasan", "sanitizer", "mce", "sysrq", "panic_other", "unknown", "none",
)
SEVERITIES = ("critical", "high", "medium", "low", "info")
GUILTY_STRATEGIES = ("ip_then_trace", "spinning_ip", "trace", "header_then_trace", "interrupted", "none")
PLACEHOLDERS = ("function", "module", "module_suffix", "headline", "reason", "xid", "xid_name", "comm", "access",
                "category")
SYSTEM_DIR = "/etc/triage/signatures.d"
ENV_VAR = "TRIAGE_SIGNATURES"

_RULE_KEYS = {"id", "title", "title_nofunc", "category", "panic_category", "anchor", "prefer", "severity", "priority", "meaning", "next_steps", "match",
              "skip", "guilty", "confidence", "example", "description"}
_MATCH_KEYS = {"kind", "fields", "not_fields", "culprit_module_in", "culprit_module_not_in", "panicked",
               "preceded_by", "followed_by", "not_preceded_by", "any_frame_module_in"}
_REL_KEYS = {"kind", "fields", "within_s", "within_lines", "same_module", "module_in"}
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


@dataclass
class Relation:
    """`preceded_by` / `followed_by`: another event near the matched one."""

    kinds: List[str]
    fields: Dict[str, Pattern] = field(default_factory=dict)
    within_s: Optional[float] = None
    within_lines: Optional[int] = None
    same_module: bool = False
    module_in: Optional[str] = None


@dataclass
class Condition:
    kinds: List[str]
    fields: Dict[str, Pattern] = field(default_factory=dict)
    not_fields: Dict[str, Pattern] = field(default_factory=dict)
    culprit_module_in: Optional[str] = None
    culprit_module_not_in: Optional[str] = None
    any_frame_module_in: Optional[str] = None
    panicked: Optional[bool] = None
    preceded_by: Optional[Relation] = None
    not_preceded_by: Optional[Relation] = None
    followed_by: Optional[Relation] = None


@dataclass
class Example:
    log: str
    expect: str                       # "match" or "no_match"
    title: Optional[str] = None       # expected rendered title
    module: Optional[str] = None      # expected culprit module ("" = core kernel)
    label: str = ""                   # what the log is (kernel version, arch, source)


@dataclass
class Rule:
    id: str
    title: str
    category: str
    severity: str
    priority: int
    meaning: str
    next_steps: List[str]
    match: Condition
    skip: Optional[List[str]] = None      # None: the [section] of the event's kind says
    guilty: Optional[str] = None          # None: the [section] of the event's kind says
    title_nofunc: Optional[str] = None
    panic_category: Optional[str] = None   # category when the matched report made the kernel panic
    anchor: Optional[List[str]] = None  # [skip]-style lists of anchor frames (guilty = callee of the innermost)
    prefer: Optional[List[str]] = None  # [skip]-style lists of frames that are guilty whenever present
    confidence: float = 0.9
    examples: List[Example] = field(default_factory=list)
    source: str = ""                  # file the rule came from


@dataclass(frozen=True)
class Section:
    """Where the guilty function of one report type is read (a GUILTY_STRATEGIES
    name) and which [skip] lists name frames that are never guilty there."""

    read: str = "ip_then_trace"
    skip: Tuple[str, ...] = ()
    anchor: Tuple[str, ...] = ()
    prefer: Tuple[str, ...] = ()
    # skip lists whose frames, one on each side of a lone frame, make it part of them
    stale_between: Tuple[str, ...] = ()
    # skip lists naming code whose fault means state corrupted by someone else (the slab
    # allocator's freelist): when the faulting IP is there, the frames that called it are
    # victims, so no module is blamed (the guilty function is still named, as syzkaller does)
    victim_ip: Tuple[str, ...] = ()
    # skip lists of source-file regexes: a report whose own "at FILE:LINE" is one of them is an
    # inline check of the caller's argument (gfp.h's gfp_zone), so the arg_check_skip lists'
    # frames, which only carried that argument, are passed too
    arg_check_sites: Tuple[str, ...] = ()
    arg_check_skip: Tuple[str, ...] = ()
    # skip lists of the functions every BUG() inside which (their own and those inlined into
    # them) is such a check: a report that lost its "at FILE:LINE" line (an excerpt starting
    # after the header) is one when its faulting location is one of them
    arg_check_ips: Tuple[str, ...] = ()


# Kinds with no [section] entry: the faulting location, then the call trace.
DEFAULT_SECTION = Section("ip_then_trace", ("report", "helpers", "sanitizer", "locking"))


# [lists] the classifier's code reads itself (not through a rule's culprit_module_in & co.):
# GPU driver modules, and the GPU helper libraries (drm, ttm, gpu_sched...) that act for them
GPU_MODULES = "gpu_modules"
GPU_HELPER_LIBS = "gpu_helper_libs"
CODE_LISTS = (GPU_MODULES, GPU_HELPER_LIBS)


XID_CAUSES = ("application", "driver", "hardware", "memory", "bus", "thermal")


@dataclass(frozen=True)
class XidInfo:
    """One NVIDIA Xid: NVIDIA's description and its likely cause (signatures/xid.toml)."""

    number: int
    name: str
    cause: str                       # one of XID_CAUSES
    also: Tuple[str, ...] = ()       # other possible causes
    source: str = ""                 # where NVIDIA says so (signatures/xid.toml `source`)


@dataclass
class RuleSet:
    rules: List[Rule]
    lists: Dict[str, List[str]]
    skip: Dict[str, List[Pattern]]
    files: List[str]
    # what the event parser reads ([gpu_devices], [gpu_prefixes] and the wording tables of
    # these files); builtin_gpu_driver answers from its prefix table too: one table, not two
    gpu_data: GpuData
    # what the event parser names a headerless stack by ([[report_frames]] and [skip].report
    # of these files)
    reporters: Reporters
    aliases: Dict[str, str] = field(default_factory=dict)
    gpu_prefixes: Dict[str, List[str]] = field(default_factory=dict)   # driver -> function prefixes
    xids: Dict[int, XidInfo] = field(default_factory=dict)              # NVIDIA Xid taxonomy
    sections: Dict[str, Section] = field(default_factory=dict)
    gpu_source_dirs: Dict[str, List[str]] = field(default_factory=dict)  # driver -> source directories
    # driver -> whole function names only its source defines ([generated_gpu_functions])
    gpu_functions: Dict[str, List[str]] = field(default_factory=dict)
    _joined: Dict[tuple, List[Pattern]] = field(default_factory=dict, repr=False, compare=False)
    _uses: Dict[tuple, int] = field(default_factory=dict, repr=False, compare=False)
    # PrefixTable of gpu_source_dirs, made on first use (asked per frame)
    _source_dirs: Optional[PrefixTable] = field(default=None, repr=False, compare=False)

    def rule(self, rule_id: str) -> Optional[Rule]:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    def builtin_gpu_driver(self, function: Optional[str]) -> Optional[str]:
        """The built-in GPU driver a function belongs to, from [gpu_prefixes] and
        [generated_gpu_functions]; None otherwise."""
        return self.gpu_prefix_table().longest(function)

    def gpu_prefix_table(self) -> PrefixTable:
        """The table of [gpu_prefixes] and [generated_gpu_functions]: the event parser's
        table of these files (gpu_data), one table, not two."""
        return self.gpu_data.names.prefixes

    def gpu_driver_by_source(self, path: Optional[str]) -> Optional[str]:
        """The GPU driver a kernel source path (a WARNING's or BUG's file) belongs to,
        from [gpu_source_dirs]; None otherwise."""
        if not path:
            return None
        p = path.lstrip("./")
        for pre in ("../", "./"):
            while p.startswith(pre):
                p = p[len(pre):]
        i = p.find("drivers/gpu/")
        if self._source_dirs is None:
            self._source_dirs = PrefixTable.of(self.gpu_source_dirs.items())
        return self._source_dirs.longest(p[i:] if i >= 0 else p)

    def in_list(self, name: str, module: Optional[str]) -> bool:
        if not module:
            return False
        return module.replace("-", "_") in self.lists.get(name, ())

    def section(self, kind: str, rule: Optional[Rule] = None) -> Section:
        """Where to read the guilty frame of a `kind` report: the kind's [section]
        entry, with what `rule` sets itself taking precedence."""
        sec = self.sections.get(kind, DEFAULT_SECTION)
        if rule is None or (rule.guilty is None and rule.skip is None and rule.anchor is None and rule.prefer is None):
            return sec
        # what the rule does not set (stale_between, victim_ip, ...) stays the kind's
        return replace(sec,
                       read=rule.guilty if rule.guilty is not None else sec.read,
                       skip=tuple(rule.skip) if rule.skip is not None else sec.skip,
                       anchor=tuple(rule.anchor) if rule.anchor is not None else sec.anchor,
                       prefer=tuple(rule.prefer) if rule.prefer is not None else sec.prefer)

    def skip_patterns(self, names: Sequence[str]) -> List[Pattern]:
        """The regexes of the named [skip] lists, joined into one alternation where
        that keeps their meaning: a frame is tested against hundreds of them.

        The join is made from the JOIN_AFTER-th request on: compiling the
        alternation (~15 ms for a section's ~200 patterns) costs more than testing
        one event's few frames against the patterns one by one, which is all a
        single dump or log asks for; a batch of thousands of events gets the join."""
        key = tuple(names)
        got = self._joined.get(key)
        if got is None:
            out: List[Pattern] = []
            for n in names:
                out.extend(self.skip.get(n, ()))
            uses = self._uses[key] = self._uses.get(key, 0) + 1
            if uses < JOIN_AFTER:
                return out
            got = self._joined[key] = _join(out)
        return got


JOIN_AFTER = 4      # requests of one skip-list combination before it is joined into one regex

# Inline flags, backreferences and named groups change meaning (or fail) inside an alternation.
_UNJOINABLE = re.compile(r"\\[1-9]|\(\?[aiLmsux]|\(\?P[<=]")


def _join(patterns: List[Pattern]) -> List[Pattern]:
    if len(patterns) < 2 or any(_UNJOINABLE.search(p.pattern) or p.flags & ~re.UNICODE for p in patterns):
        return patterns
    try:
        return [re.compile("|".join(f"(?:{p.pattern})" for p in patterns))]
    except re.error:
        return patterns


@lru_cache(maxsize=1)
def builtin_lists() -> "RuleSet":
    """The signature set of the built-in signatures/lists.toml alone, read once: what the event
    parser uses (its GPU data and report frames) when a parse is given no signature set. The
    package's own files do not change while it runs."""
    return load_files([builtin_dir() / "lists.toml"])


def builtin_dir() -> Traversable:
    """The built-in rules: package data of triage.signatures when installed, else
    the signatures/ directory of the source checkout this triage runs from."""
    checkout = Path(__file__).resolve().parent.parent.parent
    if (checkout / "setup.py").is_file() and (checkout / "signatures" / "__init__.py").is_file():
        # Run from a source checkout (PYTHONPATH, a worktree): that checkout's rules. An
        # editable install of another checkout maps triage.signatures onto its own
        # signatures/, and code from here with rules from there would disagree.
        return checkout / "signatures"
    try:
        return resources.files("triage.signatures")
    except (ModuleNotFoundError, TypeError):
        # TypeError: Python 3.9 on a namespace package (an install whose rules are gone)
        # A checkout on PYTHONPATH (or an editable install): triage/ has no
        # signatures/ package there, the rules sit beside it.
        return Path(__file__).resolve().parent.parent.parent / "signatures"


def search_dirs(extra_dirs: Iterable[str] = ()) -> List[Traversable]:
    """Every directory rules are read from, in order (some may not exist)."""
    dirs: List[Traversable] = [builtin_dir()]
    dirs += [Path(d) for d in extra_dirs]
    dirs += [Path(d) for d in os.environ.get(ENV_VAR, "").split(":") if d]
    dirs.append(Path(SYSTEM_DIR))
    return dirs


def _toml_files(d: Traversable) -> List[Traversable]:
    return sorted((f for f in d.iterdir() if f.name.endswith(".toml") and f.is_file()), key=lambda f: f.name)


def rule_files(extra_dirs: Iterable[str] = ()) -> List[Traversable]:
    """The rule files to load, in order. SignatureError when the built-in rules are
    missing (a broken install) or a directory the user named does not exist."""
    extra = list(extra_dirs)
    for d in extra:
        if not Path(d).is_dir():
            raise SignatureError("signature directory not found", path=str(d))
    for d in (d for d in os.environ.get(ENV_VAR, "").split(":") if d):
        if not Path(d).is_dir():
            raise SignatureError(f"signature directory not found (named in ${ENV_VAR})", path=d)
    builtin, *rest = search_dirs(extra)
    files = _toml_files(builtin) if builtin.is_dir() else []
    if not files:
        # name directories, not a Traversable's repr (MultiplexedPath('...') for an
        # empty package directory): where an install keeps the rules, and a checkout
        package_dir = Path(__file__).resolve().parent.parent / "signatures"
        where = [str(package_dir)] + ([str(builtin)] if isinstance(builtin, Path) else [])
        raise SignatureError("the built-in signature rules are missing (no *.toml in "
                             f"{' or '.join(dict.fromkeys(where))}); the installation is incomplete "
                             "(reinstall triage)")
    for d in rest:
        if d.is_dir():
            files.extend(_toml_files(d))
    return files


def load_rules(extra_dirs: Iterable[str] = ()) -> RuleSet:
    """Load built-in and user rules; SignatureError names the file and rule on any
    defect, and says so when no rule at all loaded (every verdict would be "unknown")."""
    rs = load_files(rule_files(extra_dirs))
    if not rs.rules:
        raise SignatureError("no signature rules loaded from " + ", ".join(rs.files))
    return rs


# The top-level keys whose value is a name -> value table; with "rule", "report_frames" and the
# wording tables, every key a signature file may hold
_TABLE_KEYS = ("lists", "skip", "alias", "gpu_prefixes", "gpu_source_dirs", "gpu_devices", "generated_gpu_prefixes",
               "generated_gpu_source_dirs", "generated_gpu_functions", "xid", "section", "parser")


def load_files(files: Sequence[Traversable]) -> RuleSet:
    """Load the given rule files (paths or importlib.resources Traversables) in order.
    The regexes of the built-in files are compiled on first use (LazyPattern,
    ~900 of them, ~25 ms; tests/classify/test_lazy_patterns.py compiles every
    one), those of any other file here, so that a bad one is reported at load."""
    bdir = builtin_dir()
    builtin = {str(f) for f in _toml_files(bdir)} if bdir.is_dir() else set()
    docs = []
    for f in files:
        try:
            docs.append((str(f), tomllib.loads(f.read_bytes().decode("utf-8"))))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SignatureError(f"cannot read rule file: {exc}", path=str(f)) from None
        for key in _TABLE_KEYS:
            # read as name -> value tables below: a string or array there is the file's defect
            if key in docs[-1][1] and not isinstance(docs[-1][1][key], dict):
                raise SignatureError(f"[{key}] must be a table", path=str(f))
    lists: Dict[str, List[str]] = {}
    skip: Dict[str, List[Pattern]] = {}
    for path, doc in docs:
        for name, items in (doc.get("lists") or {}).items():
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise SignatureError(f"list '{name}' must be a list of strings", path=path)
            lists.setdefault(name, [])
            lists[name].extend(i.replace("-", "_") for i in items)
        for name, items in (doc.get("skip") or {}).items():
            if not isinstance(items, list):
                raise SignatureError(f"skip list '{name}' must be a list of regexes", path=path)
            pats = skip.setdefault(name, [])
            for i in items:
                pats.append(_regex(i, path, f"skip.{name}", path in builtin))
    aliases: Dict[str, str] = {}
    for path, doc in docs:
        for name, canon in (doc.get("alias") or {}).items():
            if not isinstance(canon, str):
                raise SignatureError(f"alias '{name}' must map to a function name", path=path)
            aliases[name] = canon
    prefixes: Dict[str, List[str]] = {}
    source_dirs: Dict[str, List[str]] = {}
    functions: Dict[str, List[str]] = {}
    xids: Dict[int, XidInfo] = {}
    for path, doc in docs:
        # whole function names only one GPU module's source defines (tools/gpu_namespaces.py),
        # each table entry one string of blank-separated names: a built-in driver's static
        # helpers carry no namespace prefix (drm_edid.c's connector_bad_edid)
        for name, names in (doc.get("generated_gpu_functions") or {}).items():
            if not isinstance(names, str):
                raise SignatureError(f"generated_gpu_functions '{name}' must be a string of function names",
                                     path=path)
            functions.setdefault(name.replace("-", "_"), []).extend(names.split())
        # the generated_ tables (tools/gpu_namespaces.py, from kernel source trees) complete the
        # hand-curated ones: the same driver -> prefixes/paths, merged; the longest prefix wins
        for key, target in (("gpu_prefixes", prefixes), ("gpu_source_dirs", source_dirs),
                            ("generated_gpu_prefixes", prefixes), ("generated_gpu_source_dirs", source_dirs)):
            for name, items in (doc.get(key) or {}).items():
                if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
                    raise SignatureError(f"{key} '{name}' must be a list of non-empty strings", path=path)
                target.setdefault(name.replace("-", "_"), []).extend(items)
        for key, raw in (doc.get("xid") or {}).items():
            number = _xid_number(key, path)
            xids[number] = _xid_info(number, raw, path)
    sections: Dict[str, Section] = {}
    for path, doc in docs:
        for kind, spec in (doc.get("section") or {}).items():
            sections[kind] = _section(spec, path, kind, skip)
    devices: Dict[str, str] = {}
    tables: Dict[str, tuple] = {}
    report_frames: List[Any] = []
    parser: Dict[str, Any] = {}
    rules: Dict[str, Rule] = {}
    for path, doc in docs:
        unknown = set(doc) - {"rule", "report_frames", *_TABLE_KEYS, *WORDING_TABLES}
        for name, module in (doc.get("gpu_devices") or {}).items():
            if not isinstance(module, str) or not module:
                raise SignatureError(f"gpu_devices '{name}' must name a module", path=path)
            devices[name] = module          # a later file wins per name, as for [xid]
        for key, parse in WORDING_TABLES.items():
            if key in doc:
                # one ordered list of precedence: a later file's tables replace the earlier ones
                try:
                    tables[key] = parse(doc[key])
                except (ValueError, re.error) as exc:
                    raise SignatureError(str(exc), path=path) from exc
        if "report_frames" in doc:
            # read by the event parser (triage.events.reporters); checked here with the rest.
            # One ordered list, as the wording tables: a later file's tables replace the earlier ones
            try:
                parse_report_tables(doc["report_frames"])
            except (ValueError, re.error) as exc:
                raise SignatureError(str(exc), path=path) from exc
            report_frames = doc["report_frames"]
        if "parser" in doc:
            # read by the event parser (triage.events.reporters.ParserNames): a later file's key
            # replaces the earlier one whole, so a user's copy with a name removed is read so
            for key, items in doc["parser"].items():
                try:
                    check_parser_entry(key, items)
                except (ValueError, re.error) as exc:
                    raise SignatureError(str(exc), path=path) from exc
                parser[key] = items
        if unknown:
            raise SignatureError(f"unknown top-level keys {sorted(unknown)}", path=path)
        for i, raw in enumerate(doc.get("rule") or []):
            rule = _rule(raw, path, i, lists, skip, path in builtin)
            rules[rule.id] = rule
    try:
        names = parse_parser_names(parser)
    except ValueError as exc:   # a key no file gave (a file set without signatures/lists.toml)
        raise SignatureError(f"{exc}; read from {', '.join(p for p, _ in docs) or 'no file'}") from exc
    try:
        reporters = parse_report_frames(report_frames, [p.pattern for p in skip.get("report", ())], names)
    except re.error as exc:     # a [skip].report regex that cannot join the others (inline flags)
        raise SignatureError(f"[skip].report regexes cannot be joined for [[report_frames]]: {exc}") from exc
    return RuleSet(list(rules.values()), lists, skip, [p for p, _ in docs],
                   GpuData.of(devices, prefixes, tables, functions), reporters, aliases, prefixes, xids, sections,
                   gpu_source_dirs=source_dirs, gpu_functions=functions)


def _section(spec: Any, path: str, kind: str, skip: Dict[str, Any]) -> Section:
    where = f"section.{kind}"
    keys = ("skip", "anchor", "prefer", "stale_between", "victim_ip", "arg_check_sites", "arg_check_skip",
            "arg_check_ips")
    if not isinstance(spec, dict) or set(spec) - {"read", *keys}:
        raise SignatureError(f"'{where}' must be a table of read, {', '.join(keys)}", path=path)
    read = spec.get("read", "ip_then_trace")
    if read not in GUILTY_STRATEGIES:
        raise SignatureError(f"'{where}.read': unknown '{read}' (one of {', '.join(GUILTY_STRATEGIES)})", path=path)
    lists = {}
    for key in keys:
        names = _str_list(spec.get(key, []), path, where, key)
        for n in names:
            if n not in skip:
                raise SignatureError(f"'{where}.{key}' names unknown skip list '{n}'", path=path)
        lists[key] = tuple(names)
    return Section(read, **{k: lists[k] for k in keys})


def _xid_number(key: str, path: str) -> int:
    if not key.isdigit() or len(key) > 5:
        raise SignatureError(f"xid '{key}' must be a number", path=path)
    return int(key)


def _xid_info(key: int, raw: Any, path: str) -> XidInfo:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or raw.get("cause") not in XID_CAUSES:
        raise SignatureError(f"xid {key}: needs name = \"...\" and cause = one of {', '.join(XID_CAUSES)}", path=path)
    also = raw.get("also") or []
    if not isinstance(also, list) or any(a not in XID_CAUSES for a in also):
        raise SignatureError(f"xid {key}: 'also' must list causes among {', '.join(XID_CAUSES)}", path=path)
    unknown = set(raw) - {"name", "cause", "also", "source"}
    if unknown:
        raise SignatureError(f"xid {key}: unknown keys {sorted(unknown)}", path=path)
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise SignatureError(f"xid {key}: 'source' must be a string", path=path)
    return XidInfo(key, raw["name"], raw["cause"], tuple(also), source)


def _err(path: str, rid: str, msg: str) -> SignatureError:
    return SignatureError(f"rule '{rid}': {msg}", path=path)


def _regex(s: Any, path: str, rid: str, lazy: bool = False) -> Pattern:
    if not isinstance(s, str):
        raise _err(path, rid, f"expected a regex string, got {s!r}")
    if lazy:
        return LazyPattern(s)  # type: ignore[return-value]
    try:
        return re.compile(s)
    except re.error as exc:
        raise _err(path, rid, f"bad regex {s!r}: {exc}") from None


def _str_list(v: Any, path: str, rid: str, key: str) -> List[str]:
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list) or not all(isinstance(i, str) for i in v):
        raise _err(path, rid, f"'{key}' must be a string or a list of strings")
    return list(v)


def _fields(v: Any, path: str, rid: str, key: str, lazy: bool = False) -> Dict[str, Pattern]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise _err(path, rid, f"'{key}' must be a table of field = regex")
    return {k: _regex(p, path, rid, lazy) for k, p in v.items()}


def _relation(v: Any, path: str, rid: str, key: str, lists: Dict[str, List[str]],
              lazy: bool = False) -> Optional[Relation]:
    if v is None:
        return None
    if not isinstance(v, dict):
        raise _err(path, rid, f"'{key}' must be a table")
    bad = set(v) - _REL_KEYS
    if bad:
        raise _err(path, rid, f"unknown keys in '{key}': {sorted(bad)}")
    if "kind" not in v:
        raise _err(path, rid, f"'{key}' needs 'kind'")
    if v.get("module_in") and v["module_in"] not in lists:
        raise _err(path, rid, f"'{key}.module_in' names unknown list '{v['module_in']}'")
    return Relation(_str_list(v["kind"], path, rid, key + ".kind"), _fields(v.get("fields"), path, rid, key + ".fields", lazy),
                    v.get("within_s"), v.get("within_lines"), bool(v.get("same_module", False)), v.get("module_in"))


def _rule(raw: Any, path: str, index: int, lists: Dict[str, List[str]], skip: Dict[str, Any],
          lazy: bool = False) -> Rule:
    if not isinstance(raw, dict):
        raise SignatureError(f"rule #{index + 1} is not a table", path=path)
    rid = raw.get("id")
    if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,80}", rid):
        raise SignatureError(f"rule #{index + 1}: missing or malformed 'id' ({rid!r})", path=path)
    bad = set(raw) - _RULE_KEYS
    if bad:
        raise _err(path, rid, f"unknown keys {sorted(bad)}")
    for key in ("title", "category", "severity", "meaning", "match"):
        if key not in raw:
            raise _err(path, rid, f"missing '{key}'")
    if raw["category"] not in CATEGORIES:
        raise _err(path, rid, f"unknown category '{raw['category']}' (one of {', '.join(CATEGORIES)})")
    if raw.get("panic_category") is not None and raw["panic_category"] not in CATEGORIES:
        raise _err(path, rid, f"unknown panic_category '{raw['panic_category']}'")
    if raw["severity"] not in SEVERITIES:
        raise _err(path, rid, f"unknown severity '{raw['severity']}'")
    for tkey in ("title", "title_nofunc"):
        if tkey in raw:
            if not isinstance(raw[tkey], str):
                raise _err(path, rid, f"'{tkey}' must be a string")
            for ph in _PLACEHOLDER_RE.findall(raw[tkey]):
                if ph not in PLACEHOLDERS:
                    raise _err(path, rid, f"unknown placeholder {{{ph}}} in {tkey} (one of {', '.join(PLACEHOLDERS)})")
    m = raw["match"]
    if not isinstance(m, dict):
        raise _err(path, rid, "'match' must be a table")
    badm = set(m) - _MATCH_KEYS
    if badm:
        raise _err(path, rid, f"unknown keys in 'match': {sorted(badm)}")
    if "kind" not in m:
        raise _err(path, rid, "'match' needs 'kind'")
    for lk in ("culprit_module_in", "culprit_module_not_in", "any_frame_module_in"):
        if m.get(lk) is not None and m[lk] not in lists:
            raise _err(path, rid, f"'match.{lk}' names unknown list '{m[lk]}'")
    cond = Condition(
        kinds=_str_list(m["kind"], path, rid, "match.kind"),
        fields=_fields(m.get("fields"), path, rid, "match.fields", lazy),
        not_fields=_fields(m.get("not_fields"), path, rid, "match.not_fields", lazy),
        culprit_module_in=m.get("culprit_module_in"),
        culprit_module_not_in=m.get("culprit_module_not_in"),
        any_frame_module_in=m.get("any_frame_module_in"),
        panicked=m.get("panicked"),
        preceded_by=_relation(m.get("preceded_by"), path, rid, "preceded_by", lists, lazy),
        not_preceded_by=_relation(m.get("not_preceded_by"), path, rid, "not_preceded_by", lists, lazy),
        followed_by=_relation(m.get("followed_by"), path, rid, "followed_by", lists, lazy),
    )
    skips = _str_list(raw["skip"], path, rid, "skip") if "skip" in raw else None
    anchors = _str_list(raw["anchor"], path, rid, "anchor") if "anchor" in raw else None
    prefer = _str_list(raw["prefer"], path, rid, "prefer") if "prefer" in raw else None
    for s_ in (skips or []) + (anchors or []) + (prefer or []):
        if s_ not in skip:
            raise _err(path, rid, f"unknown skip/anchor/prefer list '{s_}'")
    guilty = raw.get("guilty")
    if guilty is not None and guilty not in GUILTY_STRATEGIES:
        raise _err(path, rid, f"unknown guilty strategy '{guilty}' (one of {', '.join(GUILTY_STRATEGIES)})")
    steps = _str_list(raw.get("next_steps", []), path, rid, "next_steps")
    prio = raw.get("priority", 50)
    conf = raw.get("confidence", 0.9)
    if not isinstance(prio, int) or not isinstance(conf, (int, float)) or not 0 <= conf <= 1:
        raise _err(path, rid, "'priority' must be an integer and 'confidence' a number in 0..1")
    examples = []
    for j, ex in enumerate(raw.get("example", []) or []):
        if not isinstance(ex, dict) or not isinstance(ex.get("log"), str):
            raise _err(path, rid, f"example #{j + 1} needs a 'log' string")
        exp = ex.get("expect", "match")
        if exp not in ("match", "no_match"):
            raise _err(path, rid, f"example #{j + 1}: expect must be 'match' or 'no_match'")
        examples.append(Example(ex["log"], exp, ex.get("title"), ex.get("module"), ex.get("label", "")))
    return Rule(rid, raw["title"], raw["category"], raw["severity"], prio, raw["meaning"].strip(), steps, cond,
                skips, guilty, raw.get("title_nofunc"), raw.get("panic_category"), anchors, prefer, float(conf), examples, path)
