"""Atomic-sleep reports: their 2.6-era wordings, the -rt trace format, and which frame is guilty.

* 2.5.x-2.6.1x kernel/sched.c __might_sleep() printed "Debug: sleeping function called from
  invalid context at %s:%d" and schedule() "scheduling while atomic: %s/0x%08x/%d"; both took
  the "BUG: " prefix later (tuning-half posted logs 3308, 3315).
* The 2.6.1x realtime-preempt patch printed each frame's stack distance after it, " (40)"
  (posted 3310): the frame is still a frame.
* The guilty frame of an atomic-sleep report is the caller that slept in atomic context: the
  may-sleep APIs it called (the allocator, the vmap area allocator and ioremap, the PCI config
  accessors: [skip] alloc and sleeping_apis) are passed, as syzkaller's pkg/report passes
  generic helpers. Only for atomic_sleep: a fault inside those APIs is still theirs.
"""

import pytest

from triage.analysis import analyze_lines
from triage.events.frames import parse_trace_line
from triage.events.parser import parse_log
from triage.events.headers import match_header


@pytest.mark.parametrize("line, headline", [
    ("Debug: sleeping function called from invalid context at mm/slab.c:1868",
     "BUG: sleeping function called from invalid context"),
    ("Debug: sleeping function called in atomic section at include/linux/mm.h:12",
     "BUG: sleeping function called from invalid context"),
    ("scheduling while atomic: swapper/0x00000100/0", "BUG: scheduling while atomic"),
])
def test_old_atomic_sleep_wordings_are_headers(line, headline):
    h = match_header(line)
    assert h is not None and h.kind == "atomic_sleep" and h.headline == headline


@pytest.mark.parametrize("line", [
    "Debug: ACPI: table loaded",
    "Debug: sleeping",
    "scheduling while idle",
    " scheduling while atomic: swapper/0x00000100/0",
])
def test_other_lines_are_not_atomic_sleep_headers(line):
    h = match_header(line)
    assert h is None or h.kind != "atomic_sleep", line


@pytest.mark.parametrize("line, function, module", [
    (" [<f91cd909>] nv_verify_pci_config+0x3a/0xd2 [nvidia] (40)", "nv_verify_pci_config", "nvidia"),
    (" [<c0103aa8>] sysenter_past_esp+0x61/0x89 (-8116)", "sysenter_past_esp", None),
    (" [<c0101335>] kernel_thread_helper+0x5/0x10 (164118556)", "kernel_thread_helper", None),
])
def test_rt_stack_distance_is_not_part_of_the_frame(line, function, module):
    fr = parse_trace_line(line)
    assert fr is not None and (fr.function, fr.module) == (function, module)


@pytest.mark.parametrize("line", [
    " probe of device (20)",
    "Call Trace: (3)",
    " [<c0103aa8>] sysenter_past_esp (12)",
])
def test_a_parenthesised_number_does_not_make_a_frame(line):
    assert parse_trace_line(line) is None


IOREMAP_IN_MODULE = [
    "Debug: sleeping function called from invalid context at mm/slab.c:1868",
    "in_atomic():1, irqs_disabled():0",
    "Call Trace:",
    " [<c0120fbb>] __might_sleep+0xab/0xd0",
    " [<c0144fa5>] kmem_cache_alloc+0x65/0x70",
    " [<c0155161>] __get_vm_area+0x21/0xf0",
    " [<c0155263>] get_vm_area+0x33/0x40",
    " [<c011df03>] __ioremap+0xb3/0x100",
    " [<c011df79>] ioremap_nocache+0x29/0xb0",
    " [<f9a5ad87>] foo_map_regs+0x68/0x6c [foo]",
    " [<f9a57dc9>] foo_open+0xf3/0x228 [foo]",
    " [<c0164941>] chrdev_open+0xf1/0x220",
    " [<c015a2c3>] sys_open+0x53/0x90",
]


def test_atomic_sleep_passes_ioremap_to_the_caller():
    v = analyze_lines(IOREMAP_IN_MODULE).verdict
    assert v.category == "kernel_bug"
    assert (v.culprit.module, v.culprit.function) == ("foo", "foo_map_regs")


def test_atomic_sleep_in_core_ioremap_caller_names_no_module():
    # the caller past ioremap is core code (pci_iomap): no module is blamed
    lines = IOREMAP_IN_MODULE[:9] + [" [<c02f0010>] pci_iomap+0x40/0x90", " [<c0164941>] chrdev_open+0xf1/0x220"]
    v = analyze_lines(lines).verdict
    assert v.category == "kernel_bug" and not v.culprit.module
    assert v.culprit.function == "pci_iomap"


PCI_CONFIG_RT = [
    "BUG: scheduling while atomic: IRQ 137/0x00000001/6431",
    "caller is schedule+0x43/0x120",
    " [<c01050ec>] dump_stack+0x1c/0x20 (20)",
    " [<c03e7144>] __schedule+0xf44/0x1240 (236)",
    " [<c03e7483>] schedule+0x43/0x120 (12)",
    " [<c03e855b>] __down_mutex+0x2bb/0x5f0 (112)",
    " [<c03ea08c>] _spin_lock_irqsave+0x1c/0x40 (24)",
    " [<c023670d>] pci_bus_read_config_word+0x2d/0x70 (24)",
    " [<f91cd909>] bar_check_config+0x3a/0xd2 [bar] (40)",
    " [<f91cf726>] bar_isr+0x29/0x65 [bar] (36)",
    " [<c015dcb3>] handle_IRQ_event+0x73/0x110 (52)",
]


def test_scheduling_while_atomic_in_pci_config_read_names_the_driver():
    v = analyze_lines(PCI_CONFIG_RT).verdict
    assert (v.culprit.module, v.culprit.function) == ("bar", "bar_check_config")


def test_a_fault_inside_a_sleeping_api_is_still_its_own():
    # the skip list is for atomic-sleep reports only: a NULL dereference in __get_vm_area
    # under a module is not passed to the module
    lines = [
        "BUG: unable to handle kernel NULL pointer dereference at 00000010",
        "EIP is at __get_vm_area+0x21/0xf0",
        "Call Trace:",
        " [<c0155161>] __get_vm_area+0x21/0xf0",
        " [<c0155263>] get_vm_area+0x33/0x40",
        " [<f9a5ad87>] foo_map_regs+0x68/0x6c [foo]",
    ]
    v = analyze_lines(lines).verdict
    assert v.category == "null_deref"
    assert v.culprit.function == "__get_vm_area" and not v.culprit.module


# The may-sleep checks' context line (kernel/sched/core.c __might_resched()/___might_sleep()
# "in_atomic(): %d, irqs_disabled(): %d, non_block: %d, pid: %d, name: %s"; 2.6 kernel/sched.c
# __might_sleep() "in_atomic():%d, irqs_disabled():%d") is printed by no other report: a stack
# it heads is the atomic-sleep report's even when the header line above it was lost (posted
# 3805, a syslog cut after the "Debug: sleeping function" line).
NO_HEADER_26 = IOREMAP_IN_MODULE[1:]
NO_HEADER_NEW = [
    "[  12.000200] in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 1234, name: modprobe",
    "[  12.000210] preempt_count: 1, expected: 0",
    "[  12.000220] RCU nest depth: 0, expected: 0",
    "[  12.000300] CPU: 0 PID: 1234 Comm: modprobe Tainted: P           OE     6.1.0 #1",
    "[  12.000310] Hardware name: Acme Board/Acme, BIOS 1.0 01/01/2020",
    "[  12.000400] Call Trace:",
    "[  12.000500]  <TASK>",
    "[  12.000600]  dump_stack_lvl+0x44/0x5c",
    "[  12.000700]  __might_resched.cold+0xcc/0xe0",
    "[  12.000800]  mutex_lock+0x1a/0x40",
    "[  12.000900]  my_ioctl+0x3c/0x90 [mydrv]",
    "[  12.001000]  __x64_sys_ioctl+0x8b/0xc0",
]


@pytest.mark.parametrize("lines, module, function", [
    (NO_HEADER_26, "foo", "foo_map_regs"),
    (NO_HEADER_NEW, "mydrv", "my_ioctl"),
])
def test_in_atomic_line_names_a_headerless_stack(lines, module, function):
    assert parse_log(lines).events[0].kind == "atomic_sleep"
    v = analyze_lines(lines).verdict
    assert v.category == "kernel_bug"
    assert (v.culprit.module, v.culprit.function) == (module, function)


def test_headerless_might_sleep_stack_without_the_context_line_is_not_named_by_it():
    # without the in_atomic() line, __might_sleep atop the stack may be another report's
    # innermost frame (the WARN_ONCE "do not call blocking ops" in __might_sleep)
    assert parse_log(IOREMAP_IN_MODULE[2:]).events[0].kind != "atomic_sleep"


def test_in_atomic_line_far_above_the_stack_does_not_name_it():
    lines = [NO_HEADER_26[0]] + [f"eth0: link up {i}" for i in range(12)] + NO_HEADER_26[1:]
    assert parse_log(lines).events[0].kind != "atomic_sleep"


def test_in_atomic_line_above_a_register_dump_does_not_make_a_fault_atomic_sleep():
    lines = [
        "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 1, name: swapper",
        "RIP: 0010:my_ioctl+0x3c/0x90 [mydrv]",
        "Code: 48 8b 07 <48> 8b 40 08 c3",
        "RAX: 0000000000000000 RBX: 0000000000000000 RCX: 0000000000000000",
        "Call Trace:",
        " my_ioctl+0x3c/0x90 [mydrv]",
        " __x64_sys_ioctl+0x8b/0xc0",
    ]
    assert parse_log(lines).events[0].kind != "atomic_sleep"


@pytest.mark.parametrize("line", [
    "in_atomic: 1",
    "in_atomic(): yes, irqs_disabled(): no",
    "foo: in_atomic(): 1, irqs_disabled(): 0",
])
def test_other_in_atomic_lines_are_not_the_context_line(line):
    lines = [line] + NO_HEADER_26[1:]
    assert parse_log(lines).events[0].kind != "atomic_sleep"


# kernel/sched/core.c __might_resched(): "BUG: sleeping function called from invalid context at
# %s:%d" names the file of the might_sleep() that fired. A locks-only excerpt (no trace) keeps
# only that site: a file under a GPU driver's directory names the driver, as a WARNING's own
# file does; a core file names none; a trace, when printed, still decides.
_MIGHT_SLEEP_LOCKS_ONLY = [
    "[   23.227813] BUG: sleeping function called from invalid context at {site}",
    "[   23.227816] in_atomic(): 1, irqs_disabled(): 1, non_block: 0, pid: 37, name: kworker/u8:1",
    "[   23.227818] preempt_count: 1, expected: 0",
    "[   23.227819] RCU nest depth: 0, expected: 0",
    "[   23.227820] 1 lock held by kworker/u8:1/37:",
    "[   23.227822]  #0: ffff88811159b538 (&x->lock){-.-.}-{2:2}, at: some_function+0x1e0/0x580",
]


@pytest.mark.parametrize("site, module", [
    ("drivers/gpu/drm/i915/intel_uncore.c:2496", "i915"),
    ("../drivers/gpu/drm/amd/amdgpu/amdgpu_device.c:610", "amdgpu"),
    ("./include/linux/percpu-rwsem.h:49", None),
    ("kernel/locking/spinlock_rt.c:48", None),
    ("mm/slab.c:1868", None),
])
def test_might_sleep_site_names_the_gpu_driver_only_without_a_trace(site, module):
    lines = [ln.replace("{site}", site) for ln in _MIGHT_SLEEP_LOCKS_ONLY]
    h = match_header(lines[0].split("] ", 1)[1])
    assert h is not None and h.kind == "atomic_sleep" and h.fields["file"] == site.rsplit(":", 1)[0]
    v = analyze_lines(lines).verdict
    assert v.category == "kernel_bug"
    assert (v.culprit.module or None) == module


def test_might_sleep_site_yields_to_a_printed_trace():
    lines = [ln.replace("{site}", "drivers/gpu/drm/i915/intel_uncore.c:2496") for ln in _MIGHT_SLEEP_LOCKS_ONLY[:2]] + [
        "[   23.227830] CPU: 1 PID: 37 Comm: kworker/u8:1 Not tainted 6.1.0 #1",
        "[   23.227831] Call Trace:",
        "[   23.227832]  <TASK>",
        "[   23.227833]  dump_stack_lvl+0x44/0x5c",
        "[   23.227834]  __might_resched.cold+0xcc/0xde",
        "[   23.227835]  foo_do_work+0x40/0x90 [foo]",
        "[   23.227836]  process_one_work+0x1e0/0x580",
        "[   23.227837]  </TASK>",
    ]
    v = analyze_lines(lines).verdict
    assert v.category == "kernel_bug"
    assert (v.culprit.module, v.culprit.function) == ("foo", "foo_do_work")


def test_debug_wording_keeps_the_site():
    h = match_header("Debug: sleeping function called from invalid context at drivers/gpu/drm/radeon/r100.c:12")
    assert h is not None and h.fields["file"] == "drivers/gpu/drm/radeon/r100.c"


def test_posted_5113_locks_only_report_names_i915_from_its_site():
    # the real report the site rule was written for (tuning 5113, a locks-only excerpt with no
    # trace): its "at drivers/gpu/drm/i915/intel_uncore.c:2496" is the only code location left
    from _posted import posted_lines, verdict
    lines = posted_lines("5113")
    ev = next(e for e in parse_log(lines).events if e.kind == "atomic_sleep")
    assert ev.fields["file"] == "drivers/gpu/drm/i915/intel_uncore.c" and ev.fields["src_line"] == 2496
    assert not ev.frames
    assert verdict(lines) == ("kernel_bug", "i915")
