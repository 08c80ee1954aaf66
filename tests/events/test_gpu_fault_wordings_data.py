"""The GPU fault wordings are data (signatures/lists.toml [[gpu_fault_wordings]]): every wording
maps to a documented headline, and each one, printed after a GPU driver's device prefix, gives
its group's headline through the event parser (so a broken loader or parser fails here)."""

from typing import List, Optional, Tuple

import pytest

from triage.classify.rules import builtin_dir, load_files
from triage.errors import SignatureError
from triage.events.gpudevs import GpuWordingGroup, builtin_gpu_data, parse_gpu_fault_wordings
from triage.events.headers import Header, match_header

# the gpu_fault headlines docs/events.md describes; "" = decided not a fault
DOCUMENTED = {"", "GPU ring timeout", "GPU job timeout", "GPU recovered", "GPU hang", "GPU fifo fault",
              "GPU page fault", "GPU engine trap", "GPU engine error", "GPU fault", "GPU hardware error",
              "GPU reset", "GPU reset failed"}


def _messages(group: GpuWordingGroup) -> List[str]:
    """One message per plain wording and combination of `group` (regexes are covered below)."""
    out = [f"x {s} x" for s in group.contains] + [f"{s}x" for s in group.starts]
    for c in group.combos:
        middle = " ".join(list(c.has) + [g[0] for g in c.has_any])
        out.append(f"{c.starts}x {middle} x{c.ends}")
    return out


def _cases() -> List[Tuple[str, str]]:
    return [(g.headline, msg) for g in builtin_gpu_data().fault_wordings for msg in _messages(g)]


def test_the_data_loads_and_every_headline_is_documented() -> None:
    groups = builtin_gpu_data().fault_wordings
    assert len(groups) >= 10
    assert {g.headline for g in groups} <= DOCUMENTED
    assert {g.headline for g in groups} >= DOCUMENTED - {""}
    assert all(g.contains or g.starts or g.regex or g.combos for g in groups)


@pytest.mark.parametrize("headline,message", _cases())
def test_a_wording_after_a_device_prefix_gives_its_headline(headline: str, message: str) -> None:
    h = match_header("amdgpu 0000:03:00.0: " + message)
    if headline:
        assert h is not None and h.kind == "gpu_fault", message
        assert h.headline == f"amdgpu: {headline}"
        assert h.fields["module"] == "amdgpu"
    else:
        assert h is None or h.kind != "gpu_fault", message


@pytest.mark.parametrize("message,headline", [
    # nouveau_chan.c nouveau_channel_killed "channel %d killed!" (after the client name)
    ("Xorg[1234]: channel 2 killed!", "GPU hang"),
    # panfrost_gpu.c "GPU Fault 0x%08x (%s) at 0x%016llx"
    ("GPU Fault 0x00000088 (SHAREABILITY_FAULT) at 0x0000000000c0ffee", "GPU fault"),
])
def test_the_regex_wordings_give_their_headline(message: str, headline: str) -> None:
    # the regex wording itself gives the headline, and no other group's regex also takes the message
    assert [g.headline for g in builtin_gpu_data().fault_wordings if g.regex and g.matches(message.lower())] == [headline]
    h = match_header("panfrost fde60000.gpu: " + message)
    assert h is not None and h.headline == f"panfrost: {headline}"


def test_a_malformed_table_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError):
        parse_gpu_fault_wordings([{"headline": "GPU hang", "substring": ["gpu hang"]}])
    with pytest.raises(ValueError):
        parse_gpu_fault_wordings([{"headline": "GPU hang"}])
    (tmp_path / "extra.toml").write_text('[[gpu_fault_wordings]]\nheadline = "GPU hang"\ncombos = [{ sarts = "x" }]\n')
    with pytest.raises(SignatureError):
        load_files([builtin_dir() / "lists.toml", tmp_path / "extra.toml"])


def _header_with_headline(line: str, headline: Optional[str]) -> Optional[Header]:
    """`line`'s header, asserted to carry `headline`; for None, asserted to be no GPU report
    (and None returned)."""
    h = match_header(line)
    if headline is None:
        assert h is None or h.kind != "gpu_fault", line
        return None
    assert h is not None and h.headline == headline, line
    return h


def _all_groups() -> List[GpuWordingGroup]:
    g = builtin_gpu_data()
    return list(g.fault_wordings) + list(g.nvrm_wordings) + [d.wordings for d in g.driverless]


@pytest.mark.parametrize("group", _all_groups(), ids=lambda g: g.headline or "not-a-fault")
def test_the_driverless_quick_reject_never_rejects_a_matching_message(group: GpuWordingGroup) -> None:
    """_any_wording (the one regex GpuData.driverless_report tries first on every line) matches
    every message a group matches: each wording of every built-in group, as a whole message."""
    from triage.events.gpudevs import _any_wording
    quick = _any_wording([group])
    msgs = _messages(group) + [f"{s}" for s in group.starts] + [f"{s}" for s in group.contains]
    assert msgs or group.regex
    for m in msgs:
        assert group.matches(m) and quick.match(m), m


def test_the_quick_reject_keeps_the_groups_meaning() -> None:
    from triage.events.gpudevs import _any_wording
    groups = parse_gpu_fault_wordings([
        {"headline": "a", "combos": [{"starts": "gpu reset", "has": ["reset"], "ends": "set"}]},
        {"headline": "b", "regex": ["^x[|]y|never", "(?<=q)z"]},
        {"headline": "c", "contains": ["mid"]},
    ])
    quick = _any_wording(groups)
    for m, want in [("gpu reset", True), ("gpu resets", False), ("gpu rese", False), ("x|y", True),
                    ("pre never", True), ("qz", True), ("z", False), ("a mid b", True), ("nothing", False)]:
        assert any(g.matches(m) for g in groups) is want, m
        assert (quick.match(m) is not None) is want, m
    # a regex with inline flags cannot join an alternation: no quick reject, the groups decide
    assert _any_wording(parse_gpu_fault_wordings([{"headline": "d", "regex": ["(?i)x"]}])) is None


def test_the_quick_reject_takes_every_contains_wording_of_every_group() -> None:
    # the `contains` wordings of all groups share one lookahead in the quick reject
    from triage.events.gpudevs import _any_wording
    groups = parse_gpu_fault_wordings([
        {"headline": "a", "contains": ["gmu watchdog", "x.y"]},
        {"headline": "b", "starts": ["lead "]},
        {"headline": "c", "contains": ["firmware fault"]},
    ])
    quick = _any_wording(groups)
    for m, want in [("the gmu watchdog fired", True), ("a x.y b", True), ("axzy", False),
                    ("gmu firmware fault\n", True), ("lead on", True), ("a lead on", False), ("gmu watch", False)]:
        assert any(g.matches(m) for g in groups) is want, m
        assert (quick.match(m) is not None) is want, m


@pytest.mark.parametrize("line,headline", [
    # [[gpu_driverless_wordings]]: a GPU report without a device prefix, its wording naming the driver
    ("*** gpu fault: ttbr0=00000001e7d67000 iova=00000001033f0000 dir=READ type=TRANSLATION source=TP (0,0,0,1)",
     "msm: GPU page fault"),
    ("*** fault: iova=00100000, flags=0", "msm: GPU page fault"),
    ("[drm] GPU HANG: ecode 9:0:0x85dffffb, in Xorg [1296], reason: Hang on render ring", "i915: GPU hang"),
    ("[drm] capturing error event; look for more information in /sys/class/drm/card0/error", "i915: GPU hang"),
    ("GPU crash dump saved to /sys/class/drm/card0/error", "i915: GPU hang"),
    ("[drm] GPU hangs can indicate a bug anywhere in the entire gfx stack, including userspace.", "i915: GPU hang"),
    ("The GPU crash dump is required to analyze GPU hangs, so please always attach it.", "i915: GPU hang"),
    ("[drm] stuck on render ring", "i915: GPU hang"),
    ("no progress on blitter ring", "i915: GPU hang"),
    ("Fence expiration time out i915-0000:00:02.0:gnome-shell[1234]:4a!", "i915: GPU job timeout"),
    ("[drm] Resetting GPU.", "vc4: GPU hang"),
    ("[drm] *ERROR* CRITICAL: Xe has declared device 0000:03:00.0 as wedged.", "xe: GPU hang"),
    ("[drm] GPU recovery disabled.", "amdgpu: GPU hang"),
    ("[drm] No hardware hang detected. Did some blocks stall?", "amdgpu: GPU job timeout"),
    # near misses: not these reports
    ("[drm] Resetting GPU for hang.", None),
    ("[drm] stuck on render ring buffer", None),
    ("stuck on the way home", None),
    ("GPU crash dump saved to /tmp/error", None),
    ("gpu fault: something", None),
    ("x" * 31 + "CRITICAL: Xe has declared device 0000:03:00.0 as wedged.", "xe: GPU hang"),
    ("x" * 32 + "CRITICAL: Xe has declared device 0000:03:00.0 as wedged.", None),
    ("Fence expiration time out amdgpu-0000:03:00.0", None),
    ("[drm] GPU recovery enabled", None),
])
def test_a_driverless_gpu_report_names_its_driver(line: str, headline) -> None:
    h = _header_with_headline(line, headline)
    if h is not None:
        assert h.kind == "gpu_fault", line
        assert h.fields["module"] == headline.split(":")[0]


@pytest.mark.parametrize("line,headline", [
    # [[gpu_report_functions]]: a DRM error of a function whose every error is one report
    ("[drm:amdgpu_job_timedout [amdgpu]] *ERROR* Process information: process X pid 1 thread X pid 1",
     "amdgpu: GPU ring timeout"),
    ("[drm:lima_sched_timedout_job [lima]] *ERROR* lima job timeout", "lima: GPU job timeout"),
    ("[drm:panfrost_job_timedout [panfrost]] *ERROR* js fault", "panfrost: GPU job timeout"),
    ("[drm:hangcheck_handler [msm]] *ERROR* A320:     completed fence: 12", "msm: GPU hang"),
    # other functions: only a wording would make them a report
    ("[drm:hangcheck_handler_x [msm]] *ERROR* A320:     completed fence: 12", None),
    ("[drm:amdgpu_job_timedout_x [amdgpu]] *ERROR* something else", None),
    ("[drm:msm_gpu_submit [msm]] *ERROR* A320:     completed fence: 12", None),
])
def test_a_report_functions_error_belongs_to_its_report(line: str, headline) -> None:
    _header_with_headline(line, headline)
