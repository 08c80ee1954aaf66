"""Read a guest's serial console log: what crash the kernel actually printed.

The manifest's expected category and culprit come from here, never from the
scenario table, so the manifest states what happened, not what was intended.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

GPU_MODULES = {"nvidia", "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "amdgpu",
               "radeon", "nouveau", "i915", "xe"}

_REC = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")
_MOD = re.compile(r"\[([A-Za-z0-9_]+)\]\s*$")
_PANIC = re.compile(r"Kernel panic - not syncing: (.*)$")
_FATAL = re.compile(r"(?:Oops[^:]{0,40}: )?Fatal exception")

# (event name, pattern) checked in this order on each kernel record.
_EVENT_PATTERNS: List[Tuple[str, re.Pattern]] = [
    # vmalloc's warn_alloc said "vmalloc: allocation failure: N bytes" before 5.18
    # (Debian 11's 5.10), "vmalloc error: size N" since.
    ("alloc_failure", re.compile(r"page allocation failure: |vmalloc error: |"
                                 r"vmalloc: allocation failure: ")),
    # One record per kill (the "oom-kill:constraint=" line precedes it).
    ("oom_kill", re.compile(r"[Oo]ut of memory: Killed process")),
    # x86_64 wording, then arm64's (arch/arm64/mm/fault.c die_kernel_fault).
    ("null_deref", re.compile(r"BUG: kernel NULL pointer dereference|"
                              r"Unable to handle kernel NULL pointer dereference at virtual address")),
    ("gpf", re.compile(r"general protection fault")),
    # arm64 has no general protection fault: any other bad kernel address
    # (0xdead4ead00000000, "address between user and kernel address ranges"
    # included) is a translation fault reported as a paging request, as x86_64
    # reports a canonical unmapped one (die_kernel_fault, page_fault_oops).
    ("paging_fault", re.compile(r"Unable to handle kernel paging request at virtual address|"
                                r"BUG: unable to handle page fault for address")),
    ("kernel_bug", re.compile(r"kernel BUG at ")),
    ("warn", re.compile(r"WARNING: CPU: \d+ PID: \d+ at ")),
    ("soft_lockup", re.compile(r"watchdog: BUG: soft lockup")),
    ("hung_task", re.compile(r"INFO: task \S+ blocked for more than \d+ seconds")),
    ("sysrq", re.compile(r"sysrq: Trigger a crash")),
]


@dataclass
class Event:
    name: str
    index: int          # record index in the crashed kernel's log
    text: str
    module: Optional[str] = None


@dataclass
class SerialFacts:
    """What the crashed kernel's serial log shows."""
    kernel_release: Optional[str]
    cmdline: Optional[str]
    kaslr: Optional[bool]
    panic_message: Optional[str]
    category: Optional[str]
    culprit_module: Optional[str]
    events: List[Event] = field(default_factory=list)
    records: int = 0


def crashed_kernel_records(text: str) -> List[str]:
    """Kernel records of the first (crashed) kernel: stops at a second boot banner,
    which is the kdump capture kernel starting."""
    out: List[str] = []
    banners = 0
    for line in text.splitlines():
        m = _REC.match(line.rstrip("\r"))
        if not m:
            continue
        msg = m.group(2)
        if msg.startswith("Linux version "):
            banners += 1
            if banners > 1:
                break
        out.append(msg)
    return out


def _module_after(records: List[str], start: int, want_rip: bool, span: int = 80) -> Optional[str]:
    """Module named on the RIP line (want_rip) or the first call-trace frame
    that names a module, within `span` records after `start`."""
    for msg in records[start:start + span]:
        # x86_64 names the faulting function on its RIP line, arm64 on "pc : ".
        if want_rip and msg.startswith(("RIP: 0010:", "pc : ")):
            m = _MOD.search(msg)
            return m.group(1) if m else None
        if not want_rip and msg.startswith(" ") and _MOD.search(msg):
            return _MOD.search(msg).group(1)
        if not want_rip and msg.startswith(("Kernel panic", "---[ end")):
            break
    return None


def _event_module(name: str, records: List[str], i: int) -> Optional[str]:
    msg = records[i]
    if name == "warn":
        m = re.search(r" \[([A-Za-z0-9_]+)\]$", msg)
        return m.group(1) if m else _module_after(records, i, True)
    if name in ("null_deref", "gpf", "paging_fault", "kernel_bug", "soft_lockup"):
        return _module_after(records, i, True)
    if name in ("hung_task", "alloc_failure"):
        return _module_after(records, i + 1, False)
    return None


def _category(panic: Optional[str], events: List[Event]) -> Tuple[Optional[str], Optional[str]]:
    """Crash category and culprit module from the panic reason and the events before it."""
    # With kdump armed an oops goes straight to crash_kexec(), so no
    # "Kernel panic" line follows it: the oops itself ends the log.
    last = {e.name: e for e in events}
    panic = panic or ""
    if panic.startswith("Out of memory") or "deadlocked on memory" in panic:
        return "oom_panic", None
    if panic.startswith("sysrq triggered crash"):
        return "sysrq", None
    if "panic_on_warn" in panic and "warn" in last:
        return "warn_panic", last["warn"].module
    if "softlockup" in panic and "soft_lockup" in last:
        return "soft_lockup", last["soft_lockup"].module
    if "hung_task" in panic and "hung_task" in last:
        return "hung_task", last["hung_task"].module
    oopses = [e for e in events if e.name in ("null_deref", "gpf", "paging_fault", "kernel_bug")]
    # arm64's die() panics with "<its oops string>: Fatal exception": "Oops: Fatal
    # exception" after a fault, "Oops - BUG: Fatal exception" after a BUG().
    if (not panic or _FATAL.match(panic)) and oopses:
        first = oopses[0]
        mod = first.module
        if first.name == "null_deref" and mod in GPU_MODULES:
            if any(e.name == "alloc_failure" and e.module == mod and e.index < first.index
                   for e in events):
                return "gpu_alloc_fail_null_deref", mod
            return "gpu_null_deref", mod
        return first.name, mod
    return ("unknown" if panic else None), None


def parse_serial(text: str) -> SerialFacts:
    """Parse a serial console log into SerialFacts."""
    recs = crashed_kernel_records(text)
    release = cmdline = panic = None
    kaslr: Optional[bool] = None
    events: List[Event] = []
    for i, msg in enumerate(recs):
        if release is None and msg.startswith("Linux version "):
            release = msg.split()[2]
        elif cmdline is None and msg.startswith("Command line: "):
            cmdline = msg[len("Command line: "):]
        elif cmdline is None and msg.startswith("Kernel command line: "):
            # arm64 prints only this form (x86_64 prints "Command line: " first).
            cmdline = msg[len("Kernel command line: "):]
        elif msg.startswith("Kernel Offset: "):
            kaslr = not msg.startswith("Kernel Offset: disabled")
        m = _PANIC.search(msg)
        if m and panic is None:
            panic = m.group(1).strip()
            continue
        if panic is not None:
            continue
        for name, pat in _EVENT_PATTERNS:
            if pat.search(msg):
                events.append(Event(name, i, msg, _event_module(name, recs, i)))
                break
    if kaslr is None and cmdline is not None:
        kaslr = "nokaslr" not in cmdline.split()
    category, module = _category(panic, events)
    return SerialFacts(release, cmdline, kaslr, panic, category, module, events, len(recs))


def parse_serial_file(path: Path) -> SerialFacts:
    return parse_serial(path.read_text(errors="replace"))
