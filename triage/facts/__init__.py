"""Dump facts: the machine's state at the crash, read from the dump with no debuginfo.

    read_dump_facts(paths) -> {"source": ..., "memory": ..., "tasks": ..., "modules": ...}

drgn reads the dump (triage.facts.program), with types from the dump's own BTF
(triage.facts.btf, .btf_types, .finders) and symbols from its kallsyms, and
drgn's helpers compute the facts (triage.facts.collect). The result is plain
data for Diagnosis.dump (schema in docs/json-schema.md). When drgn is missing
or the dump's kallsyms/BTF are absent or damaged, the memory facts come from
VMCOREINFO alone (triage.facts.fallback, `source.method` "vmcoreinfo") and
`source.missing` lists the rest; when even that fails only `source` is filled
and says why. This function never raises for a bad dump.
"""

import logging
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Sequence

__all__ = ["read_dump_facts", "METHODS"]

METHODS = ("auto", "vmcoreinfo")


def read_dump_facts(paths: Sequence[str], vmlinux: Optional[str] = None, method: str = "auto",
                    census: bool = False, search_debuginfo: Optional[bool] = False,
                    debuginfo_root: str = "/", kallsyms: str = "auto") -> Dict[str, Any]:
    """Facts of the dump `paths` (several for a split dump); see the module docstring.

    method "auto": drgn with a DWARF vmlinux matching the dump (`vmlinux`, or found
    when `search_debuginfo` is True: triage.facts.program.open_program; `tasks.stacks`
    then holds the stack of every task), else with the dump's BTF and kallsyms,
    falling back to VMCOREINFO alone (triage.facts.fallback) when drgn is missing
    or the dump's BTF/kallsyms are absent or damaged; "vmcoreinfo": the fallback only.
    `search_debuginfo=None` ("when needed") reads the dump's own BTF first and
    searches the debuginfo paths only when that fails: loading DWARF costs more
    than drgn's whole dmesg, and BTF gives the same facts.
    `kallsyms` chooses where the symbol tables are found (triage.facts.program.open_program).
    `census=True` adds dump.census, every page classified from mem_map
    (triage.facts.census)."""
    source: Dict[str, Any] = {"method": None, "memory": None, "kallsyms": None, "btf": None, "debuginfo": None,
                              "unavailable": None, "missing": [], "notes": []}
    out: Dict[str, Any] = {"source": source, "memory": None, "tasks": None, "modules": None}
    if method == "vmcoreinfo":
        why_not: Optional[str] = "asked for VMCOREINFO-only facts"
    else:
        with _drgn_log() as logged:
            why_not = _drgn_facts(paths, vmlinux, out, bool(search_debuginfo), debuginfo_root, kallsyms)
            if why_not is not None and search_debuginfo is None and vmlinux is None:
                first = why_not
                why_not = _drgn_facts(paths, vmlinux, out, True, debuginfo_root, kallsyms)
                if why_not is None and out["source"]["method"] == "dwarf":
                    out["source"]["notes"].insert(0, f"the dump's BTF/kallsyms could not be used ({first}): "
                                                     "facts from the DWARF vmlinux found")
                elif why_not is not None:
                    why_not = first
        if why_not is None:
            source["notes"] += [f"drgn: {m}" for m in logged]
    if why_not is not None:
        _fallback_facts(paths, out, why_not)
    if census:
        out["census"] = _census(paths)
    return out


MAX_LOGGED = 20


@contextmanager
def _drgn_log() -> Iterator[List[str]]:
    """Collect what drgn logs while the facts are read (its warnings about a damaged
    dump, e.g. "ignoring module: ..."), instead of letting Python's last-resort
    handler print them on stderr: a run that succeeds prints nothing there, and
    the reasons belong in dump.source.notes. The logger is restored after."""
    got: List[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            msg = record.getMessage()[:300]
            if len(got) < MAX_LOGGED and msg not in got:
                got.append(msg)

    log = logging.getLogger("drgn")
    handler = _Collect(logging.WARNING)
    saved = log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield got
    finally:
        log.removeHandler(handler)
        log.propagate = saved


def _drgn_facts(paths: Sequence[str], vmlinux: Optional[str], out: Dict[str, Any],
                search_debuginfo: bool = False, debuginfo_root: str = "/",
                kallsyms: str = "auto") -> Optional[str]:
    """Fill `out` through drgn; None on success, else why drgn could not be used."""
    from triage.errors import TriageError
    from triage.facts.program import open_program
    source = out["source"]
    try:
        opened = open_program(paths, vmlinux=vmlinux, search_debuginfo=search_debuginfo,
                              debuginfo_root=debuginfo_root, strict_vmlinux=False, kallsyms=kallsyms)
    except TriageError as exc:
        return exc.message
    except Exception as exc:     # noqa: BLE001 - drgn errors on a damaged dump: facts are optional
        return f"{type(exc).__name__}: {exc}"[:300]
    try:
        from triage.facts.collect import Collector
        source["method"] = opened.method
        source["memory"] = opened.memory
        source["debuginfo"] = opened.debuginfo
        source["kallsyms"] = opened.kallsyms
        if opened.btf is not None:
            source["btf"] = {"bytes": len(opened.btf.blob), "types": opened.btf.count - 1}
        dwarf = opened.method == "dwarf"
        got = Collector(opened.prog, cpu_regs=opened.cpu_regs, orc=not dwarf and opened.arch == "x86_64",
                        all_stacks=dwarf).collect()
        out.update(memory=got["memory"], tasks=got["tasks"], modules=got["modules"])
        source["missing"] = got["missing"]
        source["notes"] = list(opened.notes)
    finally:
        opened.close()
    return None


def _fallback_facts(paths: Sequence[str], out: Dict[str, Any], why_not: str) -> None:
    """Fill `out` from VMCOREINFO alone; `source.unavailable` when even that fails."""
    from triage.errors import TriageError
    from triage.facts.fallback import fallback_facts
    from triage.logsource import open_reader
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    source = out["source"]
    source.update(method=None, memory=None, btf=None, missing=[],
                  notes=[f"BTF+kallsyms facts not read: {why_not}"[:400]])
    try:
        with open_reader(list(paths)) as reader:
            raw = reader.vmcoreinfo()
            if not raw:
                raise TriageError("the dump carries no VMCOREINFO")
            got = fallback_facts(reader, parse_vmcoreinfo(raw), reader.facts().arch)
    except TriageError as exc:
        source["unavailable"] = f"{why_not}; VMCOREINFO fallback: {exc.message}"[:600]
        return
    source.update(method="vmcoreinfo", memory="triage reader", missing=got["missing"])
    source["notes"] += got["notes"]
    out.update(memory=got["memory"], tasks=got["tasks"], modules=got["modules"])


def _census(paths: Sequence[str]) -> Dict[str, Any]:
    """dump.census: the page census, or {"unavailable": reason}."""
    from triage.errors import TriageError
    from triage.facts.census import page_census
    try:
        return page_census(paths)
    except TriageError as exc:
        return {"unavailable": exc.message[:300]}
