"""A KASAN use-after-free whose access site is in one module (a library module such as
gpu_sched) is blamed on the module that called it when that same module also freed the
object (the first other module on KASAN's "Freed by task" stack): the library only acted
on an object whose lifetime its caller owns on both paths. Quoted from tuning-half posted
log 1017 (nouveau tears down its DRM scheduler, then flushes an entity of it)."""

from triage.analysis import analyze_lines
from triage.events.parser import parse_log

from _posted import posted_lines

UAF = [
    "[  305.224297] BUG: KASAN: slab-use-after-free in drm_sched_entity_flush+0x6c4/0x7b0 [gpu_sched]",
    "[  305.224310] Read of size 8 at addr ffff8881440a8f48 by task rmmod/4436",
    "[  305.224317] CPU: 10 PID: 4436 Comm: rmmod Tainted: G     U             6.7.6-100.fc38.x86_64+debug #1",
    "[  305.224324] Call Trace:",
    "[  305.224327]  <TASK>",
    "[  305.224329]  dump_stack_lvl+0x76/0xd0",
    "[  305.224336]  print_report+0xcf/0x670",
    "[  305.224368]  kasan_report+0xa6/0xe0",
    "[  305.224385]  drm_sched_entity_flush+0x6c4/0x7b0 [gpu_sched]",
    "[  305.224413]  drm_sched_entity_destroy+0x17/0x20 [gpu_sched]",
    "[  305.224422]  nouveau_cli_fini+0x6c/0x120 [nouveau]",
    "[  305.224658]  nouveau_drm_device_fini+0x2ac/0x490 [nouveau]",
    "[  305.225310]  pci_device_remove+0xa3/0x1d0",
    "[  305.225678]  </TASK>",
    "[  305.226383] Freed by task 4436:",
    "[  305.226385]  kasan_save_stack+0x33/0x60",
    "[  305.226389]  kasan_save_free_info+0x2b/0x50",
    "[  305.226397]  __kasan_slab_free+0x10b/0x1a0",
    "[  305.226405]  __kmem_cache_free+0x19c/0x2e0",
    "[  305.226409]  drm_sched_fini+0x1b0/0x240 [gpu_sched]",
    "[  305.226418]  nouveau_drm_device_fini+0x27a/0x490 [nouveau]",
    "[  305.226626]  nouveau_drm_remove+0x18e/0x220 [nouveau]",
    "[  305.226834]  pci_device_remove+0xa3/0x1d0",
]


def test_parser_keeps_the_freed_by_stack_apart():
    ev = next(e for e in parse_log(UAF).events if e.kind == "kasan")
    assert [f.function for f in ev.fields["freed_frames"]][4:6] == ["drm_sched_fini", "nouveau_drm_device_fini"]
    assert "nouveau_drm_remove" not in [f.function for f in ev.frames]


def test_use_after_free_whose_caller_also_freed_it_blames_the_caller():
    v = analyze_lines(UAF).verdict
    assert v.category == "kasan"
    assert (v.culprit.module, v.culprit.function) == ("nouveau", "nouveau_cli_fini")


def test_freed_by_another_module_keeps_the_access_site():
    lines = [l.replace("nouveau_drm_device_fini+0x27a/0x490 [nouveau]", "amdgpu_fence_driver_fini+0x2a/0x90 [amdgpu]")
             .replace("nouveau_drm_remove+0x18e/0x220 [nouveau]", "amdgpu_pci_remove+0x18e/0x220 [amdgpu]")
             if l.startswith("[  305.2264") or l.startswith("[  305.2266") else l for l in UAF]
    v = analyze_lines(lines).verdict
    assert (v.culprit.module, v.culprit.function) == ("gpu_sched", "drm_sched_entity_flush")


def test_freed_by_the_site_module_alone_keeps_the_access_site():
    lines = [l for l in UAF if "nouveau_drm_device_fini+0x27a" not in l and "nouveau_drm_remove" not in l]
    v = analyze_lines(lines).verdict
    assert (v.culprit.module, v.culprit.function) == ("gpu_sched", "drm_sched_entity_flush")


def test_out_of_bounds_is_not_a_lifetime_question():
    lines = [l.replace("slab-use-after-free", "slab-out-of-bounds") for l in UAF]
    v = analyze_lines(lines).verdict
    assert (v.culprit.module, v.culprit.function) == ("gpu_sched", "drm_sched_entity_flush")


def test_posted_1017_whole_log_blames_nouveau():
    v = analyze_lines(posted_lines("1017")).verdict
    assert v.category == "kasan" and v.culprit.module == "nouveau"
