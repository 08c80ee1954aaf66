"""The per-line fast paths of the text-log reader give what the plain forms they replace
give: the kernel-line test, the chunked line splitter and the sanitiser's control check."""

import io
import random
import re

from triage.analysis import _KERNEL_LINE
from triage.events.prefix import MAX_LINE, sanitize
from triage.events.reader import _CHUNK, _KEEP, iter_lines

# The kernel-line test as first written (word boundaries and a character class up front,
# which keep the regex engine from skipping positions): the specification of _KERNEL_LINE
_PLAIN_KERNEL_LINE = re.compile(
    r"\[\s*\d{1,12}\.\d{3,9}\]|\[\s*\+\d{1,6}\.\d{3,9}\]|\[[A-Z][a-z]{2}\s?\d{1,2} \d\d:\d\d\]"
    r"|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]|\bkernel: "
    r"|\+0x[0-9a-fA-F]{1,16}/0x[0-9a-fA-F]{1,16}"
    r"|Call Trace|Modules linked in|Tainted: |Hardware name: |Kernel panic|BUG: |WARNING: |Oops|RIP: |\bEIP: "
    r"|\bpc : |NVRM: |oom-killer|[Oo]ut of memory|Killed process|page allocation failure|blocked for more than"
    r"|VM: killing process |-order allocation failed \(gfp="
    r"|soft lockup|hard LOCKUP|rcu_sched|rcu: |general protection fault|segfault at|traps: |Machine [Cc]heck"
    r"|Linux version \d|\b(?:amdgpu|i915|nouveau|radeon|drm|nvidia|EDAC|mce|EXT4-fs|XFS)\b")

_WORDS = ["kernel: ", "xkernel: ", "_kernel: ", "EIP: ", "xEIP: ", "pc : ", "epc : ", "amdgpu", "amdgpux", "xamdgpu",
          "i915", "ai915", "nouveau", "radeon", "drm", "xdrm", "drm_", "nvidia", "EDAC", "mce", "mcex", "EXT4-fs",
          "XFS", "XFSx", "Out of memory", "out of memory", "0ut of memory", "Machine check", "Machine Check",
          "[  12.345678]", "[ +0.001000]", "[Jan 3 22:06]", "func+0x1a/0x30", "rcu_sched", "Oops", "é", "_", " ", "-",
          "sshd[2231]: Accepted publickey", "Dec  7 10:00:01 host ", "\t", "[", "k", "é kernel: "]


def test_kernel_line_regex_finds_what_the_plain_form_finds():
    rnd = random.Random(7)
    lines = list(_WORDS)
    for _ in range(20000):
        lines.append("".join(rnd.choice(_WORDS) for _ in range(rnd.randint(1, 4))))
    for line in lines:
        assert bool(_KERNEL_LINE.search(line)) == bool(_PLAIN_KERNEL_LINE.search(line)), line
    assert not _KERNEL_LINE.search("xkernel: a _EIP: b epc : c amdgpux xdrm mce_x")
    assert _KERNEL_LINE.search("host kernel: x") and _KERNEL_LINE.search("(drm)") and _KERNEL_LINE.search("i915")


def _plain_iter_lines(data: bytes):
    """The reader's contract: NULs dropped, lines split at newlines, a line kept to _KEEP bytes
    and then padded past the sanitiser's limit (counted as cut), invalid UTF-8 replaced."""
    raws = data.replace(b"\0", b"").split(b"\n")
    if raws[-1] == b"":
        raws.pop()      # nothing after the last newline
    for raw in raws:
        s = raw[:_KEEP].decode("utf-8", errors="replace")
        if len(raw) > _KEEP and len(s) <= MAX_LINE * 2:
            s += " " * (MAX_LINE * 2 + 1 - len(s))
        yield s


def test_chunked_reader_splits_like_the_plain_split():
    rnd = random.Random(3)
    sizes = [0, 1, 80, _KEEP - 1, _KEEP, _KEEP + 1, _CHUNK - 1, _CHUNK, _CHUNK + 1, 3 * _KEEP]
    cases = []
    for a in sizes:
        for b in sizes:
            for lead in (0, 1, _CHUNK - 2, _CHUNK - 1):
                for end in (b"", b"\n"):
                    cases.append(b"x" * lead + b"\n" + b"a" * a + b"\n" + b"b" * b + end)
    for _ in range(20):
        cases.append(bytes(rnd.choices(b"ab \n\0\xc3\xa9\xff", k=rnd.randint(0, 3 * _CHUNK))))
    for data in cases:
        assert list(iter_lines(io.BytesIO(data))) == list(_plain_iter_lines(data))


def test_sanitize_replaces_every_control_character():
    for c in list(range(0, 9)) + list(range(10, 32)) + [127] + list(range(0x80, 0xA0)):
        assert sanitize("a" + chr(c) + "b") == ("a?b", False), c
    assert sanitize("a\tb é\u00a0\u2028") == ("a\tb é\u00a0\u2028", False)


def test_first_char_set_is_every_branch_of_the_dispatch():
    """match_header calls _by_first_char only for a first character of _FIRST_CHARS: the set
    must hold every character the dispatch has a branch for, and the dispatch nothing else."""
    import inspect

    from triage.events import headers
    src = inspect.getsource(headers._by_first_char)
    branches = set(re.findall(r'^    if c == "(.)":', src, re.M))
    assert branches == set(headers._FIRST_CHARS)
    body = [ln for ln in src.splitlines()[1:] if ln.startswith("    ") and not ln.startswith("     ")]
    assert all(ln.startswith('    if c == "') or ln.strip().startswith(('"""', "return None")) or
               not ln.strip() for ln in body), "a statement outside the per-character branches"
