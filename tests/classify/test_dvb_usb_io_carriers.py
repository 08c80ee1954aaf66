"""The DVB USB frameworks' generic I/O functions (dvb_usb_v2_generic_io, dvb_usbv2_generic_rw/
_write; dvb-usb's dvb_usb_generic_rw/_write) hand the tuner driver's own buffer to
usb_bulk_msg() unchanged ([skip] helpers, beside usb_bulk_msg): a check on that buffer names
the driver that passed it. A report elsewhere in the framework stays the framework's."""

from triage.analysis import analyze_lines, analyze_path

from _posted import posted_path


def test_posted_stack_buffer_from_mxl111sf_names_the_tuner_driver():
    # 3304: usb_hcd_map_urb_for_dma "transfer buffer not dma capable" <- usb_bulk_msg
    # <- dvb_usb_v2_generic_io <- dvb_usbv2_generic_write <- mxl111sf_ctrl_msg [dvb_usb_mxl111sf]
    v = analyze_path(posted_path("3304")).verdict
    assert (v.category, v.culprit.module) == ("warning", "dvb_usb_mxl111sf")


def _warning(site: str, frames) -> list:
    return ["[   50.000000] ------------[ cut here ]------------",
            "[   50.000001] transfer buffer not dma capable",
            f"[   50.000002] WARNING: CPU: 6 PID: 1960 at {site}",
            "[   50.000003] Modules linked in: dvb_usb_dib0700 dvb_usb dvb_usb_v2 usbcore",
            "[   50.000004] CPU: 6 PID: 1960 Comm: modprobe Not tainted 5.10.0 #1",
            "[   50.000005] Call Trace:"] + [f"[   50.000006]  {f}" for f in frames] + \
           ["[   50.000007] ---[ end trace 0000000000000000 ]---"]


def test_dvb_usb_v1_generic_rw_carries_the_drivers_buffer():
    # drivers/usb/core/hcd.c usb_hcd_map_urb_for_dma() WARN_ONCE "transfer buffer not dma capable"
    v = analyze_lines(_warning(
        "drivers/usb/core/hcd.c:1584 usb_hcd_map_urb_for_dma+0x42a/0x550 [usbcore]",
        ["usb_hcd_map_urb_for_dma+0x42a/0x550 [usbcore]", "usb_hcd_submit_urb+0x335/0xb30 [usbcore]",
         "usb_submit_urb+0x2f6/0x570 [usbcore]", "usb_start_wait_urb+0x6e/0x170 [usbcore]",
         "usb_bulk_msg+0xbd/0x160 [usbcore]", "dvb_usb_generic_rw+0x9c/0x170 [dvb_usb]",
         "dib0700_ctrl_rd+0x5a/0xa0 [dvb_usb_dib0700]", "dib0700_identify_state+0x3f/0x70 [dvb_usb_dib0700]"])).verdict
    assert (v.category, v.culprit.module) == ("warning", "dvb_usb_dib0700")


def test_a_warning_elsewhere_in_the_framework_stays_its_own():
    v = analyze_lines(_warning(
        "drivers/media/usb/dvb-usb-v2/dvb_usb_core.c:950 dvb_usbv2_probe+0x1f0/0x8c0 [dvb_usb_v2]",
        ["dvb_usbv2_probe+0x1f0/0x8c0 [dvb_usb_v2]", "usb_probe_interface+0xe4/0x2b0 [usbcore]",
         "really_probe+0xe2/0x460"])).verdict
    assert (v.category, v.culprit.module) == ("warning", "dvb_usb_v2")
