"""The `triage` command line: main(), the boundary where TriageError becomes one
line on stderr and an exit code (docs/exit-codes.md).

The click group lives in triage.cli.app and is imported only when a command
needs it: `triage dmesg PATH...` without options is the log path that must
stand beside makedumpfile --dump-dmesg, and click costs it a fifth of a
small run's start-up, so main() runs it directly (triage.cli.printlog, the
same code the click command calls). Every other command line goes through click.
"""

import errno
import os
import sys
from typing import Callable, List, Optional

from triage.errors import EXIT_INTERNAL, OutputError, TriageError, about_input

# errno values only a write can give: an OSError carrying one is an output failure
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EPIPE}


def output_error(exc: OSError) -> OutputError:
    """The OutputError for an OSError raised while writing the output."""
    return OutputError(f"cannot write the output: {exc.strerror or exc}", errno=exc.errno)


def __getattr__(name: str):
    # `from triage.cli import cli, names_input`: the click side, loaded on first use
    if name in ("cli", "names_input", "LazyGroup", "INPUT_PATH", "INPUT_FILE"):
        from triage.cli import app
        return getattr(app, name)
    raise AttributeError(f"module 'triage.cli' has no attribute {name!r}")


def _plain_dmesg(args: List[str]) -> Optional[List[str]]:
    """The paths of `dmesg PATH...` with no option (nothing starting with '-'), else None."""
    if len(args) >= 2 and args[0] == "dmesg" and not any(a.startswith("-") for a in args[1:]):
        return args[1:]
    return None


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point: run the CLI, mapping TriageError to one line and an exit code."""
    args = argv if argv is not None else sys.argv[1:]
    # decided before parsing: a parse error must obey it too (the option's envvar alone would not)
    debug = "--debug" in args[:args.index("--")] if "--" in args else "--debug" in args
    debug = debug or bool(os.environ.get("TRIAGE_DEBUG"))
    paths = _plain_dmesg(args)
    if paths is not None:
        def run() -> int:
            from triage.cli.printlog import print_log
            with about_input(paths[0]):
                return print_log(paths)
    else:
        def run() -> int:
            from triage.cli.app import cli
            return cli.main(args=argv, prog_name="triage", standalone_mode=False)
    sys.exit(_guarded(run, debug))


def _guarded(run: Callable[[], object], debug: bool) -> int:
    """Run a command; its exit code, or the message and code of what it raised."""
    try:
        try:
            rv = run()
            sys.stdout.flush()     # a full disk or closed pipe must surface here, not at exit
        except OSError as exc:
            if exc.errno not in OUTPUT_ERRNOS:
                raise
            raise output_error(exc) from None
    except OutputError as exc:
        if debug:
            raise
        _quiet_stdout()
        # `triage dmesg vmcore | head` closes the pipe on purpose: no message then
        if exc.errno != errno.EPIPE:
            _err(f"triage: error: {exc}")
        return exc.exit_code
    except TriageError as exc:
        if debug:
            raise
        _err(f"triage: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI boundary: never a traceback for users
        click = sys.modules.get("click")
        if click is not None and isinstance(exc, click.exceptions.Abort):
            _err("triage: aborted")
            return 130
        if click is not None and isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        if debug:
            raise
        _err(f"triage: internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)")
        return EXIT_INTERNAL
    # Commands signal partial results etc. with ctx.exit(code); click returns it here.
    return rv if isinstance(rv, int) else 0


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered would fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
