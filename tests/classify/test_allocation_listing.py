"""A report whose head the log lost, holding only frames atop an allocator and
nothing an exception prints, is the trace of an allocation-failure or OOM report
cut above it: its caller only asked for memory, so no module is blamed (posted
2019: an OOM report's trace quoted in a mail, its 'invoked oom-killer' head wrapped
and indented, __kmalloc called from i915)."""

from _posted import posted_lines, verdict


def test_posted_2019_quoted_oom_trace_blames_no_gpu_driver():
    lines = posted_lines("2019")
    assert verdict(lines)[1] is None


def test_allocator_topped_listing_names_no_module():
    assert verdict(["      __kmalloc+0x1cd/0x1f0",
                     "      alloc_gen8_temp_bitmaps+0x47/0x80 [i915]",
                     "      i915_gem_do_execbuffer+0x1a0/0x600 [i915]"])[1] is None


def test_a_headerless_fault_in_the_driver_still_names_it():
    # a faulting IP is what an exception report prints: the driver is the culprit
    assert verdict(["RIP: 0010:alloc_gen8_temp_bitmaps+0x47/0x80 [i915]",
                     "Call Trace:",
                     " i915_gem_do_execbuffer+0x1a0/0x600 [i915]"])[1] == "i915"
