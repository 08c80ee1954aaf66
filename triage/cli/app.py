"""The click group of the `triage` command line, whose subcommands load lazily.

Subcommand modules are imported only when invoked, so `triage dmesg` does not
pay for the signature engine or the batch machinery at start-up. triage.cli.main
runs it and is the only place where TriageError becomes a message and an exit code.
"""

import functools
import importlib
from typing import Callable, Dict, List, Optional, Tuple

import click

from triage import __version__
from triage.cli import OUTPUT_ERRNOS, output_error
from triage.errors import about_input

# name -> (module, attribute, one-line help)
_COMMANDS: Dict[str, Tuple[str, str, str]] = {
    "dmesg": ("triage.cli.dmesg", "dmesg", "Print the kernel log held in a dump (no debuginfo needed)."),
    "info": ("triage.cli.info", "info", "Describe a dump: format, kernel, crash time, completeness."),
    "analyze": ("triage.cli.analyze", "analyze", "Classify the crash and summarise it for an OS expert."),
    "signatures": ("triage.cli.signatures", "signatures", "List, show, test and lint crash signatures."),
    "batch": ("triage.cli.batch", "batch", "Triage a whole archive of dumps, resumably and in parallel."),
    "harvest": ("triage.cli.harvest", "harvest", "Write a report beside every new dump (at boot)."),
    "shell": ("triage.cli.shell", "shell", "Open drgn's interactive shell on a dump, with no debuginfo."),
}


# Input paths are opened by triage itself, which turns a missing or unreadable file into
# one line and exit 3 (InputError). click's own check (readable=True by default) would
# pre-empt that with a usage error, exit 2, whenever the file exists but cannot be read.
INPUT_PATH = click.Path(dir_okay=True, readable=False, path_type=str)
INPUT_FILE = click.Path(exists=True, dir_okay=False, readable=False, path_type=str)


def names_input(func: Callable) -> Callable:
    """Decorate a command taking `paths` so its errors name the first input file."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        paths = kwargs.get("paths") or ("",)
        with about_input(paths[0]):
            return func(*args, **kwargs)

    return wrapper


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when it runs."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        spec = _COMMANDS.get(name)
        if spec is None:
            return None
        module, attr, _ = spec
        return _accept_debug(getattr(importlib.import_module(module), attr))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OSError as exc:
            # click's main() turns EPIPE into a silent exit 1: name it before click sees it
            if exc.errno in OUTPUT_ERRNOS:
                raise output_error(exc) from None
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _accept_debug(cmd: click.Command) -> click.Command:
    """Let `--debug` follow the subcommand too (`triage analyze --debug x`).

    main() reads the flag from argv before parsing; here click only has to
    accept it wherever it stands."""
    if not any(p.name == "debug" for p in cmd.params):
        cmd.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, hidden=True,
                                       help="Show tracebacks instead of one-line errors."))
    for sub in getattr(cmd, "commands", {}).values():
        _accept_debug(sub)
    return cmd


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="triage")
@click.option("--debug", is_flag=True, envvar="TRIAGE_DEBUG", help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Turn a Linux crash dump or kernel log into a diagnosis."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
