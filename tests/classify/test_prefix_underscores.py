"""A built-in GPU driver's inner helpers (`__ttm_dma_free_page`, `__i915_...`) are
named by the driver's prefix once their leading underscores are dropped."""

from triage.analysis import analyze_lines
from triage.classify import load_rules

from _posted import posted_lines

RULES = load_rules()


def test_inner_helpers_take_the_drivers_prefix():
    assert RULES.builtin_gpu_driver("__ttm_dma_free_page") == "ttm"
    assert RULES.builtin_gpu_driver("___amdgpu_bo_unref") == "amdgpu"
    assert RULES.builtin_gpu_driver("ttm_bo_put") == "ttm"


def test_core_inner_helpers_stay_unnamed():
    for fn in ("__schedule", "__alloc_pages", "__free_pages_ok", "___slab_alloc", "__", ""):
        assert RULES.builtin_gpu_driver(fn) is None, fn


def test_posted_1524_bad_page_state_freed_by_builtin_ttm():
    lines = posted_lines("1524")
    d = analyze_lines(lines)
    assert (d.verdict.category, d.verdict.culprit.module) == ("kernel_bug", "ttm")
