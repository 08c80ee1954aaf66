"""fs/sysfs/group.c internal_create_group() walks the caller's own struct attribute_group (its
attrs/bin_attrs arrays, its is_visible callback) for sysfs_create_group(s) and
sysfs_update_group(s); perf core's pmu_dev_alloc(), reached only from perf_pmu_register(),
hands it the PMU driver's pmu->attr_groups / attr_update unchanged (kernel/events/core.c, 5.10
and 6.12). A fault there is on the data the caller passed: [skip] helpers passes them and the
first frame outside names the culprit. A fault elsewhere in kernfs stays the core's."""

from triage.analysis import analyze_lines, analyze_path

from _posted import posted_path


def _gpf(rip: str, frames) -> list:
    return ["[   12.000000] Oops: general protection fault, probably for non-canonical address 0x796772656e650073: 0000 [#1] PREEMPT SMP NOPTI",
            "[   12.000001] CPU: 8 UID: 0 PID: 549 Comm: (udev-worker) Not tainted 6.12.0 #1",
            f"[   12.000002] RIP: 0010:{rip}",
            "[   12.000003] Call Trace:",
            "[   12.000004]  <TASK>"] + [f"[   12.000005]  {f}" for f in frames] + \
           ["[   12.000006]  </TASK>", "[   12.000007] ---[ end trace 0000000000000000 ]---"]


def test_posted_5123_rapl_attribute_groups():
    # internal_create_group <- sysfs_update_groups <- pmu_dev_alloc <- perf_pmu_register
    # <- init_module [rapl] (labels.toml: gpf, rapl by the generic-API rule)
    v = analyze_path(posted_path("5123")).verdict
    assert (v.category, v.culprit.module) == ("gpf", "rapl")


def test_pmu_driver_groups_name_the_pmu_driver():
    v = analyze_lines(_gpf("internal_create_group+0x9a/0x4e0", [
        "? internal_create_group+0x9a/0x4e0", "sysfs_update_groups+0x37/0x80", "pmu_dev_alloc+0xc6/0xe0",
        "perf_pmu_register+0x28c/0x3e0", "foo_pmu_init+0x1d9/0x240 [foo_pmu]", "do_one_initcall+0x122/0x370"])).verdict
    assert (v.category, v.culprit.module) == ("gpf", "foo_pmu")


def test_sysfs_create_group_from_a_driver_names_the_driver():
    v = analyze_lines(_gpf("internal_create_group+0x9a/0x4e0", [
        "internal_create_group+0x9a/0x4e0", "sysfs_create_group+0x10/0x20", "bar_probe+0x80/0x200 [bar]",
        "platform_probe+0x68/0xe0"])).verdict
    assert (v.category, v.culprit.module) == ("gpf", "bar")


def test_groups_of_core_code_name_no_module():
    # negative: the same fault with a core caller blames no module
    v = analyze_lines(_gpf("internal_create_group+0x9a/0x4e0", [
        "internal_create_group+0x9a/0x4e0", "sysfs_create_group+0x10/0x20", "cpu_dev_register+0x40/0x80",
        "driver_init+0x20/0x30"])).verdict
    assert v.category == "gpf" and not v.culprit.module


def test_a_fault_elsewhere_in_kernfs_stays_the_cores():
    # negative: kernfs_add_one is not a carrier of the caller's groups
    v = analyze_lines(_gpf("kernfs_add_one+0x40/0x150", [
        "kernfs_add_one+0x40/0x150", "kernfs_create_dir_ns+0x60/0x90", "sysfs_create_dir_ns+0x70/0xd0",
        "kobject_add_internal+0xa8/0x2e0", "baz_init+0x20/0x40 [baz]"])).verdict
    assert v.category == "gpf" and v.culprit.function == "kernfs_add_one" and not v.culprit.module
