"""The debuginfo-search options `triage analyze` and `triage shell` share."""

from typing import Callable

import click

_SEARCH_HELP = ("Without --vmlinux, look for the dump's DWARF vmlinux in the standard debuginfo "
                "paths, and ask debuginfod when DEBUGINFOD_URLS is set")


def debuginfo_options(when_needed: bool = False) -> Callable[[Callable], Callable]:
    """--debuginfo-search/--no-debuginfo-search and --debuginfo-root.

    `when_needed`: with neither flag given the option is None, "search only when
    the dump's own BTF/kallsyms cannot be used" (triage.facts.read_dump_facts);
    else the search is on by default."""
    if when_needed:
        default, help_tail = None, (" (gives every task's stack). "
                                    "Default: only when the dump's own BTF and kallsyms cannot be used.")
    else:
        default, help_tail = True, " (default: on)."

    def decorate(command: Callable) -> Callable:
        command = click.option(
            "--debuginfo-root", type=click.Path(exists=True, file_okay=False, path_type=str), default="/",
            show_default=True, help="Directory the standard debuginfo paths are searched under.")(command)
        return click.option("--debuginfo-search/--no-debuginfo-search", default=default,
                            help=_SEARCH_HELP + help_tail)(command)
    return decorate
