"""Principles from session 9's memory-exhaustion batch zn (tests/data/posted 3400-3425, tuning
half), each keyed on a kernel format string or report structure; positive and negative cases."""

import pytest

from _posted import POSTED, posted_lines, verdict, verdict_with_function
from triage.errors import FormatError
from triage.events.headers import match_header
from triage.events.prefix import strip_prefix


# mm/cma.c cma_alloc(), pr_fmt "cma: ": pr_err("%s: alloc failed, req-size: %zu pages, ret: %d\n",
# __func__, ...) (4.10-5.12) and pr_err_ratelimited("%s: %s: alloc failed, req-size: %lu pages,
# ret: %d\n", __func__, cma->name, ...) (5.13+): a contiguous allocation failed, no stack printed
@pytest.mark.parametrize("line,area,pages,errno", [
    ("cma: cma_alloc: alloc failed, req-size: 1 pages, ret: -16", "", 1, -16),
    ("cma: cma_alloc: linux,cma: alloc failed, req-size: 148 pages, ret: -16", "linux,cma", 148, -16),
    ("cma: cma_alloc: reserved: alloc failed, req-size: 256 pages, ret: -12", "reserved", 256, -12),
    ("cma: __cma_alloc: reserved: alloc failed, req-size: 4 pages, ret: -12", "reserved", 4, -12),
])
def test_cma_alloc_failure_line_is_an_allocation_failure(line, area, pages, errno):
    h = match_header(line)
    assert h is not None and h.kind == "alloc_failure"
    assert (h.fields["cma_area"], h.fields["pages"], h.fields["errno"]) == (area, pages, errno)
    assert verdict([f"[    2.710949] {line}"]) == ("alloc_failure", None)


def test_posted_cma_failures():
    # 3403 (EBUSY during xhci probe, quoted), 3408 (a commit message without stamps, refused as
    # "not a kernel log" before), 3409 (the Samsung "[cpu: comm: pid]" column after the stamp)
    for n in ("3403", "3408", "3409"):
        assert verdict(posted_lines(n)) == ("alloc_failure", None), n


@pytest.mark.parametrize("line", [
    # cma's other messages: the reservation at boot, its debug trace, and the bitmap dump alone
    "cma: Reserved 256 MiB at 0x00000000b0000000",
    "cma: cma_alloc(cma 00000000c1e5b1a2, count 1, align 0)",
    "cma: number of available pages: 3@125+20@172=> 23 free of 81920 total pages",
    # the same words from another subsystem's pr_fmt are not cma_alloc()'s
    "foo: foo_alloc: alloc failed, req-size: 1 pages, ret: -12",
])
def test_other_cma_lines_are_no_report(line):
    h = match_header(line)
    assert h is None or h.kind != "alloc_failure", line


def test_an_oops_after_a_cma_failure_is_the_crash():
    lines = ["[    2.710949] cma: cma_alloc: alloc failed, req-size: 1 pages, ret: -12",
             "[    2.720001] BUG: kernel NULL pointer dereference, address: 0000000000000008",
             "[    2.720002] #PF: supervisor read access in kernel mode",
             "[    2.720003] Oops: 0000 [#1] SMP NOPTI",
             "[    2.720004] RIP: 0010:ext4_find_entry+0x1a/0x400",
             "[    2.720005] Call Trace:",
             "[    2.720006]  ext4_lookup+0x4e/0x1e0"]
    assert verdict(lines)[0] == "null_deref"


# Samsung's Android kernels print "[%d:%15s:%5d] " (cpu, comm, pid) after the printk stamp
def test_vendor_cpu_comm_pid_column_is_a_prefix():
    msg, ts, _, _, _ = strip_prefix("[   11.616321]  [2:   Binder:711_1:  740] cma: cma_alloc: x")
    assert msg == "cma: cma_alloc: x" and ts == 11.616321
    msg, _, _, _, _ = strip_prefix("[    0.000000]  [0:        swapper:    0] Booting Linux on physical CPU 0x0")
    assert msg == "Booting Linux on physical CPU 0x0"


@pytest.mark.parametrize("line,msg", [
    # not that column: a bracketed driver tag, a short field, a comm not padded to 15 columns
    ("[    1.000000] [drm] Initialized i915 1.6.0", "[drm] Initialized i915 1.6.0"),
    ("[    1.000000] [2: x: 7] foo", "[2: x: 7] foo"),
    ("[    1.000000] [2:Binder:711_1:  740] foo", "[2:Binder:711_1:  740] foo"),
])
def test_other_brackets_after_the_stamp_stay_message_text(line, msg):
    assert strip_prefix(line)[0] == msg


def _analyze_file(tmp_path, text):
    from triage.analysis import analyze_path
    p = tmp_path / "log.txt"
    p.write_text(text)
    return analyze_path(str(p))


def test_show_free_areas_zone_lines_make_a_kernel_log(tmp_path):
    # show_free_areas()' zone lines without stamps ("%s free:%lukB min:%lukB low:%lukB ...")
    d = _analyze_file(tmp_path, "Normal free:351096kB min:30000kB low:37500kB high:45000kB "
                                "reserved_highatomic:0KB active_anon:98060kB\n"
                                "Normal: 78*4kB (UECI) 1772*8kB (UMECI) = 489288kB\n")
    assert d.verdict.category == "none"
    d = _analyze_file(tmp_path, "DMA32 free:12kB boost:0kB min:44kB low:55kB high:66kB\n")
    assert d.verdict.category == "none"


def test_prose_about_cma_is_still_not_a_kernel_log(tmp_path):
    # negative: a paragraph naming cma_alloc, free memory and pages is not a kernel log
    with pytest.raises(FormatError):
        _analyze_file(tmp_path, "When the issue happened cma_alloc failed with -EBUSY although\n"
                                "there were still 33161 pages free (min: 30000kB, low: 37500kB) in the\n"
                                "CMA bitmap; the allocation failed, request size 148 pages.\n")


# The slab allocators' refill path (mm/slab.c cache_alloc_refill -> cache_grow -> kmem_getpages)
# is allocator code: the caller of kmalloc asked (README: the first frame outside the allocator)
_SLAB_REFILL = [
    "swapper: page allocation failure. order:3, mode:0x20",
    " [<c013cefc>] __alloc_pages+0x240/0x38c",
    " [<c013d0b7>] __get_free_pages+0x18/0x31",
    " [<c0140872>] kmem_getpages+0x1e/0xc9",
    " [<c01415e1>] cache_grow+0xbc/0x186",
    " [<c014176b>] cache_alloc_refill+0x1d4/0x214",
    " [<c0141b7f>] __kmalloc+0x7a/0x7c",
]


def test_slab_refill_frames_are_the_allocators():
    lines = _SLAB_REFILL + [" [<c0299f35>] alloc_skb+0x53/0xfc",
                            " [<f8ca0529>] e1000_alloc_rx_buffers+0x47/0xe8 [e1000]",
                            " [<f8ca0661>] e1000_clean_rx_irq+0x184/0x45e [e1000]"]
    assert verdict_with_function(lines) == ("alloc_failure", "e1000", "e1000_alloc_rx_buffers")
    # 3405: kmalloc from XFS's kmem_alloc wrapper under xfs_iext_realloc
    assert verdict(posted_lines("3405")) == ("alloc_failure", "xfs")


def test_slab_refill_for_a_core_caller_blames_no_module():
    lines = _SLAB_REFILL + [" [<c0158619>] alloc_buffer_head+0x2c/0x78",
                            " [<c01587e5>] create_empty_buffers+0x28/0x140"]
    cat, mod, fn = verdict_with_function(lines)
    assert (cat, mod) == ("alloc_failure", None) and fn not in ("cache_alloc_refill", "kmem_getpages")


# The memory reports print and return: no die() follows them. A die line after one opens a new
# report (3412: powerpc's "Unable to handle kernel paging request" re-flowed into the memcg kill
# line before "Oops: Kernel access of bad area, sig: 11 [#2]"); the later oops is the crash.
_PPC_DIE = ["Oops: Kernel access of bad area, sig: 11 [#2]",
            "SMP NR_CPUS=1024 NUMA pSeries",
            "NIP: c00000000015b778 LR: c00000000015b740 CTR: 0000000000000000",
            "DAR: 0720072007200720, DSISR: 0000000040000000",
            "NIP [c00000000015b778] .kmem_cache_alloc+0xb0/0x13c",
            "LR [c00000000015b740] .kmem_cache_alloc+0x78/0x13c",
            "Call Trace:",
            "[c000000009813310] [c00000000019bafc] .alloc_buffer_head+0x2c/0x78"]


def test_a_die_line_after_an_oom_kill_is_a_new_report():
    assert verdict(posted_lines("3412")) == ("paging_fault", None)
    kill = ["Memory cgroup out of memory: Kill process 9140 (memcg_test_1) score 3 or sacrifice child",
            "Killed process 9140 (memcg_test_1) vsz:3456kB, anon-rss:448kB, file-rss:1088kB"]
    assert verdict(kill + _PPC_DIE)[0] == "paging_fault"
    alloc = ["kswapd0: page allocation failure. order:0, mode:0x20"]
    assert verdict(alloc + _PPC_DIE)[0] == "paging_fault"


def test_a_die_line_after_its_own_header_stays_one_report():
    from triage.analysis import analyze_lines
    from triage.events.parser import parse_log
    lines = ["Unable to handle kernel paging request for data at address 0x720072007200720",
             "Faulting instruction address: 0xc00000000015b778"] + _PPC_DIE
    log = parse_log(lines)
    assert [e.kind for e in log.events] == ["paging_fault"]
    assert analyze_lines(lines).verdict.category == "paging_fault"
    # and the OOM kill alone stays an OOM kill
    assert verdict(["Memory cgroup out of memory: Kill process 9140 (memcg_test_1) score 3 or sacrifice child",
                    "Killed process 9140 (memcg_test_1) vsz:3456kB, anon-rss:448kB, file-rss:1088kB"])[0] == "oom_kill"


# sysklogd's klogd rewrote "[<c013cefc>]" into "[sym+dec/dec]" from System.map (ksym.c
# ExpandKadds): an address column before the kernel's own "sym+0x../0x.. [mod]"
def test_klogd_symbol_column_is_an_address_column():
    from triage.events.frames import parse_trace_line
    f = parse_trace_line(" [pg0+545011501/1068684288] e1000_alloc_rx_buffers+0x47/0xe8 [e1000]")
    assert (f.function, f.offset, f.module) == ("e1000_alloc_rx_buffers", 0x47, "e1000")
    assert parse_trace_line(" [__alloc_pages+576/908] __alloc_pages+0x240/0x38c").function == "__alloc_pages"
    # the column alone, or one without its decimal offset/size, is no frame
    assert parse_trace_line(" [__alloc_pages+576/908]") is None
    assert parse_trace_line(" [drm] e1000_alloc_rx_buffers") is None


# 2.6 i386 show_trace(): "Stack pointer is garbage, not printing trace" in place of the stack. A
# later report of the same request (same order and gfp mask) whose stack names the requester
# names it for the flood (3422); a report whose stack the excerpt lacks does not borrow one.
_TRACED_ATOMIC = ["swapper: page allocation failure. order:3, mode:0x20",
                  " [__alloc_pages+576/908] __alloc_pages+0x240/0x38c",
                  " [__get_free_pages+24/49] __get_free_pages+0x18/0x31",
                  " [kmem_getpages+30/201] kmem_getpages+0x1e/0xc9",
                  " [cache_grow+188/390] cache_grow+0xbc/0x186",
                  " [cache_alloc_refill+468/532] cache_alloc_refill+0x1d4/0x214",
                  " [__kmalloc+122/124] __kmalloc+0x7a/0x7c",
                  " [alloc_skb+83/252] alloc_skb+0x53/0xfc",
                  " [pg0+545011501/1068684288] e1000_alloc_rx_buffers+0x47/0xe8 [e1000]",
                  " [pg0+545010700/1068684288] e1000_clean_rx_irq+0x184/0x45e [e1000]"]


def test_stack_not_printed_takes_the_traced_report_of_the_same_request():
    assert verdict(posted_lines("3422")) == ("alloc_failure", "e1000")
    lines = ["rsync: page allocation failure. order:3, mode:0x20",
             "Stack pointer is garbage, not printing trace"] * 3 + _TRACED_ATOMIC
    assert verdict_with_function(lines) == ("alloc_failure", "e1000", "e1000_alloc_rx_buffers")


def test_an_untraced_failure_keeps_its_own_verdict():
    # no word from the kernel that it skipped the stack: the excerpt merely lacks it
    lines = ["rsync: page allocation failure. order:3, mode:0x20"] + _TRACED_ATOMIC
    assert verdict(lines) == ("alloc_failure", None)
    # another request (order 0, GFP_KERNEL) does not lend its stack
    lines = ["rsync: page allocation failure. order:0, mode:0xd0",
             "Stack pointer is garbage, not printing trace"] + _TRACED_ATOMIC
    assert verdict(lines) == ("alloc_failure", None)
