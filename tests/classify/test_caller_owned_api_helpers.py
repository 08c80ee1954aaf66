"""APIs that act on an object their caller owns and passed in (devres actions, ACPI
namespace lookups) are helper frames: the guilty frame is the caller that handed them the
object ([skip] helpers in signatures/lists.toml). debugfs removal is not in that list:
syzkaller names simple_recursive_removal itself as the guilty frame of its own reports."""

from triage.analysis import analyze_lines
from triage.classify import load_rules


def test_helper_patterns():
    skip = load_rules().skip["helpers"]
    for fn in ("devm_release_action", "devm_remove_action", "acpi_get_devices", "acpi_walk_namespace"):
        assert any(p.search(fn) for p in skip), fn
    for fn in ("simple_recursive_removal", "debugfs_remove", "acpi_bus_scan"):
        assert not any(p.search(fn) for p in skip), fn


def test_devres_warning_blames_the_driver_that_released_its_action():
    v = analyze_lines([
        "[  100.000000] WARNING: CPU: 1 PID: 3646 at drivers/base/devres.c:795 devm_release_action+0x51/0x60",
        "[  100.000100] Modules linked in: amdgpu(-) drm_ttm_helper ttm",
        "[  100.000200] RIP: 0010:devm_release_action+0x51/0x60",
        "[  100.000300] Call Trace:",
        "[  100.000400]  svm_migrate_fini+0x2d/0x60 [amdgpu]",
        "[  100.000500]  kgd2kfd_device_exit+0x23/0xa0 [amdgpu]",
        "[  100.000600]  amdgpu_device_fini_sw+0x45/0x290 [amdgpu]",
    ]).verdict
    assert v.category == "warning"
    assert (v.culprit.module, v.culprit.function) == ("amdgpu", "svm_migrate_fini")
