"""The vmcore-vs-saved-log cross-check's shape: line count and last timestamp.

Oracle: vmcore-dmesg.txt, written by kexec-tools' vmcore-dmesg in the capture
kernel from the same crash as the committed in-guest kdump.
"""

from pathlib import Path

from triage.batch.work import _log_shape

DIR = Path(__file__).resolve().parents[2] / "sample_dumps/committed/gpu_alloc_null-kdump-lzo"


def test_vmcore_and_vmcore_dmesg_have_the_same_shape():
    vm, txt = _log_shape(str(DIR / "vmcore")), _log_shape(str(DIR / "vmcore-dmesg.txt"))
    assert vm == txt
    assert vm[0] > 400 and vm[1] is not None and vm[1] > 7.0


def test_a_shortened_log_differs_in_count_and_last_timestamp(tmp_path):
    lines = (DIR / "vmcore-dmesg.txt").read_text().splitlines()
    short = tmp_path / "vmcore-dmesg.txt"
    short.write_text("\n".join(lines[:-40]) + "\n")
    full, cut = _log_shape(str(DIR / "vmcore")), _log_shape(str(short))
    assert cut[0] == full[0] - 40
    assert cut[1] < full[1]
