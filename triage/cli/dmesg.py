"""`triage dmesg PATH...`: the kernel log of a dump, as makedumpfile --dump-dmesg prints it.

A text log is passed through unchanged. `--json` prints one JSON object per record.
A truncated or incomplete dump prints every record it could read, says so in one
line on stderr and exits with EXIT_PARTIAL (6).
"""

import json
import sys

import click

from triage.errors import EXIT_PARTIAL


def _json_record(rec, with_levels: bool) -> dict:
    obj = {"seq": rec.seq, "ts_nsec": rec.ts_nsec, "caller": rec.caller,
           "text": rec.text.decode("utf-8", "backslashreplace"), "dict": rec.dict}
    if with_levels and rec.level is not None:
        obj["level"] = rec.level
        obj["facility"] = rec.facility
    return obj


@click.command("dmesg")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.option("--caller", is_flag=True,
              help="Add the caller column ([T123]/[C1]) as makedumpfile 1.7.4+ prints it.")
@click.pass_context
def dmesg(ctx: click.Context, paths, as_json: bool, caller: bool) -> None:
    """Print the kernel log held in PATHS (one dump, its --split parts, or a text log)."""
    from triage.logsource import open_log
    src = open_log(list(paths))
    out = sys.stdout.buffer
    if src.kind == "text":
        if as_json:
            for n, line in enumerate(src.lines, 1):
                out.write(json.dumps({"line": n, "text": line}).encode() + b"\n")
        else:
            for line in src.lines:
                out.write(line.encode("utf-8", "replace") + b"\n")
    elif src.buffer_kind == "plain" and not as_json:
        out.write(src.raw_text or b"")
    elif as_json:
        levels = src.buffer_kind == "lockless"
        chunk = []
        for rec in src.records:
            chunk.append(json.dumps(_json_record(rec, levels)))
            if len(chunk) >= 4096:
                out.write(("\n".join(chunk) + "\n").encode())
                chunk = []
        if chunk:
            out.write(("\n".join(chunk) + "\n").encode())
    else:
        from triage.printk.format import format_record
        out.write(b"".join(format_record(rec, caller) for rec in src.records))
    out.flush()
    if src.partial:
        why = "; ".join(src.problems) or "some log pages are missing"
        click.echo(f"triage: warning: {src.path}: partial dump, printed what could be read ({why})", err=True)
        ctx.exit(EXIT_PARTIAL)
