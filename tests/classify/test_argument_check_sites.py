"""A BUG whose own site is an inline check of the caller's argument ([skip]
arg_check_sites, include/linux/gfp.h: gfp_zone() on a gfp mask asking two zones) is
the caller's, as the generic-API rule of tests/data/posted/README.md says: the
allocator frames ([skip] alloc) and the frames that only carried the caller's gfp
down ([skip] arg_carriers: shmem's page-cache allocation, drm_gem_get_pages) are
passed. A BUG elsewhere in the allocator stays the allocator's (posted 1008, 2922)."""

import re

import pytest

from triage.analysis import analyze_lines
from triage.classify import load_rules
from triage.errors import SignatureError

from _posted import posted_lines


def _bug(site: str, frames):
    return analyze_lines([
        "[  419.852194] ------------[ cut here ]------------",
        f"[  419.852200] kernel BUG at {site}!",
        "[  419.852208] invalid opcode: 0000 [#1] SMP PTI",
        "[  419.852212] CPU: 0 PID: 1522 Comm: Xorg Not tainted 5.11.0 #187",
        f"[  419.852216] RIP: 0010:{frames[0]}",
        "[  419.852246] Call Trace:",
        *[f"[  419.852252]  {f}" for f in frames[1:]],
        "[  419.852318] Modules linked in: vboxvideo drm_vram_helper drm_kms_helper drm_ttm_helper ttm drm e1000",
        "[  419.852375] ---[ end trace 511e5346897d9526 ]---",
    ]).verdict


def _posted_at(prefix: str, site: str):
    """Posted log `prefix` (a real report) with its `kernel BUG at FILE:LINE` site replaced by
    `site`: the same trace under a check that is, or is not, on the caller's argument."""
    lines = posted_lines(prefix)
    return analyze_lines([re.sub(r"kernel BUG at \S+!", f"kernel BUG at {site}!", s) for s in lines]).verdict


# mm/shmem.c frames as 1008 shows them; only the synthetic shmem-BUG case below uses them
_SHMEM = ["shmem_read_mapping_page_gfp+0x3e/0x66", "drm_gem_get_pages+0xc0/0x1f8 [drm]",
          "vbox_gem_get_pages+0x2c/0x82 [vboxvideo]", "vbox_gem_fault+0x44/0xc4 [vboxvideo]", "__do_fault+0x3a/0x13a"]


@pytest.mark.parametrize("site", ["include/linux/gfp.h:457", "./include/linux/gfp.h:434"])
def test_gfp_zone_bug_names_the_caller_past_the_allocator(site):
    # posted 2922: RIP __alloc_pages_nodemask, called by ttm_pool_alloc [ttm]
    v = _posted_at("2922", site)
    assert (v.culprit.function, v.culprit.module) == ("ttm_pool_alloc", "ttm")
    assert v.category == "gpu_fault"


def test_gfp_zone_bug_names_the_driver_past_shmem_and_gem_pages():
    # posted 1008: prepare_alloc_pages <- __alloc_pages <- alloc_pages_vma <- shmem_* <-
    # drm_gem_get_pages [drm] <- etnaviv_gem_shmem_get_pages [etnaviv]
    v = _posted_at("1008", "include/linux/gfp.h:500")
    assert (v.culprit.function, v.culprit.module) == ("etnaviv_gem_shmem_get_pages", "etnaviv")
    assert v.category == "gpu_fault"


@pytest.mark.parametrize("site", ["mm/page_alloc.c:4867", "include/linux/mm.h:1111", "include/linux/gfp.h.orig:1"])
def test_a_bug_elsewhere_in_the_allocator_stays_the_allocators(site):
    # the allocator's own state (a corrupted free list, a page's refcount) is no argument
    v = _posted_at("2922", site)
    assert v.culprit.function == "__alloc_pages_nodemask"
    assert v.culprit.module in (None, "")
    assert v.category == "kernel_bug"


def test_a_bug_in_shmem_itself_stays_shmems():
    # no posted log holds a BUG inside shmem itself: a synthetic one on 1008's frames
    v = _bug("mm/shmem.c:1234", ["shmem_getpage_gfp+0x280/0x7d8"] + _SHMEM)
    assert v.culprit.function == "shmem_getpage_gfp"
    assert v.culprit.module in (None, "")


def test_a_warning_is_unchanged_by_the_arg_carriers():
    # a WARNING section passes allocators already; the carriers are only the BUG's argument path
    rules = load_rules()
    assert "arg_carriers" not in rules.section("warning", None).skip
    assert rules.section("kernel_bug", None).arg_check_skip == ("alloc", "arg_carriers")


def test_arg_check_sites_naming_an_unknown_list_is_refused(tmp_path):
    (tmp_path / "extra.toml").write_text('[section]\nkernel_bug = { read = "ip_then_trace", arg_check_sites = ["nope"] }\n')
    with pytest.raises(SignatureError, match="arg_check_sites"):
        load_rules([str(tmp_path)])


def test_drm_gem_size_bug_names_the_driver_that_passed_the_size():
    # posted 2904 (LoongArch: the pc is the "ERA:" line, the trace repeats it as its first frame)
    v = _posted_at("2904", "drivers/gpu/drm/drm_gem.c:181")
    assert (v.culprit.function, v.culprit.module) == ("___xe_bo_create_locked", "xe")
    assert v.category == "gpu_fault"


def test_a_bug_elsewhere_in_drm_stays_drms():
    v = _posted_at("2904", "drivers/gpu/drm/drm_mm.c:181")
    assert (v.culprit.function, v.culprit.module) == ("drm_gem_private_object_init", "drm")


def test_loongarch_era_line_is_the_faulting_location():
    from triage.events.frames import parse_ip_line
    fr = parse_ip_line("  ERA: 9000000001045fa4 drm_gem_private_object_init+0xcc/0xd0")
    assert (fr.function, fr.offset, fr.module) == ("drm_gem_private_object_init", 0xcc, None)
    assert parse_ip_line("  ERA: 9000000001045fa4") is None          # CONFIG_KALLSYMS off: no symbol
    assert parse_ip_line("ERRATA: 9000000001045fa4 foo+0x1/0x2") is None


# An excerpt that starts after the "kernel BUG at FILE:LINE" line lost the site: the BUG's trap
# address ([skip] arg_check_ips: functions whose every BUG() is a check of the caller's argument)
# still says it was one. Tuning-half posted logs, cut right after their site line.
def _after_site(prefix: str):
    lines = posted_lines(prefix)
    i = next(k for k, s in enumerate(lines) if "kernel BUG at" in s)
    return analyze_lines(lines[i + 1:]).verdict


@pytest.mark.parametrize("prefix, function, module", [
    ("2922", "ttm_pool_alloc", "ttm"),                          # x86 "invalid opcode", RIP __alloc_pages_nodemask
    ("1008", "etnaviv_gem_shmem_get_pages", "etnaviv"),        # riscv "Kernel BUG [#1]", epc prepare_alloc_pages.constprop.0
    ("2904", "___xe_bo_create_locked", "xe"),                  # loongarch "Oops - BUG[#1]:", ERA drm_gem_private_object_init
])
def test_a_lost_site_is_read_from_the_trap_address(prefix, function, module):
    v = _after_site(prefix)
    assert (v.category, v.culprit.function, v.culprit.module) == ("gpu_fault", function, module)


def test_a_lost_site_elsewhere_stays_the_functions():
    # the same cut 2922 with its RIP in a function holding BUG()s of its own state
    lines = posted_lines("2922")
    i = next(k for k, s in enumerate(lines) if "kernel BUG at" in s)
    v = analyze_lines([s.replace("RIP: 0010:__alloc_pages_nodemask", "RIP: 0010:rmqueue_bulk")
                       for s in lines[i + 1:]]).verdict
    assert (v.category, v.culprit.function) == ("kernel_bug", "rmqueue_bulk")
    assert v.culprit.module in (None, "")


def test_a_printed_site_beats_the_trap_address():
    # with the site line kept, a check of the allocator's own state stays the allocator's even at
    # an arg_check_ips address (see test_a_bug_elsewhere_in_the_allocator_stays_the_allocators)
    v = _posted_at("2922", "mm/page_alloc.c:4867")
    assert v.culprit.function == "__alloc_pages_nodemask"
