"""`triage batch ROOT...`: triage a whole archive of dumps, in parallel and resumably."""

import os
import re
import shutil
import sys
from typing import Any, Dict, Iterable, Iterator, Optional, Tuple, Union

import click

from triage.cli import INPUT_PATH
from triage.errors import EXIT_BATCH_ERRORS

FORMATS = ("text", "json", "csv", "markdown", "html")
_EXT = {"text": "txt", "json": "json", "csv": "csv", "markdown": "md", "html": "html"}


class _Progress:
    """A one-line progress bar on a terminal, plain lines otherwise (on stderr)."""

    def __init__(self, stream, base: str = "") -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.base = base

    def columns(self) -> int:
        """The terminal's width (asked each time: it may be resized)."""
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (OSError, ValueError, AttributeError):
            return 80

    def __call__(self, n: int, total: int, item, rec: Dict[str, Any]) -> None:
        from triage.report.escape import safe_text
        status = rec.get("status", "error")
        title = ((rec.get("verdict") or {}).get("title") or rec.get("error") or "")
        if self.tty:
            # one column short of the terminal: a line that wraps cannot be redrawn by \r
            cols = max(20, self.columns() - 1)
            width = max(5, min(30, cols // 4))
            fill = int(width * n / max(total, 1))
            head = f"[{'#' * fill}{'.' * (width - fill)}] {n}/{total} {status:<7} "
            path = shorten_path(safe_text(_relative(item.id, self.base), 4000), max(8, cols - len(head)))
            self.stream.write("\r" + (head + path)[:cols].ljust(cols))
            if n == total:
                self.stream.write("\n")
        else:
            path = shorten_path(safe_text(item.id, 4000), 300)
            self.stream.write(f"[{n}/{total}] {status} {path}: {safe_text(title, 200)}\n")
        self.stream.flush()


def shorten_path(path: str, width: int) -> str:
    """`path` cut from the left to at most `width` characters ("…" + its tail, on a
    component boundary when one is near), never longer than it was."""
    if len(path) <= width:
        return path
    tail = path[len(path) - (width - 1):]
    cut = tail.find("/")
    if 0 <= cut < width // 3:
        tail = tail[cut:]
    return "…" + tail


def _relative(path: str, base: str) -> str:
    if base and path.startswith(base.rstrip("/") + "/"):
        return path[len(base.rstrip("/")) + 1:]
    return path


def _parse_shard(text: Optional[str]) -> Optional[Tuple[int, int]]:
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 0 < int(m.group(2)) or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise click.BadParameter(f"{text!r}: expected K/N with 0 <= K < N (e.g. 0/4 .. 3/4)",
                                 param_hint="--shard")
    return int(m.group(1)), int(m.group(2))


@click.command("batch")
@click.argument("roots", nargs=-1, required=True, type=INPUT_PATH)
@click.option("--output", "-o", "outdir", default="triage-batch", show_default=True,
              type=click.Path(file_okay=False), help="Directory for the result store, per-dump reports and fleet files.")
@click.option("--jobs", "-j", default=0, type=click.IntRange(min=0),
              help="Dumps analysed at once, each in its own process; 0 (the default) means one per CPU. "
                   "Ignored with --scheduler (the Dask workers' threads decide).")
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
@click.option("--scheduler", metavar="ADDRESS",
              help="Run each dump as a task on a Dask cluster: tcp://HOST:PORT of a `dask scheduler`, "
                   "or local:N for a local cluster of N workers. Needs triage[distributed].")
@click.option("--shard", "shard_text", metavar="K/N",
              help="Analyse only shard K of N (0 <= K < N): a stable slice of the dumps by path, "
                   "for job arrays. Merge the shards' directories with --merge.")
@click.option("--facts/--no-facts", default=True,
              help="Read each vmcore's memory, task and module facts through drgn (types from the dump's "
                   "BTF; no debuginfo search) inside its worker (default: on).")
@click.option("--merge", is_flag=True,
              help="ROOT... are batch output directories (shards) to merge into --output; nothing is analysed.")
@click.option("--redact", is_flag=True,
              help="Replace host names, IP addresses, user names and process names by placeholders in every "
                   "report and fleet file (as analyze --redact), the same placeholder for one value across "
                   "the batch (keyed by DIR/redact.key; copy it into shard directories to share placeholders).")
@click.pass_context
def batch(ctx: click.Context, roots, outdir: str, jobs: int, fmt: str, timeout: float, memory_limit: int,
          temp_limit: int, signature_dirs, retry_errors: bool, progress: bool, scheduler: Optional[str],
          shard_text: Optional[str], facts: bool, merge: bool, redact: bool) -> None:
    """Triage every dump and kernel log under ROOT... (directories, files, tar archives).

    Finished results are kept in DIR; a re-run analyses only new or changed
    dumps. Exits 9 when some dumps ended as errors, 130 when interrupted
    (finished results are kept: run again to resume).
    """
    from triage.batch.merge import merge_stores
    from triage.batch.session import BatchInterrupted, BatchOptions, run_batch

    shard = _parse_shard(shard_text)
    if scheduler is not None and not scheduler.strip():
        raise click.BadParameter("needs an address: tcp://HOST:PORT or local:N", param_hint="--scheduler")
    redact_key = None
    if redact:
        from triage.batch.redact import load_key
        redact_key = load_key(outdir)
    if merge:
        if shard or scheduler:
            raise click.UsageError("--merge only merges finished shards: no --shard or --scheduler")
        res = merge_stores(list(roots), outdir)
        base = _common_dir([os.path.dirname(r["id"].split("::")[0]) for r in res.records] or ["/"])
    else:
        # Import the analysis once in the parent: forked workers then start warm.
        from triage.batch.work import analysis_key, warm
        warm(tuple(signature_dirs), facts=facts)
        base = _common_dir(roots)
        opts = BatchOptions(outdir=outdir, jobs=jobs or os.cpu_count() or 1, timeout_s=timeout,
                            memory_mb=memory_limit, temp_limit_mb=temp_limit, retry_errors=retry_errors,
                            analysis_key=analysis_key(tuple(signature_dirs)),
                            signature_dirs=tuple(os.path.abspath(d) for d in signature_dirs),
                            scheduler=scheduler, shard=shard, facts=facts, redact_key=redact_key)
        try:
            res = run_batch(list(roots), opts, _Progress(sys.stderr, base) if progress else None)
        except BatchInterrupted as exc:
            if progress and sys.stderr.isatty():
                click.echo("", err=True)        # end the progress bar's line
            click.echo(f"triage: interrupted: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
    try:
        _render(res, outdir, fmt, base, redact_key)
    finally:
        res.close()
    if res.errors:
        click.echo(f"triage: {res.errors} of {res.views['summary']['dumps']} dumps ended as errors", err=True)
        ctx.exit(EXIT_BATCH_ERRORS)


def _render(res, outdir: str, fmt: str, base: str, redact_key: Optional[bytes]) -> None:
    """Write batch.json and DIR/fleet.<ext>, and the report to stdout. Everything is
    written piece by piece from the records and views (read from the batch's
    scratch database): no whole report is held in memory."""
    records, views, skipped = res.records, res.views, res.skipped
    if redact_key is None:
        _render_result(records, views, skipped, res.stats, outdir, fmt, base)
        return
    from triage.batch.fleetdb import fleet_of_records
    from triage.batch.redact import iter_redacted
    from triage.batch.scratch import new_path
    # the redacted records and their views go through a scratch database too
    redacted, skipped = iter_redacted(records, redact_key, skipped)
    scratch, views = fleet_of_records(new_path(outdir, ".triage-fleet-"), redacted)
    try:
        # the common directory of real paths would name what was redacted
        _render_result(scratch.records(), views, skipped, res.stats, outdir, fmt, "")
    finally:
        scratch.close()


def _render_result(records, views, skipped, stats, outdir: str, fmt: str, base: str) -> None:
    from triage.batch import html, render
    # batch.json is written piece by piece: one whole string of it cost ~8 KiB per dump
    json_path = os.path.join(outdir, "batch.json")
    _write(json_path, render.iter_json(records, views, skipped, stats))
    if fmt == "json":   # fleet.json and stdout are batch.json
        _copy(json_path, os.path.join(outdir, "fleet.json"))
    else:
        pieces = {"text": lambda: render.iter_text(records, views, base),
                  "csv": lambda: render.iter_csv(records),
                  "markdown": lambda: render.iter_markdown(records, views, base),
                  "html": lambda: html.iter_html(records, views, base)}[fmt]
        if fmt == "csv":
            for key, _, cols in render.VIEW_TABLES:
                _write(os.path.join(outdir, f"fleet-{key}.csv"), render.iter_csv_rows(views[key], cols))
        out_path = os.path.join(outdir, f"fleet.{_EXT[fmt]}")
        _write(out_path, pieces())
    for chunk in _read_chunks(json_path if fmt == "json" else out_path):
        click.echo(chunk, nl=False)


def _common_dir(roots) -> str:
    """The directory all roots share, so tables can show shorter paths."""
    dirs = [os.path.abspath(r) if os.path.isdir(r) else os.path.dirname(os.path.abspath(r)) for r in roots]
    try:
        common = os.path.commonpath(dirs)
    except ValueError:
        return ""
    return "" if common == os.sep else common


def _read_chunks(path: str) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return
            yield chunk


def _copy(src: str, path: str) -> None:
    """Copy `src` to `path` atomically, inside the kernel (no decode and re-encode)."""
    tmp = f"{path}.tmp{os.getpid()}"
    shutil.copyfile(src, tmp)
    os.replace(tmp, path)


def _write(path: str, text: Union[str, Iterable[str]]) -> None:
    """Write `text` (a string or its pieces) to `path` atomically."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        if isinstance(text, str):
            f.write(text)
        else:
            f.writelines(text)
    os.replace(tmp, path)
