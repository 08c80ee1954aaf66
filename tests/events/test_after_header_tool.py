"""tools/paste_invariance.py's after-header cut (issue 8: an excerpt that starts after the oops
header), which its `after-header`/`after-header-deep` transformations and
tools/headless_agreement.py use, on a tuning-half posted log."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))

import paste_invariance as pi  # noqa: E402

from _posted import posted_lines as _posted  # noqa: E402


def test_header_line_and_what_came_before_are_left_out():
    lines = _posted("001")        # "BUG: kernel NULL pointer dereference, address: ..." then "#PF: ..."
    cut = pi.cut_after_header(lines)
    assert cut is not None and "#PF: supervisor read access in kernel mode" in cut[0]
    assert not any("BUG: kernel NULL pointer" in s for s in cut)


def test_deep_cut_also_leaves_out_the_page_fault_lines():
    cut = pi.cut_after_header(_posted("001"), deep=True)
    assert cut is not None and cut[0].split("] ", 1)[1].startswith("CPU: 19 PID: 3230 Comm: kvm")
    assert not any(k in s for s in cut[:3] for k in ("#PF:", "PGD ", "Oops:"))


def test_log_without_an_oops_header_is_not_cut():
    assert pi.cut_after_header(["[    1.000000] Linux version 6.1.0", "[    2.000000] usb 1-1: new device"]) is None
    recs = [("Linux version 6.1.0", 1.0)]
    assert pi.TRANSFORMS["after-header"](recs) == pi.TRANSFORMS["canonical"](recs)
