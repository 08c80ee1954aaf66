"""An oops in core code run by a GPU driver's own work item (its "Workqueue: wq func [mod]"
line names the driver's work function) is the driver's: it runs on objects the driver queued
(tests/data/posted/README.md's labelling rule, its 093). A work item of another module, an
oops in a module's own code and reports that are not oopses keep their culprit."""

from triage.analysis import analyze_lines

OOPS = ["[  50.0] BUG: kernel NULL pointer dereference, address: 0000000000000010",
        "[  50.1] #PF: supervisor read access in kernel mode",
        "[  50.2] Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "[  50.3] CPU: 2 PID: 812 Comm: kworker/2:3 Not tainted 6.1.0 #1"]
TRACE = ["[  50.5] RIP: 0010:rb_next+0x10/0x50",
         "[  50.6] Call Trace:",
         "[  50.7]  <TASK>",
         "[  50.8]  timerqueue_del+0x2e/0x50",
         "[  50.9]  process_one_work+0x1c4/0x380",
         "[  51.0]  worker_thread+0x4d/0x380"]


def _culprit(lines):
    v = analyze_lines(lines).verdict
    return v.category, v.culprit.module if v.culprit else None


def test_core_oops_in_a_gpu_drivers_work_item_names_the_driver():
    assert _culprit(OOPS + ["[  50.4] Workqueue: events __i915_gem_free_work [i915]"] + TRACE) \
        == ("gpu_null_deref", "i915")


def test_built_in_gpu_work_function_named_by_its_prefix():
    assert _culprit(OOPS + ["[  50.4] Workqueue: events amdgpu_device_delayed_init_work_handler"] + TRACE) \
        == ("gpu_null_deref", "amdgpu")


def test_work_item_of_another_module_stays_core():
    assert _culprit(OOPS + ["[  50.4] Workqueue: events_unbound flush_to_ldisc"] + TRACE) == ("null_deref", None)
    assert _culprit(OOPS + ["[  50.4] Workqueue: events e1000_watchdog [e1000e]"] + TRACE) == ("null_deref", None)


def test_oops_in_a_modules_own_code_keeps_that_module():
    lines = OOPS + ["[  50.4] Workqueue: events __i915_gem_free_work [i915]",
                    "[  50.5] RIP: 0010:mlx5_foo+0x10/0x50 [mlx5_core]",
                    "[  50.6] Call Trace:",
                    "[  50.7]  mlx5_foo+0x10/0x50 [mlx5_core]",
                    "[  50.8]  process_one_work+0x1c4/0x380"]
    assert _culprit(lines) == ("null_deref", "mlx5_core")
