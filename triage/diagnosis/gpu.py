"""Which code is a GPU driver, and what an NVIDIA Xid means.

All of it is signature data, passed in, never held by the process:
`[lists] gpu_modules` and `[gpu_prefixes]` (signatures/lists.toml) and the
`[xid]` taxonomy (signatures/xid.toml), extensible from user signature
directories. `GpuKnowledge.from_rules(rules)` builds the view a diagnosis
uses, so diagnose() answers the same whatever was analysed before.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from triage.classify.rules import GPU_MODULES
from triage.events.gpudevs import PrefixTable

# Xid causes that point at the GPU hardware, its memory, its bus or cooling, not at code.
HARDWARE_CAUSES = frozenset({"hardware", "memory", "bus", "thermal"})


def _norm(name: str) -> str:
    return name.replace("-", "_")


@dataclass(frozen=True)
class GpuKnowledge:
    """GPU driver modules, built-in driver function prefixes and the Xid taxonomy."""

    modules: FrozenSet[str] = frozenset()
    prefixes: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)   # driver -> function prefixes
    xids: Mapping[int, Any] = field(default_factory=dict)   # number -> XidInfo (name, cause, also)
    # `prefixes` and [generated_gpu_functions] as a PrefixTable (builtin_driver is asked per
    # frame): a RuleSet's own, already built, or derived from `prefixes` once when None
    table: Optional[PrefixTable] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.table is None:
            object.__setattr__(self, "table", PrefixTable.of(self.prefixes.items()))

    @classmethod
    def from_rules(cls, rules: Any) -> "GpuKnowledge":
        """The knowledge in a RuleSet (triage.classify.load_rules())."""
        lists: Dict = getattr(rules, "lists", None) or {}
        pref = {_norm(drv): tuple(ps) for drv, ps in (getattr(rules, "gpu_prefixes", None) or {}).items()}
        # the RuleSet's table (built once per signature set), not a copy of its ~13,000 names per
        # diagnosis; a duck-typed `rules` without one gets the table built from its data
        table = rules.gpu_prefix_table() if hasattr(rules, "gpu_prefix_table") \
            else PrefixTable.of(pref.items(), (getattr(rules, "gpu_functions", None) or {}).items())
        return cls(modules=frozenset(_norm(n) for n in lists.get(GPU_MODULES, ())),
                   prefixes=pref, xids=dict(getattr(rules, "xids", None) or {}), table=table)

    def is_gpu_module(self, name: Optional[str]) -> bool:
        """True when `name` is a GPU driver module (exact name; nvidia-uvm and nvidia_uvm alike)
        or a built-in GPU driver named by [gpu_prefixes]."""
        return bool(name) and (_norm(name) in self.modules or _norm(name) in self.prefixes)

    def builtin_driver(self, function: Optional[str]) -> Optional[str]:
        """The GPU driver a function of a built-in driver belongs to, from its prefix or name."""
        return self.table.longest(function)

    def frame_driver(self, frame: Any) -> Optional[str]:
        """The GPU driver of a frame: its `[module]` when that is a GPU module,
        else (no module tag: built-in code) the driver its function prefix names."""
        if frame is None:
            return None
        mod = getattr(frame, "module", None)
        if mod:
            return _norm(mod) if self.is_gpu_module(mod) else None
        return self.builtin_driver(getattr(frame, "function", None))

    def xid(self, number: Any) -> Optional[Any]:
        """The XidInfo of an Xid number, None when the taxonomy does not list it."""
        try:
            return self.xids.get(int(number))
        except (TypeError, ValueError):
            return None

    def xid_cause(self, number: Any) -> Optional[str]:
        info = self.xid(number)
        return info.cause if info is not None else None

    def is_hardware_xid(self, number: Any) -> bool:
        """An Xid whose likely cause is the GPU hardware, memory, bus or temperature."""
        return self.xid_cause(number) in HARDWARE_CAUSES


def builtin_knowledge() -> GpuKnowledge:
    """The knowledge of the built-in signature data alone (signatures/lists.toml
    and xid.toml), read afresh: for callers that have no RuleSet at hand."""
    from triage.classify.rules import builtin_dir, load_files
    d = builtin_dir()
    return GpuKnowledge.from_rules(load_files([p for p in (d / "lists.toml", d / "xid.toml") if p.is_file()]))
