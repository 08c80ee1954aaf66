"""init_uts_ns: hostname, kernel version string and machine of the dumped kernel."""

from typing import Optional, Tuple

from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import TriageError

_FIELD = 65   # __NEW_UTS_LEN + 1


def read_utsname(mem, info: VmcoreInfo) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(nodename, version, machine) from SYMBOL(init_uts_ns) + OFFSET(uts_namespace.name).

    Without the OFFSET key (older kernels put a kref before the name) the sysname
    "Linux" is searched for in the first 64 bytes. Nones when unreadable.
    """
    base = info.symbol("init_uts_ns")
    if base is None:
        return None, None, None
    off = info.offset("uts_namespace.name")
    try:
        if off is None:
            off = bytes(mem.read(base, 64)).find(b"Linux\0")
            if off < 0:
                return None, None, None
        raw = bytes(mem.read(base + off, 6 * _FIELD))
    except TriageError:
        return None, None, None
    fields = [raw[i * _FIELD:(i + 1) * _FIELD].split(b"\0", 1)[0].decode("utf-8", "replace") for i in range(6)]
    if fields[0] != "Linux":
        return None, None, None
    return fields[1], fields[3], fields[4]
