"""Built-in virtual/server/SoC GPU drivers named by their function prefixes
([gpu_prefixes] vc4, v3d, virtio_gpu, qxl, ast, vmwgfx, ... in signatures/lists.toml),
and core code whose names look alike never blamed on a GPU (arch/x86 vmware.c's
vmw_sched_clock, the Aspeed USB gadget's ast_vhub_*)."""

from triage.analysis import analyze_lines
from triage.classify import load_rules


def test_builtin_driver_prefixes():
    rules = load_rules()
    for fn, drv in (("vc4_hvs_atomic_flush", "vc4"), ("v3d_job_free", "v3d"), ("virtio_gpu_dequeue_ctrl_func",
                    "virtio_gpu"), ("qxl_release_free", "qxl"), ("ast_primary_plane_helper_atomic_update", "ast"),
                    ("vmw_bo_pin_reserved", "vmwgfx"), ("lima_sched_run_job", "lima"),
                    ("panfrost_job_run", "panfrost"), ("panthor_sched_tick", "panthor"),
                    ("kgsl_mmu_map", "msm_kgsl")):
        assert rules.builtin_gpu_driver(fn) == drv, fn


def test_core_lookalikes_are_not_gpu():
    rules = load_rules()
    for fn in ("vmw_sched_clock", "vmw_steal_time", "vmware_cpu_online", "ast_vhub_ep0_handle_setup",
               "psb_period_show", "host1x_context_device_bus_init"):
        assert rules.builtin_gpu_driver(fn) is None, fn


OOPS = [
    "[  412.553044] BUG: kernel NULL pointer dereference, address: 0000000000000010",
    "[  412.553100] #PF: supervisor read access in kernel mode",
    "[  412.553120] #PF: error_code(0x0000) - not-present page",
    "[  412.553140] PGD 0 P4D 0 ",
    "[  412.553160] Oops: 0000 [#1] PREEMPT SMP NOPTI",
    "[  412.553180] CPU: 1 PID: 211 Comm: kworker/1:2 Not tainted 6.1.0-13-amd64 #1  Debian 6.1.55-1",
    "[  412.553200] Workqueue: events FUNC_WORK",
    "[  412.553220] RIP: 0010:FUNC_RIP+0x2c/0x90",
    "[  412.553240] Call Trace:",
    "[  412.553260]  <TASK>",
    "[  412.553280]  FUNC_RIP+0x2c/0x90",
    "[  412.553300]  process_one_work+0x1c4/0x380",
    "[  412.553320]  worker_thread+0x4d/0x380",
    "[  412.553340]  kthread+0xd7/0x100",
    "[  412.553360]  ret_from_fork+0x1f/0x30",
    "[  412.553380]  </TASK>",
    "[  412.553400] Modules linked in: snd_hda_intel virtio_net",
]


def _oops(fn):
    return [l.replace("FUNC_RIP", fn).replace("FUNC_WORK", fn) for l in OOPS]


def test_builtin_gpu_driver_oops_names_the_driver():
    v = analyze_lines(_oops("virtio_gpu_dequeue_ctrl_func")).verdict
    assert v.category == "gpu_null_deref"
    assert v.culprit.module == "virtio_gpu"


def test_core_oops_is_not_blamed_on_a_gpu():
    v = analyze_lines(_oops("vmw_steal_time")).verdict
    assert v.category == "null_deref"
    assert v.culprit.module in (None, "")


def test_vendor_tree_gpu_modules_are_gpu():
    from triage.diagnosis.gpu import builtin_knowledge
    k = builtin_knowledge()
    for mod in ("mali", "pvrsrvkm", "galcore", "msm_kgsl", "asahi", "powervr"):
        assert k.is_gpu_module(mod), mod
    assert not k.is_gpu_module("mali_dp_x") and not k.is_gpu_module("xfs")
