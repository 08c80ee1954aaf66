"""`triage harvest [DIR...]`: write triage.txt and triage.json beside every new dump (at boot)."""

import os
import sys
from typing import IO, Callable, Tuple

import click

from triage.cli import INPUT_PATH
from triage.errors import EXIT_BATCH_ERRORS, InputError


@click.command("harvest")
@click.argument("dirs", nargs=-1, type=INPUT_PATH)
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(min=1),
              help="Dumps analysed at once (1 keeps boot light).")
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds one dump may take before its analysis is killed.")
@click.option("--memory-limit", default=0, show_default=True, type=click.IntRange(min=0),
              help="Address-space limit of an analysis in MiB (0: 2048 plus the dump's size).")
@click.option("--temp-limit", default=4096, show_default=True, type=click.IntRange(min=1),
              help="MiB of temporary space for decompressing whole-file-compressed dumps.")
@click.option("--signatures", "signature_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=str),
              help="Extra directory of signature rules (*.toml); repeatable. Changed rules re-analyse.")
@click.option("--settle", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds the dumps found must have been still before they are analysed: a dump being "
                   "copied in is waited for (at most 10 minutes). At boot they are long still.")
@click.option("--facts/--no-facts", default=True,
              help="Read each vmcore's memory, task and module facts through drgn (types from the dump's "
                   "BTF; no debuginfo search), as `triage analyze` does (default: on).")
@click.option("--retry-errors", is_flag=True,
              help="Analyse again the dumps whose report is an error report (a timeout or memory limit "
                   "hit at boot), though the dump and triage are unchanged.")
@click.pass_context
def harvest(ctx: click.Context, dirs: Tuple[str, ...], jobs: int, timeout: float, memory_limit: int,
            temp_limit: int, signature_dirs: Tuple[str, ...], settle: float, facts: bool,
            retry_errors: bool) -> None:
    """Write triage.txt and triage.json beside every dump under DIR... that has no
    up-to-date report (default: /var/crash and /var/spool/abrt, those that exist).

    Prints one line per newly reported dump. A second run over unchanged dumps
    writes nothing (nor analyses an error report again, unless --retry-errors).
    Exits 9 when some dumps ended as errors or their reports could not be written.
    """
    from triage.batch.harvest import DEFAULT_DIRS, REPORT_JSON, HarvestOptions, harvest as run_harvest
    from triage.batch.work import analysis_key, warm
    from triage.report.escape import safe_text

    if dirs:
        for d in dirs:
            if not os.path.isdir(d):
                raise InputError("no such directory", path=d)
        roots = list(dirs)
    else:
        roots = [d for d in DEFAULT_DIRS if os.path.isdir(d)]
        if not roots:
            click.echo(f"triage: harvest: none of {', '.join(DEFAULT_DIRS)} exists; nothing to do", err=True)
            return
    opts = HarvestOptions(analysis_key=analysis_key(tuple(signature_dirs)), jobs=jobs, timeout_s=timeout,
                          memory_mb=memory_limit, temp_limit_mb=temp_limit, facts=facts, settle_s=settle,
                          retry_errors=retry_errors,
                          # only when there is work: a boot with no new dump stays cheap
                          before_work=lambda: warm(tuple(signature_dirs), facts=facts))

    out_level, err_level = journal_prefix(sys.stdout), journal_prefix(sys.stderr)

    def show(o) -> None:
        where = safe_text(o.item_id or o.directory, 1000)
        for w in o.warnings:
            click.echo(f"{err_level(_WARNING)}triage: harvest: warning: {safe_text(o.directory, 1000)}: "
                       f"{safe_text(w, 1000)}", err=True)
        if o.action in ("new", "updated"):
            if o.status == "error":
                why = o.message or ""
                if o.item_id and why.startswith(o.item_id + ": "):
                    why = why[len(o.item_id) + 2:]          # the line starts with the path already
                line = f"{out_level(_ERR)}{where}: error: {safe_text(why, 500)}"
            else:
                tag = " (partial)" if o.status == "partial" else ""
                level = out_level(_WARNING if o.status == "partial" else _NOTICE)
                line = f"{level}{where}: {safe_text(o.title, 300)} [{safe_text(o.category, 80)}]{tag}"
            click.echo(line)
        elif o.action == "unchanged" and o.status == "error":
            # Not analysed again (same dump, same triage), but still an error each run:
            # say which dump, or the exit status 9 (and `systemctl --failed`) names none.
            why = o.message or ""
            if o.item_id and why.startswith(o.item_id + ": "):
                why = why[len(o.item_id) + 2:]
            click.echo(f"{err_level(_ERR)}triage: harvest: error: {where}: no report could be made "
                       f"({safe_text(why, 500)}); not retried until the dump or triage changes: run "
                       f"`triage harvest --retry-errors` (or remove {REPORT_JSON} beside it) to try again",
                       err=True)
        elif o.action in ("skipped", "failed"):
            label, level = ("warning", _WARNING) if o.action == "skipped" else ("error", _ERR)
            click.echo(f"{err_level(level)}triage: harvest: {label}: {safe_text(o.directory, 1000)}: "
                       f"{safe_text(o.message, 500)}", err=True)

    outcomes = run_harvest(roots, opts, show)
    bad = [o for o in outcomes if o.action == "failed" or o.status == "error"]
    if bad:
        click.echo(f"{err_level(_ERR)}triage: harvest: {len(bad)} of {len(outcomes)} dumps ended as errors "
                   "or without a report", err=True)
        ctx.exit(EXIT_BATCH_ERRORS)


# syslog priorities (sd-daemon(3)): journald reads a "<N>" line prefix as the line's priority
_ERR, _WARNING, _NOTICE = 3, 4, 5


def journal_prefix(stream: IO[str]) -> Callable[[int], str]:
    """`level -> "<level>"` when `stream` is connected to the journal (systemd sets
    JOURNAL_STREAM to its device:inode), else `level -> ""`: `journalctl -p err`
    then shows the dumps that could not be reported, and a terminal sees no prefix."""
    want = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(stream.fileno())
        connected = want == f"{st.st_dev}:{st.st_ino}"
    except (OSError, ValueError, AttributeError):
        connected = False
    return (lambda level: f"<{level}>") if connected else (lambda level: "")
