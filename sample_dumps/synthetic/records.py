"""Kernel log records for synthetic CentOS 7 (3.10) and CentOS 8 (4.18) dumps.

The texts follow what those kernels print (wording, spacing, `[<addr>]` frames on
3.10, `RIP: 0010:sym+off/len [mod]` on 4.18); the events are an OOM kill followed
by a NULL pointer dereference in the NVIDIA driver. Each record is
(ts_nsec, level, facility, text, dict).
"""

from typing import List, Tuple

Record = Tuple[int, int, int, str, str]

_C7_BOOT = [
    "Initializing cgroup subsys cpuset",
    "Initializing cgroup subsys cpu",
    "Initializing cgroup subsys cpuacct",
    "Linux version 3.10.0-1160.el7.x86_64 (mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 "
    "20150623 (Red Hat 4.8.5-44) (GCC) ) #1 SMP Mon Oct 19 16:18:59 UTC 2020",
    "Command line: BOOT_IMAGE=/vmlinuz-3.10.0-1160.el7.x86_64 root=/dev/mapper/centos-root ro "
    "crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet LANG=en_US.UTF-8",
    "e820: BIOS-provided physical RAM map:",
    "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable",
    "BIOS-e820: [mem 0x0000000000100000-0x00000000bffd9fff] usable",
    "NX (Execute Disable) protection: active",
    "SMBIOS 2.8 present.",
    "DMI: Dell Inc. PowerEdge R740/08D89F, BIOS 2.10.2 02/24/2021",
    "Hypervisor detected: KVM",
    "Kernel command line: BOOT_IMAGE=/vmlinuz-3.10.0-1160.el7.x86_64 root=/dev/mapper/centos-root ro "
    "crashkernel=auto rhgb quiet",
    "Memory: 263617204k/268435456k available (7788k kernel code, 2206408k absent, 2611844k reserved, "
    "6002k data, 1984k init)",
    "pci 0000:3b:00.0: [10de:1db4] type 00 class 0x030200",
    "nvidia: loading out-of-tree module taints kernel.",
    "nvidia: module license 'NVIDIA' taints kernel.",
    "Disabling lock debugging due to kernel taint",
    "nvidia: module verification failed: signature and/or required key missing - tainting kernel",
    "nvidia-nvlink: Nvlink Core is being initialized, major device number 241",
    "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  460.32.03  Sun Dec 27 19:00:34 UTC 2020",
    "nvidia-uvm: Loaded the UVM driver, major device number 239.",
]

_C7_OOM = [
    "java invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
    "java cpuset=/ mems_allowed=0-1",
    "CPU: 3 PID: 21456 Comm: java Kdump: loaded Tainted: P           OE  ------------   "
    "3.10.0-1160.el7.x86_64 #1",
    "Hardware name: Dell Inc. PowerEdge R740/08D89F, BIOS 2.10.2 02/24/2021",
    "Call Trace:",
    " [<ffffffff9a781340>] dump_stack+0x19/0x1b",
    " [<ffffffff9a77bc60>] dump_header+0x90/0x229",
    " [<ffffffff9a1c228d>] oom_kill_process+0x2cd/0x490",
    " [<ffffffff9a1c297d>] out_of_memory+0x31d/0x500",
    " [<ffffffff9a1c9594>] __alloc_pages_nodemask+0xad4/0xbe0",
    " [<ffffffff9a793f18>] page_fault+0x28/0x30",
    "Mem-Info:",
    "active_anon:65012345 inactive_anon:402113 isolated_anon:0\n active_file:1021 inactive_file:1533 "
    "isolated_file:0\n unevictable:0 dirty:0 writeback:0 unstable:0",
    "Node 0 Normal free:44312kB min:45120kB low:56400kB high:67680kB",
    "[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name",
    "[21456]  1000 21456 10308641  7530864   15012        0             0 java",
    "Out of memory: Kill process 21456 (java) score 912 or sacrifice child",
    "Killed process 21456 (java), UID 1000, total-vm:41234564kB, anon-rss:30123456kB, file-rss:0kB, "
    "shmem-rss:0kB",
]

_C7_NULL = [
    "NVRM: GPU at PCI:0000:3b:00: GPU-6c1d3f2a-8e1b-4c5d-9f7a-0b2c3d4e5f60",
    "NVRM: Xid (PCI:0000:3b:00): 79, pid=0, GPU has fallen off the bus.",
    "BUG: unable to handle kernel NULL pointer dereference at           (null)",
    "IP: [<ffffffffc0a1b2c3>] _nv012345rm+0x43/0x90 [nvidia]",
    "PGD 0 ",
    "Oops: 0000 [#1] SMP ",
    "Modules linked in: nvidia_uvm(POE) nvidia_drm(POE) nvidia_modeset(POE) nvidia(POE) xfs "
    "libcrc32c sd_mod crc_t10dif ahci libahci megaraid_sas i40e dm_mirror dm_region_hash dm_log dm_mod",
    "CPU: 5 PID: 1234 Comm: python3 Kdump: loaded Tainted: P           OE  ------------   "
    "3.10.0-1160.el7.x86_64 #1",
    "Hardware name: Dell Inc. PowerEdge R740/08D89F, BIOS 2.10.2 02/24/2021",
    "task: ffff9f1e3a6b2100 ti: ffff9f1d2c1f8000 task.ti: ffff9f1d2c1f8000",
    "RIP: 0010:[<ffffffffc0a1b2c3>]  [<ffffffffc0a1b2c3>] _nv012345rm+0x43/0x90 [nvidia]",
    "RSP: 0018:ffff9f1d2c1fbc28  EFLAGS: 00010246",
    "RAX: 0000000000000000 RBX: ffff9f1e2b3c4000 RCX: 0000000000000000",
    "Call Trace:",
    " [<ffffffffc0a0f5e1>] ? _nv009876rm+0x1a1/0x2c0 [nvidia]",
    " [<ffffffffc0c3d9a2>] rm_ioctl+0x62/0xb0 [nvidia]",
    " [<ffffffffc09e1b7c>] nvidia_ioctl+0x1fc/0x7a0 [nvidia]",
    " [<ffffffff9a262a20>] do_vfs_ioctl+0x3a0/0x5b0",
    " [<ffffffff9a79cede>] system_call_fastpath+0x25/0x2a",
    "Code: 48 89 e5 41 56 41 55 41 54 53 48 8b 47 08 <48> 8b 00 48 85 c0 74 2f ",
    "RIP  [<ffffffffc0a1b2c3>] _nv012345rm+0x43/0x90 [nvidia]",
    " RSP <ffff9f1d2c1fbc28>",
    "CR2: 0000000000000000",
]

_C8 = [
    "Linux version 4.18.0-305.3.1.el8.x86_64 (mockbuild@kbuilder.bsys.centos.org) (gcc version 8.4.1 "
    "20200928 (Red Hat 8.4.1-1) (GCC)) #1 SMP Tue Jun 1 16:14:33 UTC 2021",
    "Command line: BOOT_IMAGE=(hd0,msdos1)/vmlinuz-4.18.0-305.3.1.el8.x86_64 root=/dev/mapper/cl-root "
    "ro crashkernel=auto resume=/dev/mapper/cl-swap rd.lvm.lv=cl/root rhgb quiet",
    "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'",
    "DMI: Supermicro SYS-4029GP-TRT/X11DPG-OT-CPU, BIOS 3.3 02/21/2020",
    "nvidia: loading out-of-tree module taints kernel.",
    "nvidia: module license 'NVIDIA' taints kernel.",
    "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  470.57.02  Tue Jul 13 16:14:05 UTC 2021",
    "python3 invoked oom-killer: gfp_mask=0x6280ca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO), nodemask=(null), "
    "order=0, oom_score_adj=0",
    "CPU: 7 PID: 40511 Comm: python3 Kdump: loaded Tainted: P           OE    --------- -  - "
    "4.18.0-305.3.1.el8.x86_64 #1",
    "Call Trace:",
    " dump_stack+0x5c/0x80",
    " dump_header+0x4a/0x1db",
    " oom_kill_process.cold.32+0xb/0x10",
    " out_of_memory+0x1ab/0x4a0",
    "Out of memory: Killed process 40511 (python3) total-vm:98765432kB, anon-rss:65432100kB, "
    "file-rss:0kB, shmem-rss:0kB, UID:1000",
    "NVRM: Xid (PCI:0000:1a:00): 31, pid=40222, Ch 00000010, intr 10000000. MMU Fault",
    "BUG: unable to handle kernel NULL pointer dereference at 0000000000000000",
    "PGD 0 P4D 0 ",
    "Oops: 0000 [#1] SMP PTI",
    "CPU: 2 PID: 40222 Comm: python3 Kdump: loaded Tainted: P           OE    --------- -  - "
    "4.18.0-305.3.1.el8.x86_64 #1",
    "RIP: 0010:_nv012345rm+0x43/0x90 [nvidia]",
    "Code: 48 89 e5 41 56 41 55 41 54 53 48 8b 47 08 <48> 8b 00 48 85 c0 74 2f",
    "RSP: 0018:ffffb1c2c3d7fbc8 EFLAGS: 00010246",
    "Call Trace:",
    " ? _nv009876rm+0x1a1/0x2c0 [nvidia]",
    " rm_ioctl+0x62/0xb0 [nvidia]",
    " nvidia_ioctl+0x1fc/0x7a0 [nvidia]",
    " do_vfs_ioctl+0xa4/0x680",
    " do_syscall_64+0x5b/0x1a0",
    "CR2: 0000000000000000",
]


def _stamp(lines: List[str], start_ns: int, step_ns: int, level: int = 4) -> List[Record]:
    out = []
    for i, text in enumerate(lines):
        d = ""
        if text.startswith("pci 0000:3b:00.0"):
            d = "SUBSYSTEM=pci\0DEVICE=+pci:0000:3b:00.0"
        out.append((start_ns + i * step_ns, level, 0, text, d))
    return out


def centos7_records() -> List[Record]:
    """A CentOS 7 boot, an OOM kill, then an NVIDIA NULL pointer dereference."""
    return (_stamp(_C7_BOOT, 0, 1_234_567, level=6)
            + _stamp(_C7_OOM, 5123_456_789_000, 12_345)
            + _stamp(_C7_NULL, 6012_112_233_000, 4_321, level=1))


def centos8_records() -> List[Record]:
    """A CentOS 8 boot, an OOM kill, then an NVIDIA NULL pointer dereference."""
    return _stamp(_C8, 1_000_000, 987_654_321_0)


def filler_records(n: int, start_ns: int) -> List[Record]:
    """Routine messages that push a small buffer past its end so that it wraps."""
    return [(start_ns + i * 1_000_003, 6, 0,
             f"XFS (dm-{i % 4}): Ending clean mount; audit: type=1130 seq={i} "
             f"msg='unit=systemd-tmpfiles-clean comm=\"systemd\" res=success'", "")
            for i in range(n)]
