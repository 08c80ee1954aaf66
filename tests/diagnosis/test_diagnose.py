"""The Diagnosis built from a parsed log and rule matches.

Oracle: the scenario each log comes from (sample_dumps/dumpgen/scenarios.py
states the expected category and culprit module) and the kernel's own
meaning of the lines (taint letters from kernel/panic.c, zone watermarks
from show_mem()).
"""

from _diag_helpers import GPU_ALLOC_ROWS, gpu_alloc_null_log, lines_of, match
from triage.events.model import Event, Frame, KernelLog, Module, SystemFacts
from triage.diagnosis.diagnose import SourceInfo, diagnose
from triage.diagnosis.timeline import story


def _h(d, name):
    return next(h for h in d.hypotheses if h.name == name)


def test_gpu_alloc_fail_null_deref_verdict_and_culprit():
    log, matches = gpu_alloc_null_log()
    d = diagnose(log, matches, SourceInfo(path="serial.log"))
    v = d.verdict
    assert v.category == "gpu_alloc_fail_null_deref" and v.panicked
    c = v.culprit
    assert (c.module, c.function, c.taint) == ("nvidia", "nv_gpu_init_channel", "POE")
    assert c.proprietary and c.out_of_tree and c.unsigned and c.is_gpu_driver
    # the rule's lines plus the CPU/PID/Comm line of the oops (15)
    assert [e.line for e in d.evidence] == [2, 12, 15, 16, 17]
    assert d.evidence[0].ts == 3.11
    assert [e.kind for e in d.contributing] == ["vmalloc_failure"]
    assert d.contributing[0].module == "nvidia"      # the caller that asked for memory


def test_memory_exhaustion_ruled_out_by_watermarks():
    log, matches = gpu_alloc_null_log()
    mem = _h(diagnose(log, matches), "memory_exhaustion")
    assert mem.status == "ruled_out"
    assert "above the high watermark" in mem.reason
    assert "DMA32 free 59.9 MiB (min 2.2 MiB, low 2.8 MiB, high 3.3 MiB)" in mem.reason
    assert "OOM killer never ran" in mem.reason
    assert any(e.line == 11 for e in mem.evidence)   # the DMA32 zone line


def test_memory_exhaustion_supported_below_min():
    rows = list(GPU_ALLOC_ROWS)
    # real OOM reports show free hovering just above min, below low (oom_panic sample: 872 vs 840/1048)
    rows[10] = (3.11, "Node 0 DMA32 free:2400kB boost:0kB min:2260kB low:2824kB high:3388kB")
    log, matches = gpu_alloc_null_log()
    log.lines = lines_of(rows)
    mem = _h(diagnose(log, matches), "memory_exhaustion")
    assert mem.status == "supported" and "at or below the low watermark" in mem.reason


def test_memory_tight_between_low_and_high_is_inconclusive():
    rows = list(GPU_ALLOC_ROWS)
    rows[10] = (3.11, "Node 0 DMA32 free:3000kB boost:0kB min:2260kB low:2824kB high:3388kB")
    log, matches = gpu_alloc_null_log()
    log.lines = lines_of(rows)
    mem = _h(diagnose(log, matches), "memory_exhaustion")
    assert mem.status == "inconclusive" and "between the low and high watermarks" in mem.reason


def test_highest_zone_decides():
    """DMA32 above high does not help a Normal zone at low: lowmem_reserve keeps it from Normal's users."""
    from triage.diagnosis.hypotheses import zone_state
    from triage.diagnosis.meminfo import parse_zone_line
    zs = [parse_zone_line(1, "Node 0 DMA32 free:400000kB boost:0kB min:1000kB low:1200kB high:1400kB"),
          parse_zone_line(2, "Node 0 Normal free:40000kB boost:0kB min:45000kB low:56000kB high:67000kB")]
    assert zone_state(zs) == "exhausted"
    zs[1] = parse_zone_line(2, "Node 0 Normal free:900000kB boost:0kB min:45000kB low:56000kB high:67000kB")
    assert zone_state(zs) == "ample"


def test_memory_inconclusive_without_meminfo():
    log, matches = gpu_alloc_null_log()
    log.lines = [ln for ln in log.lines if not ln.text.startswith("Node ")]
    mem = _h(diagnose(log, matches), "memory_exhaustion")
    assert mem.status == "inconclusive" and "no Mem-Info" in mem.reason


def test_gpu_and_other_hypotheses():
    log, matches = gpu_alloc_null_log()
    d = diagnose(log, matches)
    assert _h(d, "gpu_driver_fault").status == "supported"
    assert _h(d, "hardware").status == "ruled_out"
    assert _h(d, "intentional").status == "ruled_out"


def test_timeline_tells_the_chain():
    log, matches = gpu_alloc_null_log()
    d = diagnose(log, matches)
    assert [e.kind for e in d.timeline] == ["vmalloc_failure", "null_deref", "panic"]
    s = story(d.timeline)
    assert s.startswith("Vmalloc failure in GPU driver nvidia at 3.11 s, then NULL pointer dereference "
                        "in the same module 0.20 s later")


def test_system_summary():
    log, matches = gpu_alloc_null_log()
    d = diagnose(log, matches, SourceInfo(path="x", hostname="gpu-node-7", crash_time="2026-11-29T15:02:11Z"))
    s = d.system
    assert s.kernel_release == "6.1.0-57-amd64" and s.hostname == "gpu-node-7"
    assert s.taint_flags == ["P: proprietary module loaded", "O: out-of-tree module loaded",
                             "E: unsigned module loaded"]
    assert s.uptime_s == 3.32 and s.crash_time == "2026-11-29T15:02:11Z"
    assert [m["name"] for m in s.modules_of_interest] == ["nvidia"]   # acme_storage is neither GPU nor culprit
    assert any("nvidia-bug-report" in x for x in d.verdict.next_steps)
    assert any("Adding memory will not help" in x for x in d.verdict.next_steps)


def test_gpu_loaded_but_fault_elsewhere_is_not_blamed():
    lines = lines_of([(5.0, "BUG: kernel NULL pointer dereference, address: 0000000000000000"),
                      (5.0, "RIP: 0010:acme_kick+0x10/0x30 [acme_storage]"),
                      (5.1, "Kernel panic - not syncing: Fatal exception")])
    oops = Event("null_deref", 1, lines[0].text, 5.0, end_line=2, ip=Frame("acme_kick", 0x10, 0x30, "acme_storage"))
    panic = Event("panic", 3, lines[2].text, 5.1, fields={"reason": "Fatal exception"})
    facts = SystemFacts(modules=[Module("nvidia", "POE"), Module("acme_storage", "OE")], taint="P           OE")
    d = diagnose(KernelLog(lines, [oops, panic], facts),
                 [match(oops, "null_deref", module="acme_storage", function="acme_kick", severity="high")])
    assert not d.verdict.culprit.is_gpu_driver
    g = _h(d, "gpu_driver_fault")
    assert g.status == "ruled_out" and "nvidia" in g.reason and "acme_storage" in g.reason


def test_unknown_crash_without_rule():
    lines = lines_of([(7.0, "BUG: unable to handle page fault for address: ffffc90000123000"),
                      (7.0, "RIP: 0010:frobnicate+0x1/0x2"),
                      (7.1, "Kernel panic - not syncing: Fatal exception")])
    fault = Event("paging_fault", 1, lines[0].text, 7.0, ip=Frame("frobnicate", 1, 2))
    panic = Event("panic", 3, lines[2].text, 7.1, fields={"reason": "Fatal exception"})
    d = diagnose(KernelLog(lines, [fault, panic], SystemFacts()), [])
    assert d.verdict.category == "unknown"
    assert d.verdict.title == "BUG: unable to handle page fault for address: NUM in frobnicate"
    assert d.verdict.culprit.function == "frobnicate" and d.verdict.culprit.module is None


def test_no_crash_is_none():
    lines = lines_of([(0.0, "Linux version 6.1.0"), (1.0, "random: crng init done")])
    d = diagnose(KernelLog(lines, [], SystemFacts()), [])
    assert d.verdict.category == "none" and not d.verdict.panicked
    assert _h(d, "memory_exhaustion").status == "ruled_out"


def test_without_panic_most_severe_event_wins():
    lines = lines_of([(1.0, "WARNING: CPU: 0 PID: 1 at fs/x.c:1 f+0x1/0x2"),
                      (2.0, "sh invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"),
                      (2.1, "Out of memory: Killed process 99 (hog) total-vm:1kB, anon-rss:1kB")])
    warn = Event("warning", 1, lines[0].text, 1.0)
    inv = Event("oom_invoked", 2, lines[1].text, 2.0, fields={"order": 0})
    kill = Event("oom_kill", 3, lines[2].text, 2.1)
    ms = [match(warn, "warning", severity="medium"), match(kill, "oom_kill", severity="high")]
    d = diagnose(KernelLog(lines, [warn, inv, kill], SystemFacts()), ms)
    assert d.verdict.category == "oom_kill" and not d.verdict.panicked
    assert _h(d, "memory_exhaustion").status == "supported"
    assert d.other_matches[0]["category"] == "warning"


def test_sysrq_is_intentional():
    lines = lines_of([(3.779624, "sysrq: Trigger a crash"),
                      (3.779974, "Kernel panic - not syncing: sysrq triggered crash")])
    sq = Event("sysrq", 1, lines[0].text, 3.779624)
    panic = Event("panic", 2, lines[1].text, 3.779974, fields={"reason": "sysrq triggered crash"})
    d = diagnose(KernelLog(lines, [sq, panic], SystemFacts()), [match(panic, "sysrq", severity="info")])
    assert _h(d, "intentional").status == "supported"
    assert d.verdict.culprit.module is None


def test_old_oom_then_later_crash_is_inconclusive_for_memory():
    lines = lines_of([(10.0, "hog invoked oom-killer: gfp_mask=0x0, order=0, oom_score_adj=0"),
                      (10.2, "Out of memory: Killed process 5 (hog)"),
                      (900.0, "BUG: kernel NULL pointer dereference, address: 0000000000000000"),
                      (900.1, "Kernel panic - not syncing: Fatal exception")])
    evs = [Event("oom_invoked", 1, lines[0].text, 10.0), Event("oom_kill", 2, lines[1].text, 10.2),
           Event("null_deref", 3, lines[2].text, 900.0, ip=Frame("acme_kick", 1, 2, "acme_storage")),
           Event("panic", 4, lines[3].text, 900.1)]
    d = diagnose(KernelLog(lines, evs, SystemFacts()), [match(evs[2], "null_deref", module="acme_storage")])
    mem = _h(d, "memory_exhaustion")
    assert mem.status == "inconclusive" and "recovered" in mem.reason
    assert [e.kind for e in d.contributing] == ["oom_invoked", "oom_kill"]


def test_partial_source_is_reported():
    log, matches = gpu_alloc_null_log()
    d = diagnose(log, matches, SourceInfo(path="v", kind="vmcore", partial=True, problems=["truncated at 0x4000"]))
    assert d.source.partial and d.source.problems == ["truncated at 0x4000"]
    assert any("incomplete" in s for s in d.verdict.next_steps)


def test_nvidia_version_from_load_banner():
    # the banner the proprietary and the open NVIDIA drivers print when they load
    for banner in ("NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023",
                   "NVRM: loading NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  "
                   "(dvs-builder@U16-I3-B03-4-3)  Tue Mar  5 22:15:33 UTC 2024"):
        log, matches = gpu_alloc_null_log(extra_modules=[Module("nvidia_uvm", "POE")])
        log.lines.insert(0, type(log.lines[0])(0, banner, 1.0))
        d = diagnose(log, matches)
        want = banner.split()[7] if "Open" not in banner else "550.54.15"
        assert d.verdict.culprit.version == want
        mods = {m["name"]: m["version"] for m in d.system.modules_of_interest}
        assert mods == {"nvidia": want, "nvidia_uvm": want}


def _oom_then(crash_ts, extra_events=(), category="null_deref", module="acme_storage"):
    lines = lines_of([(10.0, "hog invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0"),
                      (10.2, "Out of memory: Killed process 5 (hog) total-vm:120000kB, anon-rss:90000kB"),
                      (crash_ts, "BUG: kernel NULL pointer dereference, address: 0000000000000000"),
                      (crash_ts + 0.1, "Kernel panic - not syncing: Fatal exception")])
    evs = [Event("oom_invoked", 1, lines[0].text, 10.0), Event("oom_kill", 2, lines[1].text, 10.2),
           Event("null_deref", 3, lines[2].text, crash_ts, ip=Frame("acme_kick", 1, 2, module)),
           Event("panic", 4, lines[3].text, crash_ts + 0.1)]
    evs[2:2] = list(extra_events)
    return diagnose(KernelLog(lines, evs, SystemFacts()),
                    [match(evs[-2], category, module=module, related=list(extra_events))])


def test_recent_oom_then_unrelated_crash_is_inconclusive():
    """The oom_kill_then_null scenario: a hog is OOM-killed, 3 s later a NULL deref elsewhere."""
    mem = _h(_oom_then(13.5), "memory_exhaustion")
    assert mem.status == "inconclusive"
    assert "3.4 s before the crash" in mem.reason and "not an out-of-memory failure" in mem.reason


def test_oom_then_alloc_failure_then_gpu_null_is_supported():
    alloc = Event("alloc_failure", 3, "Xorg: page allocation failure: order:4, mode:0x40cc0", 13.0,
                  fields={"order": 4}, frames=[Frame("nv_alloc_pages", 1, 2, "nvidia")])
    mem = _h(_oom_then(13.5, [alloc], "gpu_alloc_fail_null_deref", "nvidia"), "memory_exhaustion")
    assert mem.status == "supported" and "failed allocation" in mem.reason and "nvidia" in mem.reason


def _xid_diag(xid, detail):
    text = f"NVRM: Xid (PCI:0000:3b:00): {xid}, pid=1234, name=python3, {detail}"
    lines = lines_of([(9912.1, text)])
    ev = Event("nvrm_xid", 1, text, 9912.1, fields={"xid": xid, "module": "nvidia", "fallen_off_bus": xid == 79})
    facts = SystemFacts(modules=[Module("nvidia", "POE")])
    return diagnose(KernelLog(lines, [ev], facts), [match(ev, "gpu_xid", module="nvidia", severity="high")])


def test_xid_classes():
    """NVIDIA's Xid catalogue: 79/48 hardware, 31 usually the application, 119 the driver (GSP RPC timeout)."""
    d = _xid_diag(79, "GPU has fallen off the bus.")
    assert (_h(d, "gpu_driver_fault").status, _h(d, "hardware").status) == ("ruled_out", "supported")
    d = _xid_diag(48, "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer")
    assert (_h(d, "gpu_driver_fault").status, _h(d, "hardware").status) == ("ruled_out", "supported")
    d = _xid_diag(31, "Ch 00000008, intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f_12340000")
    assert (_h(d, "gpu_driver_fault").status, _h(d, "hardware").status) == ("inconclusive", "ruled_out")
    d = _xid_diag(119, "Timeout waiting for RPC from GSP! Expected function 76 (GSP_RM_CONTROL)")
    assert (_h(d, "gpu_driver_fault").status, _h(d, "hardware").status) == ("supported", "ruled_out")


def test_kdump_vmcore_without_panic_line_counts_as_panicked():
    """With kdump loaded, oops=panic enters crash_kexec() before panic() prints (real 6.1 kdump capture)."""
    log, matches = gpu_alloc_null_log()
    log.events = [e for e in log.events if e.kind != "panic"]
    assert not diagnose(log, matches).verdict.panicked
    d = diagnose(log, matches, SourceInfo(path="vmcore", kind="vmcore", crashed=True,
                                          crash_time="2026-11-29T15:20:25Z"))
    assert d.verdict.panicked and d.system.crash_time == "2026-11-29T15:20:25Z"


def test_timeline_across_a_reboot():
    """A syslog file spanning two boots: timestamps restart, no negative delta is shown."""
    from triage.findings import TimelineEntry
    from triage.diagnosis.timeline import deltas
    es = [TimelineEntry(5000.0, 1, "oom_kill", "Out of memory: Killed process 1 (x)"),
          TimelineEntry(12.0, 900, "null_deref", "BUG: kernel NULL pointer dereference", "acme_storage"),
          TimelineEntry(12.1, 905, "panic", "Kernel panic - not syncing: Fatal exception")]
    assert deltas(es)[1] is None and abs(deltas(es)[2] - 0.1) < 1e-9
    assert "then (after a reboot?) NULL pointer dereference in acme_storage at 12.00 s" in story(es)
