"""The GPU driver names the event parser needs, read from the built-in signature data.

signatures/lists.toml holds them once for every reader: `[gpu_devices]` (the name a
driver's dev_printk() prints before its device -> the module) and `[gpu_prefixes]`
(function prefixes of built-in drivers, for a `[drm:func] *ERROR*` line without a
`[module]` tag). The data is read once and never changes: an immutable view of the
package's own files, not state that one analysis could leave for the next.
"""

from dataclasses import dataclass
from functools import lru_cache
import re
from typing import Dict, Optional, Pattern, Tuple


@dataclass(frozen=True)
class GpuNames:
    """Driver device names (-> module), their prefix regex, and built-in function prefixes."""

    devices: Dict[str, str]
    device_prefix: Pattern[str]          # "<driver> <device>: " at the start of a message
    prefixes: Tuple[Tuple[str, str], ...]   # (function prefix, driver), longest prefix first

    def driver_of_function(self, function: Optional[str]) -> Optional[str]:
        """The built-in GPU driver whose function prefix starts `function`."""
        if not function:
            return None
        for prefix, drv in self.prefixes:
            if function.startswith(prefix):
                return drv
        return None


@lru_cache(maxsize=1)
def gpu_names() -> GpuNames:
    """The names of the built-in signature data (signatures/lists.toml)."""
    from triage.classify.rules import builtin_dir, tomllib   # classify imports events: import late
    doc = tomllib.loads((builtin_dir() / "lists.toml").read_bytes().decode("utf-8"))
    devices = {str(k): str(v).replace("-", "_") for k, v in (doc.get("gpu_devices") or {}).items()}
    names = "|".join(re.escape(n) for n in sorted(devices, key=len, reverse=True))
    # the device: a PCI address ("0000:03:00.0"), a platform device ("fec00000.v3d",
    # "3d00000.gpu") or a bare device-tree node name (vc4's "vc4-drm gpu:")
    device_prefix = re.compile(rf"({names}) ([0-9a-fA-F]{{2,4}}:[0-9a-fA-F:.]{{3,16}}|[^\s:]{{1,60}}): ")
    pairs = [(p, drv.replace("-", "_")) for drv, ps in (doc.get("gpu_prefixes") or {}).items() for p in ps]
    pairs.sort(key=lambda x: len(x[0]), reverse=True)
    return GpuNames(devices, device_prefix, tuple(pairs))
