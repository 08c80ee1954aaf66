"""`triage batch ROOT...`: triage a whole archive of dumps, in parallel and resumably."""

import os
import sys
from typing import Any, Dict

import click

from triage.errors import EXIT_BATCH_ERRORS

FORMATS = ("text", "json", "csv", "markdown", "html")
_EXT = {"text": "txt", "json": "json", "csv": "csv", "markdown": "md", "html": "html"}


class _Progress:
    """A one-line progress bar on a terminal, plain lines otherwise (on stderr)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, n: int, total: int, item, rec: Dict[str, Any]) -> None:
        from triage.report.escape import safe_text
        status = rec.get("status", "error")
        title = ((rec.get("verdict") or {}).get("title") or rec.get("error") or "")
        if self.tty:
            width = 30
            fill = int(width * n / max(total, 1))
            line = f"\r[{'#' * fill}{'.' * (width - fill)}] {n}/{total} {status:<7} {safe_text(item.id, 60)}"
            self.stream.write(line[:150].ljust(150))
            if n == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{n}/{total}] {status} {safe_text(item.id, 300)}: {safe_text(title, 200)}\n")
        self.stream.flush()


@click.command("batch")
@click.argument("roots", nargs=-1, required=True, type=click.Path())
@click.option("--output", "-o", "outdir", default="triage-batch", show_default=True,
              type=click.Path(file_okay=False), help="Directory for the result store, per-dump reports and fleet files.")
@click.option("--jobs", "-j", default=0, type=click.IntRange(min=0), help="Worker processes (default: CPU count).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Form of the fleet report on stdout (also written to DIR/fleet.<ext>).")
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds one dump may take before its worker is killed.")
@click.option("--memory-limit", default=0, show_default=True, type=click.IntRange(min=0),
              help="Address-space limit of a worker in MiB (0: 2048 plus the dump's size).")
@click.option("--temp-limit", default=4096, show_default=True, type=click.IntRange(min=1),
              help="MiB of temporary space for vmcores extracted from archives.")
@click.option("--signatures", "signature_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=str),
              help="Extra directory of signature rules (*.toml); repeatable. Changed rules re-analyse.")
@click.option("--retry-errors", is_flag=True, help="Analyse again the dumps that ended as errors.")
@click.option("--progress/--no-progress", default=True, help="Progress on stderr.")
@click.pass_context
def batch(ctx: click.Context, roots, outdir: str, jobs: int, fmt: str, timeout: float, memory_limit: int,
          temp_limit: int, signature_dirs, retry_errors: bool, progress: bool) -> None:
    """Triage every dump and kernel log under ROOT... (directories, files, tar archives).

    Finished results are kept in DIR; a re-run analyses only new or changed
    dumps. Exits 9 when some dumps ended as errors.
    """
    from triage.batch.session import BatchOptions, run_batch
    from triage.batch import html, render

    # Import the analysis once in the parent: forked workers then start warm.
    from triage.batch.work import analysis_key, warm
    warm(tuple(signature_dirs))

    opts = BatchOptions(outdir=outdir, jobs=jobs or os.cpu_count() or 1, timeout_s=timeout,
                        memory_mb=memory_limit, temp_limit_mb=temp_limit, retry_errors=retry_errors,
                        analysis_key=analysis_key(tuple(signature_dirs)))
    res = run_batch(list(roots), opts, _Progress(sys.stderr) if progress else None)
    doc_json = render.render_json(res.records, res.views, res.skipped, res.stats)
    base = _common_dir(roots)
    if fmt == "text":
        out = render.render_text(res.records, res.views, base)
    elif fmt == "json":
        out = doc_json
    elif fmt == "csv":
        out = render.render_csv(res.records)
        for key, _, cols in render.VIEW_TABLES:
            _write(os.path.join(outdir, f"fleet-{key}.csv"), render.render_csv_rows(res.views[key], cols))
    elif fmt == "markdown":
        out = render.render_markdown(res.records, res.views, base)
    else:
        out = html.render_html(res.records, res.views, base)
    _write(os.path.join(outdir, "batch.json"), doc_json)
    _write(os.path.join(outdir, f"fleet.{_EXT[fmt]}"), out)
    click.echo(out, nl=False)
    if res.errors:
        click.echo(f"triage: {res.errors} of {len(res.records)} dumps ended as errors", err=True)
        ctx.exit(EXIT_BATCH_ERRORS)


def _common_dir(roots) -> str:
    """The directory all roots share, so tables can show shorter paths."""
    dirs = [os.path.abspath(r) if os.path.isdir(r) else os.path.dirname(os.path.abspath(r)) for r in roots]
    try:
        common = os.path.commonpath(dirs)
    except ValueError:
        return ""
    return "" if common == os.sep else common


def _write(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
