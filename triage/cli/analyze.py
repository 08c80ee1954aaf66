"""`triage analyze PATH`: the verdict, culprit, evidence, hypotheses and timeline."""

import os
import shutil
import tempfile
from typing import Optional, Tuple

import click

from triage.cli import names_input
from triage.errors import EXIT_PARTIAL, InputError
from triage.report.render import FORMATS
from triage.report.text import WIDTH


@click.command("analyze")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the --output file's extension, else text).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=str),
              help="Write the report to FILE instead of standard output.")
@click.option("--signatures", "signature_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=str),
              help="Extra directory of signature rules (*.toml); repeatable.")
@click.option("--redact", is_flag=True,
              help="Replace host names, IP addresses, user names and process names with stable "
                   "placeholders (host-1, ip-1, user-1, comm-1) so the report can be shared.")
@click.option("--facts/--no-facts", default=True,
              help="Read memory, task and module facts from a dump through drgn (default: on).")
@click.option("--vmlinux", type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="A DWARF vmlinux for the dump facts instead of the dump's own BTF.")
@click.pass_context
@names_input
def analyze(ctx: click.Context, paths: Tuple[str, ...], fmt: str, output: Optional[str],
            signature_dirs: Tuple[str, ...], redact: bool, facts: bool, vmlinux: Optional[str]) -> None:
    """Classify the crash in PATH (a vmcore or a kernel log) and summarise it.

    Give several paths only for the parts of one `makedumpfile --split` dump.

    Exit status 6 means the input was partial: the report is printed, from
    what could be read.
    """
    from triage.analysis import analyze_path, load_ruleset
    from triage.report.render import render

    if fmt is None:
        fmt = _format_for(output)
    rules = load_ruleset(signature_dirs)
    diag = analyze_path(paths[0] if len(paths) == 1 else list(paths), rules=rules,
                        facts=facts, vmlinux=vmlinux)
    if redact:
        from triage.redact import redact as redact_diagnosis
        diag = redact_diagnosis(diag)
    # on a terminal the text fits its width (COLUMNS or the tty's; at least 80 columns);
    # a report written to a file keeps the default width
    width = None if output else shutil.get_terminal_size((WIDTH, 24)).columns
    text = render(diag, fmt, width=width)
    if output:
        _write(output, text)
    else:
        click.echo(text, nl=False)
    if diag.source.partial:
        where = diag.source.path if redact else paths[0]
        click.echo(f"triage: warning: {where}: partial input; the diagnosis uses what could be read", err=True)
        ctx.exit(EXIT_PARTIAL)


_EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def _format_for(output: Optional[str]) -> str:
    """The format a report file's extension asks for; text otherwise."""
    if not output:
        return "text"
    return _EXTENSIONS.get(os.path.splitext(output)[1].lower(), "text")


def _write(path: str, text: str) -> None:
    """Write atomically so a reader never sees half a report."""
    d = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".triage-", dir=d)
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror}", path=path) from None
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
        raise InputError(f"cannot write the report: {exc.strerror}", path=path) from None
