"""`triage analyze PATH`: the verdict, culprit, evidence, hypotheses and timeline."""

import os
import shutil
import stat
import tempfile
from typing import Optional, Tuple

import click

from triage.cli import names_input, INPUT_FILE, INPUT_PATH
from triage.cli.debuginfo_options import debuginfo_options
from triage.errors import EXIT_PARTIAL, FormatError, InputError, OutputError, TriageError, UsageError
from triage.report.render import FORMATS
from triage.report.text import WIDTH

# Temporary space a whole-file-compressed input may take once decompressed (batch's default).
TEMP_LIMIT = 4096 << 20
_SPLIT_MAGICS = (b"KDUMP   ", b"DISKDUMP", b"makedumpfile")
_BATCH_HINT = ("analyze reads one dump or log (several paths only as the parts of one "
               "makedumpfile --split dump); for several dumps use `triage batch PATH...`")


@click.command("analyze")
@click.argument("paths", nargs=-1, required=True, type=INPUT_PATH)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the --output file's extension, else text).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the report to FILE instead of standard output ('-': standard output).")
@click.option("--signatures", "signature_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=str),
              help="Extra directory of signature rules (*.toml); repeatable.")
@click.option("--redact", is_flag=True,
              help="Replace host names, IP addresses, user names and process names with stable "
                   "placeholders (host-1, ip-1, user-1, comm-1) so the report can be shared.")
@click.option("--facts/--no-facts", default=True,
              help="Read memory, task and module facts from a dump through drgn (default: on).")
@click.option("--vmlinux", type=INPUT_FILE,
              help="A DWARF vmlinux for the dump facts instead of the dump's own BTF "
                   "(ignored, saying why, when its build id is not the dump's).")
@debuginfo_options(when_needed=True)
@click.option("--facts-method", type=click.Choice(["auto", "vmcoreinfo"]), default="auto",
              help="auto: drgn with the dump's BTF and kallsyms, VMCOREINFO alone when those fail; "
                   "vmcoreinfo: VMCOREINFO alone (zones and free pages only).")
@click.option("--page-census", is_flag=True,
              help="Also classify every page from mem_map's page flags (free, cache, user, slab, zero, ...) "
                   "as makedumpfile -d 31 does; reads all of mem_map (about 16 GB per TB of RAM).")
@click.pass_context
@names_input
def analyze(ctx: click.Context, paths: Tuple[str, ...], fmt: str, output: Optional[str],
            signature_dirs: Tuple[str, ...], redact: bool, facts: bool, vmlinux: Optional[str],
            debuginfo_search: Optional[bool], debuginfo_root: str, facts_method: str, page_census: bool) -> None:
    """Classify the crash in PATH (a vmcore or a kernel log) and summarise it.

    Give several paths only for the parts of one `makedumpfile --split` dump
    (for several dumps, use `triage batch`). A dump or log compressed as a
    whole file (.gz, .xz, .zst, .bz2, .lz4) is decompressed into a temporary
    directory first, as `triage batch` does.

    Exit status 6 means the input was partial: the report is printed, from
    what could be read.
    """
    from triage.analysis import load_ruleset
    from triage.report.render import render

    if fmt is None:
        fmt = _format_for(output)
    rules = load_ruleset(signature_dirs)
    how = dict(facts=facts, vmlinux=vmlinux, search_debuginfo=debuginfo_search, debuginfo_root=debuginfo_root,
               facts_method=facts_method, page_census=page_census)
    if len(paths) > 1:
        diag = _analyze_parts(paths, rules, **how)
    else:
        diag = _analyze_one(paths[0], rules, **how)
    if redact:
        from triage.redact import redact as redact_diagnosis
        diag = redact_diagnosis(diag)
    to_file = bool(output) and output != "-"
    # on a terminal the text fits its width (COLUMNS or the tty's; at least 80 columns);
    # a report written to a file keeps the default width
    width = None if to_file else shutil.get_terminal_size((WIDTH, 24)).columns
    text = render(diag, fmt, width=width)
    if to_file:
        _write(output, text)
    else:
        click.echo(text, nl=False)
    if diag.source.partial:
        where = diag.source.path if redact else paths[0]
        hint = ""
        if diag.source.kind == "vmcore" and not redact:
            from triage.cli.printlog import beside_hint
            hint = beside_hint(paths[0])
        click.echo(f"triage: warning: {where}: partial input; the diagnosis uses what could be read"
                   f"{_why(diag.source.problems, where)}{hint}", err=True)
        ctx.exit(EXIT_PARTIAL)


def _why(problems, where: str) -> str:
    """" (what is wrong)" for the one-line warning: the reader's problems name the damage
    (a header field, where the file ends), each once, without the path said already."""
    from triage.report.escape import safe_text
    seen = []
    for p in problems or []:
        for prefix in (f"{where}: ", ):
            if p.startswith(prefix):
                p = p[len(prefix):]
        if p not in seen:
            seen.append(p)
    return f" ({safe_text('; '.join(seen), 600)})" if seen else ""


_EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def _format_for(output: Optional[str]) -> str:
    """The format a report file's extension asks for; text otherwise."""
    if not output:
        return "text"
    return _EXTENSIONS.get(os.path.splitext(output)[1].lower(), "text")


def _analyze_parts(paths: Tuple[str, ...], rules, **how):
    """The parts of one --split dump; anything else is several inputs: point at batch
    (a usage error, exit 2, when one is not a kdump file at all, else the reader's
    FormatError).
    `how`: analyze_path's facts options."""
    from triage.analysis import analyze_path
    from triage.logsource import sniff
    for p in paths:
        if not sniff(p).startswith(_SPLIT_MAGICS):   # sniff: InputError for a missing file
            # one line, exit 2 (click's usage error would add its usage text)
            raise UsageError(f"{len(paths)} inputs given: {_BATCH_HINT}")
    try:
        return analyze_path(list(paths), rules=rules, **how)
    except FormatError as exc:
        # One line and exit 4, as dmesg and info report it (a click usage error is four
        # lines and exit 2, outside the codes a damaged input gets), plus the batch hint.
        exc.hint = _BATCH_HINT
        raise


def _analyze_one(path: str, rules, **how):
    """One input; a whole-file-compressed one is decompressed (bounded) into a temporary directory.
    `how`: analyze_path's facts options."""
    from triage.analysis import analyze_path
    from triage.batch.archive import decompress_file, outer_compression
    from triage.logsource import sniff
    sniff(path)                                   # InputError: missing, unreadable, directory, empty
    kind = outer_compression(path)
    if kind is None:
        return analyze_path(path, rules=rules, **how)
    with tempfile.TemporaryDirectory(prefix="triage-") as tmp:
        # bounded by the free space too: a full /tmp would otherwise fail half-way
        room = shutil.disk_usage(tmp).free - (64 << 20)
        limit = max(0, min(TEMP_LIMIT, room))
        plain = os.path.join(tmp, os.path.basename(path) or "input")
        try:
            decompress_file(path, plain, limit)
            diag = analyze_path(plain, rules=rules, display_path=path, **how)
        except TriageError as exc:
            if exc.path in (None, plain):
                exc.path = path
            raise
        except OSError as exc:       # ENOSPC in the temporary directory
            raise InputError(f"cannot decompress into {tmp}: {exc.strerror or exc}", path=path) from None
    return diag


def _write(path: str, text: str) -> None:
    """Write a regular file atomically so a reader never sees half a report;
    write a device or FIFO (/dev/stdout, /dev/full, a pipe) in place."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write the report: {exc.strerror}", path=path) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
        except OSError as exc:
            raise OutputError(f"cannot write the report: {exc.strerror}", path=path) from None
        return
    d = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".triage-", dir=d)
    except OSError as exc:
        raise OutputError(f"cannot write the report: {exc.strerror}", path=path) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)   # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError(f"cannot write the report: {exc.strerror}", path=path) from None
