"""Redact a Diagnosis so a report can go to a vendor: host names, IP
addresses (v4 and v6), user names and process names (comm) become stable
placeholders (`host-1`, `ip-1`, `user-1`, `comm-1`): the same value gets the
same placeholder everywhere in one report, so the report still reads. With a
key (`triage batch --redact`), a placeholder is a keyed hash of the value
(`host-3f2a9c01`), so every report and fleet table of a batch agrees on it
without the reports sharing any state.

The Diagnosis is data; redacting it before rendering covers every format,
the evidence lines, the trace, the hypotheses' reasons and the source path.
What is redacted is found two ways: the structured fields that hold such
values (system.hostname, crash.task.comm, the OOM victim and consumers) and
the kernel's own wordings that name them (`Comm: X`, `X invoked oom-killer`,
`Killed process N (X)`, `name=X`, `/home/X/`, `user=X`, `uid=N(X)`, ...).
IP addresses are recognised anywhere by pattern and checked with `ipaddress`.
"""

import dataclasses
import hashlib
import hmac
import ipaddress
import re
from typing import Any, Callable, Dict, Iterable, Iterator, Optional

# Wordings of the kernel (and of tools' paths) that name a process, a user or a host.
_COMM_PATTERNS = [
    re.compile(r"\bComm: (\S{1,64}?)(?= Kdump: | Tainted: | Not tainted|\s*$| )"),
    re.compile(r"^(\S{1,64}?) invoked oom-killer:"),
    re.compile(r"\b(?:Killed|Kill) process \d{1,10} \((.{1,64}?)\)"),
    re.compile(r"oom_reaper: reaped process \d{1,10} \((.{1,64}?)\)"),
    re.compile(r"\bname=([^,\s]{1,64})"),
    re.compile(r"\bprocess (\S{1,64}) pid \d"),
    re.compile(r"\bthread (\S{1,64}) pid \d"),
    re.compile(r"\bINFO: task (\S{1,64}?):\d{1,10} blocked"),
    re.compile(r"^(\S{1,64}?): (?:page allocation failure|page allocation stalls|vmalloc error|vmalloc: allocation)"),
    re.compile(r"\bin (\S{1,64}) \[\d{1,10}\]"),
    re.compile(r"\bcomm[=:] ?([^,\s]{1,64})"),
    re.compile(r"\btask:(\S{1,64}?)\s+state:"),
    re.compile(r"^\[\s*\d{1,10}\]\s+(?:\d+\s+){6,8}(\S{1,64})\s*$"),    # OOM task table row, name last
]
_USER_PATTERNS = [
    re.compile(r"/home/([^/\s:,;'\"]{1,64})"),
    re.compile(r"\buser[=:] ?([A-Za-z_][\w.-]{0,31})"),
    re.compile(r"\buid=\d{1,10}\(([A-Za-z_][\w.-]{0,31})\)"),
    re.compile(r"\bUSER=([A-Za-z_][\w.-]{0,31})"),
]
# IPv4 dotted quads and IPv6 (hex groups with colons, optionally an embedded v4 tail).
_IP_CANDIDATE = re.compile(r"(?<![\w.:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:])"
                           r"|(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]*\d)")
_PLACEHOLDER = re.compile(r"(?:host|ip|user|comm)-(?:\d{1,6}|[0-9a-f]{8})")
_NOT_NAMES = frozenset({"", "-", "?", "(none)", "<unknown>", "'<unknown>'", "unknown", "null", "(null)"})


class Redactor:
    """One report's mapping from original values to placeholders. `keep` holds
    names never taken for a process name: the kernel functions of the report
    (a kernel thread named like its function, khugepaged, is not user data,
    and its function must stay readable in the trace)."""

    def __init__(self, keep: Iterable[str] = (), key: Optional[bytes] = None) -> None:
        self.maps: Dict[str, Dict[str, str]] = {"host": {}, "ip": {}, "user": {}, "comm": {}}
        self.keep = frozenset(keep)
        self.key = key
        # apply() runs once per string of a report (of every record, in a batch):
        # each learned value's pattern is compiled once, not left to re's 512-entry cache
        self._patterns: Dict[str, "re.Pattern[str]"] = {}

    def placeholder(self, kind: str, value: str) -> str:
        m = self.maps[kind]
        if value not in m:
            if self.key is None:
                m[value] = f"{kind}-{len(m) + 1}"
            else:
                digest = hmac.new(self.key, f"{kind}\0{value}".encode("utf-8", "surrogateescape"), hashlib.sha256)
                m[value] = f"{kind}-{digest.hexdigest()[:8]}"
        return m[value]

    def learn(self, kind: str, value: Any) -> None:
        if isinstance(value, str):
            v = value.strip()
            if v not in _NOT_NAMES and not _PLACEHOLDER.fullmatch(v) \
                    and not (kind == "comm" and v in self.keep):
                self.placeholder(kind, v)

    def learn_text(self, text: str) -> None:
        """Names the kernel's wordings reveal in one string (a log line, a path)."""
        for line in text.split("\n"):
            t = line.strip()
            for pat in _COMM_PATTERNS:
                for m in pat.finditer(t):
                    self.learn("comm", m.group(1).strip("'\""))
            for pat in _USER_PATTERNS:
                for m in pat.finditer(t):
                    self.learn("user", m.group(1))
            for m in _IP_CANDIDATE.finditer(t):
                if _is_ip(m.group(0)):
                    self.placeholder("ip", m.group(0))

    def apply(self, text: str) -> str:
        """`text` with every learned value replaced, longest values first."""
        if not text:
            return text
        text = _IP_CANDIDATE.sub(lambda m: self.placeholder("ip", m.group(0)) if _is_ip(m.group(0))
                                 else m.group(0), text)
        for kind in ("host", "user", "comm"):
            for value in sorted(self.maps[kind], key=len, reverse=True):
                if value in text:
                    pat = self._patterns.get(value)
                    if pat is None:
                        pat = self._patterns[value] = _bounded(value)
                    text = pat.sub(self.maps[kind][value], text)
        return text


def _is_ip(s: str) -> bool:
    if not re.search(r"[0-9A-Fa-f]", s):
        return False
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


def _bounded(value: str) -> "re.Pattern[str]":
    # a name, not a piece of an identifier, a path component's extension or a longer word:
    # comm "sh" is replaced in "Comm: sh" and "(sh)" but not in "nvidia-bug-report.sh" or "shmem"
    return re.compile(r"(?<![\w.-])" + re.escape(value) + r"(?![\w-]|\.\w)")


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _strings(getattr(obj, f.name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)


def _map(obj: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return fn(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: _map(getattr(obj, f.name), fn)
                                           for f in dataclasses.fields(obj) if f.init})
    if isinstance(obj, dict):
        return {_map(k, fn): _map(v, fn) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map(v, fn) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_map(v, fn) for v in obj)
    return obj


def redact(diag: Any, key: Optional[bytes] = None, hosts: Iterable[str] = ()) -> Any:
    """A copy of `diag` (a Diagnosis) with host names, IP addresses, user
    names and process names replaced by stable placeholders (keyed hashes
    when `key` is given, see Redactor); `hosts` are more host names to replace
    (a batch's crash-directory names)."""
    c = diag.crash
    functions = {e.function for e in c.trace if e.function} | {x for x in (
        c.ip.function if c.ip else None, diag.verdict.culprit.function) if x}
    r = Redactor(keep=functions, key=key)
    for h in hosts:
        r.learn("host", h)
    sy = diag.system
    if sy.hostname:
        r.learn("host", sy.hostname)
        r.learn("host", sy.hostname.split(".")[0])
    if c.task is not None:
        r.learn("comm", c.task.comm)
    if c.oom is not None:
        for t in ([c.oom.victim] if c.oom.victim else []) + list(c.oom.consumers):
            r.learn("comm", t.comm)
    # the dump's task facts (triage.facts) name processes too
    tasks = (getattr(diag, "dump", None) or {}).get("tasks") or {}
    for t in [tasks.get("panic")] + list(tasks.get("cpus") or []) + list(tasks.get("top_rss") or []) \
            + list(tasks.get("d_state") or []) + list(tasks.get("stacks") or []):
        if t:
            r.learn("comm", t.get("comm"))
    for s in _strings(diag):
        r.learn_text(s)
    return _map(diag, r.apply)

