"""`triage batch --redact`: the batch's outputs with host names, IP addresses,
user names and process names replaced, the way `triage analyze --redact`
replaces them in one report (triage.redact).

A batch is many reports written by separate worker processes, plus fleet
tables built from all of them. So that one host gets one placeholder in every
one of them, placeholders are keyed hashes of the value (Redactor with a key):
the key is made once per output directory (DIR/redact.key, readable by its
owner only) and reused by every worker and every later run, so a re-run or a
--merge of shards run with the same key keeps the placeholders.

What is redacted: each dump's report files (rendered by the worker from the
redacted Diagnosis), and the records the fleet reports and DIR/batch.json
are rendered from (verdict titles, hosts, problems, and the paths of the
dumps, whose directory names often carry the host or an IP address). The
results database (DIR/triage-batch.sqlite) keeps the real paths as its keys:
it is the batch's own memory on the machine that ran it (to resume and to
spot changed dumps), not an output; its stored verdicts are the redacted ones.
"""

import os
import secrets
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from triage.redact import Redactor, _map, _strings

KEY_NAME = "redact.key"
# Record fields that hold paths: a host or user name is replaced inside them
# even when it is only part of a directory name ("web01-2024-05-01-10:00").
_PATH_FIELDS = ("id", "paths", "vmcore", "log", "extras", "analyzed", "same_crash_as", "report", "origin")
# Shorter names are too likely to be part of an unrelated path component.
_MIN_PATH_NAME = 3
_NO_HOST = frozenset({"", "unknown", "(none)", "localhost", "localhost.localdomain", "(unknown)"})


def load_key(outdir: str) -> bytes:
    """The output directory's redaction key, made (32 random bytes) on first use."""
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, KEY_NAME)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, "r", encoding="ascii") as f:
            text = f.read().strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 16:
            from triage.errors import InputError
            raise InputError(f"{path}: not a redaction key (64 hex digits); remove it to make a new one",
                             path=path)
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
    return key


def _is_name(v: Any) -> bool:
    """A host or directory name worth replacing (not a placeholder for "no host", not too short)."""
    return isinstance(v, str) and v.strip().lower() not in _NO_HOST and len(v.strip()) >= _MIN_PATH_NAME


def _learn(r: Redactor, records: Iterable[Dict[str, Any]]) -> List[str]:
    """Learn the names to replace; return the crash-directory names, replaced in
    paths and in the `origin` field only (a directory name may be any word)."""
    dirs: List[str] = []
    for rec in records:
        o = rec.get("origin")
        if _is_name(o):
            dirs.append(o.strip())
        # the host as the record names it (from the dump's utsname or the crash directory);
        # the directory hint only when the record took its host from it (else it may be any
        # directory name, "in" or "crash")
        names = [rec.get("host")] if rec.get("host_source") in ("utsname", "directory") else []
        if rec.get("host_source") == "directory":
            names.append(rec.get("origin"))
        for v in names:
            if _is_name(v):
                r.learn("host", v)
                r.learn("host", v.split(".")[0])
        for s in _strings(rec):
            r.learn_text(s)
    return dirs


def _path_fn(r: Redactor, dirs: List[str]):
    names = [(v, p) for kind in ("host", "user") for v, p in r.maps[kind].items() if len(v) >= _MIN_PATH_NAME]
    names += [(d, r.placeholder("host", d)) for d in dirs]
    names.sort(key=lambda vp: len(vp[0]), reverse=True)

    def fn(text: str) -> str:
        text = r.apply(text)
        for value, ph in names:
            if value in text:
                text = text.replace(value, ph)
        return text
    return fn


def iter_redacted(records: Iterable[Dict[str, Any]], key: bytes, skipped: Optional[List[Tuple[str, str]]] = None
                  ) -> Tuple[Iterator[Dict[str, Any]], List[Tuple[str, str]]]:
    """Copies of the batch records (and of the skipped-path list) with every host,
    IP, user and process name replaced by its keyed placeholder, the records one
    at a time: the names are learnt in a first pass over `records` (which must be
    iterable twice), the copies made in a second, as they are asked for."""
    r = Redactor(key=key)
    dirs = _learn(r, records)
    path = _path_fn(r, dirs)

    def copies() -> Iterator[Dict[str, Any]]:
        for rec in records:
            new = {}
            for k, v in rec.items():
                new[k] = _map(v, path) if k in _PATH_FIELDS else _map(v, r.apply)
            yield new
    skip = [(path(p), r.apply(why)) for p, why in (skipped or [])]
    return copies(), skip
