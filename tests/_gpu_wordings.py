"""The checks the GPU wording tables share (tests/events/test_gpu_memory_source_wordings.py and
test_source_sweep_wordings.py): a table's report line is read as its driver's report alone, its
chatter is no crash, and a core oops beside a report line stays the verdict."""

from triage.analysis import analyze_lines
from triage.events.headers import match_header

# A core NULL dereference with no module in it: the verdict whatever GPU line stands beside it.
CORE_OOPS = [
    "BUG: kernel NULL pointer dereference, address: 0000000000000008",
    "#PF: supervisor read access in kernel mode",
    "Oops: 0000 [#1] PREEMPT SMP NOPTI",
    "CPU: 3 PID: 1234 Comm: kworker/3:1 Tainted: G           OE     6.1.0-18-amd64 #1",
    "RIP: 0010:ext4_find_entry+0x1a/0x400",
    "Call Trace:",
    " <TASK>",
    " ext4_lookup+0x4e/0x1e0",
    " __lookup_slow+0x84/0x130",
    " </TASK>",
]


def assert_gpu_report_read(line: str, module: str, what: str) -> None:
    """`line` is `module`'s report headed "<module>: <what>", and alone it is the verdict."""
    h = match_header(line)
    assert h is not None and h.kind == "gpu_fault", line
    assert (h.fields["module"], h.headline) == (module, f"{module}: {what}")
    v = analyze_lines([f"[  101.000000] {line}"]).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", module)


def assert_gpu_chatter(line: str) -> None:
    """`line` is no GPU report and, alone, no crash."""
    h = match_header(line)
    assert h is None or h.kind != "gpu_fault", line
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "none", line


def assert_core_oops_outranks(line: str, where: str) -> None:
    """With `line` before or after (`where`) CORE_OOPS, the core oops is the verdict, no module blamed."""
    lines = [line] + CORE_OOPS if where == "before" else CORE_OOPS + [line]
    v = analyze_lines([f"[  {100 + i}.000000] {l}" for i, l in enumerate(lines)]).verdict
    assert (v.category, v.culprit.module) == ("null_deref", None), (line, v.title)
