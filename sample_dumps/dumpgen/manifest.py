"""Manifest entries: each dump with what its serial log says happened."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

from .dumpfile import identify
from .serial_log import parse_serial_file


def dump_entry(dump: Path, base: Path, *, scenario: str, capture: str, args: List[str],
               serial: Path, guest_ram_mib: int, crashkernel_mib: Optional[int],
               oracles: Dict[str, Dict[str, str]], extra: Optional[Dict[str, Any]] = None
               ) -> Dict[str, Any]:
    """One manifest entry; expected fields are parsed from `serial`."""
    fmt, comp = identify(dump)
    facts = parse_serial_file(serial)
    rel = lambda p: str(Path(p).relative_to(base))  # noqa: E731
    ora: Dict[str, Any] = {"serial_log": rel(serial)}
    for tool, res in oracles.items():
        res = dict(res)
        for key in ("output", "log"):
            if key in res:
                res[key] = rel(dump.parent / res[key])
        ora[tool] = res
    entry = {
        "path": rel(dump),
        "format": fmt,
        "compression": comp,
        "capture": capture,
        "capture_args": args,
        "scenario": scenario,
        "kernel_release": facts.kernel_release,
        "guest_ram_mib": guest_ram_mib,
        "crashkernel_mib": crashkernel_mib,
        "kaslr": facts.kaslr,
        "kernel_cmdline": facts.cmdline,
        "expected": {
            "category": facts.category,
            "culprit_module": facts.culprit_module,
            "panic_message": facts.panic_message,
            "events": [e.name for e in facts.events],
        },
        "oracles": ora,
        "size_bytes": dump.stat().st_size,
    }
    if extra:
        entry.update(extra)
    return entry


def refresh_entry(e: Dict[str, Any], base: Path) -> Dict[str, Any]:
    """Re-derive an entry's file and serial-log facts (after a parser fix),
    keeping how it was captured and its oracle results."""
    dump = base / e["path"]
    fmt, comp = identify(dump)
    facts = parse_serial_file(base / e["oracles"]["serial_log"])
    e = dict(e, format=fmt, compression=comp, size_bytes=dump.stat().st_size,
             kernel_release=facts.kernel_release, kaslr=facts.kaslr,
             kernel_cmdline=facts.cmdline)
    if e["capture"] == "qemu-dump-guest-memory":
        # Older runs recorded these arguments in another spelling.
        paging = dump.name.endswith("-paging")
        e["capture_args"] = ["dump-guest-memory",
                             "format=elf" if fmt == "elf" else "format=kdump-" + comp,
                             f"paging={'true' if paging else 'false'}"]
    e["expected"] = {"category": facts.category, "culprit_module": facts.culprit_module,
                     "panic_message": facts.panic_message,
                     "events": [x.name for x in facts.events]}
    return e


def write_manifest(path: Path, entries: List[Dict[str, Any]], note: str) -> None:
    doc = {"generator": "sample_dumps/generate", "note": note,
           "dumps": sorted(entries, key=lambda e: e["path"])}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.rename(path)


def load_manifest(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text())
