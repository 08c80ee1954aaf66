"""One NULL-pointer threshold: the parser's classification and the hypotheses'
"NULL + offset" wording agree on every address (triage.events.model.NEAR_NULL_LIMIT)."""

import pytest

from triage.analysis import analyze_lines
from triage.events.model import NEAR_NULL_LIMIT, is_near_null
from triage.events.parser import parse_text

# Lines of a real posted oops (tests/data/posted/099 style): a page fault whose
# address is NULL plus a structure offset, with the RIP in a GPU driver module.
OOPS = """BUG: unable to handle page fault for address: {addr:016x}
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
PGD 0 P4D 0
Oops: 0000 [#1] PREEMPT SMP PTI
CPU: 11 PID: 1094 Comm: irq/181-nvidia Tainted: P           OE     5.3.11-1-MANJARO #1
RIP: 0010:_nv032519rm+0x1a/0x60 [nvidia]
Call Trace:
 _nv012345rm+0x10/0x20 [nvidia]
"""


def _gpu_hypothesis(diag):
    for h in diag.hypotheses:
        if "GPU driver nvidia" in h.reason:
            return h
    raise AssertionError([h.reason for h in diag.hypotheses])


@pytest.mark.parametrize("addr", [0x8, 0xfff, 0x1000, 0x1a81, NEAR_NULL_LIMIT - 1])
def test_near_null_classified_and_worded_alike(addr):
    log = parse_text(OOPS.format(addr=addr))
    assert log.events[0].kind == "null_deref"
    diag = analyze_lines(OOPS.format(addr=addr).splitlines())
    assert diag.verdict.category == "gpu_null_deref"
    assert f"NULL + {addr:#x}" in _gpu_hypothesis(diag).reason


@pytest.mark.parametrize("addr", [NEAR_NULL_LIMIT, 0xffffa92a3eaffff8])
def test_far_address_is_a_paging_fault_without_null_wording(addr):
    diag = analyze_lines(OOPS.format(addr=addr).splitlines())
    assert diag.verdict.category == "gpu_fault"
    assert "NULL +" not in _gpu_hypothesis(diag).reason


def test_is_near_null_bounds():
    assert is_near_null(0) and is_near_null(NEAR_NULL_LIMIT - 1)
    assert not is_near_null(NEAR_NULL_LIMIT) and not is_near_null(None) and not is_near_null(-1)
