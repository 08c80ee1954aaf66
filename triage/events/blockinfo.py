"""Lines inside a report block that describe the machine and the crashing task:
`CPU: .. PID: .. Comm: .. Tainted: ..`, `Modules linked in:`, `Hardware name:`,
and the boot banner lines that fill SystemFacts."""

from typing import List, Optional, Tuple

from triage.events.model import Module
from triage.lazyre import lazy_compile

_CPU_LINE = lazy_compile(
    r"CPU: (\d{1,5}) (?:UID: \d{1,10} )?PID: (-?\d{1,10}) Comm: (.{0,64}?) (Not tainted|Tainted: (.{0,40}?)) ?(\S{0,120})(?: #|$)")
_PID_OLD = lazy_compile(r"Pid: (\d{1,10}), comm: (.{0,64}?) (Not tainted|Tainted: (.{0,40}?)) ?(\S{0,120})")
_MODULE = lazy_compile(r"([\w-]{1,64})(?:\(([A-Z+-]{1,12})\))?$")
_LAST_UNLOADED = lazy_compile(r"\[last unloaded: ([^\]]{1,64})\]")
_LINUX_VERSION = lazy_compile(r"Linux version (\S{1,120})")
_MEMORY = lazy_compile(r"Memory: (\d{1,14})K/(\d{1,14})K available")
_CPUS = lazy_compile(r"(?:smp: Brought up \d{1,4} nodes?, (\d{1,5}) CPUs?|smpboot: Allowing (\d{1,5}) CPUs)")


_RELEASE = lazy_compile(r"\s(\d{1,3}\.\d{1,3}[\w.+~-]{0,100})")


def _split_taint(text: str, taint: str, release: str) -> Tuple[str, str]:
    """RHEL prints " ------------ " between the taint letters and the release."""
    i = text.find("Tainted: ")
    if i >= 0:
        rest = text[i + 9:]
        m = _RELEASE.search(rest)
        if m:
            return rest[: m.start()].rstrip(" -"), m.group(1)
    return taint.rstrip(" -"), release


def parse_cpu_line(text: str) -> Optional[Tuple[int, int, str, Optional[str], str]]:
    """(cpu, pid, comm, taint string or None when "Not tainted", release)."""
    if text.startswith("CPU: "):
        m = _CPU_LINE.match(text)
        if m:
            taint = None if m.group(4) == "Not tainted" else (m.group(5) or "").rstrip()
            rel = m.group(6)
            if taint is not None:
                taint, rel = _split_taint(text, taint, rel)
            comm = m.group(3)
            if comm.endswith(" Kdump: loaded"):     # RHEL/CentOS insert this between Comm and Tainted
                comm = comm[: -len(" Kdump: loaded")]
            return int(m.group(1)), int(m.group(2)), comm, taint, rel
    elif text.startswith("Pid: "):
        m = _PID_OLD.match(text)
        if m:
            taint = None if m.group(3) == "Not tainted" else (m.group(4) or "").rstrip()
            return -1, int(m.group(1)), m.group(2), taint, m.group(5)
    return None


def parse_modules(text: str) -> Tuple[List[Module], Optional[str]]:
    """Modules from the text after `Modules linked in:` (or a wrapped continuation)."""
    last = None
    m = _LAST_UNLOADED.search(text)
    if m:
        last = m.group(1).strip()
        text = text[: m.start()]
    i = text.find("[unloaded tainted modules:")
    if i >= 0:
        text = text[:i]
    mods: List[Module] = []
    for tok in text.split()[:1000]:
        mm = _MODULE.match(tok)
        if mm:
            mods.append(Module(mm.group(1).replace("-", "_"), (mm.group(2) or "").replace("+", "").replace("-", "")))
    return mods, last


def looks_like_module_list(text: str) -> bool:
    """A wrapped continuation of `Modules linked in:` (old kernels, syslog copies)."""
    toks = text.split()
    if not toks or not text.startswith(" "):
        return False
    return all(_MODULE.match(t) and "+" not in t for t in toks[:50]) and not text.strip().startswith(("<", "?"))


def linux_version(text: str) -> Optional[str]:
    m = _LINUX_VERSION.match(text)
    return m.group(1) if m else None


def memory_total_kb(text: str) -> Optional[int]:
    m = _MEMORY.match(text)
    return int(m.group(2)) if m else None


def cpu_count(text: str) -> Optional[int]:
    m = _CPUS.match(text)
    if not m:
        return None
    return int(m.group(1) or m.group(2))
