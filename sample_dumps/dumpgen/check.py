"""Check a manifest against its dumps and serial logs.

For every entry: the file exists with the recorded size, format and
compression; re-parsing the serial log gives the recorded category, culprit,
KASLR and kernel release; the crash that happened is the one the scenario
intended; the serial log literally contains the lines that define the
category; and each successful peer-tool oracle shows the same crash records
as the serial console.
"""
from __future__ import annotations

import re

from pathlib import Path
from typing import Any, Dict, List, Tuple

from .dumpfile import identify
from .manifest import load_manifest
from .scenarios import SCENARIOS
from .serial_log import crashed_kernel_records, parse_serial_file

# Literal log text each category requires: every item must appear; an item that
# is a tuple is satisfied by any one of its alternatives (x86_64's and arm64's
# wording of the same oops).
NULL_DEREF = ("BUG: kernel NULL pointer dereference", "Unable to handle kernel NULL pointer dereference")
CATEGORY_TEXT = {
    "oom_panic": ["invoked oom-killer", "Kernel panic - not syncing: Out of memory"],
    "oom_kill": ["Out of memory: Killed process"],
    "alloc_failure": [],
    "gpu_alloc_fail_null_deref": [("page allocation failure: ", "vmalloc error: ",
                                   "vmalloc: allocation failure: "),
                                  NULL_DEREF],
    "gpu_null_deref": [NULL_DEREF],
    "null_deref": [NULL_DEREF],
    "gpf": ["general protection fault"],
    "paging_fault": [("Unable to handle kernel paging request at virtual address",
                      "BUG: unable to handle page fault for address")],
    "kernel_bug": ["kernel BUG at "],
    "warn_panic": ["WARNING: CPU: ", "panic_on_warn set"],
    "soft_lockup": ["watchdog: BUG: soft lockup"],
    "hung_task": ["blocked for more than", "hung_task: blocked tasks"],
    "sysrq": ["sysrq: Trigger a crash"],
}
_STRIP_TS = re.compile(r"^\[\s*\d+\.\d+\] ")


def _alts(item) -> Tuple[str, ...]:
    return item if isinstance(item, tuple) else (item,)


def _oracle_lines(text: str) -> List[str]:
    return [_STRIP_TS.sub("", l).strip() for l in text.splitlines()]


def check_entry(e: Dict[str, Any], base: Path) -> List[str]:
    """Problems with one manifest entry (empty when it agrees)."""
    errs: List[str] = []
    p = base / e["path"]
    if not p.is_file():
        return [f"{e['path']}: missing"]
    if p.stat().st_size != e["size_bytes"]:
        errs.append(f"{e['path']}: size {p.stat().st_size} != {e['size_bytes']}")
    fmt, comp = identify(p)
    if (fmt, comp) != (e["format"], e["compression"]):
        errs.append(f"{e['path']}: header says {fmt}/{comp}, manifest {e['format']}/{e['compression']}")
    serial = base / e["oracles"]["serial_log"]
    facts = parse_serial_file(serial)
    exp = e["expected"]
    got = {"category": facts.category, "culprit_module": facts.culprit_module,
           "panic_message": facts.panic_message, "events": [x.name for x in facts.events]}
    for k, v in got.items():
        if exp.get(k) != v:
            errs.append(f"{e['path']}: {k}: serial log says {v!r}, manifest {exp.get(k)!r}")
    if facts.kernel_release != e["kernel_release"]:
        errs.append(f"{e['path']}: kernel release {facts.kernel_release} != {e['kernel_release']}")
    if facts.kaslr != e["kaslr"]:
        errs.append(f"{e['path']}: kaslr {facts.kaslr} != {e['kaslr']}")
    sc = SCENARIOS.get(e["scenario"])
    if sc is None:
        errs.append(f"{e['path']}: unknown scenario {e['scenario']}")
    else:
        meant = sc.category_for(e.get("arch", "x86_64"))
        if exp["category"] != meant:
            errs.append(f"{e['path']}: scenario {sc.name} meant {meant}, "
                        f"log shows {exp['category']}")
        if exp["culprit_module"] != sc.expected_module:
            errs.append(f"{e['path']}: scenario meant culprit {sc.expected_module}, "
                        f"log shows {exp['culprit_module']}")
        for ev in sc.expected_events:
            if ev not in exp["events"]:
                errs.append(f"{e['path']}: expected earlier event {ev} not in log")
    recs = crashed_kernel_records(serial.read_text(errors="replace"))
    text = "\n".join(recs)
    needles = CATEGORY_TEXT.get(exp["category"] or "", [])
    for item in needles:
        if not any(n in text for n in _alts(item)):
            errs.append(f"{e['path']}: serial log lacks {item!r} for {exp['category']}")
    if exp["culprit_module"] and f"[{exp['culprit_module']}]" not in text:
        errs.append(f"{e['path']}: serial log never names [{exp['culprit_module']}]")
    # Each readable oracle must contain the crash records the console printed.
    key_recs = [r.strip() for r in recs
                if any(n in r for item in needles for n in _alts(item))]
    for tool, res in e["oracles"].items():
        if tool == "serial_log" or res.get("status") != "ok":
            continue
        out = base / res["output"] if "/" in res["output"] else p.parent / res["output"]
        if not out.is_file():
            errs.append(f"{e['path']}: oracle {tool} output {res['output']} missing")
            continue
        lines = set(_oracle_lines(out.read_text(errors="replace")))
        for r in key_recs:
            if r not in lines:
                errs.append(f"{e['path']}: {tool} oracle lacks serial record {r!r}")
        if f"Linux version {e['kernel_release']}" not in out.read_text(errors="replace"):
            errs.append(f"{e['path']}: {tool} oracle lacks the boot banner")
    return errs


def check_manifest(path: Path) -> List[str]:
    """Problems with every entry of the manifest at `path`."""
    doc = load_manifest(path)
    errs: List[str] = []
    if not doc.get("dumps"):
        errs.append(f"{path}: no dumps listed")
    for e in doc.get("dumps", []):
        errs += check_entry(e, path.parent)
    return errs
