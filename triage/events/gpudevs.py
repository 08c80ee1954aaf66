"""The GPU driver names and fault wordings the event parser needs, read from the built-in signature data.

signatures/lists.toml holds them once for every reader: `[gpu_devices]` (the name a
driver's dev_printk() prints before its device -> the module), `[gpu_prefixes]`
(function prefixes of built-in drivers, for a `[drm:func] *ERROR*` line without a
`[module]` tag) and `[[gpu_fault_wordings]]` (what a GPU driver's message reports: its
wordings in order of precedence, each group with its headline). The data is read once
and never changes: an immutable view of the package's own files, not state that one
analysis could leave for the next.
"""

from dataclasses import dataclass
from functools import lru_cache
import re
from typing import Dict, Iterable, Optional, Pattern, Tuple


@dataclass(frozen=True)
class GpuNames:
    """Driver device names (-> module), their prefix regex, and built-in function prefixes."""

    devices: Dict[str, str]
    device_prefix: Pattern[str]          # "<driver> <device>: " at the start of a message
    prefixes: "PrefixTable"             # built-in drivers' function prefixes

    def driver_of_function(self, function: Optional[str]) -> Optional[str]:
        """The built-in GPU driver whose function prefix starts `function`."""
        return self.prefixes.longest(function, bare=False)


@dataclass(frozen=True)
class PrefixTable:
    """A name -> prefixes table as (prefix, name) pairs, longest prefix first (among equal
    lengths, the table's order), so that the first prefix that matches is the longest."""

    pairs: Tuple[Tuple[str, str], ...]
    starts: Tuple[str, ...]          # every prefix: one C-level startswith() rejects most texts

    @classmethod
    def of(cls, table: Iterable[Tuple[str, Iterable[str]]]) -> "PrefixTable":
        """The table of (name, prefixes) items."""
        pairs = sorted(((p, name) for name, ps in table for p in ps), key=lambda x: len(x[0]), reverse=True)
        return cls(tuple(pairs), tuple(p for p, _ in pairs))

    def longest(self, text: Optional[str], bare: bool = True) -> Optional[str]:
        """The name of the longest prefix that starts `text`, or with `bare`, starts it once
        its leading underscores are dropped (`__ttm_dma_free_page` is ttm's: the kernel names
        a function's inner helper by prefixing underscores)."""
        if not text:
            return None
        stripped = text.lstrip("_") if bare else text
        if not (text.startswith(self.starts) or stripped.startswith(self.starts)):
            return None
        for prefix, name in self.pairs:
            if text.startswith(prefix) or stripped.startswith(prefix):
                return name
        return None


@lru_cache(maxsize=1)
def _builtin_lists() -> Dict[str, object]:
    """signatures/lists.toml of the built-in data, read and parsed once for both views below."""
    from triage.classify.rules import builtin_dir, tomllib   # classify imports events: import late
    return tomllib.loads((builtin_dir() / "lists.toml").read_bytes().decode("utf-8"))


@lru_cache(maxsize=1)
def gpu_names() -> GpuNames:
    """The names of the built-in signature data (signatures/lists.toml)."""
    doc = _builtin_lists()
    devices = {str(k): str(v).replace("-", "_") for k, v in (doc.get("gpu_devices") or {}).items()}
    names = "|".join(re.escape(n) for n in sorted(devices, key=len, reverse=True))
    # the device: a PCI address ("0000:03:00.0"), a platform device ("fec00000.v3d",
    # "3d00000.gpu") or a bare device-tree node name (vc4's "vc4-drm gpu:")
    device_prefix = re.compile(rf"({names}) ([0-9a-fA-F]{{2,4}}:[0-9a-fA-F:.]{{3,16}}|[^\s:]{{1,60}}): ")
    table = PrefixTable.of((drv.replace("-", "_"), ps) for drv, ps in (doc.get("gpu_prefixes") or {}).items())
    return GpuNames(devices, device_prefix, table)


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


def _strings(value: object, what: str) -> Tuple[str, ...]:
    """A TOML list of non-empty strings as a tuple; ValueError naming `what` otherwise."""
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise ValueError(f"gpu_fault_wordings: {what} must be a list of non-empty strings")
    return tuple(value)


def _combo(raw: object) -> GpuWordingCombo:
    """One `combos` entry, checked."""
    if not isinstance(raw, dict) or not raw or set(raw) - _COMBO_KEYS:
        raise ValueError(f"gpu_fault_wordings: a combo takes only {sorted(_COMBO_KEYS)}: {raw!r}")
    for key in ("starts", "ends"):
        if not isinstance(raw.get(key, ""), str):
            raise ValueError(f"gpu_fault_wordings: combo {key} must be a string: {raw!r}")
    return GpuWordingCombo(raw.get("starts", ""), raw.get("ends", ""), _strings(raw.get("has", []), "has"),
                           tuple(_strings(g, "has_any") for g in raw.get("has_any", [])))


def parse_gpu_fault_wordings(tables: object, key: str = "gpu_fault_wordings") -> Tuple[GpuWordingGroup, ...]:
    """The [[gpu_fault_wordings]] (or another `key` of the same form, [[nvrm_fault_wordings]])
    tables as groups, in file order; ValueError on a malformed table."""
    if not isinstance(tables, list):
        raise ValueError(f"{key} must be an array of tables ([[{key}]])")
    groups = []
    for raw in tables:
        if not isinstance(raw, dict) or set(raw) - _GROUP_KEYS or not isinstance(raw.get("headline"), str):
            raise ValueError(f"{key}: a table takes a headline and {sorted(_GROUP_KEYS)}: {raw!r}")
        group = GpuWordingGroup(raw["headline"], _strings(raw.get("contains", []), "contains"),
                                _strings(raw.get("starts", []), "starts"),
                                tuple(re.compile(p) for p in _strings(raw.get("regex", []), "regex")),
                                tuple(_combo(c) for c in raw.get("combos", [])))
        if not (group.contains or group.starts or group.regex or group.combos):
            raise ValueError(f"gpu_fault_wordings: '{group.headline}' has no wording")
        groups.append(group)
    return tuple(groups)


@lru_cache(maxsize=1)
def gpu_fault_wordings() -> Tuple[GpuWordingGroup, ...]:
    """The [[gpu_fault_wordings]] of the built-in signature data (signatures/lists.toml)."""
    doc = _builtin_lists()
    return parse_gpu_fault_wordings(doc.get("gpu_fault_wordings") or [])


@lru_cache(maxsize=1)
def nvrm_fault_wordings() -> Tuple[GpuWordingGroup, ...]:
    """The [[nvrm_fault_wordings]] of the built-in signature data: what an NVIDIA resman
    (NVRM) message other than an Xid reports, in the same form as [[gpu_fault_wordings]]."""
    doc = _builtin_lists()
    return parse_gpu_fault_wordings(doc.get("nvrm_fault_wordings") or [], "nvrm_fault_wordings")
