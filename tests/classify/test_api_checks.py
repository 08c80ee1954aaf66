"""A WARNING raised by an API contract check ([skip] api_checks: the workqueue flush
dependency check, the DMA mapping overflow report, the USB core's DMA mapping of an URB)
names the caller past the check, and the USB core's DMA buffer allocators are allocator
frames ([skip] alloc). Positives are real posted logs of the tuning half; negatives keep a
fault inside the same functions theirs and a WARNING elsewhere where it was."""

import pytest

from triage.analysis import analyze_path, analyze_lines

from _posted import posted_path


@pytest.mark.parametrize("prefix, module, function", [
    # check_flush_dependency <- __flush_work <- __cancel_work_timer <- gen6_disable_rps_interrupts [i915]
    ("4401", "i915", "gen6_disable_rps_interrupts"),
    # report_addr <- dma_direct_map_page/_sg <- usb_hcd_map_urb_for_dma <- usb_hcd_submit_urb <- usb_sg_wait
    # <- usb_stor_bulk_transfer_sglist [usb_storage]
    ("4301", "usb_storage", None),
    # warn_alloc <- ... dma_alloc_noncontiguous <- usb_alloc_noncoherent <- uvc_alloc_urb_buffers [uvcvideo]
    ("4405", "uvcvideo", None),
])
def test_the_caller_past_the_check_is_guilty(prefix, module, function):
    v = analyze_path(posted_path(prefix)).verdict
    assert v.culprit.module == module
    if function:
        assert v.culprit.function == function


_FAULT_IN_CHECK = [
    "BUG: kernel NULL pointer dereference, address: 0000000000000010",
    "#PF: supervisor read access in kernel mode",
    "#PF: error_code(0x0000) - not-present page",
    "Oops: 0000 [#1] PREEMPT SMP NOPTI",
    "CPU: 2 PID: 454 Comm: usb-storage Not tainted 6.1.0 #1",
    "RIP: 0010:usb_hcd_map_urb_for_dma+0x343/0x530 [usbcore]",
    "Call Trace:",
    " <TASK>",
    " usb_hcd_submit_urb+0x9a/0xbb0 [usbcore]",
    " usb_sg_wait+0x7e/0x150 [usbcore]",
    " usb_stor_bulk_transfer_sglist.part.0+0x64/0xb0 [usb_storage]",
    " </TASK>",
    "Modules linked in: usb_storage usbcore",
]


def test_a_fault_inside_a_check_is_the_checks_own():
    # the list is the warning section's only: a NULL dereference in usb_hcd_map_urb_for_dma is usbcore's
    v = analyze_lines(_FAULT_IN_CHECK).verdict
    assert v.category == "null_deref" and v.culprit.module == "usbcore"


def test_a_warning_outside_the_checks_keeps_its_site():
    lines = [s.replace("BUG: kernel NULL pointer dereference, address: 0000000000000010",
                       "WARNING: CPU: 2 PID: 454 at drivers/usb/core/hcd.c:1590 usb_hcd_unmap_urb_for_dma+0x43/0x150 [usbcore]")
             .replace("usb_hcd_map_urb_for_dma+0x343/0x530", "usb_hcd_unmap_urb_for_dma+0x43/0x150")
             for s in _FAULT_IN_CHECK if not s.startswith(("#PF", "Oops"))]
    v = analyze_lines(lines).verdict
    assert v.category == "warning" and v.culprit.module == "usbcore", (v.category, v.culprit)
