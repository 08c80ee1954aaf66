"""The GPU driver names, fault wordings and report functions the event parser reads.

signatures/lists.toml holds them once for every reader: `[gpu_devices]` (the name a
driver's dev_printk() prints before its device -> the module), `[gpu_prefixes]`
(function prefixes of built-in drivers, for a `[drm:func] *ERROR*` line without a
`[module]` tag), `[[gpu_fault_wordings]]` (what a GPU driver's message reports: its
wordings in order of precedence, each group with its headline), `[[nvrm_fault_wordings]]`
(the same for the NVIDIA resman), `[[gpu_report_functions]]` (DRM functions whose every
error belongs to one report) and `[[gpu_driverless_wordings]]` (GPU reports printed
without a device prefix, whose wording names the driver).

`GpuData` is that data of one signature set: the loader (triage.classify.rules.load_files)
merges the built-in and user files into a RuleSet's `gpu_data`, and each parse is given
the set of its run, so a user's `--signatures` copy is what the parser reads.
`builtin_gpu_data()` is the built-in set alone, for callers that pass none: an immutable
view of the package's own files, not state that one analysis could leave for the next.
"""

from dataclasses import dataclass, field
import re
from typing import Dict, Iterable, List, Mapping, Optional, Pattern, Tuple


@dataclass(frozen=True)
class GpuNames:
    """Driver device names (-> module), their prefix regex, and built-in function prefixes."""

    devices: Dict[str, str]
    device_prefix: Pattern[str]          # "<driver> <device>: " at the start of a message
    prefixes: "PrefixTable"             # built-in drivers' function prefixes

    def driver_of_function(self, function: Optional[str]) -> Optional[str]:
        """The built-in GPU driver whose function prefix starts `function`."""
        return self.prefixes.longest(function, bare=False)


# A compiler clone's suffix on a function name (".isra.0", ".constprop.0", ".cold", ...):
# the clone is the same source function
_CLONE_SUFFIX = re.compile(r"(?:\.(?:isra|constprop|part|cold|llvm|lto_priv|clone)(?:\.\d+)?)+$")


@dataclass(frozen=True)
class PrefixTable:
    """A name -> prefixes table as (prefix, name) pairs, longest prefix first (among equal
    lengths, the table's order), so that the first prefix that matches is the longest; and
    whole function names (`exact`: function -> name, leading underscores dropped), each a
    prefix as long as the function's name, asked when no prefix matches."""

    pairs: Tuple[Tuple[str, str], ...]
    starts: Tuple[str, ...]          # every prefix: one C-level startswith() rejects most texts
    exact: Mapping[str, str] = field(default_factory=dict)
    # `starts` by their first character: a text is tested against the few prefixes that can
    # start it, not all ~1,300 (longest() is asked per frame)
    by_first: Mapping[str, Tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: Dict[str, List[str]] = {}
        for p in self.starts:
            index.setdefault(p[:1], []).append(p)
        object.__setattr__(self, "by_first", {c: tuple(ps) for c, ps in index.items()})

    @classmethod
    def of(cls, table: Iterable[Tuple[str, Iterable[str]]],
           functions: Iterable[Tuple[str, Iterable[str]]] = ()) -> "PrefixTable":
        """The table of (name, prefixes) items, and of (name, whole function names) items."""
        pairs = sorted(((p, name) for name, ps in table for p in ps), key=lambda x: len(x[0]), reverse=True)
        exact = {f.lstrip("_"): name for name, fs in functions for f in fs}
        return cls(tuple(pairs), tuple(p for p, _ in pairs), exact)

    def longest(self, text: Optional[str], bare: bool = True) -> Optional[str]:
        """The name of the longest prefix that starts `text`, or with `bare`, starts it once
        its leading underscores are dropped (`__ttm_dma_free_page` is ttm's: the kernel names
        a function's inner helper by prefixing underscores); else the name whose whole
        functions hold `text` (a compiler clone's suffix dropped)."""
        if not text:
            return None
        stripped = text.lstrip("_") if bare else text
        # (a second scan of the ~1,300 prefixes only when underscores were dropped)
        first = self.by_first
        if text.startswith(first.get(text[:1], ())) \
                or (len(stripped) < len(text) and stripped.startswith(first.get(stripped[:1], ()))):
            for prefix, name in self.pairs:
                if text.startswith(prefix) or stripped.startswith(prefix):
                    return name
        if self.exact and (bare or not text.startswith("_")):
            name = stripped.lstrip("_")
            # a clone suffix starts with ".": most names have none, and skip the regex
            return self.exact.get(_CLONE_SUFFIX.sub("", name) if "." in name else name)
        return None


@dataclass(frozen=True)
class GpuWordingCombo:
    """Several tests of one message that must all hold (a `combos` entry of [[gpu_fault_wordings]])."""

    starts: str = ""
    ends: str = ""
    has: Tuple[str, ...] = ()                  # every one is in the message
    has_any: Tuple[Tuple[str, ...], ...] = ()  # for each tuple, one of its members is in the message

    def matches(self, low: str) -> bool:
        """Whether every test of the combination holds for `low`."""
        # (loops, not all()/any() over generators: every GPU driver line runs every test
        # of every group it does not match, and a generator's set-up cost twice the test)
        if not (low.startswith(self.starts) and low.endswith(self.ends)):
            return False
        for s in self.has:
            if s not in low:
                return False
        for group in self.has_any:
            for s in group:
                if s in low:
                    break
            else:
                return False
        return True


@dataclass(frozen=True)
class GpuWordingGroup:
    """The wordings of one headline (a [[gpu_fault_wordings]] table); "" = decided not a fault."""

    headline: str
    contains: Tuple[str, ...]
    starts: Tuple[str, ...]
    regex: Tuple[Pattern[str], ...]
    combos: Tuple[GpuWordingCombo, ...]

    def matches(self, low: str) -> bool:
        """Whether one of the group's wordings is in `low` (lower-cased)."""
        for s in self.contains:
            if s in low:
                return True
        if low.startswith(self.starts):
            return True
        for r in self.regex:
            if r.search(low):
                return True
        for c in self.combos:
            if c.matches(low):
                return True
        return False


_GROUP_KEYS = {"headline", "contains", "starts", "regex", "combos"}
_COMBO_KEYS = {"starts", "ends", "has", "has_any"}


def _strings(value: object, what: str, table: str) -> Tuple[str, ...]:
    """A TOML list of non-empty strings as a tuple; ValueError naming `table` and `what` otherwise."""
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise ValueError(f"{table}: {what} must be a list of non-empty strings")
    return tuple(value)


def _combo(raw: object, table: str) -> GpuWordingCombo:
    """One `combos` entry of a `table` ([[gpu_fault_wordings]] or the like), checked."""
    if not isinstance(raw, dict) or not raw or set(raw) - _COMBO_KEYS:
        raise ValueError(f"{table}: a combo takes only {sorted(_COMBO_KEYS)}: {raw!r}")
    for key in ("starts", "ends"):
        if not isinstance(raw.get(key, ""), str):
            raise ValueError(f"{table}: combo {key} must be a string: {raw!r}")
    if not isinstance(raw.get("has_any", []), list):
        raise ValueError(f"{table}: combo has_any must be a list of lists of strings: {raw!r}")
    return GpuWordingCombo(raw.get("starts", ""), raw.get("ends", ""), _strings(raw.get("has", []), "has", table),
                           tuple(_strings(g, "has_any", table) for g in raw.get("has_any", [])))


def parse_gpu_fault_wordings(tables: object, key: str = "gpu_fault_wordings") -> Tuple[GpuWordingGroup, ...]:
    """The [[gpu_fault_wordings]] (or another `key` of the same form, [[nvrm_fault_wordings]])
    tables as groups, in file order; ValueError on a malformed table."""
    if not isinstance(tables, list):
        raise ValueError(f"{key} must be an array of tables ([[{key}]])")
    groups = []
    for raw in tables:
        if not isinstance(raw, dict) or set(raw) - _GROUP_KEYS or not isinstance(raw.get("headline"), str):
            raise ValueError(f"{key}: a table takes a headline and {sorted(_GROUP_KEYS)}: {raw!r}")
        if not isinstance(raw.get("combos", []), list):
            raise ValueError(f"{key}: combos must be a list of tables: {raw!r}")
        group = GpuWordingGroup(raw["headline"], _strings(raw.get("contains", []), "contains", key),
                                _strings(raw.get("starts", []), "starts", key),
                                tuple(re.compile(p) for p in _strings(raw.get("regex", []), "regex", key)),
                                tuple(_combo(c, key) for c in raw.get("combos", [])))
        if not (group.contains or group.starts or group.regex or group.combos):
            raise ValueError(f"{key}: '{group.headline}' has no wording")
        groups.append(group)
    return tuple(groups)


@dataclass(frozen=True)
class GpuReportFunctions:
    """DRM functions whose every "[drm:func] *ERROR*" line belongs to one report (a
    [[gpu_report_functions]] table): `names` exact, `ends` name suffixes."""

    headline: str
    names: Tuple[str, ...]
    ends: Tuple[str, ...]

    def matches(self, function: str) -> bool:
        """Whether `function` is one of the table's."""
        return function in self.names or function.endswith(self.ends)


@dataclass(frozen=True)
class GpuDriverlessGroup:
    """GPU reports printed without a device prefix whose wording names the driver (a
    [[gpu_driverless_wordings]] table): the wordings of one driver and headline."""

    driver: str
    wordings: GpuWordingGroup


def _report_functions(tables: object) -> Tuple[GpuReportFunctions, ...]:
    """The [[gpu_report_functions]] tables, in file order; ValueError on a malformed one."""
    key = "gpu_report_functions"
    if not isinstance(tables, list):
        raise ValueError(f"{key} must be an array of tables ([[{key}]])")
    out = []
    for raw in tables:
        if not isinstance(raw, dict) or set(raw) - {"headline", "names", "ends"} \
                or not isinstance(raw.get("headline"), str) or not raw["headline"]:
            raise ValueError(f"{key}: a table takes a non-empty headline, names and ends: {raw!r}")
        funcs = GpuReportFunctions(raw["headline"], _strings(raw.get("names", []), "names", key),
                                   _strings(raw.get("ends", []), "ends", key))
        if not (funcs.names or funcs.ends):
            raise ValueError(f"{key}: '{funcs.headline}' names no function")
        out.append(funcs)
    return tuple(out)


def _driverless(tables: object) -> Tuple[GpuDriverlessGroup, ...]:
    """The [[gpu_driverless_wordings]] tables, in file order; ValueError on a malformed one."""
    key = "gpu_driverless_wordings"
    if not isinstance(tables, list):
        raise ValueError(f"{key} must be an array of tables ([[{key}]])")
    out = []
    for raw in tables:
        if not isinstance(raw, dict) or not isinstance(raw.get("driver"), str) or not raw["driver"] \
                or not raw.get("headline"):
            raise ValueError(f"{key}: a table takes a driver, a non-empty headline and wordings: {raw!r}")
        rest = {k: v for k, v in raw.items() if k != "driver"}
        out.append(GpuDriverlessGroup(raw["driver"].replace("-", "_"), parse_gpu_fault_wordings([rest], key)[0]))
    return tuple(out)


# The array-of-tables keys of GpuData, each with its parser. Their tables are one ordered
# list of precedence, so a later signature file that has the key replaces the earlier
# tables whole (a user's --signatures copy of lists.toml, edited, is what is read).
WORDING_TABLES = {
    "gpu_fault_wordings": lambda t: parse_gpu_fault_wordings(t, "gpu_fault_wordings"),
    "nvrm_fault_wordings": lambda t: parse_gpu_fault_wordings(t, "nvrm_fault_wordings"),
    "gpu_report_functions": _report_functions,
    "gpu_driverless_wordings": _driverless,
}


def _start_anchored(pattern: str) -> bool:
    """Whether a regex starts with "^" that binds all of it: no "|" outside parentheses and
    character classes (`^a|b` searches b anywhere)."""
    if not pattern.startswith("^"):
        return False
    depth, i, cls = 0, 1, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if cls:
            cls = ch != "]"
        elif ch == "[":
            cls = True
            if pattern[i + 1:i + 2] == "]" or pattern[i + 1:i + 3] == "^]":
                i += 2 if pattern[i + 1] == "]" else 3        # "[]..." and "[^]...": "]" is a member
                continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return False
        i += 1
    return True


def _any_wording(groups: Iterable[GpuWordingGroup]) -> Optional[Pattern[str]]:
    """One regex, matched at the start of a message, that matches whenever one of `groups`
    does (an alternation of every wording: `contains` and `regex` searched through the
    message, `starts` at its start, `combos` as lookaheads); None when a regex of the
    data cannot join it (inline flags, backreferences), so that the groups are always tried."""
    alts = []
    contains: List[str] = []
    for g in groups:
        contains += g.contains
        alts += [re.escape(p) for p in g.starts]
        for r in g.regex:
            if r.flags & ~re.UNICODE or re.search(r"\\[1-9]|\(\?[aiLmsux]|\(\?P[<=]", r.pattern):
                return None
            # searched; one anchored at the start is matched there alone (no scan)
            alts.append(r.pattern[1:] if _start_anchored(r.pattern) else ".*?(?:" + r.pattern + ")")
        for c in g.combos:
            # every test a lookahead from the start (a `has` may lie inside `starts`), the
            # literal start first: it fails at once on most messages
            alts.append("".join(([f"(?={re.escape(c.starts)})"] if c.starts else [])
                                + [f"(?=.*?{re.escape(h)})" for h in c.has]
                                + ["(?=.*?(?:" + "|".join(re.escape(a) for a in grp) + "))" for grp in c.has_any]
                                + ([f"(?=.*{re.escape(c.ends)}\\Z)"] if c.ends else [])))
    if contains:
        # every `contains` wording in one lookahead: the lazy scan of the message costs one pass
        # for all of them (a lookahead each cost a pass each, on every line tested)
        alts.append("(?=.*?(?:" + "|".join(re.escape(c) for c in contains) + "))")
    if not alts:
        return None
    try:
        return re.compile("(?s:" + "|".join(f"(?:{a})" for a in alts) + ")")
    except re.error:
        return None


@dataclass(frozen=True)
class GpuData:
    """The GPU signature data of one signature set, as the event parser reads it."""

    names: GpuNames
    fault_wordings: Tuple[GpuWordingGroup, ...] = ()
    nvrm_wordings: Tuple[GpuWordingGroup, ...] = ()
    report_functions: Tuple[GpuReportFunctions, ...] = ()
    driverless: Tuple[GpuDriverlessGroup, ...] = ()
    # every wording of `driverless` in one regex, matched at the start of a message: a
    # quick reject, since every line without a GPU device prefix is tested (None: no reject)
    driverless_any: Optional[Pattern[str]] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "driverless_any", _any_wording(g.wordings for g in self.driverless))

    @classmethod
    def of(cls, devices: Mapping[str, str], prefixes: Mapping[str, Iterable[str]],
           tables: Mapping[str, tuple], functions: Optional[Mapping[str, Iterable[str]]] = None) -> "GpuData":
        """The data of merged `[gpu_devices]` (name -> module), `[gpu_prefixes]` (driver ->
        prefixes), `[generated_gpu_functions]` (driver -> whole function names) and the parsed
        WORDING_TABLES (key -> what its parser returned)."""
        devs = {str(k): str(v).replace("-", "_") for k, v in devices.items()}
        names = "|".join(re.escape(n) for n in sorted(devs, key=len, reverse=True)) or "(?!)"
        # the device: a PCI address ("0000:03:00.0"), a platform device ("fec00000.v3d",
        # "3d00000.gpu") or a bare device-tree node name (vc4's "vc4-drm gpu:")
        device_prefix = re.compile(rf"({names}) ([0-9a-fA-F]{{2,4}}:[0-9a-fA-F:.]{{3,16}}|[^\s:]{{1,60}}): ")
        table = PrefixTable.of(((drv.replace("-", "_"), ps) for drv, ps in prefixes.items()),
                               ((drv.replace("-", "_"), fs) for drv, fs in (functions or {}).items()))
        return cls(GpuNames(devs, device_prefix, table), tables.get("gpu_fault_wordings", ()),
                   tables.get("nvrm_fault_wordings", ()), tables.get("gpu_report_functions", ()),
                   tables.get("gpu_driverless_wordings", ()))

    def fault_kind(self, low: str) -> Optional[str]:
        """What a GPU driver's message (lower-cased, after its device prefix) reports, if a
        fault or hang: the headline of the first [[gpu_fault_wordings]] group that matches,
        None when none does or that group's headline is "" (decided not a fault)."""
        for group in self.fault_wordings:
            if group.matches(low):
                return group.headline or None
        return None

    def nvrm_fault(self, low: str) -> Optional[GpuWordingGroup]:
        """The first [[nvrm_fault_wordings]] group that matches a resman message (lower-cased,
        after "NVRM: "); its headline "" means decided not a fault."""
        for group in self.nvrm_wordings:
            if group.matches(low):
                return group
        return None

    def report_of_function(self, function: str) -> Optional[str]:
        """The headline of the report every error of DRM function `function` belongs to."""
        for funcs in self.report_functions:
            if funcs.matches(function):
                return funcs.headline
        return None

    def driverless_report(self, low: str) -> Optional[GpuDriverlessGroup]:
        """The first [[gpu_driverless_wordings]] group that matches a message (lower-cased,
        whole) printed without a device prefix."""
        if self.driverless_any is not None and self.driverless_any.match(low) is None:
            return None
        for group in self.driverless:
            if group.wordings.matches(low):
                return group
        return None


def builtin_gpu_data() -> GpuData:
    """The GpuData of the built-in signature data alone (signatures/lists.toml), for a parse
    given no signature set (the package's own immutable files, read once)."""
    from triage.classify.rules import builtin_lists   # classify imports events: import late
    return builtin_lists().gpu_data
