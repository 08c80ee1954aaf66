"""The debuginfo-search options `triage analyze` and `triage shell` share."""

from typing import Callable

import click


def debuginfo_options(command: Callable) -> Callable:
    """--debuginfo-search/--no-debuginfo-search and --debuginfo-root on `command`."""
    command = click.option(
        "--debuginfo-root", type=click.Path(exists=True, file_okay=False, path_type=str), default="/",
        show_default=True, help="Directory the standard debuginfo paths are searched under.")(command)
    return click.option(
        "--debuginfo-search/--no-debuginfo-search", default=True,
        help="Without --vmlinux, look for the dump's DWARF vmlinux in the standard debuginfo "
             "paths, and ask debuginfod when DEBUGINFOD_URLS is set (default: on).")(command)
