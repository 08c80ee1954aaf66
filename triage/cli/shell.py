"""`triage shell PATH`: drgn's interactive shell on a dump, with no debuginfo.

The Program is the one the dump facts use (triage.facts.program): types from
the dump's BTF, symbols from its kallsyms, memory from drgn's reader or from
triage's (flattened and split dumps). `--vmlinux`, or a vmlinux matching the
dump in the standard debuginfo paths, loads DWARF instead.
"""

import sys
from typing import Optional, Tuple

import click

from triage.cli import names_input, INPUT_FILE, INPUT_PATH
from triage.cli.debuginfo_options import debuginfo_options
from triage.errors import FormatError


@click.command("shell")
@click.argument("paths", nargs=-1, required=True, type=INPUT_PATH)
@click.option("--vmlinux", type=INPUT_FILE,
              help="A DWARF vmlinux to load instead of the dump's own BTF (exit 7 when its build id is not "
                   "the dump's).")
@debuginfo_options()
@click.pass_context
@names_input
def shell(ctx: click.Context, paths: Tuple[str, ...], vmlinux: Optional[str], debuginfo_search: bool,
          debuginfo_root: str) -> None:
    """Open drgn's interactive shell on the dump in PATH (`prog` is the kernel).

    Give several paths only for the parts of one `makedumpfile --split` dump.
    """
    from triage.logsource import is_dump, sniff
    if not is_dump(sniff(paths[0])):
        raise FormatError("not a vmcore: the shell needs a dump, not a text log", path=paths[0])
    from triage.facts.program import open_program
    opened = open_program(list(paths), vmlinux=vmlinux, search_debuginfo=debuginfo_search,
                          debuginfo_root=debuginfo_root)
    import drgn.cli

    def banner(default: str) -> str:
        di = opened.debuginfo
        how = ("DWARF " + di["file"]) if di["file"] else "BTF + kallsyms from the dump (no debuginfo)"
        skipped = "".join(f"\ntriage: not used: {r}" for r in di["rejected"])
        return f"{default}\ntriage: types and symbols from {how}; memory via {opened.memory}.{skipped}"

    try:
        if sys.stdin.isatty():
            drgn.cli.run_interactive(opened.prog, banner_func=banner)
        else:
            _run_piped(opened.prog, banner)
    finally:
        opened.close()


def _run_piped(prog, banner) -> None:
    """drgn's shell namespace for commands piped in, without a line editor: drgn's own
    loop sets up readline, which on Python 3.13 without GNU readline is the new REPL's
    terminal code (curses setupterm: an internal error with no terminal or TERM)."""
    import code

    import drgn
    ns = {"prog": prog}
    exec("import drgn\nfrom drgn import *\nfrom drgn.helpers.common import *\n"
         "from drgn.helpers.linux import *", ns)
    version = getattr(drgn, "__version__", "?")
    code.interact(banner=banner(f"drgn {version} (using Python {sys.version.split()[0]})"), local=ns, exitmsg="")
