"""Read struct layouts for the printk buffers out of VMCOREINFO, failing with the missing keys."""

from typing import Dict, Iterable

from triage.dumps.vmcoreinfo import VmcoreInfo
from triage.errors import NoLogError


def require(info: VmcoreInfo, what: str, sizes: Iterable[str] = (), offsets: Iterable[str] = (),
            symbols: Iterable[str] = ()) -> Dict[str, int]:
    """Collect SIZE/OFFSET/SYMBOL values; raise NoLogError naming every missing one."""
    out: Dict[str, int] = {}
    missing = []
    for name in sizes:
        v = info.size(name)
        (missing.append(f"SIZE({name})") if v is None else out.__setitem__(name, v))
    for name in offsets:
        v = info.offset(name)
        (missing.append(f"OFFSET({name})") if v is None else out.__setitem__(name, v))
    for name in symbols:
        v = info.symbol(name)
        (missing.append(f"SYMBOL({name})") if v is None else out.__setitem__(name, v))
    if missing:
        raise NoLogError(f"VMCOREINFO lacks what the {what} needs: {', '.join(missing)}")
    return out
