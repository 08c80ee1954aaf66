"""The Crash section's module list when the log prints none: the dump's own list
(sysrq and OOM panics print no `Modules linked in:`), a check when both exist,
and the reason when neither does."""

from pathlib import Path

import pytest

from triage.diagnosis.crash import add_dump_modules
from triage.findings import Crash, CrashModule, CrashTask
from triage.report.text import render_text

ROOT = Path(__file__).resolve().parents[2]
OOM_DUMP = ROOT / "sample_dumps" / "committed" / "oom_panic-qemu-flat-zlib-nokaslr" / "vmcore.flat"
DUMP_MODS = [{"name": "acme_storage", "taint": "OE"}, {"name": "nvidia", "taint": "POE"},
             {"name": "qemu_fw_cfg", "taint": ""}]


def _crash(mods=()):
    return Crash(task=CrashTask(comm="init", pid=1, cpu=0), modules=list(mods),
                 modules_source="log" if mods else None)


def test_dump_list_stands_in_for_a_missing_log_list():
    c = _crash()
    add_dump_modules(c, DUMP_MODS)
    assert [(m.name, m.taint) for m in c.modules] == [("acme_storage", "OE"), ("nvidia", "POE"), ("qemu_fw_cfg", "")]
    assert c.modules_source == "dump" and c.modules_missing is None and not c.checks


def test_both_lists_are_compared_by_name():
    c = _crash([CrashModule("nvidia", "POE"), CrashModule("acme_storage", "OE")])
    add_dump_modules(c, DUMP_MODS)
    (k,) = c.checks
    assert k.field == "modules" and not k.agree and k.dump == "acme_storage nvidia qemu_fw_cfg"
    assert c.modules_source == "log" and len(c.modules) == 2


def test_neither_list_says_why():
    c = _crash()
    add_dump_modules(c, None, "VMCOREINFO has no kallsyms_* symbols")
    assert not c.modules and "VMCOREINFO has no kallsyms_* symbols" in c.modules_missing


def test_no_crash_no_modules():
    c = Crash()
    add_dump_modules(c, DUMP_MODS)
    assert not c.modules and c.modules_source is None


@pytest.mark.skipif(not OOM_DUMP.is_file(), reason="committed dump missing")
def test_real_oom_panic_dump_shows_the_dumps_modules():
    from triage.analysis import analyze_path
    d = analyze_path(str(OOM_DUMP), facts=True)
    if d.dump is None or d.dump.get("modules") is None:
        pytest.skip("dump facts unavailable here (drgn missing)")
    assert d.crash.modules_source == "dump"
    assert [m.name for m in d.crash.modules] == [m["name"] for m in d.dump["modules"]]
    assert any(ln.lstrip().startswith("modules (dump)") for ln in render_text(d, 80).splitlines())
