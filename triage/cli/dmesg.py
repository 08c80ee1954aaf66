"""`triage dmesg PATH...`: the kernel log of a dump, as makedumpfile --dump-dmesg prints it.

A text log is passed through unchanged. `--json` prints one JSON object per record
(level and facility included: their position beside text_len is checked against
drgn with debuginfo in tests/printk/test_printk_vs_drgn.py). A truncated or
incomplete dump prints every record it could read, says so in one line on
stderr and exits with EXIT_PARTIAL (6).
"""

import sys

import click

from triage.cli import names_input
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


@click.command("dmesg")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.option("--caller", is_flag=True,
              help="Add the caller column ([T123]/[C1]) as makedumpfile 1.7.4+ prints it.")
@click.pass_context
@names_input
def dmesg(ctx: click.Context, paths, as_json: bool, caller: bool) -> None:
    """Print the kernel log held in PATHS (one dump, its --split parts, or a text log)."""
    from triage.logsource import sniff, is_dump, looks_like_text, open_reader, stream_dump_log
    from triage.errors import FormatError
    out = sys.stdout.buffer
    head = sniff(paths[0])
    if not is_dump(head):
        if not looks_like_text(head):
            raise FormatError("neither a vmcore nor a text kernel log", path=paths[0])
        _write_text_log(paths[0], as_json, out)
        return
    raw = not as_json and not caller
    with open_reader(list(paths)) as reader:
        log, records, _info = stream_dump_log(reader, columns=raw)
        if log.kind == "plain" and not as_json:
            out.write(log.raw_text or b"")
        elif as_json:
            import json
            levels = log.kind == "lockless"
            chunk = []
            for rec in records:
                chunk.append(json.dumps(_json_record(rec, levels)))
                if len(chunk) >= _BATCH:
                    out.write(("\n".join(chunk) + "\n").encode())
                    chunk = []
            if chunk:
                out.write(("\n".join(chunk) + "\n").encode())
        else:
            from triage.printk.format import format_columns, format_records
            blocks = format_columns(records) if raw else format_records(records, caller, _BATCH)
            for block in blocks:
                out.write(block)
        out.flush()
        facts = reader.facts()
    if log.partial or not facts.complete:
        why = "; ".join(facts.problems + log.problems) or "some log pages are missing"
        click.echo(f"triage: warning: {paths[0]}: partial dump, printed what could be read ({why})", err=True)
        ctx.exit(EXIT_PARTIAL)
