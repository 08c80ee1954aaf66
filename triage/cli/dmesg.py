"""`triage dmesg PATH...`: the kernel log of a dump, as makedumpfile --dump-dmesg prints it.

A text log is passed through unchanged. `--json` prints one JSON object per record
(level and facility included: their position beside text_len is checked against
drgn with debuginfo in tests/printk/test_printk_vs_drgn.py). A truncated or
incomplete dump prints every record it could read, says so in one line on
stderr and exits with EXIT_PARTIAL (6). The work is triage.cli.printlog.print_log,
which triage.cli.main also runs directly for `triage dmesg PATH...` without options.
"""

import click

from triage.cli import names_input, INPUT_PATH


@click.command("dmesg")
@click.argument("paths", nargs=-1, required=True, type=INPUT_PATH)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.option("--caller", is_flag=True,
              help="Add the caller column ([T123]/[C1]) as makedumpfile 1.7.4+ prints it.")
@click.pass_context
@names_input
def dmesg(ctx: click.Context, paths, as_json: bool, caller: bool) -> None:
    """Print the kernel log held in PATHS (one dump, its --split parts, or a text log)."""
    from triage.cli.printlog import print_log
    code = print_log(list(paths), as_json, caller)
    if code:
        ctx.exit(code)
