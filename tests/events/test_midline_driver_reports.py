"""GPU driver reports read after a line prefix the prefix reader does not know.

Two wordings are printed by one driver only and are searched mid-line: nvidia's
"NVRM: " (its Xid, fallen-off-the-bus and GSP RPC timeout reports) and amdgpu_job.c amdgpu_job_timedout()'s
"ring %s timeout, signaled seq=%u, emitted seq=%u". The amdgpu line is also read
bare, its device prefix cut (posted 1002, 1006: syslog lines with neither host
nor 'kernel:' tag, or with the host scrubbed and the driver prefix cut).
"""

import pytest

from triage.analysis import analyze_lines
from triage.events import parse_text
from triage.events.headers import match_header
from triage.diagnosis.diagnose import SourceInfo


def _events(text: str):
    return [(e.kind, e.fields.get("headline"), e.fields.get("module")) for e in parse_text(text + "\n").events]


@pytest.mark.parametrize("line", [
    "Sep 18 20:07:01 NVRM: Xid (PCI:0000:02:00): 109, pid=8494,   name=RenderThread, channel 0x0000000d, CTX SWITCH TIMEOUT",
    "2025-09-18 20:07:01 gpu-node-3 NVRM: Xid (PCI:0000:02:00): 109, pid=8494, name=RenderThread, channel 0x0000000d",
])
def test_xid_after_unknown_prefix(line):
    assert _events(line) == [("nvrm_xid", "NVRM: Xid 109", "nvidia")]


@pytest.mark.parametrize("line,headline", [
    ("Sep 18 20:07:01 NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.", "NVRM: GPU has fallen off the bus"),
    ("Sep 18 20:07:01 NVRM: _issueRpcAndWait: rpcRecvPoll timedout for fn 76!", "NVRM: Xid 119"),
])
def test_other_nvrm_reports_after_unknown_prefix(line, headline):
    assert _events(line) == [("nvrm_xid", headline, "nvidia")]


@pytest.mark.parametrize("line", [
    "Sep 03 21:38:54 HOSTNAME  ring gfx_0.0.0 timeout, signaled seq=9113028, emitted seq=9113031",
    "ring sdma0 timeout, signaled seq=121570, emitted seq=121572",
])
def test_amdgpu_ring_timeout_without_device_prefix(line):
    assert _events(line) == [("gpu_fault", "amdgpu: GPU ring timeout", "amdgpu")]


@pytest.mark.parametrize("line", [
    # a self-test and prose after the same prefix
    "Sep 03 21:38:54 HOSTNAME  ring gfx_0.0.0 test failed (-110)",
    "Sep 03 21:39:10 HOSTNAME  the ring gfx timeout, signaled seq= was printed again",
    # radeon's stall wording is read only with its driver tag, not bare
    "Sep 03 21:38:54 HOSTNAME  ring 0 stalled for more than 10000msec",
    # prose naming an Xid without its '(PCI:' part, and a marker glued to a word
    "Sep 18 20:07:01 I grep for NVRM: Xid 109 every day",
    # NVRM's load banner and assertion chatter after the same prefix
    "Sep 18 20:07:01 NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.154.05",
    "Sep 18 20:07:01 NVRM: nvAssertFailedNoLog: Assertion failed: 0 @ gpu_mgr.c:296",
    "Sep 18 20:07:01 host fooNVRM: Xid (PCI:0000:02:00): 79, GPU has fallen off the bus.",
])
def test_lookalikes_are_not_reports(line):
    assert _events(line) == []


def test_logger_prefix_glued_by_a_colon_is_still_a_prefix():
    """A logger prefix ending in a colon with no blank ("host foo:NVRM: ...") is learned and
    stripped like any other (triage/events/learnprefix.py): requiring a blank there lost two
    validation-half posted logs, so such prefixes are real; a marker glued to a word is not."""
    assert _events("Sep 18 20:07:01 host foo:NVRM: Xid (PCI:0000:02:00): 79, GPU has fallen off the bus.") \
        == [("nvrm_xid", "NVRM: Xid 79", "nvidia")]


def test_bare_ring_line_needs_both_sequence_numbers():
    assert match_header("ring gfx_0.0.0 timeout, signaled seq=9113028, emitted seq=9113031") is not None
    # ... or the line ends (cut by the terminal width) after "signaled seq=N": nothing but
    # amdgpu_job_timedout prints "ring %s timeout, signaled seq="; text after the number that
    # is not ", emitted seq=" (or a cut start of it) is not that line
    assert match_header("ring gfx_0.0.0 timeout, signaled seq=9113028") is not None
    assert match_header("ring gfx_0.0.0 timeout, signaled seq=9113028, emitted") is not None
    assert match_header("ring gfx_0.0.0 timeout, signaled seq=9113028 while the user waited 5 minutes") is None
    assert match_header("ring gfx_0.0.0 timeout") is None


def test_gate_accepts_driver_text_with_cut_prefix():
    """The input-format gate takes a text in which the parser finds a kernel report:
    the amdgpu lines of posted 1006 are one, a note without one is still no kernel log."""
    lines = ["Sep 01 22:25:29 HOSTNAME   Process kwin_wayland pid 2384 thread kwin_wayla:cs0 pid 2437",
             "Sep 03 21:38:54 HOSTNAME  ring gfx_0.0.0 timeout, signaled seq=9113028, emitted seq=9113031"]
    diag = analyze_lines(lines, SourceInfo(path="x.log", kind="log", format="text"))
    assert diag.verdict.category == "gpu_fault"
    assert diag.verdict.culprit.module == "amdgpu"
    from triage.errors import FormatError
    with pytest.raises(FormatError):
        analyze_lines(["Ubuntu 22.04 jammy using the same mainline kernel and now I see some",
                       "issues with the ring buffer after resume"],
                      SourceInfo(path="x.log", kind="log", format="text"))
