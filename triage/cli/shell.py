"""`triage shell PATH`: drgn's interactive shell on a dump, with no debuginfo.

The Program is the one the dump facts use (triage.facts.program): types from
the dump's BTF, symbols from its kallsyms, memory from drgn's reader or from
triage's (flattened and split dumps). `--vmlinux` loads DWARF instead.
"""

from typing import Optional, Tuple

import click

from triage.cli import names_input
from triage.errors import FormatError


@click.command("shell")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--vmlinux", type=click.Path(exists=True, dir_okay=False, path_type=str),
              help="A DWARF vmlinux to load instead of the dump's own BTF.")
@click.pass_context
@names_input
def shell(ctx: click.Context, paths: Tuple[str, ...], vmlinux: Optional[str]) -> None:
    """Open drgn's interactive shell on the dump in PATH (`prog` is the kernel).

    Give several paths only for the parts of one `makedumpfile --split` dump.
    """
    from triage.logsource import is_dump, sniff
    if not is_dump(sniff(paths[0])):
        raise FormatError("not a vmcore: the shell needs a dump, not a text log", path=paths[0])
    from triage.facts.program import open_program
    opened = open_program(list(paths), vmlinux=vmlinux)
    import drgn.cli

    def banner(default: str) -> str:
        how = "DWARF " + vmlinux if vmlinux else "BTF + kallsyms from the dump (no debuginfo)"
        return f"{default}\ntriage: types and symbols from {how}; memory via {opened.memory}."

    try:
        drgn.cli.run_interactive(opened.prog, banner_func=banner)
    finally:
        opened.close()
