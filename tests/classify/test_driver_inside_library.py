"""A lockup or stall named by the syscall anchor's callee lands on a GPU library's entry
(drm_ioctl): the library only dispatched, and the first GPU driver frame it called on the
way in to the code that spun names the stall (i915's connector detect spinning in its
bit-banged GMBUS). A library that called core code keeps the verdict, and blocked tasks
keep their own rule (the driver that called the library, test_driver_behind_library)."""

from _posted import posted_lines, verdict_with_function as _verdict

HEAD = ["[ 5.790] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [Xorg:537]",
        "[ 5.791] CPU: 0 PID: 537 Comm: Xorg Not tainted 6.3.0 #57",
        "[ 5.792] RIP: 0010:_raw_spin_lock+0x20/0x40",
        "[ 5.793] Call Trace:"]
LIBRARY = ["[ 5.795]  drm_helper_probe_detect+0x43/0xa0 [drm_kms_helper]",
           "[ 5.796]  drm_helper_probe_single_connector_modes+0x403/0x490 [drm_kms_helper]",
           "[ 5.797]  drm_mode_getconnector+0x32d/0x430 [drm]",
           "[ 5.798]  drm_ioctl_kernel+0x91/0x130 [drm]",
           "[ 5.799]  drm_ioctl+0x1d8/0x410 [drm]",
           "[ 5.800]  __x64_sys_ioctl+0x3b9/0x8f0",
           "[ 5.801]  do_syscall_64+0x2b/0x50",
           "[ 5.802]  entry_SYSCALL_64_after_hwframe+0x46/0xb0"]


def test_posted_1632_rcu_stall_in_builtin_i915_gmbus_under_drm_ioctl_names_i915():
    assert _verdict(posted_lines("1632"))[:2] == ("rcu_stall", "i915")


def test_driver_called_by_the_library_names_the_lockup():
    assert _verdict(HEAD + ["[ 5.794]  amdgpu_dm_connector_detect+0x10/0x100 [amdgpu]"] + LIBRARY) \
        == ("soft_lockup", "amdgpu", "amdgpu_dm_connector_detect")


def test_library_that_called_core_code_keeps_the_lockup():
    assert _verdict(HEAD + ["[ 5.794]  i2c_transfer+0x3c/0xa0"] + LIBRARY)[:2] == ("soft_lockup", "drm")

