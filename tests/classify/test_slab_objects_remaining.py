"""SLUB's "BUG <cache> (...): Objects remaining ... on __kmem_cache_shutdown()" is the leak
check of a cache being destroyed (mm/slub.c list_slab_objects(), followed by
kmem_cache_destroy()'s WARN()): a warning about leaked objects, not a corrupted object, so it
is not the memory-state bug that SLUB's other reports (poison, redzone, double free) are.
The log is tuning-half posted log 781: an i915 WARNING on unbind, then the leak on unload."""

from triage.analysis import analyze_lines
from triage.events import parse_log

from _posted import posted_lines as _posted


def _leak_only(lines):
    i = next(k for k, s in enumerate(lines) if "Objects remaining" in s)
    return lines[i - 1:]


def test_objects_remaining_alone_is_a_warning_naming_the_allocating_module():
    d = analyze_lines(_leak_only(_posted("781")))
    assert d.verdict.category == "warning"
    assert (d.verdict.culprit.module, d.verdict.culprit.function) == ("i915", "i915_vma_instance")


def test_the_earlier_warning_stays_the_verdict_when_both_are_warnings():
    d = analyze_lines(_posted("781"))
    assert d.verdict.category == "warning"
    assert (d.verdict.culprit.module, d.verdict.culprit.function) == ("i915", "i915_gem_cleanup_early")


def test_other_slub_reports_stay_memory_state_bugs():
    lines = [
        "[  301.000100] =============================================================================",
        "[  301.000200] BUG kmalloc-64 (Tainted: G    B             ): Poison overwritten",
        "[  301.000300] -----------------------------------------------------------------------------",
        "[  301.000400] 0xffff888003a1c8c0-0xffff888003a1c8c3 @offset=2240. First byte 0x0 instead of 0x6b",
    ]
    assert analyze_lines(lines).verdict.category == "kernel_bug"
    ev = next(e for e in parse_log(lines).events if e.kind == "bad_page")
    assert ev.fields["slab_check"] == "Poison overwritten"
