"""The GPU fault wordings are data (signatures/lists.toml [[gpu_fault_wordings]]): every wording
maps to a documented headline, and each one, printed after a GPU driver's device prefix, gives
its group's headline through the event parser (so a broken loader or parser fails here)."""

from typing import List, Tuple

import pytest

from triage.classify.rules import builtin_dir, load_files
from triage.errors import SignatureError
from triage.events.gpudevs import GpuWordingGroup, gpu_fault_wordings, parse_gpu_fault_wordings
from triage.events.headers import match_header

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
    return [(g.headline, msg) for g in gpu_fault_wordings() for msg in _messages(g)]


def test_the_data_loads_and_every_headline_is_documented() -> None:
    groups = gpu_fault_wordings()
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
    assert [g.headline for g in gpu_fault_wordings() if g.regex and g.matches(message.lower())] == [headline]
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
