"""The crash object: task, oops header, faulting location, trace with ? frames
and stack boundaries, every module, OOM victim and consumers, log-vs-dump checks.
Oracle: the serial console logs of the committed real dumps (what the kernel printed)."""

import dataclasses
import re
from pathlib import Path

import pytest

from triage.analysis import analyze_path
from triage.diagnosis.crash import crosscheck
from triage.findings import Crosscheck
from triage.report.render import render

ROOT = Path(__file__).resolve().parents[2]
GPU = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo"
OOM = ROOT / "sample_dumps" / "committed" / "oom_panic-qemu-flat-zlib-nokaslr"
SOFTIRQ = ROOT / "tests" / "data" / "posted" / "030-soft-lockup-panic-arch-qemu-do-softirq.log"


def _need(p: Path) -> Path:
    if not p.exists():
        pytest.skip(f"{p} missing")
    return p


def test_gpu_null_deref_crash():
    serial = _need(GPU / "serial.log").read_text(errors="replace")
    c = analyze_path(str(_need(GPU / "vmcore"))).crash
    m = re.search(r"CPU: (\d+) PID: (\d+) Comm: (\S+)", serial[serial.index("BUG: kernel NULL"):])
    assert (c.task.cpu, c.task.pid, c.task.comm) == (int(m.group(1)), int(m.group(2)), m.group(3))
    texts = [h.text for h in c.header]
    assert texts[0].startswith("BUG: kernel NULL pointer dereference") and any(t.startswith("#PF:") for t in texts)
    assert any(t.startswith("Oops: ") for t in texts)
    assert (c.ip.function, c.ip.offset, c.ip.module) == ("nv_gpu_init_channel.constprop.0.isra.0", 0x27, "nvidia")
    listed = re.search(r"Modules linked in: (.*)", serial).group(1).split()
    assert [f"{m.name}({m.taint})" if m.taint else m.name for m in c.modules] == listed
    frames = [e for e in c.trace if not e.boundary]
    assert frames[0].function == "nv_trigger_write" and frames[0].module == "nvidia" and frames[0].reliable
    assert any(not e.reliable for e in frames)        # the "? " frames are kept, marked
    assert c.oom is None
    assert {k.field: k.agree for k in c.checks} == {"kernel_release": True, "arch": True}


def test_oom_panic_crash():
    c = analyze_path(str(_need(OOM / "vmcore.flat"))).crash
    assert (c.task.comm, c.task.pid) == ("hog", 95)
    assert any("invoked oom-killer" in h.text for h in c.header)
    assert c.oom is not None and c.oom.victim is None          # panic_on_oom: nobody was killed
    top = c.oom.consumers[0]
    assert (top.comm, top.pid, top.rss_pages, top.rss_kb) == ("hog", 95, 13546, 13546 * 4)
    assert c.trace[0].function == "dump_stack_lvl"


def test_task_from_a_cut_cpu_line_with_uid():
    # 6.10+ prints "CPU: 0 UID: 0 PID: 1 Comm: init Tainted: ..." (records of a
    # real Debian 6.12.115 oops); pasted with the line cut after the comm, the
    # parser cannot take it apart and the crash's own CPU-line search must
    from triage.analysis import analyze_lines
    lines = ["[    6.412520] BUG: kernel NULL pointer dereference, address: 0000000000000004",
             "[    6.413323] Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI",
             "[    6.413612] CPU: 0 UID: 0 PID: 1 Comm: init",
             "[    6.414271] RIP: 0010:acme_submit_rq.constprop.0.isra.0+0x5/0x20 [acme_storage]"]
    t = analyze_lines(lines).crash.task
    assert (t.comm, t.pid, t.cpu) == ("init", 1, 0)


def test_dump_page_size_gives_oom_kb():
    from triage.diagnosis.crash import add_dump_page_size
    from triage.findings import Crash, OomPicture, OomTask

    def crash():
        return Crash(oom=OomPicture(victim=OomTask("hog", 96, rss_pages=10),
                                    consumers=[OomTask("hog", 96, rss_pages=19574), OomTask("sh", 1, rss_kb=8)]))
    c = crash()
    add_dump_page_size(c, 16384)
    assert [t.rss_kb for t in c.oom.consumers] == [19574 * 16, 8] and c.oom.victim.rss_kb == 160
    for bad in (None, 0, 12345, 1 << 40, "4096"):      # a dump's value is untrusted
        c = crash()
        add_dump_page_size(c, bad)
        assert c.oom.consumers[0].rss_kb is None, bad
    add_dump_page_size(Crash(), 4096)                  # no OOM: nothing to do


def test_irq_boundary_is_an_entry():
    c = analyze_path(str(_need(SOFTIRQ))).crash
    assert c.trace[0].boundary == "irq" and c.trace[0].function is None
    text = render(analyze_path(str(SOFTIRQ)), "text", width=80)
    assert "-- irq stack --" in text


def test_crosscheck():
    assert crosscheck("kernel_release", "6.1.0-57-amd64", "6.1.0-57-amd64").agree
    assert not crosscheck("kernel_release", "6.1.0-57-amd64", "6.1.0-58-amd64").agree
    assert crosscheck("kernel_release", None, "x") is None and crosscheck("arch", "x86_64", "") is None


def test_crosscheck_arch_by_canonical_name():
    # the arm64 kernel's banner says arm64, the dump's ELF header aarch64: one machine
    c = crosscheck("arch", "arm64", "aarch64")
    assert c.agree and (c.log, c.dump) == ("arm64", "aarch64")
    assert crosscheck("arch", "x86_64", "amd64").agree
    assert not crosscheck("arch", "arm64", "x86_64").agree
    # only the arch field is compared by alias
    assert not crosscheck("kernel_release", "arm64", "aarch64").agree


def test_disagreement_is_flagged_in_every_format():
    d = analyze_path(str(_need(GPU / "vmcore")))
    d = dataclasses.replace(d, crash=dataclasses.replace(
        d.crash, checks=[Crosscheck("kernel_release", "6.1.0-57-amd64", "6.1.0-99-amd64", False)]))
    for fmt in ("text", "markdown", "html"):
        out = render(d, fmt)
        assert "DISAGREE" in out and "6.1.0-99-amd64" in out, fmt
    assert '"agree": false' in render(d, "json")


def test_no_crash_no_crash_section():
    from triage.analysis import analyze_lines
    d = analyze_lines(["[    1.000000] Linux version 6.1.0-57-amd64 #1 SMP Debian 6.1.192-3",
                       "[    2.000000] Modules linked in: nvidia(POE) qemu_fw_cfg"])
    assert d.verdict.category == "none"
    assert d.crash.task is None and not d.crash.modules and not d.crash.trace
    assert "\nCrash\n" not in render(d, "text")


def test_the_faulting_access_is_the_address_the_kernel_printed():
    # oracle: the serial console's own "address: %px" for the same fault
    serial = _need(GPU / "serial.log").read_text(errors="replace")
    printed = int(re.search(r"NULL pointer dereference, address: ([0-9a-f]{16})", serial).group(1), 16)
    c = analyze_path(str(_need(GPU / "vmcore"))).crash
    assert c.access == f"mov dword ptr [rdx + 8], eax -> {printed:#x} (NULL + {printed:#x})"
    for fmt in ("text", "markdown", "html", "json"):
        assert "mov dword ptr [rdx + 8], eax" in render(analyze_path(str(GPU / "vmcore")), fmt)


def test_a_null_base_past_64k_is_shown_as_null_plus_offset():
    # posted log 4218: amdgpu's dc_state NULL after a failed order-5 kmalloc, faulting at 0x12488
    log = next((ROOT / "tests" / "data" / "posted").glob("4218-*.log"))
    d = analyze_path(str(log))
    assert d.crash.access == "mov r13d, dword ptr [rsi + 0x12488] -> 0x12488 (NULL + 0x12488)"
    assert d.verdict.category == "gpu_alloc_fail_null_deref"


def test_a_lockup_has_no_access():
    # only a fault's marked instruction is the faulting access (a lockup's is wherever it spun)
    c = analyze_path(str(_need(SOFTIRQ))).crash
    assert c.access is None
