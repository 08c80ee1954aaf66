"""The debuginfo-search options `triage analyze` and `triage shell` share."""

from typing import Callable

import click


def debuginfo_options(command: Callable, when_needed: bool = False) -> Callable:
    """--debuginfo-search/--no-debuginfo-search and --debuginfo-root on `command`.

    `when_needed`: with neither flag given the option is None, "search only when
    the dump's own BTF/kallsyms cannot be used" (triage.facts.read_dump_facts)."""
    command = click.option(
        "--debuginfo-root", type=click.Path(exists=True, file_okay=False, path_type=str), default="/",
        show_default=True, help="Directory the standard debuginfo paths are searched under.")(command)
    if when_needed:
        return click.option(
            "--debuginfo-search/--no-debuginfo-search", default=None,
            help="Without --vmlinux, look for the dump's DWARF vmlinux in the standard debuginfo "
                 "paths, and ask debuginfod when DEBUGINFOD_URLS is set (gives every task's stack). "
                 "Default: only when the dump's own BTF and kallsyms cannot be used.")(command)
    return click.option(
        "--debuginfo-search/--no-debuginfo-search", default=True,
        help="Without --vmlinux, look for the dump's DWARF vmlinux in the standard debuginfo "
             "paths, and ask debuginfod when DEBUGINFOD_URLS is set (default: on).")(command)


def debuginfo_options_when_needed(command: Callable) -> Callable:
    """debuginfo_options, searching by default only when the dump's BTF/kallsyms fail."""
    return debuginfo_options(command, when_needed=True)
