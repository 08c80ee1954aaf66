"""Dump facts: the machine's state at the crash, read from the dump with no debuginfo.

    read_dump_facts(paths) -> {"source": ..., "memory": ..., "tasks": ..., "modules": ...}

drgn reads the dump (triage.facts.program), with types from the dump's own BTF
(triage.facts.btf, .btf_types, .finders) and symbols from its kallsyms, and
drgn's helpers compute the facts (triage.facts.collect). The result is plain
data for Diagnosis.dump (schema in docs/json-schema.md). Facts are optional:
when drgn is missing or the dump lacks kallsyms/BTF, only `source` is filled
and says why; this function never raises for a bad dump.
"""

from typing import Any, Dict, Optional, Sequence

__all__ = ["read_dump_facts"]


def read_dump_facts(paths: Sequence[str], vmlinux: Optional[str] = None,
                    kallsyms: str = "auto") -> Dict[str, Any]:
    """Facts of the dump `paths` (several for a split dump); see the module docstring.
    `kallsyms` chooses where the symbol tables are found (triage.facts.program.open_program)."""
    from triage.errors import TriageError
    from triage.facts.program import open_program
    source: Dict[str, Any] = {"method": None, "memory": None, "kallsyms": None, "btf": None,
                              "unavailable": None, "missing": [], "notes": []}
    out: Dict[str, Any] = {"source": source, "memory": None, "tasks": None, "modules": None}
    try:
        opened = open_program(paths, vmlinux=vmlinux, kallsyms=kallsyms)
    except TriageError as exc:
        source["unavailable"] = exc.message
        return out
    except Exception as exc:     # noqa: BLE001 - drgn errors on a damaged dump: facts are optional
        source["unavailable"] = f"{type(exc).__name__}: {exc}"[:300]
        return out
    try:
        from triage.facts.collect import Collector
        source["method"] = opened.method
        source["memory"] = opened.memory
        source["kallsyms"] = opened.kallsyms
        if opened.btf is not None:
            source["btf"] = {"bytes": len(opened.btf.blob), "types": opened.btf.count - 1}
        got = Collector(opened.prog, cpu_regs=opened.cpu_regs, orc=opened.method != "dwarf" and opened.arch == "x86_64").collect()
        out.update(memory=got["memory"], tasks=got["tasks"], modules=got["modules"])
        source["missing"] = got["missing"]
        source["notes"] = list(opened.notes)
    finally:
        opened.close()
    return out
