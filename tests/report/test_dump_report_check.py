"""tools/dump_report_check.py: every real dump's report against its manifest and serial log.

The matrix tests run the checker over whatever generated dumps exist
(sample_dumps/out, out-arm64, out-5.10, out-la57, ... as symlinks or
directories, each with its manifest.json, and the directories named in
TRIAGE_REPORT_DUMP_DIRS); the committed dumps run always.
Expectations come from the serial console text and drgn+DWARF, never from
triage's output. The unit tests show the checker fails when a report leaves
something out.
"""

import functools
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import dump_report_check as drc  # noqa: E402

COMMITTED = ROOT / "sample_dumps" / "committed"
GPU_SERIAL = COMMITTED / "gpu_alloc_null-kdump-lzo" / "serial.log"
OOM_SERIAL = COMMITTED / "oom_panic-qemu-flat-zlib-nokaslr" / "serial.log"


def _manifests():
    out = [(ROOT / "sample_dumps" / "manifest.json", False)]
    # more generated sets kept outside the tree (hold-out dumps): TRIAGE_REPORT_DUMP_DIRS=dir:dir
    extra = [Path(p) for p in os.environ.get("TRIAGE_REPORT_DUMP_DIRS", "").split(":") if p]
    for d in sorted((ROOT / "sample_dumps").glob("out*")) + extra:
        if (d / "manifest.json").is_file():
            out.append((d / "manifest.json", True))
    return out


def _entries():
    params = []
    for man, matrix in _manifests():
        if not man.is_file():
            continue
        entries = json.loads(man.read_text())["dumps"]
        for e in entries:
            if (man.parent / e["path"]).is_file():
                marks = (pytest.mark.matrix, pytest.mark.slow) if matrix else ()
                params.append(pytest.param(man, e, id=f"{man.parent.name}/{e['path']}", marks=marks))
    return params


@functools.lru_cache(maxsize=None)
def _checker():
    return drc.Checker()        # one for the module: rules loaded, text-log verdicts kept, once


@pytest.mark.parametrize("manifest,entry", _entries())
def test_dump_report(manifest, entry):
    base = manifest.parent
    entries = json.loads(manifest.read_text())["dumps"]
    res = _checker().check_entry(entry, base, entries)
    failed = dict(res.failed)
    only_modules = failed and set(failed) <= {"modules@80", "modules@200"}
    if only_modules and res.modules_oracle.startswith(("no facts oracle", "drgn could open")):
        # the log printed no module list and no drgn+DWARF oracle can be had here
        pytest.skip(f"no oracle for the loaded modules: {res.modules_oracle}")
    if only_modules and not res.facts_read:
        # the log printed no module list (sysrq/OOM/hung-task panic) and triage read
        # no dump facts for this dump (arm64 and pre-6.0 kernels: other branches)
        pytest.xfail(f"no dump facts, so no module list: {failed}")
    assert not res.failed, res.failed


# --- the checker itself --------------------------------------------------------

@pytest.mark.skipif(not GPU_SERIAL.is_file(), reason="committed dump missing")
def test_serial_parse_oops():
    sc = drc.parse_serial(GPU_SERIAL)
    assert (sc.comm, sc.pid) == ("init", 1)
    assert sc.header.startswith("BUG: kernel NULL pointer dereference")
    assert sc.modules == ["acme_storage(OE)", "nvidia(POE)", "qemu_fw_cfg"]
    assert drc.expected_frames(sc, drc.report_patterns())[:2] == ["nv_trigger_write+0xdd", "proc_reg_write+0x56"]


@pytest.mark.skipif(not OOM_SERIAL.is_file(), reason="committed dump missing")
def test_serial_parse_panic_skips_reporting_frames():
    sc = drc.parse_serial(OOM_SERIAL)
    assert sc.comm == "hog" and sc.header.startswith("Kernel panic - not syncing")
    assert sc.modules == []                # a panic prints no module list
    names = [f[0] for f in sc.frames]
    assert names[:2] == ["dump_stack_lvl", "panic"]
    frames = drc.expected_frames(sc, drc.report_patterns())
    assert frames[0].startswith("out_of_memory") and not any(f.startswith(("dump_stack", "panic+")) for f in frames)


def test_serial_task_with_uid(tmp_path):
    # 6.10+ prints "CPU: N UID: U PID: P Comm: C": the checker must still find the
    # task, or its task checks silently drop out (they did on every 6.12 dump)
    log = tmp_path / "serial.log"
    log.write_text("[    0.000000] Linux version 6.12.115+deb12-amd64 x\n"
                   "[    6.412520] BUG: kernel NULL pointer dereference, address: 0000000000000004\n"
                   "[    6.413612] CPU: 0 UID: 0 PID: 1 Comm: init Tainted: P           OE      "
                   "6.12.115+deb12-amd64 #1  Debian 6.12.115-2~deb12u1\n")
    sc = drc.parse_serial(log)
    assert (sc.comm, sc.pid) == ("init", 1)


def test_capture_kernel_boot_is_left_out(tmp_path):
    log = tmp_path / "serial.log"
    log.write_text("[    0.000000] Linux version 6.1.0 x\n"
                   "[    5.000000] Kernel panic - not syncing: sysrq triggered crash\n"
                   "[    5.000001] CPU: 0 PID: 1 Comm: init Kdump: loaded\n"
                   "[    5.000002] Call Trace:\n"
                   "[    5.000003]  <TASK>\n"
                   "[    5.000004]  dump_stack_lvl+0x44/0x5c\n"
                   "[    5.000005]  ? _printk+0x58/0x73\n"
                   "[    5.000006]  sysrq_handle_crash+0x16/0x20\n"
                   "[    5.000007]  </TASK>\n"
                   "[    0.000000] Linux version 6.1.0 x\n"
                   "[    1.000000] CPU: 0 PID: 9 Comm: makedumpfile\n")
    sc = drc.parse_serial(log)
    assert (sc.comm, sc.pid) == ("init", 1)
    assert [f[0] for f in sc.frames] == ["dump_stack_lvl", "_printk", "sysrq_handle_crash"]
    assert drc.expected_frames(sc, drc.report_patterns()) == ["sysrq_handle_crash+0x16"]


def _text(lines):
    return "\n".join(["Summary", "", "Crash", *lines, "", "Next"]) + "\n"


SC = drc.SerialCrash(comm="init", pid=1, modules=["acme_storage(OE)", "nvidia(POE)"])
FRAMES = ["nv_trigger_write+0xf7", "proc_reg_write+0x56"]
GOOD = ["  task     init (pid 1) on CPU 1", "  trace    nv_trigger_write+0xf7 [nvidia]",
        "           proc_reg_write+0x56", "  modules  acme_storage(OE) nvidia(POE)"]


def test_check_text_passes_a_complete_report():
    res = drc.Result("x")
    drc.check_text(res, _text(GOOD), 80, SC, FRAMES)
    assert not res.failed, res.failed


@pytest.mark.parametrize("broken,which", [
    ([GOOD[0], GOOD[2], GOOD[3]], "frames@80"),                          # a frame left out
    ([GOOD[0], GOOD[2], GOOD[1], GOOD[3]], "frames@80"),                 # frames out of order
    ([GOOD[0], "  trace    nv_trigger_write+0x", "           f7 [nvidia]", GOOD[2], GOOD[3]], "frames@80"),  # cut
    ([GOOD[0], GOOD[1], GOOD[2], "  modules  acme_storage(OE) nvidia(P", "           OE)"], "modules@80"),
    ([GOOD[0], GOOD[1], GOOD[2], "  modules  acme_storage(OE)"], "modules@80"),
    (["  task     init (pid 12) on CPU 1", *GOOD[1:]], "task@80"),
    ([GOOD[0] + " " * 90, *GOOD[1:]], "width@80"),
])
def test_check_text_fails_what_is_missing(broken, which):
    res = drc.Result("x")
    drc.check_text(res, _text(broken), 80, SC, FRAMES)
    assert which in dict(res.failed), res.failed


def test_no_task_in_the_serial_log_fails_not_skips():
    # a serial log whose CPU line the checker cannot read (as 6.12's UID form once)
    # must fail the task check, not leave it out
    res = drc.Result("x")
    drc.check_text(res, _text(GOOD), 80, drc.SerialCrash(modules=SC.modules), FRAMES)
    assert dict(res.failed).get("task@80") == drc.NO_TASK
