"""arm64 dump facts without the oracle: on a host without drgn (no aarch64 wheel
on PyPI) the log, verdict and report still come out and the facts' absence is
stated; the scanners that stand in for a functions-only kallsyms reject what is
not what they look for."""

import json
import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_arm64_dumps import ENTRIES  # noqa: E402

from triage.facts.a64code import decode_load  # noqa: E402
from triage.facts.symbols import ImageScan  # noqa: E402

NO_DRGN = ("import runpy, sys; sys.modules['drgn'] = None; sys.argv = ['triage'] + sys.argv[1:]; "
           "runpy.run_module('triage', run_name='__main__')")


@pytest.mark.matrix
@pytest.mark.skipif(not ENTRIES, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_arm64_analyze_without_drgn_states_the_facts_absent(fmt):
    """As on an arm64 host (import drgn fails): exit 0, right verdict, and the
    report says the facts were not read because drgn is missing."""
    base, e = next((b, e) for b, e in ENTRIES if e["expected"]["culprit_module"])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", NO_DRGN, "analyze", "--format", fmt, str(base / e["path"])],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    if fmt == "json":
        d = json.loads(r.stdout)
        assert (d["verdict"]["category"], d["verdict"]["culprit"]["module"]) == \
            (e["expected"]["category"], e["expected"]["culprit_module"])
        assert d["dump"]["source"]["unavailable"].startswith("drgn is not installed")
        assert d["dump"]["memory"] is None and d["dump"]["tasks"] is None
    else:
        assert "drgn is not installed" in r.stdout
        assert e["expected"]["culprit_module"] in r.stdout


@pytest.mark.matrix
@pytest.mark.skipif(not ENTRIES, reason="no arm64 dumps (sample_dumps/generate --arch arm64)")
def test_arm64_analyze_reports_the_facts():
    """With drgn: `triage analyze` on an arm64 dump has dump.memory/tasks/modules,
    says how they were found, and names the culprit module among the loaded ones."""
    base, e = next((b, e) for b, e in ENTRIES if e["expected"]["culprit_module"])
    pytest.importorskip("drgn")
    r = subprocess.run([sys.executable, "-m", "triage", "analyze", "--format", "json", str(base / e["path"])],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=600)
    assert r.returncode == 0, r.stderr
    dump = json.loads(r.stdout)["dump"]
    assert dump["source"]["method"] == "btf+kallsyms" and dump["source"]["missing"] == []
    assert any("CONFIG_KALLSYMS_ALL" in n for n in dump["source"]["notes"])
    assert dump["memory"]["page_size"] in (4096, 16384, 65536) and dump["memory"]["zones"]
    assert dump["tasks"]["panic"]["stack"], dump["tasks"]["panic"]
    assert e["expected"]["culprit_module"] in {m["name"] for m in dump["modules"]}


# vmalloc_nr_pages as Debian's 6.1.0-57-arm64 compiled it (read from a dump):
# mov x9, x30; nop; adrp x0, ..; add x0, x0, #0xbb0; paciasp; autiasp; ldr x0, [x0, #0x50]; ret
ACCESSOR = [0xAA1E03E9, 0xD503201F, 0x9000E420, 0x912EC000, 0xD503233F, 0xD50323BF, 0xF9402800, 0xD65F03C0]
PC = 0xFFFFCC4B8B72B950


def _code(words):
    return struct.pack(f"<{len(words)}I", *words)


def test_accessor_load_is_decoded():
    # the address drgn + the DWARF vmlinux give for nr_vmalloc_pages on that dump
    assert decode_load(PC, _code(ACCESSOR)) == 0xFFFFCC4B8D3AFC00


@pytest.mark.parametrize("change", [
    lambda w: w[:6] + [0x8B010000] + w[6:],         # an ADD (register) before the load
    lambda w: w[:4] + w[6:7] + w[6:],               # two loads
    lambda w: w[:2] + w[3:],                        # LDR from a register nothing set
    lambda w: w[:-1],                               # no RET
    lambda w: [0x14000000] + w,                     # a branch
])
def test_other_code_shapes_give_nothing(change):
    assert decode_load(PC, _code(change(list(ACCESSOR)))) is None


def test_image_scan_finds_nothing_in_noise_quickly():
    rnd = random.Random(7)
    data = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
    # plant the anchor names and a BTF magic with impossible section sizes
    data = data[:1000] + b"\0kfree\0init_task\0" + data[1017:5000] + \
        struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 1 << 30, 1 << 30, 5) + data[5032:]
    scan = ImageScan(lambda a, n: data[a - 0x1000:a - 0x1000 + n], 0x1000, 0x1000 + len(data))
    t = time.process_time()
    assert scan.btf() is None
    assert scan.exports() == {}
    assert scan.pointer_array((b"R (running)", b"S (sleeping)")) is None
    assert time.process_time() - t < 5


def test_image_scan_refuses_an_implausible_window():
    with pytest.raises(ValueError):
        ImageScan(lambda a, n: bytes(n), 0x1000, 0x1000 + (1 << 40))


# crash_kexec() as Debian's 6.1.0-57-arm64 compiled it (from its -dbg vmlinux, link
# address): the LSE casal and the LL/SC ldxr/stlxr alternative of
# atomic_cmpxchg(&panic_cpu, ...), panic_cpu at 0xffff800009cd4798 in that vmlinux
CRASH_KEXEC_PC = 0xFFFF800008187694
CRASH_KEXEC = [
    0xD503201F, 0xD503201F, 0xD503233F, 0xA9BE7BFD, 0xB000B3E1, 0x910003FD, 0xA90153F3, 0x91002021,
    0xAA0003E3, 0xD538D080, 0xB8A06822, 0x1400000E, 0xB000DA74, 0x12800001, 0x911E6280, 0x2A0103E5,
    0x88E5FC02, 0x2A0503E0, 0x2A0003F3, 0x3100067F, 0x54000220, 0xA94153F3, 0xA8C27BFD, 0xD50323BF,
    0xD65F03C0, 0xB000DA74, 0xB2407FE0, 0x911E6284, 0xF9800091, 0x885F7C93, 0x4A000261, 0x35000081,
    0x8801FC82, 0x35FFFF81, 0xD5033BBF, 0x3100067F, 0x54FFFE21, 0xAA0303E0, 0x97FFFF79, 0xB9079A93,
    0xA94153F3, 0xA8C27BFD, 0xD50323BF, 0xD65F03C0]


def test_atomic_target_is_decoded():
    from triage.facts.a64code import decode_atomic_target
    assert decode_atomic_target(CRASH_KEXEC_PC, _code(CRASH_KEXEC)) == 0xFFFF800009CD4798


def test_atomic_target_disagreeing_or_unknown_gives_nothing():
    from triage.facts.a64code import decode_atomic_target
    w = list(CRASH_KEXEC)
    w[27] = 0x911E6684          # the LL/SC path's add now points 1 byte further: two targets
    assert decode_atomic_target(CRASH_KEXEC_PC, _code(w)) is None
    w = list(CRASH_KEXEC)
    w[12] = w[25] = 0xD503201F  # no ADRP: the bases are unknown
    assert decode_atomic_target(CRASH_KEXEC_PC, _code(w)) is None
