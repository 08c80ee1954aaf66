"""Module tags with a build id: kernels built with CONFIG_STACKTRACE_BUILD_ID print a
module frame as `func+0x1/0x2 [mod <build id>]` (lib/vsprintf.c `%pSb`/`%pBb`, the
GNU build id in hex after a blank). The frame and its module must read as with `[mod]`.

Lines quoted from tuning-half posted log 917 (an openSUSE 6.8 allocation failure)."""

import pytest

from triage.analysis import analyze_lines
from triage.events.frames import parse_symbol, parse_trace_line

from _posted import posted_lines

BID = "40df44e07c05479f7a6e7b90fba9f0e0031a7814"


@pytest.mark.parametrize("line, function, module, reliable", [
    (f" mhi_prepare_channel+0x127/0x2d0 [mhi {BID}]", "mhi_prepare_channel", "mhi", True),
    (f" ? mhi_map_single_no_bb+0x77/0xf0 [mhi {BID}]", "mhi_map_single_no_bb", "mhi", False),
    (" ath11k_core_resume+0x65/0x100 [ath11k a5094e22d7223135c40d93c8f5321cf09fd85e4e]",
     "ath11k_core_resume", "ath11k", True),
    # a shorter (md5-style, 16-byte) build id
    (" drm_fb_release+0x5c/0x170 [drm 1ef2a6610e3c2e37712af413a4bba8ef]", "drm_fb_release", "drm", True),
    # the plain tag is unchanged
    (" amdgpu_drm_ioctl+0x46/0x90 [amdgpu]", "amdgpu_drm_ioctl", "amdgpu", True),
])
def test_build_id_tag_is_a_module_tag(line, function, module, reliable):
    fr = parse_trace_line(line)
    assert fr is not None
    assert (fr.function, fr.module, fr.reliable) == (function, module, reliable)


def test_words_after_a_module_name_are_not_a_build_id():
    # only hex digits after the blank: "[mod something]" is not a module tag
    assert parse_trace_line(" f+0x1/0x2 [mod not-a-build-id]") is None
    assert parse_trace_line(" f+0x1/0x2 [mod 1234]") is None  # too short for a build id


def test_symbol_with_build_id_keeps_its_module():
    fr = parse_symbol(f"RIP: 0010:mhi_prepare_channel+0x127/0x2d0 [mhi {BID}]")
    assert (fr.function, fr.module) == ("mhi_prepare_channel", "mhi")


def test_allocation_failure_blames_the_module_that_asked():
    lines = [
        "[761945.327441] kworker/u32:45: page allocation failure: order:4, mode:0x40c00(GFP_NOIO|__GFP_COMP), "
        "nodemask=(null),cpuset=/,mems_allowed=0",
        "[761945.327467] CPU: 0 PID: 19318 Comm: kworker/u32:45 Not tainted 6.8.0-rc3-1.gae4495f-default #1",
        "[761945.327488] Call Trace:",
        "[761945.327493]  <TASK>",
        "[761945.327501]  dump_stack_lvl+0x47/0x60",
        "[761945.327514]  warn_alloc+0x13a/0x1b0",
        "[761945.327540]  __alloc_pages_slowpath.constprop.0+0xd3e/0xda0",
        "[761945.327551]  __alloc_pages+0x32d/0x350",
        f"[761945.327563]  ? mhi_prepare_channel+0x127/0x2d0 [mhi {BID}]",
        "[761945.327580]  __kmalloc_large_node+0x72/0x110",
        "[761945.327589]  __kmalloc+0x37c/0x480",
        f"[761945.327618]  mhi_prepare_channel+0x127/0x2d0 [mhi {BID}]",
        f"[761945.327633]  __mhi_prepare_for_transfer+0x44/0x80 [mhi {BID}]",
        "[761945.327654]  device_for_each_child+0x5c/0xa0",
        "[761945.327675]  ath11k_core_resume+0x65/0x100 [ath11k a5094e22d7223135c40d93c8f5321cf09fd85e4e]",
        "[761945.327720]  dpm_run_callback+0x8c/0x1e0",
        "[761945.327797]  </TASK>",
    ]
    v = analyze_lines(lines).verdict
    assert v.category == "alloc_failure"
    assert v.culprit is not None and v.culprit.module == "mhi"


def test_posted_917_whole_log_blames_mhi():
    # the real log the lines above are quoted from (labels.toml: alloc_failure, mhi)
    v = analyze_lines(posted_lines("917")).verdict
    assert v.category == "alloc_failure"
    assert (v.culprit.module, v.culprit.function) == ("mhi", "mhi_prepare_channel")
