"""The DMA API's page allocators are allocator frames ([skip].alloc in signatures/lists.toml):
a report raised inside them about the request (the page allocator's order check, a failed
allocation) is the requesting driver's. Real posted log 3721 (tuning half): mm/page_alloc.c's
WARN_ON_ONCE(order > MAX_ORDER) reached through dma_alloc_pages() from coresight_tmc."""

from _posted import posted_lines, verdict


def test_page_allocator_warning_through_the_dma_api_is_the_callers():
    assert verdict(posted_lines("3721")) == ("warning", "coresight_tmc")


def test_the_dma_api_itself_is_not_blamed_when_no_caller_is_shown():
    # the same trace cut after the DMA API's frames: no caller left to blame, so no module
    lines = posted_lines("3721")
    cut = next(i for i, s in enumerate(lines) if "tmc_etr_alloc_flat_buf" in s)
    assert verdict(lines[:cut])[1] is None


def test_a_dma_free_path_is_not_an_allocator():
    # dma_common_free_pages() is not an allocation: a WARNING raised in it stays its own (core)
    lines = [s.replace("dma_common_alloc_pages", "dma_common_free_pages")
             .replace("mm/page_alloc.c:4453 __alloc_pages", "kernel/dma/ops_helpers.c:90 dma_common_free_pages")
             .replace(" __alloc_pages+0x334/0x1420", " dma_common_free_pages+0x108/0x138")
             for s in posted_lines("3721")]
    assert verdict(lines) == ("warning", None)
