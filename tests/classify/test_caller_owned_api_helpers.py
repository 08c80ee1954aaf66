"""APIs that act on an object their caller owns and passed in (devres actions, ACPI
namespace lookups) are helper frames: the guilty frame is the caller that handed them the
object ([skip] helpers in signatures/lists.toml); so are device-property reads and hwmon registration, which read the device their driver passes, the irq release APIs, which check the irq their caller frees, and the streaming DMA API, which maps the device and scatterlist its caller passes. debugfs removal is not in that list:
syzkaller names simple_recursive_removal itself as the guilty frame of its own reports."""

from triage.analysis import analyze_lines
from triage.classify import load_rules

from _posted import posted_lines


def _helpers(names):
    """Those of `names` the [skip] helpers patterns of signatures/lists.toml take."""
    skip = load_rules().skip["helpers"]
    return [fn for fn in names if any(p.search(fn) for p in skip)]


def test_helper_patterns():
    names = ("devm_release_action", "devm_remove_action", "acpi_get_devices", "acpi_walk_namespace")
    assert _helpers(names) == list(names)
    names = ("simple_recursive_removal", "debugfs_remove", "acpi_bus_scan")
    assert _helpers(names) == []


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


def test_device_property_and_hwmon_registration_are_helpers():
    names = ("device_property_present", "device_property_read_u32_array", "fwnode_property_present",
             "dev_fwnode", "__hwmon_device_register", "hwmon_device_register_with_info",
             "devm_hwmon_device_register_with_groups")
    assert _helpers(names) == list(names)
    # the hwmon core's own sysfs and read paths are not registration: a fault there is hwmon's
    names = ("hwmon_attr_show", "hwmon_thermal_add_sensor", "hwmon_device_unregister", "dev_fwnode_x")
    assert _helpers(names) == []


def test_null_device_passed_to_hwmon_registration_blames_the_driver():
    """posted 1014: thinkpad_acpi's hwmon probe hands a bad device to the hwmon core."""
    v = analyze_lines([
        "[    3.737008] BUG: kernel NULL pointer dereference, address: 00000000000002a0",
        "[    3.737022] Oops: Oops: 0000 [#1] SMP NOPTI",
        "[    3.737031] RIP: 0010:device_property_present+0x9/0x20",
        "[    3.737061] Call Trace:",
        "[    3.737106]  __hwmon_device_register+0x2cd/0x550",
        "[    3.737111]  devm_hwmon_device_register_with_groups+0x6d/0xc0",
        "[    3.737116]  tpacpi_hwmon_pdriver_probe+0x29/0x60 [thinkpad_acpi]",
        "[    3.737132]  platform_probe+0x41/0xa0",
    ]).verdict
    assert v.category == "null_deref"
    assert (v.culprit.module, v.culprit.function) == ("thinkpad_acpi", "tpacpi_hwmon_pdriver_probe")


def test_posted_1014_blames_thinkpad_acpi():
    # the real log the lines above are quoted from (labels.toml: null_deref, thinkpad_acpi)
    v = analyze_lines(posted_lines("1014")).verdict
    assert v.category == "null_deref"
    assert (v.culprit.module, v.culprit.function) == ("thinkpad_acpi", "tpacpi_hwmon_pdriver_probe")


def test_fault_in_hwmon_sysfs_read_is_hwmon_core():
    v = analyze_lines([
        "[   93.100000] BUG: kernel NULL pointer dereference, address: 0000000000000008",
        "[   93.100100] Oops: 0000 [#1] SMP NOPTI",
        "[   93.100200] RIP: 0010:hwmon_attr_show+0x2a/0x110",
        "[   93.100300] Call Trace:",
        "[   93.100400]  dev_attr_show+0x19/0x40",
        "[   93.100500]  sysfs_kf_seq_show+0xa8/0x100",
    ]).verdict
    assert v.category == "null_deref"
    assert v.culprit.function == "hwmon_attr_show"


FREE_IRQ_WARNING = [   # quoted from tuning-half posted log 1231 (SM8350 HDK, msm deferred probe)
    "[    8.571329] Trying to free already-free IRQ 187",
    "[    8.571339] WARNING: CPU: 0 PID: 76 at kernel/irq/manage.c:1895 free_irq+0x1e0/0x35c",
    "[    8.588746] Modules linked in: msm gpu_sched drm_dp_aux_bus qrtr",
    "[    8.641496] Workqueue: events_unbound deferred_probe_work_func",
    "[    8.654681] pc : free_irq+0x1e0/0x35c",
    "[    8.658454] lr : free_irq+0x1e0/0x35c",
    "[    8.739217] Call trace:",
    "[    8.741755]  free_irq+0x1e0/0x35c",
    "[    8.745198]  msm_drm_uninit.isra.0+0x14c/0x294 [msm]",
    "[    8.750548]  msm_drm_bind+0x28c/0x5d0 [msm]",
    "[    8.755081]  try_to_bring_up_aggregate_device+0x164/0x1d0",
    "[    8.764626]  component_add+0x14/0x20",
]


def test_irq_release_apis_are_helpers():
    names = ("free_irq", "__free_irq", "devm_free_irq", "free_percpu_irq", "__free_percpu_irq", "free_nmi",
             "free_percpu_nmi")
    assert _helpers(names) == list(names)
    # requesting, handling and synchronising interrupts are the irq core's own work
    names = ("request_threaded_irq", "__setup_irq", "synchronize_irq", "handle_irq_event", "free_irq_cpu_rmap",
             "irq_free_descs")
    assert _helpers(names) == []


def test_already_free_irq_warning_blames_the_driver_that_freed_it():
    v = analyze_lines(FREE_IRQ_WARNING).verdict
    assert v.category == "warning"
    assert v.culprit.module == "msm" and v.culprit.function.startswith("msm_drm_uninit")


def test_already_free_irq_warning_from_core_code_stays_core():
    lines = [l.replace("msm_drm_uninit.isra.0", "pcie_port_remove_service").replace(" [msm]", "")
             for l in FREE_IRQ_WARNING]
    v = analyze_lines(lines).verdict
    assert v.category == "warning"
    assert v.culprit.module in (None, "") and v.culprit.function == "pcie_port_remove_service"


def test_posted_1231_whole_log_blames_msm():
    v = analyze_lines(posted_lines("1231")).verdict
    assert v.category == "warning" and v.culprit.module == "msm"


DMA_UNMAP_FAULT = [   # quoted from tuning-half posted log 1122 (Rock 5T, 'modprobe -r panthor', decoded)
    "[  598.515550] Unable to handle kernel paging request at virtual address 0000000000400267",
    "[  598.530170] Internal error: Oops: 0000000096000004 [#1]  SMP",
    "[  598.531158] Modules linked in: panthor drm_gpuvm drm_exec gpu_sched",
    "[  598.541237] CPU: 6 UID: 0 PID: 806 Comm: modprobe Not tainted 7.1.0-rc2 #2 PREEMPT",
    "[  598.544991] pc : dma_unmap_sg_attrs (kernel/dma/mapping.c:0)",
    "[  598.546021] lr : panthor_gem_free_object (drivers/gpu/drm/panthor/panthor_gem.c:469) panthor",
    "[  598.561069] Call trace:",
    "[  598.561961]  dma_unmap_sg_attrs (kernel/dma/mapping.c:0) (P)",
    "[  598.563038] panthor_gem_free_object (drivers/gpu/drm/panthor/panthor_gem.c:469) panthor",
    "[  598.564218] drm_gem_object_free (drivers/gpu/drm/drm_gem.c:1148) drm",
    "[  598.565386] panthor_kernel_bo_destroy (drivers/gpu/drm/panthor/panthor_gem.c:1317) panthor",
    "[  598.568878] panthor_remove (drivers/gpu/drm/panthor/panthor_drv.c:1846) panthor",
    "[  598.569991]  platform_remove (drivers/base/platform.c:1435)",
]


def test_streaming_dma_api_is_a_helper():
    names = ("dma_unmap_sg_attrs", "dma_map_sg_attrs", "__dma_map_sg_attrs", "dma_map_sgtable",
             "dma_map_page_attrs", "dma_unmap_page_attrs", "dma_map_resource", "dma_sync_sg_for_cpu",
             "dma_sync_single_for_device", "dma_direct_unmap_sg", "dma_direct_map_page", "dma_free_attrs")
    assert _helpers(names) == list(names)
    # the IOMMU back ends and the DMA-API debug checks are code of their own
    names = ("iommu_dma_map_sg", "__iommu_dma_unmap", "check_unmap", "check_sync", "debug_dma_map_sg",
             "check_for_illegal_area", "dma_fence_wait", "dma_buf_export")
    assert _helpers(names) == []


def test_fault_in_dma_unmap_blames_the_gpu_driver_that_passed_the_sg_table():
    v = analyze_lines(DMA_UNMAP_FAULT).verdict
    assert v.category == "gpu_fault"
    assert (v.culprit.module, v.culprit.function) == ("panthor", "panthor_gem_free_object")


def test_fault_in_dma_unmap_from_a_core_caller_stays_core():
    lines = [l.replace("panthor_gem_free_object (drivers/gpu/drm/panthor/panthor_gem.c:469) panthor",
                       "sg_pool_free (lib/sg_pool.c:50)").replace("panthor_", "nvme_")
             for l in DMA_UNMAP_FAULT]
    v = analyze_lines(lines).verdict
    assert v.category == "paging_fault"
    assert v.culprit.function == "sg_pool_free" and v.culprit.module in (None, "")


def test_posted_1122_whole_log_blames_panthor():
    v = analyze_lines(posted_lines("1122")).verdict
    assert v.category == "gpu_fault" and v.culprit.module == "panthor"


def test_scatterlist_library_is_a_helper():
    names = ("sg_init_one", "sg_init_table", "sg_set_buf", "sg_set_page", "sg_next", "sg_nents_for_len",
             "sg_alloc_table_from_pages_segment", "__sg_alloc_table", "sg_free_table", "sg_miter_next",
             "sg_copy_buffer", "sg_pcopy_to_buffer", "__sg_page_iter_next", "sg_zero_buffer")
    assert _helpers(names) == list(names)
    # the SCSI generic driver (drivers/scsi/sg.c) is code of its own: syzkaller names it
    names = ("sg_read", "sg_remove_request", "sg_io", "sg_scsi_ioctl", "sg_open", "sg_build_indirect",
             "sg_add_device", "sg_new_write")
    assert _helpers(names) == []


def test_bug_in_sg_set_buf_blames_the_driver_that_passed_the_buffer():
    v = analyze_lines([
        "[   30.000000] kernel BUG at include/linux/scatterlist.h:187!",
        "[   30.000100] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
        "[   30.000200] RIP: 0010:sg_init_one+0x85/0x90",
        "[   30.000300] Call Trace:",
        "[   30.000400]  <TASK>",
        "[   30.000500]  mydrv_load_firmware+0x120/0x2d0 [mydrv]",
        "[   30.000600]  mydrv_probe+0x5a/0x200 [mydrv]",
        "[   30.000700]  pci_device_probe+0xa3/0x1d0",
    ]).verdict
    assert v.category == "kernel_bug"
    assert (v.culprit.module, v.culprit.function) == ("mydrv", "mydrv_load_firmware")


def test_fault_in_the_scsi_generic_driver_stays_its_own():
    v = analyze_lines([
        "[   30.000000] general protection fault, probably for non-canonical address 0xdffffc0000000002: 0000 [#1]",
        "[   30.000200] RIP: 0010:sg_remove_request+0x35/0x190",
        "[   30.000300] Call Trace:",
        "[   30.000500]  sg_finish_rem_req+0x1b1/0x260",
        "[   30.000600]  sg_read+0x8b0/0x1170",
        "[   30.000700]  vfs_read+0x1a2/0x4a0",
    ]).verdict
    assert v.culprit.function == "sg_remove_request"


GEM_PUT_WARNING = [   # quoted from tuning-half posted log 1334 (i.MX6, 5.4 BSP, arm32 unwinder)
    "[   58.234599] WARNING: CPU: 1 PID: 565 at drivers/gpu/drm/drm_gem.c:1020 drm_gem_object_put+0x90/0x98",
    "[   58.249935] Modules linked in: etnaviv qmi_wwan cdc_wdm",
    "[   58.288877] CPU: 1 PID: 565 Comm: android.display Not tainted 5.4.256 #2195",
    "[   58.288888] Backtrace:",
    "[   58.288912] [<c010e784>] (dump_backtrace) from [<c010eaa4>] (show_stack+0x20/0x24)",
    "[   58.328337] [<c010ea84>] (show_stack) from [<c0cf9ca4>] (dump_stack+0xe8/0x120)",
    "[   58.335661] [<c0cf9bbc>] (dump_stack) from [<c012efd0>] (__warn+0xd4/0xe8)",
    "[   58.353957] [<c012eefc>] (__warn) from [<c012f094>] (warn_slowpath_fmt+0xb0/0xc0)",
    "[   58.369198] [<c012efe8>] (warn_slowpath_fmt) from [<c06ca53c>] (drm_gem_object_put+0x90/0x98)",
    "[   58.385524] [<c06ca4ac>] (drm_gem_object_put) from [<bf0125a8>] (etnaviv_gem_prime_mmap_obj+0x34/0x3c [etnaviv])",
    "[   58.399334] [<bf012574>] (etnaviv_gem_prime_mmap_obj [etnaviv]) from [<bf0143a0>] (etnaviv_gem_mmap+0x3c/0x60 [etnaviv])",
    "[   58.413816] [<bf014364>] (etnaviv_gem_mmap [etnaviv]) from [<c02c5e08>] (mmap_region+0x37c/0x67c)",
]


def test_gem_reference_drop_is_a_helper():
    names = ("drm_gem_object_put", "__drm_gem_object_put", "drm_gem_object_put_unlocked",
             "drm_gem_object_put_locked")
    assert _helpers(names) == list(names)
    names = ("drm_gem_object_free", "drm_gem_object_release", "drm_gem_object_init", "drm_gem_object_lookup")
    assert _helpers(names) == []


def test_gem_put_locking_warning_blames_the_driver_that_dropped_the_reference():
    v = analyze_lines(GEM_PUT_WARNING).verdict
    assert v.category == "warning"
    assert (v.culprit.module, v.culprit.function) == ("etnaviv", "etnaviv_gem_prime_mmap_obj")


def test_posted_1334_whole_log_blames_etnaviv():
    # the real log GEM_PUT_WARNING is quoted from (labels.toml: warning, etnaviv)
    v = analyze_lines(posted_lines("1334")).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == ("warning", "etnaviv", "etnaviv_gem_prime_mmap_obj")


def test_fence_array_constructor_is_a_helper():
    """dma_fence_array_create/_init WARN_ON a container fence their caller passed; the
    fence library's own release and signalling of arrays are not constructors."""
    names = ("dma_fence_array_create", "dma_fence_array_init")
    assert _helpers(names) == list(names)
    names = ("dma_fence_array_release", "dma_fence_array_cb_func", "dma_fence_array_signaled")
    assert _helpers(names) == []


def test_container_fence_warning_blames_the_caller_that_built_the_array():
    """posted 1614: drm_syncobj_transfer_ioctl (built-in drm) passed a container fence."""
    v = analyze_lines(posted_lines("1614")).verdict
    assert v.category == "warning"
    assert (v.culprit.module, v.culprit.function) == ("drm", "drm_syncobj_transfer_ioctl")


def test_out_of_line_mmio_accessors_are_helpers():
    names = ("ioread8", "ioread16be", "ioread32", "ioread32be", "ioread64_lo_hi", "ioread32_rep",
             "iowrite8", "iowrite32", "iowrite64be_hi_lo", "iowrite16_rep", "__iowrite32_copy",
             "__ioread32_copy", "__iowrite64_copy")
    assert _helpers(names) == list(names)
    # mapping a BAR and the IOMMU are code of their own: a fault there is not the caller's access
    names = ("ioremap", "ioremap_wc", "iounmap", "iommu_map", "iova_alloc", "iort_iommu_configure")
    assert _helpers(names) == []


MMIO_NULL = [
    "[  210.000000] BUG: kernel NULL pointer dereference, address: 0000000000000040",
    "[  210.000100] #PF: supervisor read access in kernel mode",
    "[  210.000200] Oops: 0000 [#1] PREEMPT SMP NOPTI",
    "[  210.000300] RIP: 0010:ioread32+0x2b/0x60",
    "[  210.000400] CR2: 0000000000000040 CR3: 000000010fd93005 CR4: 00000000003706e0",
    "[  210.000500] Call Trace:",
    "[  210.000600]  <TASK>",
    "[  210.000700]  amdgpu_device_rreg+0x5a/0x110 [amdgpu]",
    "[  210.000800]  gmc_v9_0_flush_gpu_tlb+0xbf/0x2b0 [amdgpu]",
    "[  210.000900]  amdgpu_gart_invalidate_tlb+0x4a/0x90 [amdgpu]",
    "[  210.001000]  process_one_work+0x1e8/0x3c0",
    "[  210.001100]  </TASK>",
]


def test_null_mmio_base_read_blames_the_driver_that_passed_it():
    v = analyze_lines(MMIO_NULL).verdict
    assert v.category == "gpu_null_deref"
    assert (v.culprit.module, v.culprit.function) == ("amdgpu", "amdgpu_device_rreg")


def test_null_mmio_read_from_core_code_stays_core():
    lines = [l.replace(" [amdgpu]", "").replace("amdgpu_device_rreg", "pci_mmcfg_read")
             .replace("gmc_v9_0_flush_gpu_tlb", "pci_bus_read_config_dword")
             .replace("amdgpu_gart_invalidate_tlb", "pci_read_config_dword") for l in MMIO_NULL]
    v = analyze_lines(lines).verdict
    assert v.category == "null_deref"
    assert v.culprit.function == "pci_mmcfg_read" and v.culprit.module in (None, "")


def test_devres_group_release_and_component_bind_are_helpers():
    # drivers/base/devres.c release_nodes() is the static worker of devres_release_all() and
    # devres_release_group() (both listed; which of them shows depends on inlining);
    # drivers/base/component.c component_bind_all() binds the components of the aggregate
    # device its caller passes and releases their devres groups when a bind fails
    assert _helpers(("release_nodes", "component_bind_all")) == ["release_nodes", "component_bind_all"]
    assert _helpers(("component_add", "component_master_add_with_match", "devm_clk_release")) == []


_COMPONENT_FAULT = [
    "[   18.500428] Unable to handle kernel execute from non-executable memory at virtual address ffff000040241c10",
    "[   18.500612] Internal error: Oops: 8600000f [#1] PREEMPT SMP",
    "[   18.500785] pc : 0xffff000040241c10",
    "[   18.500800] lr : devm_clk_release+0x30/0x50",
    "[   18.501022] Call trace:",
    "[   18.501028]  0xffff000040241c10",
    "[   18.501037]  release_nodes+0x64/0x104",
    "[   18.501052]  devres_release_group+0xd8/0x14c",
    "[   18.501063]  component_bind_all+0x144/0x290",
]


def test_fault_releasing_a_failed_bind_blames_the_aggregate_driver():
    v = analyze_lines(_COMPONENT_FAULT + ["[   18.501079]  vc4_drm_bind+0x118/0x2f4 [vc4]",
                                          "[   18.501181]  try_to_bring_up_aggregate_device+0x230/0x320"]).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", "vc4")


def test_fault_releasing_a_bind_for_core_code_stays_core():
    v = analyze_lines(_COMPONENT_FAULT + ["[   18.501181]  try_to_bring_up_aggregate_device+0x230/0x320",
                                          "[   18.501198]  __component_add+0x90/0x13c"]).verdict
    assert v.culprit is None or v.culprit.module is None


def test_posted_2430_whole_log_blames_vc4():
    v = analyze_lines(posted_lines("2430")).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", "vc4")
