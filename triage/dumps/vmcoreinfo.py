"""VMCOREINFO: the `KEY=value` text the kernel leaves for dump tools, as a typed object.

The kernel writes SYMBOL(name)=hex, SIZE(type)=dec, OFFSET(type.member)=dec,
LENGTH(name)=dec and NUMBER(name)=dec (or negative) lines, plus bare keys such as
OSRELEASE, BUILD-ID, PAGESIZE, KERNELOFFSET (hex) and CRASHTIME (appended at
crash time; the last line may lack its newline). Unknown keys are kept raw.
"""

from typing import Dict, Optional

from triage.datarecord import DataRecord, Factory
from triage.errors import NoLogError

_KINDS = ("SYMBOL", "SIZE", "OFFSET", "LENGTH", "NUMBER")
# CRASHTIME is the kernel's real-time clock in seconds (ktime_get_real_seconds()): never
# negative, and a value past year 9999 (what Python's datetime can show) is damage.
CRASHTIME_MAX = 253402300799


def _to_int(value: str, base: int) -> Optional[int]:
    value = value.strip()
    try:
        if base == 16:
            return int(value, 16)
        if value.lower().startswith(("0x", "-0x")):
            return int(value, 16)
        return int(value, 10)
    except ValueError:
        return None


class VmcoreInfo(DataRecord):
    """Parsed VMCOREINFO. Lookups return None for keys the kernel did not export."""

    raw: str = ""
    symbols: Dict[str, int] = Factory(dict)
    sizes: Dict[str, int] = Factory(dict)
    offsets: Dict[str, int] = Factory(dict)
    lengths: Dict[str, int] = Factory(dict)
    numbers: Dict[str, int] = Factory(dict)
    values: Dict[str, str] = Factory(dict)   # bare KEY=value lines

    # -- typed accessors --------------------------------------------------
    def symbol(self, name: str) -> Optional[int]:
        return self.symbols.get(name)

    def size(self, name: str) -> Optional[int]:
        return self.sizes.get(name)

    def offset(self, name: str) -> Optional[int]:
        """OFFSET(type.member); name is "type.member"."""
        return self.offsets.get(name)

    def length(self, name: str) -> Optional[int]:
        return self.lengths.get(name)

    def number(self, name: str) -> Optional[int]:
        return self.numbers.get(name)

    @property
    def osrelease(self) -> Optional[str]:
        return self.values.get("OSRELEASE")

    @property
    def build_id(self) -> Optional[str]:
        return self.values.get("BUILD-ID")

    @property
    def page_size(self) -> Optional[int]:
        v = self.values.get("PAGESIZE")
        return _to_int(v, 10) if v is not None else None

    @property
    def kernel_offset(self) -> Optional[int]:
        """KASLR offset of the kernel image (KERNELOFFSET is hex without 0x)."""
        v = self.values.get("KERNELOFFSET")
        return _to_int(v, 16) if v is not None else None

    @property
    def crash_time(self) -> Optional[int]:
        """Seconds since the epoch when the kernel crashed (CRASHTIME); None when absent,
        not a number, negative or past year 9999."""
        v = self.values.get("CRASHTIME")
        t = _to_int(v, 10) if v is not None else None
        # an impossible value is treated as absent, as a non-numeric one is
        return t if t is not None and 0 <= t <= CRASHTIME_MAX else None

    def __contains__(self, key: str) -> bool:
        return key in self.values or any(
            key in d for d in (self.symbols, self.sizes, self.offsets, self.lengths, self.numbers))


# Keys only one architecture's kernel exports (arch/x86/kernel/machine_kexec_64.c,
# arch/arm64/kernel/crash_core.c).
_ARCH_KEYS = (("x86_64", ("SYMBOL(init_top_pgt)=", "SYMBOL(init_level4_pgt)=")),
              ("aarch64", ("NUMBER(kimage_voffset)=",)))


def arch_of_text(text: Optional[str]) -> Optional[str]:
    """The architecture ("x86_64", "aarch64") whose own keys the VMCOREINFO text holds
    (at a line start), or None."""
    if not text:
        return None
    for arch, keys in _ARCH_KEYS:
        for key in keys:
            if text.startswith(key) or "\n" + key in text:
                return arch
    return None


def parse_vmcoreinfo(text: str) -> VmcoreInfo:
    """Parse VMCOREINFO text; tolerant of NUL padding, CR, and a final line without newline.

    Raises NoLogError when the text holds no KEY=value line at all.
    """
    info = VmcoreInfo(raw=text)
    found = False
    for line in text.replace("\0", "\n").splitlines():
        line = line.strip()
        if not line or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        value = value.strip()
        paren = key.find("(")
        if paren > 0 and key.endswith(")") and key[:paren] in _KINDS:
            kind, name = key[:paren], key[paren + 1:-1]
            num = _to_int(value, 16 if kind == "SYMBOL" else 10)
            if num is None:
                continue
            {"SYMBOL": info.symbols, "SIZE": info.sizes, "OFFSET": info.offsets,
             "LENGTH": info.lengths, "NUMBER": info.numbers}[kind][name] = num
        else:
            info.values[key] = value
        found = True
    if not found:
        raise NoLogError("VMCOREINFO holds no KEY=value lines")
    return info
