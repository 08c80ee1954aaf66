"""The work of `triage dmesg`: print the kernel log held in a dump (or a text log)
the way makedumpfile --dump-dmesg does. Click-free, so that `triage dmesg PATH`
can run without loading click (triage.cli.main); the click command in
triage.cli.dmesg calls the same function.
"""

import sys
from typing import List

from triage.errors import EXIT_PARTIAL

_BATCH = 2048


def _json_record(rec, with_levels: bool) -> dict:
    obj = {"seq": rec.seq, "ts_nsec": rec.ts_nsec, "caller": rec.caller,
           "text": rec.text.decode("utf-8", "backslashreplace"), "dict": dict(rec.dict)}
    if with_levels and rec.level is not None:
        obj["level"] = rec.level
        obj["facility"] = rec.facility
    return obj


def _write_text_log(path: str, as_json: bool, out) -> None:
    import json
    with open(path, "rb") as f:
        if not as_json:
            for block in iter(lambda: f.read(1 << 20), b""):
                out.write(block)
            return
        for n, line in enumerate(f, 1):
            text = line.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
            out.write(json.dumps({"line": n, "text": text}).encode() + b"\n")


def print_log(paths: List[str], as_json: bool = False, caller: bool = False) -> int:
    """Write the log of `paths` (one dump, its --split parts, or a text log) to stdout.

    Returns 0, or EXIT_PARTIAL after a one-line warning on stderr when the dump is
    truncated or incomplete (every record that could be read is printed)."""
    from triage.logsource import (sniff, is_dump, looks_like_text, open_reader, stream_dump_log, text_sample,
                                  utsname_mismatch)
    from triage.errors import FormatError
    out = sys.stdout.buffer
    head = sniff(paths[0])
    if not is_dump(head):
        if not looks_like_text(text_sample(paths[0], head)):
            raise FormatError("neither a vmcore nor a text kernel log", path=paths[0])
        _write_text_log(paths[0], as_json, out)
        return 0
    raw = not as_json and not caller
    wrote = 0
    with open_reader(list(paths)) as reader:
        log, records, info, mem = stream_dump_log(reader, columns=raw)
        if log.kind == "plain" and not as_json:
            out.write(log.raw_text or b"")
            wrote += bool(log.raw_text)
        elif as_json:
            import json
            levels = log.kind == "lockless"
            chunk = []
            for rec in records:
                chunk.append(json.dumps(_json_record(rec, levels)))
                if len(chunk) >= _BATCH:
                    out.write(("\n".join(chunk) + "\n").encode())
                    wrote += len(chunk)
                    chunk = []
            if chunk:
                out.write(("\n".join(chunk) + "\n").encode())
                wrote += len(chunk)
        else:
            from triage.printk.format import format_columns, format_records
            blocks = format_columns(records) if raw else format_records(records, caller, _BATCH)
            for block in blocks:
                out.write(block)
                wrote += bool(block)
        out.flush()
        if not wrote and log.partial:
            # the ring was found, but its records lie past the cut: say so as for a dump
            # cut before its log (exit 5, the log saved beside it), not "partial" with nothing
            from triage.logsource import _cut_before_log, no_record_error
            raise _cut_before_log(reader, no_record_error(reader, log))
        # a host name or version flipped inside the header: named as info and analyze name it
        from triage.memory.utsname import read_utsname
        host, version, _machine = read_utsname(mem, info)
        uts_problems = utsname_mismatch(reader, host, version)
        facts = reader.facts()
    if log.partial or not facts.complete or uts_problems:
        why = "; ".join(facts.problems + uts_problems + log.problems) or "some log pages are missing"
        # a damaged header field alone leaves every record readable: say the log is whole
        what = ("printed the whole log, but the dump is damaged" if not log.partial and facts.complete
                else "partial dump, printed what could be read")
        sys.stderr.write(f"triage: warning: {paths[0]}: {what} ({why})"
                         f"{beside_hint(paths[0]) if log.partial else ''}\n")
        sys.stderr.flush()
        return EXIT_PARTIAL
    return 0


def beside_hint(path: str) -> str:
    """"; the kernel log saved beside it is PATH" when a kdump tool saved one: what to
    read for the records a partial dump lost."""
    from triage.logsource import log_beside_hint
    hint = log_beside_hint(path)
    return f"; {hint}" if hint else ""
