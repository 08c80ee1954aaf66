"""Build KernelLog and Match objects by hand for unit tests of the diagnosis.

The log lines are copied from kernel output (Debian 6.1 serial consoles of
sample_dumps/ scenarios); the Match mirrors the classify API: rule (id,
category, severity, meaning, next_steps), title, event, related, culprit,
confidence, evidence line numbers.
"""

from types import SimpleNamespace as NS
from typing import List, Sequence, Tuple

from triage.events.model import Event, Frame, KernelLog, LogLine, Module, SystemFacts


def lines_of(rows: List[Tuple[float, str]]) -> List[LogLine]:
    return [LogLine(i, text, ts) for i, (ts, text) in enumerate(rows, 1)]


def arm64_oops(pc: str, caller: str, addr: str = "0000000000000010",
               tail: Sequence[str] = ("process_one_work+0x1d0/0x320", "worker_thread+0x1f0/0x3e0")) -> List[str]:
    """An arm64 NULL-pointer oops (do_page_fault()'s header, die(), pc/lr, the call trace) faulting
    at `addr` in `pc` called from `caller`, the trace ending in the `tail` frames."""
    head = [
        f"[   12.100000] Unable to handle kernel NULL pointer dereference at virtual address {addr}",
        "[   12.100100] Internal error: Oops: 96000005 [#1] PREEMPT SMP",
        "[   12.100200] Modules linked in:",
        f"[   12.100300] pc : {pc}+0x30/0x120",
        f"[   12.100400] lr : {caller}+0x44/0x90",
        "[   12.100500] Call trace:",
        f"[   12.100600]  {pc}+0x30/0x120",
        f"[   12.100700]  {caller}+0x44/0x90",
    ]
    return head + [f"[   12.{100800 + 100 * i}]  {frame}" for i, frame in enumerate(tail)]


def match(event, category, *, rule_id=None, severity="critical", module=None, function=None,
          taint=None, title=None, related=(), evidence=(), confidence=0.9, next_steps=("read the oops",)):
    rule = NS(id=rule_id or category.replace("_", "-"), category=category, severity=severity,
              meaning=f"meaning of {category}", next_steps=list(next_steps))
    return NS(rule=rule, title=title or f"title of {category}", event=event, related=list(related),
              culprit=NS(module=module, function=function, taint=taint), confidence=confidence,
              evidence=list(evidence) or [event.line])


GPU_ALLOC_ROWS = [
    (3.10, "nvidia: trigger 'alloc_null'"),
    (3.11, "sh: vmalloc error: size 68719476736, vm_struct allocation failed, mode:0xcc2(GFP_KERNEL|__GFP_HIGHMEM), nodemask=(null),cpuset=/,mems_allowed=0"),
    (3.11, "CPU: 0 PID: 1 Comm: sh Tainted: P           OE      6.1.0-57-amd64 #1  Debian 6.1.192-3"),
    (3.11, "Call Trace:"),
    (3.11, " warn_alloc+0x138/0x160"),
    (3.11, " __vmalloc_node_range+0x54c/0x7b0"),
    (3.11, " nv_alloc_pushbuf+0x2d/0x40 [nvidia]"),
    (3.11, "Mem-Info:"),
    (3.11, "Node 0 DMA free:7696kB boost:0kB min:368kB low:460kB high:552kB reserved_highatomic:0KB"),
    (3.11, "lowmem_reserve[]: 0 94 94 94 94"),
    (3.11, "Node 0 DMA32 free:61380kB boost:0kB min:2260kB low:2824kB high:3388kB reserved_highatomic:0KB"),
    (3.31, "BUG: kernel NULL pointer dereference, address: 0000000000000008"),
    (3.31, "#PF: supervisor write access in kernel mode"),
    (3.31, "Oops: 0002 [#1] PREEMPT SMP NOPTI"),
    (3.31, "CPU: 0 PID: 1 Comm: sh Tainted: P           OE      6.1.0-57-amd64 #1  Debian 6.1.192-3"),
    (3.31, "RIP: 0010:nv_gpu_init_channel+0x14/0x50 [nvidia]"),
    (3.32, "Kernel panic - not syncing: Fatal exception"),
]


def gpu_alloc_null_log(extra_modules=()) -> Tuple[KernelLog, list]:
    lines = lines_of(GPU_ALLOC_ROWS)
    alloc = Event("vmalloc_failure", 2, lines[1].text, 3.11, end_line=11,
                  fields={"size": 68719476736, "gfp_mask": "0xcc2"},
                  frames=[Frame("warn_alloc", 0x138, 0x160), Frame("__vmalloc_node_range", 0x54c, 0x7b0),
                          Frame("nv_alloc_pushbuf", 0x2d, 0x40, "nvidia")])
    oops = Event("null_deref", 12, lines[11].text, 3.31, end_line=16, fields={"address": 8},
                 ip=Frame("nv_gpu_init_channel", 0x14, 0x50, "nvidia"), taint="P           OE", comm="sh", pid=1)
    panic = Event("panic", 17, lines[16].text, 3.32, fields={"reason": "Fatal exception"})
    facts = SystemFacts(kernel_release="6.1.0-57-amd64", taint="P           OE", arch="x86_64",
                        hardware="QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
                        modules=[Module("nvidia", "POE"), Module("acme_storage", "OE"), *extra_modules])
    log = KernelLog(lines, [alloc, oops, panic], facts)
    m = match(oops, "gpu_alloc_fail_null_deref", module="nvidia", function="nv_gpu_init_channel",
              taint="POE", related=[alloc], evidence=[2, 12, 16, 17],
              title="BUG: kernel NULL pointer dereference in nv_gpu_init_channel [nvidia]")
    return log, [m]
