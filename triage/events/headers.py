"""Report headers: the first line of each thing the kernel reports.

`match_header(text)` recognises the opening line of an oops, panic, warning,
lockup, sanitizer report, memory event or GPU error and returns a Header:
the event kind, a syzkaller-style `headline` (the crash kind as titles spell
it, e.g. "KASAN: use-after-free Read"), fields and, when the header names it,
the faulting function.

Dispatch is by cheap string tests (startswith / `in`) first; a regex runs
only on lines that already look like a header, so a line costs O(length).
"""

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from triage.events.frames import DRM_FN_TAG, DRM_TAG, parse_symbol
from triage.events.gpudevs import GpuData, builtin_gpu_data
from triage.events.model import Frame, is_near_null
from triage.events.reporters import ParserNames, reporters
from triage.lazyre import lazy_compile


@dataclass
class Header:
    kind: str
    headline: str
    fields: Dict[str, Any] = field(default_factory=dict)
    ip: Optional[Frame] = None
    # "secondary" headers (Oops:, invalid opcode after kernel BUG, Internal
    # error after Unable to handle...) enrich an open event instead of
    # starting a new one, when one is open.
    secondary: bool = False


_NULL_OLD = lazy_compile(r"BUG: unable to handle kernel NULL pointer dereference(?: at\s{0,32}(\S{1,40}))?")
_PAGING_OLD = lazy_compile(r"BUG: unable to handle kernel paging request(?: at (\S{1,40}))?")
_NULL_NEW = lazy_compile(r"BUG: kernel NULL pointer dereference, address: (\S{1,40})")
_PAGING_NEW = lazy_compile(r"BUG: unable to handle page fault for address: (\S{1,40})")
_PPC_AT = lazy_compile(r" at (0x[0-9a-fA-F]{1,16})\b")
_PPC_OLD_UNABLE = lazy_compile(r"Unable to handle kernel paging request for (?:data|instruction fetch|unknown fault)"
                               r" at address (0x[0-9a-fA-F]{1,16})")
_ARM_NULL_WORDING = "Unable to handle kernel NULL pointer dereference"
# (MIPS and LoongArch no_context() go on after the address: "CPU %d Unable to handle kernel
# paging request at virtual address %0*lx, epc == %0*lx, ra == %0*lx", LoongArch "era ==":
# the comma is not part of it)
_ARM_UNABLE = lazy_compile(r"Unable to handle kernel (NULL pointer dereference|paging request|[\w -]{1,60}?) at virtual address ([^\s,]{1,40})")
_GPF = lazy_compile(r"(?:Oops: )?general protection fault(?:, probably for non-canonical address (0x[0-9a-fA-F]{1,16}))?(?:: ([0-9a-fA-F]{4}) \[#(\d{1,6})\])?")
# arm/arm64 die(): "Internal error: <what>: <code> [#n] ..." (arch/arm64/kernel/traps.c
# "Internal error: %s: %016lx [#%d] ", arch/arm/kernel/traps.c "... %s: %x [#%d]")
_ARM_DIE = lazy_compile(r"Internal error: (.{1,60}?): ([0-9a-fA-F]{1,16}) \[#")
_UNHANDLED_AT = lazy_compile(r"Unhandled fault at (0x[0-9a-fA-F]{1,16})")
_KBUG = lazy_compile(r"[Kk]ernel BUG at ([^\s:]{1,200}):(\d{1,7})!?")
# __warn()'s "WARNING: CPU: %d PID: %d at " (kernel/panic.c, 3.11-6.18): cpu, pid
_WARN_CPU_PID = r"WARNING: CPU: (\d{1,5}) PID: (-?\d{1,10}) at"
_WARN_NEW = lazy_compile(_WARN_CPU_PID + r" ([^\s:]{1,200}):(\d{1,7}) ?(.{0,300})")
# __warn() since its 6.19 rework (kernel/panic.c): "WARNING: %s:%d at %pS, CPU#%d: %s/%d"; %pS
# of module code ends in " [mod]"
_WARN_NEW2 = lazy_compile(r"WARNING: ([^\s:]{1,200}):(\d{1,7}) at (\S{1,300}(?: \[[\w-]{1,64}\])?), CPU#(\d{1,5}): (.{0,80})")
# ...the same line cut by a mail or forum wrap after "<file>:<line>" or inside " at %pS":
# only __warn() prints a source path and line straight after "WARNING: "
_WARN_NEW2_CUT = lazy_compile(r"WARNING: ([\w.+-]{1,64}/[^\s:]{1,200}\.(?:c|h|rs)):(\d{1,7})(?: at (\S{1,300}))?\s*$")
# ...and without a file (CONFIG_DEBUG_BUGVERBOSE off): "WARNING: at %pS, CPU#%d: %s/%d", also
# cut after the symbol; 2.6-3.x "WARNING: at %s:%d %pS()" always had a file, so a %pS straight
# after "WARNING: at " is this form
_WARN_NEW2_NOFILE = lazy_compile(r"WARNING: at ([A-Za-z_.][\w.]{0,200}\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}"
                                 r"(?: \[[\w-]{1,64}\])?)(?:, CPU#(\d{1,5})|,?\s*$)")
# CONFIG_DEBUG_BUGVERBOSE_DETAILED (6.16+): WARN_ON()/WARN_ON_ONCE() pass "[" #condition "] "
# (include/asm-generic/bug.h), which the arch's bug table glued to __FILE__, so the site reads
# "[!bio] block/blk-throttle.c:205" in either header form; the condition may hold blanks,
# colons and brackets. (Since the BUG_FORMAT rework x86-64 prints it as a line of its own
# after "cut here" instead, lib/bug.c __report_bug().)
_WARN_COND_SITE = lazy_compile(r"[^\s:\[\]]{1,200}:\d{1,7} ")
# __warn() without a file and line (CONFIG_DEBUG_BUGVERBOSE off, as on OpenWrt):
# "WARNING: CPU: %d PID: %d at %pS"
_WARN_NOFILE = lazy_compile(_WARN_CPU_PID + r" ([A-Za-z_.][\w.]{0,200}\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}(?: \[[\w-]{1,64}\])?)")
_WARN_OLD = lazy_compile(r"WARNING: at ([^\s:]{1,200}):(\d{1,7}) ?(.{0,300})")
# Only __warn() prints "WARNING: CPU: %d PID: %d at " (kernel/panic.c, 3.11-6.18): the head
# says WARN report whatever the paste did to the site after it (a line cut at the terminal
# width inside the file name or the symbol, blanks a copy inserted: "intel_dis play.c:14382")
_WARN_HEAD = lazy_compile(_WARN_CPU_PID + r"(?: (.{0,300}))?")
# 6.19+ __warn(): "WARNING: %s:%d at %pS, CPU#%d: %s/%d"; nothing else prints a source
# file and line then " at " after "WARNING: "
_WARN_HEAD2 = lazy_compile(r"WARNING: ([^\s:]{1,200}):(\d{1,7}) at(?: (\S{0,300}))?")
# the %pS symbol somewhere in a broken site, whole (its "+0x../0x.." complete)
_WARN_SITE_SYM = lazy_compile(r"(?<![\w.])([A-Za-z_.][\w.]{0,200}\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16})(?:$| |\()")
_SOFT = lazy_compile(r"(?:watchdog: |NMI watchdog: )?BUG: soft lockup - CPU#(\d{1,5}) stuck for (\d{1,9})s! \[(.{0,64}):(\d{1,10})\]")
_PPC_HARD = lazy_compile(r"Watchdog CPU:(\d{1,5}) Hard LOCKUP")
_HARD = lazy_compile(r"(?:NMI )?[Ww]atchdog(?::)? (?:[Dd]etected|detected) hard LOCKUP on cpu (\d{1,5})")
# (a line wrapped at the blank after "than" keeps the head: the seconds moved to the next line)
_HUNG = lazy_compile(r"INFO: task (.{1,64}?):(\d{1,10}) blocked for more than(?: (\d{1,9}) seconds|\s{0,8}$)")
_SANITIZER = lazy_compile(r"BUG: (KASAN|KMSAN|KCSAN|KFENCE): ([\w -]{1,60}?)(?: in (.{1,300})| on address .{0,80}| at addr .{0,80})?$")
_UBSAN = lazy_compile(r"UBSAN: ([\w -]{1,60}?) in (\S{1,200})")
_PANIC = lazy_compile(r"Kernel panic - not syncing:? ?(.{0,400})")
_OOM_INVOKED = lazy_compile(r"(.{0,64}?) invoked oom-killer: gfp_mask=(0x[0-9a-fA-F]{1,16})(?:\(([^)]{0,300})\))?,(?: nodemask=[^,]{0,100},)? order=(-?\d{1,3})(?:, oom_score_adj=(-?\d{1,6}))?")
# mm/oom_kill.c oom_kill_process(), the selection line: 2.6.36-5.0 "%s: Kill process %d (%s)
# score %u or sacrifice child"; 2.6.32-2.6.35 "%s: kill process %d (%s) score %li or a child"
# (message "Out of memory", "Memory cgroup out of memory", "Out of memory
# (oom_kill_allocating_task)")
_OOM_INVOKED_26 = lazy_compile(r"oom-killer: gfp_mask=(0x[0-9a-fA-F]{1,16}), order=(-?\d{1,3})")
# The constrained kills name their constraint instead (2.6.25-2.6.35 out_of_memory():
# "No available memory (MPOL_BIND)" for a mempolicy OOM, 2.6.2x "No available memory in
# cpuset"), then the same selection line; 2.6.19-2.6.24 wrote "Out of Memory: Kill process %d
# (%s) score %li and children." (_OOM_KILL_CHILDREN)
_OOM_PREFIX = r"(Memory cgroup out of memory|Out of memory|No available memory \(MPOL_BIND\)|No available memory in cpuset)"
# out_of_memory()'s and the memcg OOM's own prefixes (oom_kill.c "%s: Killed process", "%s: OOM victim")
_OOM_WHO = r"(Memory cgroup out of memory|Out of memory)"
_OOM_KILL_OLD = lazy_compile(_OOM_PREFIX + r"(?: \(oom_kill_allocating_task\))?: [Kk]ill process (\d{1,10}) \((.{0,64}?)\) score (-?\d{1,10}) or (?:sacrifice|a) child")
_OOM_KILL_CHILDREN = lazy_compile(r"Out of Memory: Kill process (\d{1,10}) \((.{0,64}?)\) score (-?\d{1,10}) and children")
# The kernel prints the sizes as bare %lu; a viewer or a pasting user may add
# digit-group separators ("26,184,840kB"), which carry no value of their own.
_KB = r"(\d[\d,.' ]{0,30}?)kB"
_OOM_KILLED = lazy_compile(r"(?:" + _OOM_WHO + r"(?: \(oom_kill_allocating_task\))?: )?Killed process (\d{1,10}) \((.{0,64}?)\),?(?: UID \d{1,10},)? (?:total-vm|vsz):" + _KB + ", anon-rss:" + _KB + ", file-rss:" + _KB + "(?:, shmem-rss:" + _KB + ")?")
# The victim line with its sizes cut off (by the poster, a pager or the terminal width):
# only the OOM killer prints "Out of memory: Killed process N (comm)", so the prefix
# alone names it; without the prefix, the sizes are required (see _OOM_KILLED).
_OOM_KILLED_CUT = lazy_compile(_OOM_PREFIX + r"(?: \(oom_kill_allocating_task\))?: Killed process (\d{1,10}) \((.{0,64}?)\)")
# Android's in-kernel low memory killer (drivers/staging/android/lowmemorykiller.c, 2.6.2x-4.11,
# a shrinker that kills by oom_score_adj when free memory and file cache fall below its
# thresholds): 2.6.2x-3.x lowmem_shrink "send sigkill to %d (%s), adj %d, size %d" (bare
# printk, later with pr_fmt "lowmemorykiller: "), 3.10+ "lowmemorykiller: Killing '%s' (%d),
# adj %hd,\n   to free %ldkB on behalf of ..."; and Android's user-space successor lmkd
# (system/memory/lmkd, log tag "lowmemorykiller") "Kill '%s' (%d), uid %d, oom_score_adj %d
# to free %ldkB rss, ..." (older "oom_adj %d to free %ldkB"), which some builds copy to the
# kernel log. Each is a process killed because memory ran low: the OOM kill of a phone.
_LMK_KILL = lazy_compile(r"(?:lowmemorykiller: )?(?:Kill(?:ing)? '(.{0,64}?)' \((\d{1,10})\)"
                         r"|send sigkill to (\d{1,10}) \((.{0,64}?)\), adj )")
# 2.4 and early 2.6 kernels (RHEL 4's 2.6.9) printed the victim alone, capital M and a
# full stop: "Out of Memory: Killed process %d (%s)." (mm/oom_kill.c); 2.4 could add
# ", saved process %d (%s)." when the victim was not the allocating task.
# Both cut by a terminal's width (`less -S`): the selection line after its comm (only the OOM
# killer prints "<Out of memory|Memory cgroup out of memory>: Kill process N (comm)"), the
# victim line without a prefix after its first size (only oom_kill's victim line prints
# "Killed process N (comm) total-vm:%lukB").
# The selection line's prefix is any message oom_kill_process() was given, the constrained
# kills' of 2.6.2x-2.6.35 too ("No available memory (MPOL_BIND): kill process %d (%s) score %li
# or a child"), as for the whole line (_OOM_KILL_OLD).
_OOM_KILL_OLD_CUT = lazy_compile(_OOM_PREFIX + r"(?: \(oom_kill_allocating_task\))?: [Kk]ill process (\d{1,10}) \((.{0,64}?)\)(?: score (-?\d{1,10}))?")
_OOM_KILLED_SIZES_CUT = lazy_compile(r"Killed process (\d{1,10}) \((.{0,64}?)\),?(?: UID \d{1,10},)? (?:total-vm|vsz):" + _KB)
_OOM_KILLED_2_4 = lazy_compile(r"Out of Memory: Killed process (\d{1,10}) \((.{0,64}?)\)(?:\.|, saved process )")
_KV = lazy_compile(r"(\w{1,40})=([^,]{0,200})")
# oom_reap_task(): "oom_reaper: reaped process %d (%s), now anon-rss:%lukB, ..." and, when the
# victim's mm could not be reaped, "oom_reaper: unable to reap pid:%d (%s)" (4.6+)
_OOM_REAPER = lazy_compile(r"oom_reaper: (?:reaped process |unable to reap pid:)(\d{1,10}) \((.{0,64}?)\)")
# "%s: page allocation failure: order:%u, mode:%#x(%pGg)"; 2.6 kernels wrote
# "%s: page allocation failure. order:%d, mode:0x%x" (mm/page_alloc.c, 2.6.x)
# 2.4 mm/page_alloc.c: "__alloc_pages: %u-order allocation failed (gfp=0x%x/%i)"
_ALLOC_FAIL_24 = lazy_compile(r"__alloc_pages: (\d{1,3})-order allocation failed \(gfp=(0x[0-9a-fA-F]{1,16})")
_ALLOC_FAIL = lazy_compile(r"(.{0,64}?): page allocation failure[:.] order:(\d{1,3}), mode:(0x[0-9a-fA-F]{1,16})(?:\(([^)]{0,300})\))?")
_ALLOC_STALL = lazy_compile(r"(.{0,64}?): page allocation stalls? for (\d{1,10})ms, order:(\d{1,3}), mode:(0x[0-9a-fA-F]{1,16})")
_VMEMMAP_FAIL = lazy_compile(r"(.{0,64}?): vmemmap alloc failure: order:(\d{1,3})(?:, mode:(0x[0-9a-fA-F]{1,16})(?:\(([^)]{0,300})\))?)?")
_VMALLOC_ERR = lazy_compile(r"(?:(.{0,64}?): )?vmalloc error: size (\d{1,20})")
# mm/oom_kill.c __oom_kill_process() (4.19-6.x): "%s: OOM victim %d (%s) is already exiting. Skip
# killing the task": the OOM killer ran and chose a task that was already dying. The message is
# out_of_memory()'s: "Out of memory", "Memory cgroup out of memory" or "Out of memory
# (oom_kill_allocating_task)" (also for the members of a memory.oom.group cgroup killed with
# that victim); the constrained kills' "No available memory ..." were gone since 2.6.36.
_OOM_VICTIM_EXITING = lazy_compile(_OOM_WHO + r"(?: \(oom_kill_allocating_task\))?: OOM victim (\d{1,10}) \((.{0,64}?)\) is already exiting")
_VMALLOC_FAIL = lazy_compile(r"(?:(.{0,64}?): )?vmalloc: allocation failure:? (\d{1,20}) bytes")
# mm/slub.c and mm/slab.c slab_out_of_memory(): a new slab's pages could not be had.
# "SLUB: Unable to allocate memory on node %d, gfp=%#x(%pGg)" (4.x+), and the 2.6/3.x
# "SLUB: Unable to allocate memory on node %d (gfp=0x%x)"; SLAB prints the same words.
_SLAB_OOM = lazy_compile(r"SL[AU]B: Unable to allocate memory on node (-?\d{1,4})[,]? \(?gfp=(0x[0-9a-fA-F]{1,16})(?:\(([^)]{0,300})\))?")
# mm/cma.c cma_alloc() (pr_fmt "cma: "): a contiguous allocation from a CMA area failed,
# pr_err("%s: alloc failed, req-size: %zu pages, ret: %d\n", __func__, ...) (5.10) and
# pr_err_ratelimited("%s: %s: alloc failed, req-size: %lu pages, ret: %d\n", __func__,
# cma->name, ...) (6.12; the area's name, "reserved" or "linux,cma"); since cma_alloc() and
# cma_alloc_folio() share the static __cma_alloc() that prints it, __func__ reads "__cma_alloc",
# so the function is read as any cma_alloc-named one.
# ret is -ENOMEM (no free range) or -EBUSY (pages that could not be migrated or isolated)
_CMA_FAIL = lazy_compile(r"cma: (\w{0,32}cma_alloc\w{0,16}): (?:(.{1,64}?): )?alloc failed, req-size: (\d{1,12}) pages?, "
                         r"ret: (-?\d{1,4})")
# XFS's own allocation retry loop reports that an allocation keeps failing: 2.6's
# fs/xfs/linux-2.6/kmem.c printk("XFS: possible memory allocation deadlock in %s (mode:0x%x)"),
# and 3.x-5.x fs/xfs/kmem.c / xfs_buf.c xfs_err(NULL, "%s(%u) possible memory allocation deadlock
# size %u in %s (mode:0x%x)") ("XFS: " before it, "XFS (dev): " with a mount): an allocation
# failure inside XFS, which retries instead of returning NULL, with no stack printed
_XFS_ALLOC_RETRY = lazy_compile(r"(?:XFS|xfs)(?: \([^)]{1,64}\))?: (?:(.{1,64}?)\((\d{1,10})\) )?possible memory "
                                r"allocation deadlock (?:size (\d{1,12}) )?in (\w{1,64})(?: \(mode:(0x[0-9a-fA-F]{1,16})\))?")
# src/nvidia/src/kernel/gpu/rc/kernel_rc.c (and the closed driver's older builds):
# "NVRM: Xid (PCI:%04x:%02x:%02x): %d, pid=%s, name=%s, %s", "NVRM: Xid (PCI:...): %d, %s",
# on a MIG GPU "NVRM: Xid (PCI:%04x:%02x:%02x GPU-I:%02u GPU-CI:%02u): %d, ...", and the
# pre-2015 "NVRM: Xid (0000:01:00): 16, Head 00000000 Count 00000000"
# A line retyped by hand from a screen or a photo keeps its fields but may lose the colon
# after NVRM or gain a blank before the number's colon ("NVRM Xid (PCI:0000:0b:00) : 32, ..."):
# only NVIDIA's driver prints "NVRM" and "Xid (", so it is still the Xid report.
_XID = lazy_compile(r"NVRM:? Xid \((?:PCI:)?([0-9a-fA-F:.]{1,20})(?: GPU-I:\d{1,3})?(?: GPU-CI:\d{1,3})?\) ?: "
                    r"(\d{1,5})\b(?:, (.{0,300}))?")
_NVKM_GSP_XID = lazy_compile(r"gsp: Xid:(\d{1,5})\b ?(.{0,300})")
# RmInitAdapter() failing: the GPU could not be brought up (GSP boot, VBIOS, a GPU that does
# not answer): "NVRM: GPU 0000:01:00.0: RmInitAdapter failed! (0x62:0x40:2028)", older
# "NVRM: RmInitAdapter failed! (0x27:0x38:1193)", and nv.c's "rm_init_adapter failed, device
# minor number %d" / "NVRM: rm_init_adapter(%d) failed"
_NV_INIT_FAIL = lazy_compile(r"NVRM: (?:GPU [0-9a-fA-F:.]{1,20}: )?(?:RmInitAdapter failed|rm_init_adapter(?:\(\d{1,3}\))? failed)")
# The GSP RPC timeout before _kgspLogXid119 existed (r525-r535 rpc.c _issueRpcAndWait):
# "NVRM: _issueRpcAndWait: rpcRecvPoll timedout for fn %d!", the Xid 119 condition
_NV_RPC_TIMEOUT = lazy_compile(r"NVRM: (?:GPU\d{1,3} )?_issueRpcAndWait: rpcRecvPoll timedout for fn (\d{1,5})")
# The banner NVIDIA's driver prints when an RPC to the GPU's GSP firmware times out, the
# Xid 119 report (src/nvidia/src/kernel/gpu/gsp/kernel_gsp.c, _kgspLogXid119 and, in later
# releases, _kgspLogRpcTimeout: "***...*** GSP Timeout ***...***"), also when the poster's
# excerpt lacks the Xid line itself.
_NV_GSP_TIMEOUT = lazy_compile(r"NVRM: (?:GPU\d{1,3} )?_kgsp\w{1,40}: \*{8,} GSP Timeout \*{8,}")
# The GSP health check's own words when the firmware stopped answering (kernel_gsp.c
# kgspHealthCheck_TU102 / _kgspIsHeartbeatTimedOut / _kgspRpcRecvPoll: "GSP RM heartbeat timed
# out", "LibOS heartbeat timed out", "Heartbeat timed out, currentTimeMs ..."): the condition
# the driver reports as Xid 119 (GSP RPC timeout), read as that Xid when its line is not in the
# excerpt, as a fallen-off-the-bus line is read as Xid 79.
_NV_HEARTBEAT = "eartbeat timed out"
_NV_BUS = lazy_compile(r"NVRM: GPU at (?:PCI:)?([0-9a-fA-F:.]{1,20}) has fallen off the bus")
# DRM_ERROR() of every kernel: "[drm:func [module]] *ERROR* msg"; a built-in driver prints
# no "[module]" (then its function prefix names it)
_DRM_ERROR = lazy_compile(DRM_FN_TAG + r" \*ERROR\* (.{0,300})")
_OLD_NOUVEAU_FIFO = lazy_compile(r"\bPFIFO(?:_DMA_PUSHER|_CACHE_ERROR|: read fault|: write fault|: unknown status| - playlist update failed)")
_OLD_NOUVEAU_PGRAPH = lazy_compile(r"\bPGRAPH(?: - |_|: )(TRAP|ERROR)")
_OLD_NOUVEAU_DEV = lazy_compile(r"\[drm\] nouveau ([0-9a-fA-F:.]{5,20}): ")
# nouveau 3.7-4.2 core/core/printk.c nv_printk_(): "nouveau %c[%8s][%s]%s %s" (level E/W/!,
# the subdev's name right-aligned in 8 columns: "  PFIFO", "  PGRAPH", "     PFB", the device,
# an optional "[0x%08x]" object class) and, for a client, "nouveau %c[%8s] %s" ("[     DRM]")
_NOUVEAU_3X = lazy_compile(r"nouveau [!EW ]\[ {0,8}([\w-]{1,16})\](?:\[([0-9a-fA-F:.]{5,20})\])?(?:\[0x[0-9a-fA-F]{8}\])? (.{1,300})")
# dev_printk() of the GPU drivers, "<driver> <device>: ": the driver names and the module
# each belongs to are data (signatures/lists.toml [gpu_devices], triage.events.gpudevs).
_GT_TAG = lazy_compile(r"(?:Tile\d{1,2}|GT\d{1,2}): ")
# DRM_DEV_ERROR()/drm_err() after the device prefix: "[drm:v3d_reset [v3d]] *ERROR* ",
# "[drm] *ERROR* ", "*ERROR* " (drm_print.c __drm_dev_printk / __drm_printk)
_DRM_TAG = lazy_compile(r"(?:" + DRM_TAG + r" )?\*ERROR\* ")
# drm_dbg()/drm_dev_dbg() after the device prefix: "[drm:func [module]] " with no *ERROR*
_DRM_FN_TAG = lazy_compile(DRM_FN_TAG + " ")
# amdgpu_job.c amdgpu_job_timedout(): "ring %s timeout, signaled seq=%u, emitted seq=%u" (DRM_ERROR
# before 6.x, dev_err after the device prefix since). No other driver prints "signaled seq=" with
# "emitted seq=" (radeon says "ring %d stalled for more than %umsec"), so the line names amdgpu
# also when a poster's grep or cut removed the device prefix and the "[drm:...]" tag.
# Cut by the terminal width after "signaled seq=" (", emitted seq=" lost in part or whole), the
# line still holds what only amdgpu prints.
AMDGPU_RING_TIMEOUT = lazy_compile(r"ring (\S{1,40}) timeout, signaled seq=\d{1,10}(?:, emitted seq=\d{1,10}|,? ?[a-z ]{0,12}$)")
_KASAN_RANGE = lazy_compile(r"KASAN: (null-ptr-deref|maybe wild-memory-access|probably user-memory-access) "
                            r"in range \[0x([0-9a-fA-F]{1,16})-0x[0-9a-fA-F]{1,16}\]")
# NVIDIA's Tegra/Jetson GPU driver (nvgpu, out of tree in L4T) prints through its own
# macro, not dev_printk: os/linux/log.c LOG_FMT "nvgpu: %s %33s:%-4d [%s]  %s\n" (device
# name, function, line, ERR/WRN/DBG/INFO, message): "nvgpu: 17000000.gpu
# nvgpu_rc_mmu_fault_recovery:399  [ERR]  mmu fault id=8 ...".
_NVGPU_LOG = lazy_compile(r"nvgpu: (\S{0,64}) +(\w{1,80}):(\d{1,6}) +\[(?:ERR|WRN|DBG|INFO)\] +(.{0,300})")
_SERROR = lazy_compile(r"SError Interrupt on CPU(\d{1,5}), code (0x[0-9a-fA-F]{1,16})")
_BAD_PAGE = lazy_compile(r"BUG: Bad page (state|map|cache) in process (.{0,64}?)\s+pfn:([0-9a-fA-F]{1,16})")
_BUG_GENERIC = lazy_compile(r"BUG: ([^:!(\[]{1,120})")
# kernel/sched/core.c __might_sleep()/__might_resched(): "BUG: sleeping function called from
# invalid context at %s:%d" (2.6.1x-: "Debug: sleeping function called from invalid context at
# %s:%d"; some -mm trees "... called %s at %s:%d"): the file of the might_sleep() that fired
_MIGHT_SLEEP_SITE = lazy_compile(r"sleeping function called [^:]{0,60}? at (\S{1,200}?):(\d{1,6})\b")
_RCU = lazy_compile(r"(?:rcu: )?INFO: (rcu_\w{1,20}|rcu_tasks\w{0,20}) (self-detected stall|detected (?:expedited )?stalls?)")
_MCE = lazy_compile(r"(?:mce: )?\[Hardware Error\]: (.{0,300})")
# lockdep's print_held_locks_bug(): "WARNING: syz-executor/1234 still has locks held!" (BUG: before 4.x)
_LOCKS_HELD = lazy_compile(r"(?:BUG|WARNING): \S.{0,80}/-?\d{1,10} still has locks held!")
# kernel/hung_task.c debug_show_blocker() (6.16+), printed only inside a hung-task report,
# after the blocked task's stack: "INFO: task %s:%d is blocked on a mutex likely owned by
# task %s:%d.", "INFO: task %s:%d blocked on a semaphore likely last held by task %s:%d" and
# (rw-semaphores, 6.17+) "INFO: task %s:%d <%s> blocked on an rw-semaphore likely owned by task
# %s:%d <%s>" (reader/writer); when the owner is gone, "INFO: task %s:%d is blocked on a
# mutex, but the owner is not found.", "... on a semaphore, but the last holder is not
# found.", "... on an rw-semaphore, but the owner is not found.". An excerpt that starts
# there is that report with its header cut.
_HUNG_BLOCKER = lazy_compile(r"INFO: task (.{1,64}?):(\d{1,10}) (?:is )?(?:<(?:reader|writer)> )?blocked on an? "
                             r"(mutex|semaphore|rw-semaphore)(?: likely (?:last held|owned) by task (.{1,64}?):(\d{1,10})(?=$|[.\s])"
                             r"|, but the (?:owner|last holder) is not found)")
_CANT_DIE = lazy_compile(r"INFO: task (.{1,64}?):(\d{1,10}) can't die for more than (\d{1,9}) seconds")
_STACKPROT = lazy_compile(r"stack-protector: Kernel stack is corrupted in: (.{0,200})")

# Where a generic "BUG: <what>" headline ends.
_BUG_CUTS = (" mm:", " on CPU", " at ", " in process", " in preemptible", " in non-preemptible", " detected", " suspected",
             " ffff", " (", " - ", "  ")


def _cut_headline(what: str) -> str:
    for cut in _BUG_CUTS:
        i = what.find(cut)
        if i > 0:
            if cut in (" detected", " suspected"):
                i += len(cut)
            what = what[:i]
    return what.strip().rstrip(".!:,")


def _addr(s: Optional[str]) -> Optional[int]:
    if not s:
        return None
    s = s.strip()
    if s == "(null)":
        return 0
    try:
        return int(s, 16)
    except ValueError:
        return None


_UNSYMBOLISED = lazy_compile(r"(0x)?[0-9a-fA-F]{8,16}")


def _sym_from_header(rest: Optional[str]) -> Optional[Frame]:
    """The function a report's header names after its wording (a %pS, or a bare name)."""
    if not rest:
        return None
    f = parse_symbol(rest)
    if f:
        return f
    words = rest.split()
    name = words[0] if words else ""
    if _UNSYMBOLISED.fullmatch(name):
        return None         # an unsymbolised address is not a function name
    cut = "+" in name and rest.rstrip() == name
    name = name.split("+", 1)[0]
    if name and (name[0].isalpha() or name[0] == "_") and "/" not in name and ":" not in name:
        # a "%pS" that ends inside its offset/size ("f+0x7bc/") was cut there, its module tag with it
        return Frame(name, module_cut="" if cut else None)
    return None




def _paging(addr: Optional[int]) -> Header:
    """A kernel page fault at `addr`: a NULL dereference when the address is near NULL."""
    if is_near_null(addr):
        return Header("null_deref", "BUG: unable to handle kernel paging request", {"address": addr, "near_null": True})
    return Header("paging_fault", "BUG: unable to handle kernel paging request", {"address": addr})


def _arm_die(text: str) -> Header:
    """An arm/arm64 "Internal error: <what>: <code> [#n]" line (die()).

    Secondary: after "Unable to handle kernel ..." or "kernel BUG at" it only
    adds to that report. Alone (an excerpt that starts after the fault line,
    or a fault the kernel words only this way) it opens the report: "Oops -
    BUG" is the BUG() trap (arm64 bug_brk_handler, arm32 do_undefinstr), a
    plain "Oops" carries the fault status the parser decodes later
    (triage.events.parser._name_arm_die)."""
    m = _ARM_DIE.match(text)
    fields: Dict[str, Any] = {"detail": text[16:80]}
    if m:
        fields["die"], fields["die_code"] = m.group(1), m.group(2)
    if m and m.group(1).startswith("Oops - BUG"):
        return Header("kernel_bug", "kernel BUG", fields, secondary=True)
    return Header("oops_other", "Internal error", fields, secondary=True)


def _match_bug(text: str, names: ParserNames) -> Optional[Header]:
    """Headers that start with "BUG: "; a generic "BUG: <what>" is an atomic_sleep or lockdep
    report when <what> starts with one of [parser] atomic_sleep_bugs or lockdep_bugs."""
    if text.startswith("BUG: unable to handle kernel NULL"):
        m = _NULL_OLD.match(text)
        return Header("null_deref", "BUG: kernel NULL pointer dereference", {"address": _addr(m.group(1)) if m else None})
    if text.startswith("BUG: unable to handle kernel paging"):
        m = _PAGING_OLD.match(text)
        return _paging(_addr(m.group(1)) if m else None)
    if text.startswith("BUG: kernel NULL pointer dereference"):
        m = _NULL_NEW.match(text)
        return Header("null_deref", "BUG: kernel NULL pointer dereference", {"address": _addr(m.group(1)) if m else None})
    if text.startswith("BUG: unable to handle page fault"):
        m = _PAGING_NEW.match(text)
        return _paging(_addr(m.group(1)) if m else None)
    if text.startswith("BUG: unable to handle kernel"):
        return Header("paging_fault", "BUG: unable to handle kernel", {"corrupted": True})
    if text.startswith("BUG: soft lockup"):
        return _soft(text)
    if text.startswith(("BUG: KASAN:", "BUG: KMSAN:", "BUG: KCSAN:", "BUG: KFENCE:")):
        return _sanitizer(text)
    if text.startswith("BUG: KASan: "):
        # 4.0-4.3 spelling: "BUG: KASan: use after free in f+0x../0x.. at addr ..."
        what = text[12:].replace("use after free", "use-after-free").replace("out of bounds access", "out-of-bounds")
        return _sanitizer("BUG: KASAN: " + what)
    if text.startswith("BUG: Bad page"):
        m = _BAD_PAGE.match(text)
        f: Dict[str, Any] = {}
        if m:
            f = {"comm": m.group(2), "pfn": int(m.group(3), 16)}
        what = "map" if text.startswith("BUG: Bad page map") else \
            "cache" if text.startswith("BUG: Bad page cache") else "state"
        return Header("bad_page", f"BUG: Bad page {what}", f)
    if text.startswith("BUG: memory leak"):
        return Header("leak", "memory leak")
    if text.startswith("BUG: Dentry "):
        # "BUG: Dentry ffff..{i=0,n=x}  still in use (1) [unmount of ramfs ramfs]": the operation is the unmount
        return Header("kernel_bug_other", "BUG: Dentry still in use", {},
                      ip=Frame("unmount") if "[unmount of " in text else None)
    if text.startswith("BUG: stack guard page was hit"):
        return Header("stack_corruption", "BUG: stack guard page was hit")
    if text.startswith("BUG: workqueue lockup"):
        # a pool stuck, not one task: the report names no function
        return Header("hung_task", "BUG: workqueue lockup", {"no_function": True})
    if text.startswith("BUG: spinlock lockup"):
        return Header("soft_lockup", "BUG: spinlock lockup suspected")
    if text.startswith(("BUG: bad unlock balance", "BUG: held lock freed")):
        what = "bad unlock balance" if "unlock" in text[:30] else "held lock freed"
        return Header("lockdep", "BUG: " + what, {})
    if text.startswith("BUG: Kernel NULL pointer dereference"):
        # powerpc 5.x bad_kernel_fault/__bad_page_fault: "BUG: Kernel NULL pointer dereference on
        # %s at 0x%08lx" (read/write), and "... dereference at 0x%08lx" for an instruction fetch
        m = _PPC_AT.search(text)
        return Header("null_deref", "BUG: kernel NULL pointer dereference", {"address": _addr(m.group(1)) if m else None})
    if text.startswith("BUG: Unable to handle kernel"):
        # powerpc 5.x: "BUG: Unable to handle kernel data access on %s at 0x%08lx" (the address
        # is at least PAGE_SIZE there, but below mmap_min_addr it is still NULL plus an offset)
        m = _PPC_AT.search(text)
        if m and is_near_null(_addr(m.group(1))):
            return _paging(_addr(m.group(1)))
        return Header("paging_fault", "BUG: unable to handle kernel paging request",
                      {"what": text[29:80], "address": _addr(m.group(1)) if m else None})
    if text.startswith("BUG: Bad rss-counter state"):
        return Header("kernel_bug_other", "BUG: Bad rss-counter state", {})
    if text.startswith("BUG: TASK stack guard page was hit"):
        return Header("stack_corruption", "BUG: stack guard page was hit")
    if text.startswith("BUG: Invalid wait context"):
        return Header("lockdep", "WARNING: locking bug", {})
    if text.startswith("BUG: using ") and " in preemptible" in text:
        return Header("atomic_sleep", text[:text.index(" in preemptible")] + " in preemptible code", {})
    if text.endswith("still has locks held!") and _LOCKS_HELD.match(text):
        return Header("lockdep", "BUG: still has locks held", {})
    if text.startswith("BUG: MAX_"):
        return Header("lockdep", text.split("!", 1)[0].strip() + "!", {"no_function": True})
    m = _BUG_GENERIC.match(text)
    if m:
        what = _cut_headline(m.group(1))
        kind = "kernel_bug_other"
        if what.startswith(names.atomic_sleep_bugs):
            kind = "atomic_sleep"
        elif what.startswith(names.lockdep_bugs):
            kind = "lockdep"
        return Header(kind, "BUG: " + what, _might_sleep_site(text) if kind == "atomic_sleep" else {})
    return None


def _might_sleep_site(text: str) -> Dict[str, Any]:
    """The "at %s:%d" site of a sleeping-function BUG, as a WARNING's: the source file of the
    might_sleep() that fired, i.e. of the function that may sleep. With no trace left (a
    locks-only excerpt) it is the only code location the report names; a file under a GPU
    driver's directory names that driver, as a WARNING's or BUG's own file does."""
    m = _MIGHT_SLEEP_SITE.search(text)
    return {"file": m.group(1), "src_line": int(m.group(2))} if m else {}


def _soft(text: str) -> Header:
    m = _SOFT.match(text)
    f: Dict[str, Any] = {}
    if m:
        f = {"cpu": int(m.group(1)), "seconds": int(m.group(2)), "comm": m.group(3), "pid": int(m.group(4))}
    return Header("soft_lockup", "BUG: soft lockup", f)


def _sanitizer(text: str) -> Header:
    m = _SANITIZER.match(text)
    if not m:
        tool = text[5:10]
        return Header(tool.lower(), f"{tool}: corrupted", {"corrupted": True})
    tool, what, rest = m.group(1), m.group(2).strip(), m.group(3)
    if what in ("double-free or invalid-free", "double-free"):
        what = "invalid-free"
    ip = None
    fields: Dict[str, Any] = {"bug_type": what}
    if tool == "KCSAN" and rest and " / " in rest:
        a, b = rest.split(" / ", 1)
        fields["functions"] = [a.strip(), b.strip()]
        ip = _sym_from_header(a)
    else:
        ip = _sym_from_header(rest)
    return Header(tool.lower(), f"{tool}: {what}", fields, ip=ip)


_FALLEN_OFF = "has fallen off"


def _fallen_off_cut(text: str) -> bool:
    """An NVRM line that ends in a cut "has fallen off the bus." (a terminal's width cut it
    after "fallen off"): nothing else of the resman says "has fallen off"."""
    i = text.rfind(_FALLEN_OFF)
    if i < 0:
        return False
    tail = text[i + len(_FALLEN_OFF):]
    return " the bus."[:len(tail)] == tail


def _warn_symbol(rest: str) -> Optional[Frame]:
    """The function of a __warn() site's %pS (`func+0x1/0x2 [mod]`, 3.x `func+0x1/0x2()`); None
    when the line was cut inside the name (`verify_single_dpl`): %pS always prints `+0x` after
    the name, so a name without it is a cut one, and the RIP line names the function instead."""
    head = rest.lstrip().split(" ", 1)[0]
    return _sym_from_header(rest) if "+" in head else None


def _broken_warn_site(cpu: int, pid: int, site: str) -> Header:
    """A __warn() head whose "%s:%d %pS" site did not read: cut or with blanks inserted. The
    file's leading path is kept when it shows one (a directory names a built-in GPU driver
    even when the file name is cut), the symbol when one is whole."""
    fields: Dict[str, Any] = {"cpu": cpu, "pid": pid, "site_broken": True}
    first = site.split(" ", 1)[0].split(":", 1)[0]
    if "/" in first:
        fields["file"] = first
    m = _WARN_SITE_SYM.search(site)
    ip = _sym_from_header(site[m.start(1):]) if m else None
    return Header("warning", "WARNING", fields, ip=ip)


def _drop_condition(text: str) -> str:
    """The __warn() header without the "[condition] " CONFIG_DEBUG_BUGVERBOSE_DETAILED glued
    before the file (see _WARN_COND_SITE); the text itself when it has none."""
    if text.startswith("WARNING: ["):
        at = len("WARNING: ")
    elif text.startswith("WARNING: CPU: ") and " at [" in text[:40]:
        at = text.index(" at [") + 4
    else:
        return text
    end = text.find("] ", at)
    while end > 0:
        if _WARN_COND_SITE.match(text, end + 2):
            return text[:at] + text[end + 2:]
        end = text.find("] ", end + 2)
    return text


def _match_warning(text: str) -> Optional[Header]:
    if text.endswith("still has locks held!") and _LOCKS_HELD.match(text):
        return Header("lockdep", "WARNING: still has locks held", {})
    text = _drop_condition(text)
    m = _WARN_NEW.match(text)
    if m:
        fields = {"cpu": int(m.group(1)), "pid": int(m.group(2)), "file": m.group(3), "src_line": int(m.group(4))}
        return Header("warning", "WARNING", fields, ip=_warn_symbol(m.group(5)))
    m = _WARN_NEW2.match(text)
    if m:
        # 6.19+: "WARNING: fs/dcache.c:829 at fast_dput+0x334/0x430, CPU#0: comm/pid"
        return Header("warning", "WARNING", {"file": m.group(1), "src_line": int(m.group(2)), "cpu": int(m.group(4))},
                      ip=_sym_from_header(m.group(3)))
    m = _WARN_NEW2_CUT.match(text)
    if m:
        return Header("warning", "WARNING", {"file": m.group(1), "src_line": int(m.group(2))},
                      ip=_warn_symbol(m.group(3)) if m.group(3) else None)
    m = _WARN_NEW2_NOFILE.match(text)
    if m:
        return Header("warning", "WARNING", {"cpu": int(m.group(2))} if m.group(2) else {},
                      ip=_sym_from_header(m.group(1)))
    m = _WARN_NOFILE.match(text)
    if m:
        return Header("warning", "WARNING", {"cpu": int(m.group(1)), "pid": int(m.group(2))},
                      ip=_sym_from_header(m.group(3)))
    m = _WARN_OLD.match(text)
    if m:
        rest = m.group(3).replace("()", "")
        return Header("warning", "WARNING", {"file": m.group(1), "src_line": int(m.group(2))}, ip=_sym_from_header(rest))
    m = _WARN_HEAD.match(text)
    if m:
        return _broken_warn_site(int(m.group(1)), int(m.group(2)), (m.group(3) or "").strip())
    m = _WARN_HEAD2.match(text)
    if m:
        # the 6.19+ head cut before ", CPU#%d": "WARNING: drivers/gpu/drm/drm_vblank.c:2309 at drm_crtc_vbl"
        return Header("warning", "WARNING", {"file": m.group(1), "src_line": int(m.group(2)), "site_broken": True},
                      ip=_warn_symbol(m.group(3) or ""))
    what = text[len("WARNING: "):]
    if what.startswith(("possible circular locking", "possible recursive locking", "possible irq lock inversion",
                        "HARDIRQ-safe -> HARDIRQ-unsafe", "SOFTIRQ-safe -> SOFTIRQ-unsafe")):
        return Header("lockdep", "possible deadlock", {"lockdep": what.strip()})
    if what.startswith(("inconsistent lock state", "suspicious RCU usage", "bad unlock balance", "held lock freed",
                        "nested lock was not taken", "lock held when returning", "bad contention",
                        "HARDIRQ-safe -> HARDIRQ-unsafe", "SOFTIRQ-safe -> SOFTIRQ-unsafe",
                        "possible irq lock inversion", "lock is not held")):
        what = what.strip().rstrip(".!")
        if what.startswith(("inconsistent lock state")):
            return Header("lockdep", "inconsistent lock state", {"lockdep": what})
        if what.startswith(("bad unlock balance", "held lock freed")) and " detected" in what:
            what = what.replace(" detected", "")
        if what.startswith("bad unlock balance"):
            # the kernel's own prefix: BUG: before 4.x, WARNING: since
            return Header("lockdep", "WARNING: bad unlock balance", {"lockdep": what})
        if what.startswith("held lock freed"):
            return Header("lockdep", "WARNING: held lock freed", {"lockdep": what})
        return Header("lockdep", "WARNING: " + _cut_headline(what), {"lockdep": what})
    if what.startswith(("kernel stack regs", "kernel stack frame pointer")):
        # "kernel stack regs at ffff... in comm:pid has bad 'bp' value 0" -> stable part only
        i = what.find(" has bad ")
        bad = what[i + 9:].split(" value", 1)[0] if i > 0 else ""
        what_regs = "frame pointer" if what.startswith("kernel stack frame pointer") else "regs"
        head = f"WARNING: kernel stack {what_regs} has bad " + (bad + " " if bad.startswith("'") else "") + "value"
        return Header("warning", head, {"no_function": True})
    if what and not what[0].isspace():
        # "WARNING: <free text>" without CPU/PID/file:line is a printk notice
        # (deprecations, mitigations), not a WARN_ON report.
        return Header("notice", "WARNING: " + _cut_headline(what), {})
    return None


def _match_info(text: str) -> Optional[Header]:
    if text.startswith("INFO: task "):
        m = _HUNG.match(text)
        if m:
            f = {"comm": m.group(1), "pid": int(m.group(2))}
            if m.group(3):
                f["seconds"] = int(m.group(3))
            return Header("hung_task", "INFO: task hung", f)
        m = _HUNG_BLOCKER.match(text)
        if m:
            f = {"comm": m.group(1), "pid": int(m.group(2)), "blocker_kind": m.group(3)}
            if m.group(4) is not None:
                f["blocker_comm"], f["blocker_pid"] = m.group(4), int(m.group(5))
            return Header("hung_task", "INFO: task hung", f)
        m = _CANT_DIE.match(text)
        if m:
            # a killed task stuck in the kernel: check_hung_task()'s other wording
            return Header("hung_task", "INFO: task can't die",
                          {"comm": m.group(1), "pid": int(m.group(2)), "seconds": int(m.group(3))})
    m = _RCU.match(text)
    if m:
        return Header("rcu_stall", "INFO: rcu detected stall", {"flavor": m.group(1), "self_detected": m.group(2).startswith("self")})
    if text.startswith(("INFO: possible circular locking", "INFO: possible recursive locking", "INFO: possible irq lock inversion")):
        return Header("lockdep", "possible deadlock", {"lockdep": text[6:].strip()})
    if text.startswith("INFO: inconsistent lock state"):
        return Header("lockdep", "inconsistent lock state", {"lockdep": text[6:].strip()})
    if text.startswith(("INFO: suspicious RCU usage", "INFO: suspicious rcu_dereference_check() usage")):
        # before 4.x lockdep said INFO: where it now says WARNING:; 2.6.34-2.6.3x
        # lockdep_rcu_dereference() banner: "[ INFO: suspicious rcu_dereference_check() usage. ]"
        # (renamed "suspicious RCU usage" with lockdep_rcu_suspicious())
        return Header("lockdep", "INFO: suspicious RCU usage", {"lockdep": "suspicious RCU usage"})
    if text.startswith("INFO: trying to register non-static key"):
        return Header("lockdep", "INFO: trying to register non-static key", {})
    if text.startswith("INFO: NMI handler") or text.startswith("INFO: lockdep is turned off") \
            or text.startswith("INFO: Slab 0x") or text.startswith("INFO: Object 0x") \
            or text.startswith("INFO: Allocated in") or text.startswith("INFO: Stack ") \
            or text.startswith("INFO: rcu_") or text.startswith("INFO: Freed in"):
        if text.startswith("INFO: Freed in"):
            return Header("kernel_bug_other", "INFO: Freed", {}, ip=_sym_from_header(text[len("INFO: Freed in "):]), secondary=True)
        return None
    return None


def _match_panic(text: str) -> Header:
    m = _PANIC.match(text)
    reason = m.group(1).strip() if m else ""
    fields: Dict[str, Any] = {"reason": reason}
    low = reason.lower()
    if low.startswith(("out of memory", "system is deadlocked on memory")):
        # the OOM killer's panics (mm/oom_kill.c): panic_on_oom, and no victim left
        fields["oom"] = True
    if "panic_on_warn" in low:
        fields["panic_on_warn"] = True
    if low.startswith("sysrq"):
        fields["sysrq"] = True
    if "hard lockup" in low:
        fields["hard_lockup"] = True
    if "softlockup" in low or "soft lockup" in low:
        fields["soft_lockup"] = True
    if "hung_task" in low or "hung task" in low:
        fields["hung_task"] = True
    if "machine check" in low:
        fields["mce"] = True
    ip = None
    m2 = _STACKPROT.match(reason)
    if m2:
        fields["stack_protector"] = True
        ip = _sym_from_header(m2.group(1))
    head = _panic_headline(reason)
    return Header("panic", head if head == "kernel stack overflow" else "kernel panic: " + head, fields, ip=ip)


def _panic_headline(reason: str) -> str:
    """The stable part of a panic reason (no addresses, pids or trailing dots)."""
    r = reason
    if r.startswith("stack-protector: Kernel stack is corrupted in"):
        return "stack is corrupted"
    if r.startswith("corrupted stack end detected"):
        return "corrupted stack end"
    if r.startswith("kernel stack overflow"):
        return "kernel stack overflow"
    if r.startswith("Attempted to kill init"):
        return "Attempted to kill init!"
    for cut in (" exitcode=", " - ", "  ", " in: ", ": 0x", " 0x", " ..."):
        i = r.find(cut)
        if i > 0:
            r = r[:i]
    return r.strip().rstrip(".!: ")


def _kb(text: str) -> int:
    """A kB size from a victim line, digit-group separators dropped (see _KB)."""
    return int(re.sub(r"[,.' ]", "", text))


def _match_memory(text: str) -> Optional[Header]:
    if text.startswith("oom-killer: gfp_mask="):
        # 2.6.9-2.6.18 out_of_memory() named no task: "oom-killer: gfp_mask=0x%x, order=%d"
        m = _OOM_INVOKED_26.match(text)
        f = {"gfp_mask": m.group(1), "order": int(m.group(2))} if m else {}
        return Header("oom_invoked", "invoked oom-killer", f)
    if " invoked oom-killer: " in text or text.rstrip().endswith(" invoked oom-killer:"):
        # (a line wrapped at the blank after dump_header()'s "%s invoked oom-killer:" keeps
        # its head: the words are that format string's alone, mm/oom_kill.c)
        m = _OOM_INVOKED.match(text)
        f: Dict[str, Any] = {}
        if m:
            f = {"comm": m.group(1), "gfp_mask": m.group(2), "gfp_flags": m.group(3), "order": int(m.group(4))}
            if m.group(5) is not None:
                f["oom_score_adj"] = int(m.group(5))
        return Header("oom_invoked", "invoked oom-killer", f)
    if ("of memory" in text or text.startswith(("No available memory", "Out of Memory: Kill process "))) and (
            "Kill process" in text or "kill process" in text or "Killed process" in text):
        m = _OOM_KILL_OLD.match(text)
        if m:
            return Header("oom_kill", "Out of memory: Kill process",
                          {"memcg": m.group(1).startswith("Memory cgroup"), "victim_pid": int(m.group(2)),
                           "victim_comm": m.group(3), "score": int(m.group(4)), "selected_only": True})
        m = _OOM_KILL_CHILDREN.match(text)
        if m:
            return Header("oom_kill", "Out of memory: Kill process",
                          {"victim_pid": int(m.group(1)), "victim_comm": m.group(2), "score": int(m.group(3)),
                           "selected_only": True})
        m = _OOM_KILL_OLD_CUT.match(text)
        if m:
            # the selection line cut by a terminal after its comm or score
            f = {"memcg": m.group(1).startswith("Memory cgroup"), "victim_pid": int(m.group(2)),
                 "victim_comm": m.group(3), "selected_only": True}
            if m.group(4) is not None:
                f["score"] = int(m.group(4))
            return Header("oom_kill", "Out of memory: Kill process", f)
    if text.startswith(("lowmemorykiller: ", "send sigkill to ")):
        m = _LMK_KILL.match(text)
        if m:
            pid, comm = (m.group(2), m.group(1)) if m.group(2) else (m.group(3), m.group(4))
            return Header("oom_kill", "lowmemorykiller: Killed process",
                          {"victim_pid": int(pid), "victim_comm": comm, "lowmemorykiller": True})
        return None
    if "Killed process " in text:
        m = _OOM_KILLED.match(text)
        if m:
            f = {"victim_pid": int(m.group(2)), "victim_comm": m.group(3), "total_vm_kb": _kb(m.group(4)),
                 "anon_rss_kb": _kb(m.group(5)), "file_rss_kb": _kb(m.group(6))}
            if m.group(7):
                f["shmem_rss_kb"] = _kb(m.group(7))
            if m.group(1):
                f["memcg"] = m.group(1).startswith("Memory cgroup")
            return Header("oom_kill", "Out of memory: Killed process", f)
        m = _OOM_KILLED_CUT.match(text)
        if m:
            return Header("oom_kill", "Out of memory: Killed process",
                          {"victim_pid": int(m.group(2)), "victim_comm": m.group(3),
                           "memcg": m.group(1).startswith("Memory cgroup"), "sizes_cut": True})
        m = _OOM_KILLED_SIZES_CUT.match(text)
        if m:
            return Header("oom_kill", "Out of memory: Killed process",
                          {"victim_pid": int(m.group(1)), "victim_comm": m.group(2), "total_vm_kb": _kb(m.group(3)),
                           "sizes_cut": True})
    if text.startswith("Out of Memory: Killed process "):
        m = _OOM_KILLED_2_4.match(text)
        if m:
            return Header("oom_kill", "Out of memory: Killed process",
                          {"victim_pid": int(m.group(1)), "victim_comm": m.group(2)})
    if text.startswith("oom-kill:constraint="):
        f = {}
        for km in _KV.finditer(text[len("oom-kill:"):]):
            f[km.group(1)] = km.group(2)
        return Header("oom_summary", "oom-kill", f, secondary=True)
    if text.startswith(("oom_reaper: reaped process", "oom_reaper: unable to reap pid:")):
        m = _OOM_REAPER.match(text)
        f = {"victim_pid": int(m.group(1)), "victim_comm": m.group(2)} if m else {}
        return Header("oom_reaper", "oom_reaper", f)
    if (": page allocation failure: " in text or ": page allocation failure. order:" in text
            or text.rstrip().endswith(": page allocation failure:")):
        # (the last: warn_alloc()'s "%s: page allocation failure: order:%u, ..." wrapped at the
        # blank after its colon, the order and mode moved to the next line)
        m = _ALLOC_FAIL.match(text)
        f = {}
        if m:
            f = {"comm": m.group(1), "order": int(m.group(2)), "gfp_mask": m.group(3), "gfp_flags": m.group(4)}
        return Header("alloc_failure", "page allocation failure", f)
    if text.startswith("__alloc_pages: ") and "-order allocation failed" in text:
        m = _ALLOC_FAIL_24.match(text)
        f = {"order": int(m.group(1)), "gfp_mask": m.group(2)} if m else {}
        return Header("alloc_failure", "page allocation failure", f)
    if ": page allocation stall" in text:
        m = _ALLOC_STALL.match(text)
        f = {"comm": m.group(1), "stall_ms": int(m.group(2)), "order": int(m.group(3)), "gfp_mask": m.group(4)} if m else {}
        return Header("alloc_stall", "page allocation stall", f)
    if "vmalloc error: size " in text:
        m = _VMALLOC_ERR.match(text)
        f = {"comm": m.group(1), "size": int(m.group(2))} if m else {}
        return Header("vmalloc_failure", "vmalloc error", f)
    if "OOM victim " in text:
        m = _OOM_VICTIM_EXITING.match(text)
        if m:
            return Header("oom_kill", "Out of memory: Killed process",
                          {"victim_pid": int(m.group(2)), "victim_comm": m.group(3),
                           "memcg": m.group(1).startswith("Memory cgroup"), "already_exiting": True})
    if "vmalloc: allocation failure" in text:
        m = _VMALLOC_FAIL.match(text)
        f = {"comm": m.group(1), "size": int(m.group(2))} if m else {}
        return Header("vmalloc_failure", "vmalloc error", f)
    if ": vmemmap alloc failure: order:" in text:
        # mm/sparse-vmemmap.c vmemmap_alloc_block() (4.14+): warn_alloc(gfp_mask, NULL,
        # "vmemmap alloc failure: order:%u", order), printed "%s: vmemmap alloc failure:
        # order:%u, mode:%#x(%pGg), nodemask=..." with dump_stack(): the struct-page array of
        # hot-added memory could not be had, a page allocation failure of the hot-add path
        m = _VMEMMAP_FAIL.match(text)
        f = {"comm": m.group(1), "order": int(m.group(2)), "gfp_mask": m.group(3), "gfp_flags": m.group(4),
             "vmemmap": True} if m else {"vmemmap": True}
        return Header("alloc_failure", "page allocation failure", f)
    if text.startswith("percpu: allocation failed, size="):
        # mm/percpu.c pcpu_alloc() (3.x-6.x, pr_fmt "percpu: "): "allocation failed, size=%zu
        # align=%zu atomic=%d, %s", then dump_stack() the first time: a kernel allocation
        # (of per-CPU memory) that failed, reported like a page allocation failure
        return Header("alloc_failure", "page allocation failure", {"percpu": True, "detail": text[8:200]})
    if "possible memory allocation deadlock" in text and text.startswith(("XFS", "xfs")):
        m = _XFS_ALLOC_RETRY.match(text)
        if m:
            f = {"xfs_retry": True, "module": "xfs", "detail": text[:200]}
            if m.group(3):
                f["size"] = int(m.group(3))
            if m.group(5):
                f["gfp"] = m.group(5)
            return Header("alloc_failure", "XFS: possible memory allocation deadlock", f)
    if text.startswith("cma: ") and "alloc failed, req-size: " in text:
        # a CMA area could not supply a contiguous range (_CMA_FAIL): the caller gets NULL, as from
        # warn_alloc()'s report, but no stack is printed (cma_debug_show_areas() prints the bitmap)
        m = _CMA_FAIL.match(text)
        if m:
            f = {"cma": True, "cma_area": m.group(2) or "", "pages": int(m.group(3)), "errno": int(m.group(4))}
            return Header("alloc_failure", "page allocation failure", f)
    if text.startswith(("SLUB: Unable to allocate memory", "SLAB: Unable to allocate memory")):
        m = _SLAB_OOM.match(text)
        f = {"slab_oom": True}
        if m:
            f.update({"node": int(m.group(1)), "gfp_mask": m.group(2), "gfp_flags": m.group(3)})
        return Header("alloc_failure", "page allocation failure", f)
    return None


def _match_gpu(text: str, gpu: GpuData) -> Optional[Header]:
    """GPU driver reports: NVIDIA's resman, nvgpu, a driver's dev_printk() after its device
    prefix, and the driver tags and wordings that name their driver (`gpu`: the signature
    set's GPU data, signatures/lists.toml)."""
    # most messages start with none of the tags below: test the first character before each
    c = text[:1]
    nvrm = c == "N" and text.startswith("NVRM")
    m = _XID.match(text) if nvrm else None
    if m:
        xid = int(m.group(2))
        detail = m.group(3) or ""
        f = {"pci": m.group(1), "xid": xid, "detail": detail, "module": "nvidia"}
        if xid == 79 or "fallen off the bus" in detail:
            f["fallen_off_bus"] = True
        return Header("nvrm_xid", f"NVRM: Xid {xid}", f)
    if nvrm and text.startswith("NVRM: "):
        if text.startswith(("NVRM: Xid (", "NVRM: Xid:")):
            # the Xid line cut before its number (a pager, a terminal or a mail client wrapped
            # it): only kernel_rc.c prints "NVRM: Xid (": an Xid whose number is not in the excerpt
            return Header("nvrm_xid", "NVRM: Xid", {"detail": text[6:300], "module": "nvidia", "number_cut": True})
        if "GSP Timeout" in text and _NV_GSP_TIMEOUT.match(text):
            return Header("nvrm_xid", "NVRM: Xid 119", {"xid": 119, "detail": "GSP Timeout", "module": "nvidia"})
        m = _NV_BUS.match(text)
        if m or "fallen off the bus" in text or "NV_ERR_GPU_IS_LOST" in text or "GPU lost from the bus" in text \
                or _fallen_off_cut(text):
            # NV_ERR_GPU_IS_LOST's own text is "GPU lost from the bus" (nvstatuscodes.h): the resman's
            # status and assertion lines carry it when the GPU no longer answers, the Xid 79 condition
            return Header("nvrm_xid", "NVRM: GPU has fallen off the bus",
                          {"pci": m.group(1) if m else None, "xid": 79, "fallen_off_bus": True, "module": "nvidia"})
        m = _NV_RPC_TIMEOUT.match(text)
        if m or _NV_HEARTBEAT in text:
            return Header("nvrm_xid", "NVRM: Xid 119", {"xid": 119, "detail": text[6:300], "module": "nvidia"})
        if _NV_INIT_FAIL.match(text):
            # "RmInitAdapter failed!" says only that the adapter did not come up; an Xid the resman
            # printed before it (a GSP RPC timeout, fallen off the bus) says why: nvrm_report,
            # ranked below the Xids like the resman's other own reports
            return Header("gpu_fault", "nvidia: GPU initialisation failed", {"module": "nvidia", "detail": text[6:300],
                                                                            "nvrm_report": True})
        if "uvm encountered global fatal error" in text:
            # nv_gpu_ops.c nvGpuOpsReportFatalError "uvm encountered global fatal error 0x%x, requiring
            # os reboot to recover.": the GPU's memory manager gave up (with Xid 154 on recent drivers)
            return Header("gpu_fault", "nvidia: UVM fatal error", {"module": "nvidia", "detail": text[6:300]})
        if text.startswith("NVRM: A GPU crash dump has been created"):
            # the resman's crash record (rcdb), written only after a GPU error it could not
            # recover in place (fallen off the bus, GSP error, an RC error): the Xid line may be cut
            return Header("gpu_fault", "nvidia: GPU crash dump", {"module": "nvidia", "detail": text[6:300]})
        # the resman's other fault reports (RC watchdog, GSP heartbeat and crash), data with
        # their sources: signatures/lists.toml [[nvrm_fault_wordings]]
        group = gpu.nvrm_fault(text[6:].lower())
        if group is None or not group.headline:
            return None
        # nvrm_report: ranked below the Xids (rule nvrm-fault-report), which name the same failure
        return Header("gpu_fault", f"nvidia: {group.headline}", {"module": "nvidia", "detail": text[6:300],
                                                                  "nvrm_report": True})
    if c == "n" and text.startswith("nvgpu: "):
        m = _NVGPU_LOG.match(text)
        what = gpu.fault_kind(m.group(4).lower()) if m else None
        if what:
            return Header("gpu_fault", f"nvgpu: {what}", {"module": "nvgpu", "device": m.group(1) or None,
                                                          "function": m.group(2), "detail": m.group(4)[:300]})
        return None
    m = gpu.names.device_prefix.match(text)
    if m:
        drv = gpu.names.devices.get(m.group(1), m.group(1).replace("-", "_"))
        rest = _drop_driver_tags(text[m.end():], m.group(1))
        if rest.startswith("gsp: Xid:"):
            x = _NVKM_GSP_XID.match(rest)
            if x:
                # nouveau's GSP-RM path prints the firmware's own Xid (nvkm r535.c
                # r535_gsp_msg_os_error_log "Xid:%d %s"): NVIDIA's Xid, reported through nouveau
                return Header("nvrm_xid", f"NVRM: Xid {x.group(1)}",
                              {"xid": int(x.group(1)), "detail": x.group(2), "module": drv, "pci": m.group(2)})
        what = gpu.fault_kind(rest.lower()) or _handler_report(text[m.end():], gpu)
        if what:
            return Header("gpu_fault", f"{drv}: {what}", {"module": drv, "device": m.group(2), "detail": rest[:300]})
        return None
    if c in "ak" and text.startswith(("amdgpu: ", "kfd: ", "amdkfd: ")):
        # amdgpu's and amdkfd's pr_fmt without a device (amdkfd's pr_err(), 3.x "kfd: "):
        # "amdgpu: qcm fence wait loop timeout expired", "amdgpu: sq_intr: error, se 0, ..."
        rest = _drop_driver_tags(text[text.index(": ") + 2:], "amdgpu")
        what = gpu.fault_kind(rest.lower())
        if what:
            return Header("gpu_fault", f"amdgpu: {what}", {"module": "amdgpu", "detail": rest[:300]})
        return None
    if c == "n" and text.startswith("nouveau ") and text[9:10] == "[":
        m = _NOUVEAU_3X.match(text)
        if m:
            # the subdev's old name is the later nvkm tag ("fifo: ", "gr: ", "fb: "): PFIFO -> fifo,
            # PGRAPH -> gr, PFB -> fb; a client's line ("[     DRM]") has no subdev tag
            sub = m.group(1).upper()
            tag = "" if not m.group(2) else ("gr: " if sub == "PGRAPH" else sub[1:].lower() + ": "
                                              if sub.startswith("P") else sub.lower() + ": ")
            what = gpu.fault_kind(tag + m.group(3).lower())
            if what:
                return Header("gpu_fault", f"nouveau: {what}", {"module": "nouveau", "device": m.group(2),
                                                                "detail": m.group(3)[:300]})
        return None
    if c == "[" and text.startswith("[drm] nouveau ") and _OLD_NOUVEAU_FIFO.search(text):
        # nouveau before nvkm (3.x), its fifo engine's errors: nv04/nvc0_fifo.c "PFIFO_DMA_PUSHER",
        # "PFIFO_CACHE_ERROR", "PFIFO: read fault at ...", "PFIFO: unknown status 0x%08x",
        # "PFIFO - playlist update failed"
        m = _OLD_NOUVEAU_DEV.match(text)
        return Header("gpu_fault", "nouveau: GPU fifo fault", {"module": "nouveau",
                                                               "device": m.group(1) if m else None,
                                                               "detail": text[6:300]})
    if c == "[" and text.startswith("[drm] nouveau "):
        # nouveau before nvkm (2.6.3x-3.x) printed through NV_ERROR with "[drm] nouveau <dev>: ":
        # its graph engine's errors nv04/nv10/nv50_graph.c "PGRAPH_ERROR - nSource: ...",
        # "PGRAPH - ERROR nsource: ...", "PGRAPH - TRAP_MP_EXEC - TP %d MP %d: ...", and the
        # wordings read after a device prefix ("Failed to idle channel %d.", "GPU lockup - ...")
        m = _OLD_NOUVEAU_DEV.match(text)
        rest = text[m.end():] if m else text[6:]
        pg = _OLD_NOUVEAU_PGRAPH.search(rest)
        what = (f"GPU engine {pg.group(1).lower()}" if pg else None) or gpu.fault_kind(rest.lower())
        if what:
            return Header("gpu_fault", f"nouveau: {what}", {"module": "nouveau", "device": m.group(1) if m else None,
                                                            "detail": rest[:300]})
    group = gpu.driverless_report(text.lower())
    if group is not None:
        # a GPU report printed without a device prefix whose wording names the driver
        # (signatures/lists.toml [[gpu_driverless_wordings]], with the driver sources)
        return Header("gpu_fault", f"{group.driver}: {group.wordings.headline}",
                      {"module": group.driver, "detail": text[6:300] if text.startswith("[drm] ") else text[:300]})
    what = gpu.fault_kind(text[10:].lower()) if c == "d" and text.startswith("drm/i915: ") else None
    if what:
        # 3.x/4.x i915_reset(): "drm/i915: Resetting chip after gpu hang"
        return Header("gpu_fault", f"i915: {what}", {"module": "i915", "detail": text[10:300]})
    if c == "[" and text.startswith("[drm:"):
        # "[drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx timeout, signaled seq=..., emitted seq=...",
        # "[drm:i915_hangcheck_elapsed] *ERROR* Hangcheck timer elapsed... render ring hung" (built in)
        return _drm_error_report(text, 0, gpu)
    i = text.find(": [drm:", 0, _OTHER_DEVICE_MAX)
    if i > 0 and _OTHER_DEVICE.match(text, 0, i):
        # DRM_DEV_ERROR() on a device that is no GPU driver's own: msm's GMU is an unbound
        # platform device, so dev_printk() names its bus ("platform 3d6a000.gmu: [drm:a6xx_gmu_set_oob
        # [msm]] *ERROR* Timeout waiting for GMU OOB set GPU_SET: 0x0", a6xx_gmu.c). The
        # "[drm:func [module]] *ERROR* " tag is DRM's print helpers' own, so the driver it names
        # printed the line, whatever device the prefix names.
        return _drm_error_report(text, i + 2, gpu)
    return None


# dev_printk()'s "<driver or bus> <device>" before ": [drm:" (both without blanks)
_OTHER_DEVICE_MAX = 96
_OTHER_DEVICE = lazy_compile(r"[\w.-]{1,32} [\w:.@-]{1,60}$")


def _drm_error_report(text: str, pos: int, gpu: GpuData) -> Optional[Header]:
    """The GPU report of a DRM_ERROR()/DRM_DEV_ERROR() message "[drm:func [module]] *ERROR* msg"
    starting at `pos` of `text`: a fault wording of the message, or a function whose every error
    is one report; the module is the tag's, or the GPU driver the function's name belongs to."""
    m = _DRM_ERROR.match(text, pos)
    if not m:
        return None
    what = gpu.fault_kind(m.group(3).lower())
    if what is None:
        what = gpu.report_of_function(m.group(1))
    drv = (m.group(2) or "").replace("-", "_") or gpu.names.driver_of_function(m.group(1))
    if what and drv:
        return Header("gpu_fault", f"{drv}: {what}", {"module": drv, "function": m.group(1),
                                                      "detail": m.group(3)[:300]})
    return None


def _handler_report(tagged: str, gpu: GpuData) -> Optional[str]:
    """The report a DRM_DEV_ERROR() line belongs to by the function its "[drm:func [mod]]
    *ERROR* " tag names (signatures/lists.toml [[gpu_report_functions]]: the drm scheduler's
    timedout_job callbacks, msm's hangcheck_handler), the tag opening `tagged` or standing
    after amdgpu's dev_fmt "amdgpu: "; None without such a tag."""
    m = _DRM_ERROR.match(tagged)
    if m is None:
        k = tagged.find(": ", 0, 40)
        m = _DRM_ERROR.match(tagged, k + 2) if k >= 0 else None
    return gpu.report_of_function(m.group(1)) if m is not None else None


def _drop_driver_tags(rest: str, drv: str) -> str:
    """The message after a GPU device prefix without the tags the driver adds again:
    amdgpu's dev_fmt/pr_fmt "amdgpu: " (amdgpu.h, 5.x on: "amdgpu 0000:c5:00.0: amdgpu:
    GPU reset begin!"), the drm_dev_*() "[drm] " ("i915 0000:00:02.0: [drm] GPU HANG"),
    DRM_DEV_ERROR()'s "[drm:func [module]] *ERROR* " ("v3d fec00000.v3d: [drm:v3d_reset
    [v3d]] *ERROR* Resetting GPU for hang.") and the GT tags of xe_gt_printk.h /
    intel_gt_print.h ("Tile0: GT0: Timedout job: ...")."""
    tag = drv + ": "
    for _ in range(5):
        if rest.startswith(tag):
            rest = rest[len(tag):]
            continue
        m = _DRM_TAG.match(rest) or _DRM_FN_TAG.match(rest)
        if m:
            rest = rest[m.end():]
        elif rest.startswith("[drm] "):
            rest = rest[6:]
        else:
            m = _GT_TAG.match(rest)
            if not m:
                break
            rest = rest[m.end():]
    return rest.lstrip()


# Two-way dispatch: exact first-token prefixes and substring triggers.
def match_header(text: str, gpu: Optional[GpuData] = None, names: Optional[ParserNames] = None) -> Optional[Header]:
    """Recognise a report header; None for every other line. `gpu` is the GPU data of the
    run's signature set (RuleSet.gpu_data) and `names` its [parser] lists
    (RuleSet.reporters.names), the built-in data when None."""
    if not text:
        return None
    c = text[0]
    if c == " " or c == "\t":
        return None
    if gpu is None:
        gpu = builtin_gpu_data()
    if names is None:
        names = reporters().names
    hit = _by_first_char(text, c, gpu, names) if c in _FIRST_CHARS else None
    if hit is not None:
        return hit
    return _anywhere(text, gpu, names)


# The first characters _by_first_char has a branch for (it returns None for any other): most
# lines start with none, and one set lookup skips its tests
# (tests/events/test_fast_paths.py checks the set against the branches).
_FIRST_CHARS = frozenset("BWKkMVIUOgsSidPulNwrD")


def _by_first_char(text: str, c: str, gpu: GpuData, names: ParserNames) -> Optional[Header]:
    """Headers recognised by their first character and prefix."""
    if c == "B":
        if text.startswith("BUG: "):
            return _match_bug(text, names)
        if text.startswith("BUG ") and "): " in text[:120]:
            # SLUB debug: "BUG kmalloc-8 (Tainted: G B): Object already free"
            check = text[text.index("): ") + 3:]
            return Header("bad_page", "BUG: " + _cut_headline(check),
                          {"slab": text[4:text.find(" (")][:64], "slab_check": check[:120]})
        return None
    if c == "W":
        if text.startswith("WARNING: "):
            return _match_warning(text)
        if text.startswith("Watchdog detected hard LOCKUP"):
            return _hard(text)
        if text.startswith("Watchdog CPU:") and text.endswith("Hard LOCKUP"):
            # powerpc's watchdog (arch/powerpc/kernel/watchdog.c): "Watchdog CPU:%d Hard LOCKUP"
            m = _PPC_HARD.match(text)
            return Header("hard_lockup", "Hard LOCKUP", {"cpu": int(m.group(1))} if m else {})
        return None
    if c == "K":
        if text.startswith("Kernel panic - not syncing"):
            return _match_panic(text)
        if text.startswith("Kernel BUG at"):
            return _kbug(text)
        if text.startswith(("Kernel BUG [#", "Kernel BUG: ", "Kernel bug detected[#")):
            return _bug_die(text)
        if text.startswith("Kernel panic"):
            return _match_panic(text)
        if text.startswith("KASAN: ") and " in range [" in text:
            # mm/kasan/report.c kasan_non_canonical_hook(), called by x86's GPF handler (and by
            # arm64's die_kernel_fault(), whose "Mem abort info:" after it makes the report a data
            # abort: triage.events.parser._name_arm_die):
            # "KASAN: null-ptr-deref in range [0x%016lx-0x%016lx]" (also "maybe wild-memory-access",
            # "probably user-memory-access"): the pointer the code used, before KASAN's shadow
            # arithmetic made it non-canonical. A null-ptr-deref range is NULL plus an offset.
            m = _KASAN_RANGE.match(text)
            if m:
                f: Dict[str, Any] = {"kasan_range": m.group(1)}
                if m.group(1) == "null-ptr-deref":
                    f["address"] = int(m.group(2), 16)
                return Header("gpf", "general protection fault", f, secondary=True)
        return None
    if c == "k":
        if text.startswith("kernel BUG at "):
            return _kbug(text)
        if text.startswith("kasan: "):
            return None
        if text.startswith("kernel stack overflow"):
            return Header("oops_other", "kernel stack overflow", {}, secondary=True)
        if text.startswith("kernel tried to execute NX-protected page"):
            return Header("paging_fault", "BUG: unable to handle kernel paging request", {"nx": True}, secondary=True)
        return None
    if c == "M":
        if text.startswith("Mem abort info:"):
            # arm64 mem_abort_decode(): the second line of a kernel fault report; when the
            # excerpt starts here, it opens the report the die() line then completes
            return Header("oops_other", "Mem abort info", {"abort_info": True}, secondary=True)
        return None
    if c == "V":
        if text.startswith("VFS: Busy inodes after unmount"):
            # generic_shutdown_super(): inodes still referenced after the superblock went away
            return Header("kernel_bug_other", "VFS: Busy inodes after unmount (use-after-free)",
                          {"no_function": True, "oneline": True})
        if text.startswith("VM: killing process "):
            # 2.2-2.6 arch/*/mm/fault.c out_of_memory: "VM: killing process %s": the page
            # fault handler killed the faulting task because memory ran out
            return Header("oom_kill", "VM: killing process",
                          {"victim_comm": text[len("VM: killing process "):].strip()[:64], "fault_kill": True})
        return None
    if c == "I":
        if text.startswith("INFO: "):
            return _match_info(text)
        if text.startswith("Internal error: "):
            return _arm_die(text)
        return None
    if c == "U":
        if text.startswith("Unable to handle kernel "):
            m = _ARM_UNABLE.match(text)
            if m and m.group(1).startswith("NULL"):
                return Header("null_deref", "BUG: kernel NULL pointer dereference", {"address": _addr(m.group(2))})
            if m is None and text.startswith(_ARM_NULL_WORDING):
                # the line cut before its address: arm/arm64 __do_kernel_fault() says "NULL
                # pointer dereference" only for an address below PAGE_SIZE, so the wording alone
                # is the NULL dereference
                return Header("null_deref", "BUG: kernel NULL pointer dereference", {"address": None})
            if m is None:
                # powerpc before 5.x (bad_page_fault): "Unable to handle kernel paging request for
                # data at address 0x%08lx", with no NULL wording of its own
                m2 = _PPC_OLD_UNABLE.match(text)
                if m2:
                    return _paging(_addr(m2.group(1)))
            addr = _addr(m.group(2)) if m else None
            if is_near_null(addr):
                # arm/arm64 __do_kernel_fault() says "NULL pointer dereference" only below
                # PAGE_SIZE; an address up to mmap_min_addr (NEAR_NULL_LIMIT) is "paging
                # request", yet only NULL plus a structure offset reaches it, as on x86
                return Header("null_deref", "BUG: kernel NULL pointer dereference",
                              {"address": addr, "near_null": True, "what": m.group(1) if m else None})
            return Header("paging_fault", "BUG: unable to handle kernel paging request",
                          {"address": addr, "what": m.group(1) if m else None})
        if text.startswith("UBSAN: "):
            m = _UBSAN.match(text)
            what = m.group(1).strip() if m else "corrupted"
            if what.lower() == "undefined behaviour":
                what = "undefined-behaviour"
            f = {"bug_type": what}
            if m:
                f["file"] = m.group(2)
            return Header("ubsan", f"UBSAN: {what}", f)
        if text.startswith("Unhandled fault"):
            # arm64 do_bad_area()/die_kernel_fault() variants: "Unhandled fault at 0x<far>"
            m = _UNHANDLED_AT.match(text)
            return Header("oops_other", "Unhandled fault", {"far": m.group(1)} if m else {})
        return None
    if c == "O":
        if text.startswith("Oops: general protection fault"):
            return _gpf(text)
        if text.startswith("Oops: ") and len(text) > 6 and not text[6].isdigit() and not text.startswith("Oops: Oops"):
            # 6.10+: die() prefixes "Oops: " to the exception name ("Oops: int3: 0000 [#1]")
            inner = _by_first_char(text[6:], text[6], gpu, names)
            if inner is not None:
                return inner
        if text.startswith("Oops - BUG[#"):
            return _bug_die(text)
        if text.startswith("Oops"):
            return Header("oops_other", "Oops", {"detail": text[:80]}, secondary=True)
        if text.startswith("Out of memory") and ("Kill" in text):
            return _match_memory(text)
        if text.startswith("Out of memory and no killable processes"):
            # mm/oom_kill.c out_of_memory() found no victim: before 4.12 this was the panic
            # message itself; since, a warning that panic("System is deadlocked on memory")
            # follows unless the OOM is a memory cgroup's or sysrq's (the parser checks)
            return Header("panic", "kernel panic: Out of memory and no killable processes",
                          {"reason": "Out of memory and no killable processes...", "oom": True,
                           "no_killable": True})
        return None
    if c == "g":
        if text.startswith("general protection fault"):
            return _gpf(text)
        return None
    if c == "s":
        if text.startswith("scheduling while atomic: "):
            # 2.6.0-2.6.1x kernel/sched.c schedule(): "scheduling while atomic: %s/0x%08x/%d",
            # the "BUG: scheduling while atomic" of later kernels before it took the BUG: prefix
            return Header("atomic_sleep", "BUG: scheduling while atomic")
        if text.startswith("sysrq: Trigger a crash") or text.startswith("sysrq: SysRq : Trigger a crash"):
            return Header("sysrq", "sysrq: Trigger a crash", {})
        if text.startswith("stack segment: "):
            return Header("gpf", "stack segment fault", {})
        if text.startswith("segment-related general protection fault"):
            # x86 exc_general_protection() for a #GP with a selector error code:
            # "segment-related " GPFSTR through die_addr() ("Oops: " before it since 6.10)
            return Header("gpf", "general protection fault", {})
        return None
    if c == "S":
        if text.startswith("SysRq : Trigger a crash"):
            return Header("sysrq", "sysrq: Trigger a crash", {})
        if text.startswith("SError Interrupt on CPU"):
            # arm64 traps.c arm64_serror_panic(): "SError Interrupt on CPU%d, code 0x%016lx -- %s",
            # an uncontainable asynchronous external abort (the RAS/bus error report of arm64,
            # what a machine check is on x86), printed on every CPU that took it before the
            # "Asynchronous SError Interrupt" panic
            m = _SERROR.match(text)
            return Header("hw_error", "SError Interrupt", {"detail": text[:200], "cpu": int(m.group(1)) if m else None,
                                                           "esr": m.group(2) if m else None})
        return None
    if c == "i":
        if text.startswith(("invalid opcode: ", "invalid operand: ")):
            # i386 traps.c DO_ERROR_INFO(6, SIGILL, ...) of 2.4-2.6.1x said "invalid operand"
            return Header("oops_other", "invalid opcode", {}, secondary=True)
        if text.startswith("int3: "):
            return Header("oops_other", "int3", {})
        return None
    if c == "d":
        if text.startswith(("divide error: ", "divide_error: ")):
            return Header("oops_other", "divide error", {})
        return None
    if c == "D":
        if text.startswith("Data abort info:"):
            # arm64 mem_abort_decode() -> data_abort_decode() (arch/arm64/mm/fault.c), printed
            # only inside die_kernel_fault()'s report after "Mem abort info:": an excerpt that
            # starts here lost the report's head, as with "Mem abort info:" above
            return Header("oops_other", "Mem abort info", {"abort_info": True}, secondary=True)
        if text.startswith("Debug: sleeping function called "):
            # 2.5.x-2.6.1x kernel/sched.c __might_sleep(): "Debug: sleeping function called from
            # invalid context at %s:%d" (some -mm trees: "Debug: sleeping function called %s at
            # %s:%d"), renamed "BUG: sleeping function called from invalid context" with the
            # same dump_stack() after it
            return Header("atomic_sleep", "BUG: sleeping function called from invalid context",
                          _might_sleep_site(text))
        return None
    if c == "P":
        if text.startswith("PANIC: double fault"):
            return Header("oops_other", "PANIC: double fault", {})
        return None
    if c == "u":
        if text.startswith("unreferenced object 0x") and "(size " in text:
            # kmemleak's record of one leaked object; its "backtrace:" is the allocation stack.
            # After "BUG: memory leak" it belongs to that report.
            return Header("leak", "memory leak", {}, secondary=True)
        if text.startswith("usercopy: Kernel memory"):
            return Header("kernel_bug_other", "BUG: bad usercopy", {"absorbs_bug": True})
        if text.startswith("unregister_netdevice: waiting for ") and " to become free" in text:
            # netdev_wait_allrefs(): a reference to the device is never dropped
            return Header("hung_task", "unregister_netdevice: waiting for DEV to become free",
                          {"no_function": True, "oneline": True})
        return None
    if c == "l":
        if text.startswith(("list_add corruption", "list_del corruption")):
            return Header("list_corruption", "BUG: corrupted list", {"detail": text[:200], "absorbs_bug": True})
        return None
    if c == "N":
        if text.startswith("NMI watchdog: ") and "hard LOCKUP" in text:
            return _hard(text)
        if text.startswith("NMI watchdog: BUG: soft lockup"):
            return _soft(text)
        if text.startswith(("NVRM: ", "NVRM Xid (")):
            return _match_gpu(text, gpu)
        return None
    if c == "w":
        if text.startswith("watchdog: BUG: soft lockup"):
            return _soft(text)
        if text.startswith("watchdog: ") and "hard LOCKUP" in text:
            return _hard(text)
        return None
    if c == "r":
        if text.startswith("ring ") and AMDGPU_RING_TIMEOUT.match(text):
            # amdgpu's ring-timeout line without its device prefix (see AMDGPU_RING_TIMEOUT)
            return Header("gpu_fault", "amdgpu: GPU ring timeout", {"module": "amdgpu", "detail": text[:300]})
        if text.startswith("rcu: INFO: "):
            m = _RCU.match(text)
            if m:
                return Header("rcu_stall", "INFO: rcu detected stall",
                              {"flavor": m.group(1), "self_detected": m.group(2).startswith("self")})
        return None
    return None


def _anywhere(text: str, gpu: GpuData, names: ParserNames) -> Optional[Header]:
    """Headers that follow a device or process name, or a syslog-style tag."""
    c = text[:1]
    if c == "[" and text.startswith("[ ") and text.endswith(" ]") and ("BUG: " in text[:8] or "INFO: " in text[:9]):
        # 4.x lockdep banners: "[ INFO: possible circular locking dependency detected ]"
        inner = text[2:-2].strip()
        return _by_first_char(inner, inner[0], gpu, names) if inner else None
    if "[Hardware Error]: " in text:
        m = _MCE.search(text)
        detail = m.group(1) if m else ""
        kind = "mce" if text.startswith("mce:") or "Machine Check" in detail or "Machine check" in detail else "hw_error"
        if "Corrected error" in detail or "corrected error" in detail and "Uncorrected" not in detail:
            return None
        return Header(kind, "Hardware Error", {"detail": detail[:200]})
    if c == "m" and text.startswith("mce: ") and ("Machine check" in text or "Machine Check" in text) \
            and "events logged" not in text:
        return Header("mce", "Machine check", {"detail": text[5:200]})
    if c == "M" and text.startswith(("Machine check: ", "Machine Check Exception: ")):
        return Header("mce", "Machine check", {"detail": text[:200]})
    if c == "E" and text.startswith("EDAC ") and (" UE " in text or "Uncorrected" in text):
        return Header("hw_error", "EDAC uncorrected error", {"detail": text[:200]})
    # (the wordings that hold "alloc" or "kill" behind one scan for each: most lines hold neither)
    hit = _match_memory(text) if ("oom" in text or "Kill" in text or "OOM victim " in text
                                  or ("alloc" in text and ("allocat" in text or "vmalloc" in text
                                                           or "vmemmap alloc failure" in text
                                                           or "alloc failed, req-size: " in text))
                                  or ("kill" in text and ("kill process" in text or "sigkill to " in text))) else None
    if hit:
        return hit
    return _match_gpu(text, gpu)


def _kbug(text: str) -> Header:
    m = _KBUG.match(text)
    f = {"file": m.group(1), "src_line": int(m.group(2))} if m else {}
    return Header("kernel_bug", "kernel BUG", f)


# die()'s line for the BUG() trap on the architectures that do not word it "Internal error:"
# (_arm_die): riscv die() "%s [#%d]" with do_trap_break()'s "Kernel BUG", sh die() "%s: %04lx
# [#%d]" with "Kernel BUG", mips die() "%s[#%d]:" with do_bp()'s "Kernel bug detected" and
# loongarch die() "%s[#%d]:" with do_bp()'s "Oops - BUG". report_bug() prints "kernel BUG at
# %s:%u!" before each, so after that line the die line only adds to it (secondary); alone, it
# opens a BUG whose site line was lost.
_BUG_DIE = lazy_compile(r"(Kernel BUG|Kernel bug detected|Oops - BUG):? ?(?:[0-9a-fA-F]{4})? ?\[#\d{1,4}\]")


def _bug_die(text: str) -> Optional[Header]:
    """A BUG() trap's die line (_BUG_DIE): a kernel BUG that names no site."""
    m = _BUG_DIE.match(text)
    if m is None:
        return None
    return Header("kernel_bug", "kernel BUG", {"detail": text[:80], "die": m.group(1)}, secondary=True)


def _hard(text: str) -> Header:
    m = _HARD.search(text)
    return Header("hard_lockup", "Hard LOCKUP", {"cpu": int(m.group(1))} if m else {})


def _gpf(text: str) -> Header:
    m = _GPF.match(text)
    f: Dict[str, Any] = {}
    if m and m.group(1):
        f["address"] = int(m.group(1), 16)
    return Header("gpf", "general protection fault", f)
