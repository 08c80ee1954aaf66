"""Report lines cut at the terminal width (`less -S`, cut-80 of tools/paste_invariance.py).

A kernel fault's head line cut before its address:

* arm/arm64 __do_kernel_fault() words an address below PAGE_SIZE "NULL pointer dereference":
  the wording alone is the NULL dereference.
* any other "Unable to handle kernel ... at virtua" line takes the address show_pte() prints in
  the same report ("[0000000000001008] pgd=..."), as a die line without its "Unable to handle"
  line already does.

The OOM killer's lines cut after what only it prints:

* the selection line "<Out of memory|Memory cgroup out of memory>: Kill process N (comm)" after
  its comm or score (2.6.36-5.0 "... score %u or sacrifice child");
* the victim line without a prefix after its first size ("Killed process N (comm) total-vm:%lukB").

Lines from tuning-half posted logs 333 (arm64) and 114 (arm64, uaccess fault at 0x1008),
271, 298, 167 and 175 (OOM)."""

import pytest

from triage.events import parse_log

ABORT = ["Mem abort info:", "  ESR = 0x96000044", "  EC = 0x25: DABT (current EL), IL = 32 bits",
         "user pgtable: 4k pages, 48-bit VAs, pgdp=0000000103913000"]


def _fault(lines):
    ev = parse_log(lines).events[0]
    return ev.kind, ev.fields.get("address")


@pytest.mark.parametrize("cut", ["Unable to handle kernel NULL pointer dereference at virtual addre",
                                 "Unable to handle kernel NULL pointer dereference at virtual",
                                 "Unable to handle kernel NULL pointer dereference"])
def test_null_wording_cut_before_its_address(cut):
    lines = [f"[    8.994168] {cut}"] + [f"[    9.002990] {s}" for s in ABORT]
    assert _fault(lines)[0] == "null_deref"


@pytest.mark.parametrize("pte, kind, addr", [
    ("[0000000000001008] pgd=0000000000000000, p4d=0000000000000000", "null_deref", 0x1008),
    ("[ffff800012345678] pgd=0000000000000000, p4d=0000000000000000", "paging_fault", 0xffff800012345678),
])
def test_cut_line_takes_the_show_pte_address(pte, kind, addr):
    lines = ["Unable to handle kernel access to user memory outside uaccess routines at virtua"] + ABORT \
        + [pte, "Internal error: Oops: 96000044 [#1] SMP"]
    assert _fault(lines) == (kind, addr)


def test_whole_lines_are_unchanged():
    # the address on the line decides, not show_pte (here they agree) ...
    lines = ["Unable to handle kernel paging request at virtual address ffff800012345678"] + ABORT \
        + ["[ffff800012345678] pgd=0000000000000000", "Internal error: Oops: 96000044 [#1] SMP"]
    assert _fault(lines) == ("paging_fault", 0xffff800012345678)
    # ... and a cut paging-request line with no show_pte line stays a paging fault
    assert _fault(["Unable to handle kernel paging request at virtual addr"] + ABORT)[0] == "paging_fault"


@pytest.mark.parametrize("line, pid, comm, memcg", [
    ("[259563.476003] Out of memory: Kill process 31490 (corerun) score 897 or sacrifi", 31490, "corerun", False),
    ("Memory cgroup out of memory: Kill process 1557026 (stress) score 1957 or sacrifi", 1557026, "stress", True),
    ("Out of memory: Kill process 1312 (java) sc", 1312, "java", False),
])
def test_selection_line_cut_after_the_comm(line, pid, comm, memcg):
    ev = parse_log([line]).events[0]
    assert ev.kind == "oom_kill"
    assert (ev.fields["victim_pid"], ev.fields["victim_comm"], ev.fields["memcg"]) == (pid, comm, memcg)


@pytest.mark.parametrize("line, pid, comm, vm", [
    ("Killed process 799153 (node), UID 1000, total-vm:606096kB, anon-rss:68308kB, fil", 799153, "node", 606096),
    ("[ 80.751793] Killed process 2700 (DeviceMemory) total-vm:1838376kB, anon-rss:2", 2700, "DeviceMemory", 1838376),
])
def test_victim_line_cut_after_its_first_size(line, pid, comm, vm):
    ev = parse_log([line]).events[0]
    assert ev.kind == "oom_kill"
    assert (ev.fields["victim_pid"], ev.fields["victim_comm"], ev.fields["total_vm_kb"]) == (pid, comm, vm)


@pytest.mark.parametrize("line", [
    # a program's own "killed process" messages name no size (earlyoom, a shell)
    "Killed process 1234 (foo)", "Killed process 1234 (foo) after 3 s", "Killed process 1234 (foo) total-vm:",
    # a selection line without its comm is no selection line
    "Out of memory: Kill process 1234", "he wrote: Kill process 1234 (foo) score 3",
])
def test_other_killed_process_lines_open_nothing(line):
    assert [e.kind for e in parse_log(["some chatter", line]).events if e.kind == "oom_kill"] == []


# -- GPU driver reports and the 6.16+ WARNING head, cut --------------------------------

@pytest.mark.parametrize("line, kind, module", [
    # msm_gpu.c hangcheck_handler() prints errors only for a lockup (posted 460, 754, cut)
    ("msm_dpu ae01000.display-controller: [drm:hangcheck_handler [msm]] *ERROR* 67.5.2", "gpu_fault", "msm"),
    ("msm_dpu ae01000.display-controller: [drm:hangcheck_handler [msm]] *ERROR* 67.5.20: hangcheck detected gpu "
     "lockup rb 2!", "gpu_fault", "msm"),
    # the drm scheduler's timeout callback, after a device prefix and amdgpu's dev_fmt tag
    ("amdgpu 0000:03:00.0: amdgpu: [drm:amdgpu_job_timedout [amdgpu]] *ERROR* Process inform", "gpu_fault", "amdgpu"),
    # amdgpu's ring timeout cut after "signaled seq=" (posted 1006, its device prefix gone too)
    ("ring gfx_0.0.0 timeout, signaled seq=11177738, emitted", "gpu_fault", "amdgpu"),
    ("ring gfx_0.0.0 timeout, signaled seq=11177738", "gpu_fault", "amdgpu"),
])
def test_gpu_report_lines_cut(line, kind, module):
    ev = parse_log([line]).events[0]
    assert (ev.kind, ev.fields.get("module")) == (kind, module)


@pytest.mark.parametrize("line", [
    # other functions' errors after a device prefix say nothing without a wording
    "msm_dpu ae01000.display-controller: [drm:dpu_kms_hw_init [msm]] *ERROR* 67.5.2",
    "msm_dpu ae01000.display-controller: [drm:hangcheck_handlers [msm]] *ERROR* x",
    # "signaled seq=" followed by more than a cut tail is not the amdgpu line
    "ring gfx timeout, signaled seq=5 because the user asked for a very long explanation here",
])
def test_other_cut_driver_lines_open_nothing(line):
    assert [e.kind for e in parse_log(["some chatter", line]).events] == []


@pytest.mark.parametrize("line, function", [
    ("WARNING: drivers/gpu/drm/drm_vblank.c:2309 at drm_crtc_vblank_ge", None),
    ("WARNING: drivers/gpu/drm/amd/amdgpu/amdgpu_dma_buf.c:219 at amdgpu_dma_buf_map+0x1/0x2 [amdgpu], CP",
     "amdgpu_dma_buf_map"),
    ("WARNING: fs/dcache.c:829 at", None),
])
def test_new_warning_head_cut_before_its_cpu(line, function):
    from triage.events.headers import match_header
    h = match_header(line)
    assert h.kind == "warning" and h.fields["file"].endswith(".c")
    assert (h.ip.function if h.ip else None) == function


# -- module tags cut ------------------------------------------------------------------

def test_cut_tag_start_is_kept_on_the_frame():
    from triage.events.frames import parse_symbol, parse_trace_line
    fr = parse_trace_line(" [<ffffffffa09c376e>] uvm_gpu_retain_by_uuid+0x1e/0x40 [nvidia_uv")
    assert (fr.function, fr.module, fr.module_cut) == ("uvm_gpu_retain_by_uuid", None, "nvidia_uv")
    assert parse_symbol("use after free in tfw_http_msg_free+0x2c9/0x340 [temp").module_cut == "temp"
    # a whole tag is the module; a bare "[" says only that a tag was cut
    assert parse_trace_line(" f+0x1/0x2 [nvidia_uvm]").module_cut is None
    assert parse_trace_line(" f+0x1/0x2 [").module_cut == ""
    assert parse_trace_line(" f+0x1/0x2").module_cut is None


KASAN = ["[  797.730264] BUG: KASan: use after free in tfw_http_msg_free+0x2c9/0x340 [temp",
         "[  797.771358] INFO: Allocated in tfw_sock_clnt_new+0xb3/0x350 [tempesta_fw] age=5 cpu=1 pid=3"]


def test_cut_tag_is_the_one_whole_tag_it_begins():
    # posted 137 cut at 80 columns: the header's tag is cut, another line names the module whole
    ev = parse_log(KASAN).events[0]
    assert ev.kind == "kasan" and ev.ip.module == "tempesta_fw"


@pytest.mark.parametrize("other, module", [
    # two modules the cut part begins: left unknown
    (["[  1.0] Modules linked in: tempesta_fw tempesta_db"], None),
    # no module the log names begins with it: left unknown
    (["[  1.0] Modules linked in: xfs"], None),
    # the modules list names it
    (["[  1.0] Modules linked in: tempesta_fw(O) xfs"], "tempesta_fw"),
])
def test_cut_tag_needs_exactly_one_candidate(other, module):
    ev = parse_log(other + KASAN[:1]).events[0]
    assert ev.ip.module == module


@pytest.mark.parametrize("line, fallen", [
    ("NVRM: GPU 0000:01:00.0: GPU has fallen off th", True),
    ("NVRM: GPU at PCI:0000:01:00: GPU has fallen off", True),
    ("NVRM: GPU 0000:01:00.0: GPU has fallen off the b", True),
    ("NVRM: GPU has fallen off a cliff", False),         # not a cut "the bus."
    ("NVRM: GPU has fallen of", False),                  # too little left to say it
])
def test_fallen_off_the_bus_cut(line, fallen):
    from triage.events.headers import match_header
    h = match_header(line)
    assert (h is not None and h.fields.get("fallen_off_bus") is True) == fallen


def test_tag_cut_off_entirely_takes_the_functions_whole_tag():
    # posted 138 cut at 80: the header's symbol ends inside its size, the frame below is whole
    lines = ["[ 3131.046482] BUG: KASAN: use-after-free in tfw_http_msg_process_generic+0x7bc/",
             "[ 3131.046490] Call Trace:",
             "[ 3131.046500]  tfw_http_msg_process_generic+0x7bc/0x1220 [tempesta_fw]"]
    ev = parse_log(lines).events[0]
    assert (ev.ip.function, ev.ip.module) == ("tfw_http_msg_process_generic", "tempesta_fw")
    # a function printed whole without a tag is core: nothing to take
    lines[2] = "[ 3131.046500]  tfw_http_msg_process_generic+0x7bc/0x1220"
    assert parse_log(lines).events[0].ip.module is None
    # a function printed with two different tags names no module
    lines[2:] = ["[ 3131.046500]  tfw_http_msg_process_generic+0x7bc/0x1220 [a]",
                 "[ 3131.046500]  tfw_http_msg_process_generic+0x7bc/0x1220 [b]"]
    assert parse_log(lines).events[0].ip.module is None


LOCKDEP = ["[ 1.0] ======================================================",
           "[ 1.0] WARNING: possible circular locking dependency detected",
           "[ 1.0] ------------------------------------------------------",
           "[ 1.0] rsyslogd/1234 is trying to acquire lock:",
           "[ 1.0]  (&sb->s_type->i_mutex_key#19){+.+.+.}, at: [<ffffffffa04b609d>] xfs_file_buffere",
           "[ 1.0] but task is already holding lock:",
           "[ 1.0]  (&pipe->mutex/1){+.+.+.}, at: [<ffffffff8126ca7d>] pipe_lock+0x1d/0x20",
           "[ 1.0] the existing dependency chain (in reverse order) is:",
           "[ 1.0]        [<ffffffffa04b609d>] xfs_file_buffered_aio_write+0x6d/0x2b0 [xfs]"]


def test_function_name_cut_is_the_one_whole_name_it_begins():
    ev = parse_log(LOCKDEP).events[0]
    assert ev.kind == "lockdep"
    assert (ev.ip.function, ev.ip.module) == ("xfs_file_buffered_aio_write", "xfs")


def test_function_name_cut_with_two_candidates_stays():
    lines = LOCKDEP + ["[ 1.0]        [<ffffffffa04b6000>] xfs_file_buffered_read+0x6d/0x2b0 [xfs]"]
    assert parse_log(lines).events[0].ip.function == "xfs_file_buffere"


def test_many_cut_frames_and_drm_error_tails_stay_bounded():
    import time
    from triage.events.prefix import MAX_LINE
    # 50,000 frames with cut tags and 50,000 whole ones: the resolution looks at a bounded
    # number of lines and names; 50,000 "*ERROR* " lines after a tag join up to MAX_LINE only
    lines = ["[ 1.0] INFO: task a:1 blocked for more than 120 seconds.", "[ 1.0] Call Trace:"]
    lines += [f"[ 1.0]  fn{i}+0x1/0x2 [mo" for i in range(50000)]
    lines += [f"[ 1.0]  fn{i}+0x1/0x2 [mod{i % 5000}]" for i in range(50000)]
    lines += ["a [drm]"] + ["*ERROR* " + "y" * 100] * 50000
    start = time.process_time()
    log = parse_log(lines)
    assert time.process_time() - start < 20
    assert log.events[0].kind == "hung_task"
    assert max(len(ll.text) for ll in log.lines) <= MAX_LINE + 200
