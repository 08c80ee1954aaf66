"""XFS's allocation retry report is an allocation failure in xfs.

XFS retries a failing kernel allocation instead of returning NULL, and says so every 100 tries:
2.6's fs/xfs/linux-2.6/kmem.c printk("XFS: possible memory allocation deadlock in %s
(mode:0x%x)\\n"), and 3.x-5.x fs/xfs/kmem.c kmem_alloc() / xfs_buf.c xfs_err(NULL, "%s(%u)
possible memory allocation deadlock size %u in %s (mode:0x%x)") (xfs_err prints "XFS: " or
"XFS (dev): " before it). No stack follows. The posted logs are tuning-half ones of batch zs."""

import pytest

from _posted import posted_lines, verdict
from triage.events.headers import match_header


@pytest.mark.parametrize("line, size, gfp", [
    ("XFS: possible memory allocation deadlock in kmem_alloc (mode:0x250)", None, "0x250"),
    ("xfs: possible memory allocation deadlock in kmem_alloc (mode:0xd0)", None, "0xd0"),
    ("XFS: fs_mark(3210) possible memory allocation deadlock size 65552 in kmem_alloc (mode:0x2400240)",
     65552, "0x2400240"),
    ("XFS (sdb1): kworker/u8:2(311) possible memory allocation deadlock in xfs_buf_allocate_memory "
     "(mode:0x1400240)", None, "0x1400240"),
    # a syslog line cut before its mode
    ("XFS: possible memory allocation deadlock in kmem_alloc ", None, None),
])
def test_retry_wordings_are_an_allocation_failure_in_xfs(line, size, gfp):
    h = match_header(line)
    assert h is not None and h.kind == "alloc_failure" and h.fields["module"] == "xfs"
    assert h.fields.get("size") == size and h.fields.get("gfp") == gfp
    assert verdict([f"[  120.000000] {line}"]) == ("alloc_failure", "xfs")


@pytest.mark.parametrize("line", [
    "XFS (sda1): Metadata corruption detected at xfs_dinode_verify+0x1a0/0x5e0, inode 0x83",
    "XFS (sda1): xfs_do_force_shutdown(0x2) called from line 1196 of file fs/xfs/xfs_log.c",
    "ext4: possible memory allocation deadlock in ext4_alloc (mode:0x250)",
    "someone wrote: possible memory allocation deadlock in kmem_alloc",
])
def test_other_xfs_lines_and_other_prefixes_are_not(line):
    h = match_header(line)
    assert h is None or h.kind != "alloc_failure"


@pytest.mark.parametrize("num", ["3909", "3910", "3912"])
def test_posted_xfs_retry_logs(num):
    # 3909: quoted, 2.6.38 mlock of 16 GB; 3910: no stamps, 2.6.9 usenet spool, refused as "not a
    # kernel log" before; 3912: a syslog line cut before its mode, after vmalloc-space failures
    assert verdict(posted_lines(num)) == ("alloc_failure", "xfs")
