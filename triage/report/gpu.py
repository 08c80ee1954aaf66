"""Which modules are GPU drivers: read from the shared list in signature data.

The list lives with the signatures (data, not code) so users can extend it;
until the signature layer exposes it, the names from issue 4 are the base.
"""

from functools import lru_cache
from typing import FrozenSet, Optional

# The base list named by the project (issue 4); the signature data extends it.
_BASE = frozenset({
    "nvidia", "nvidia_uvm", "nvidia_modeset", "nvidia_drm", "nvidia_peermem",
    "amdgpu", "radeon", "i915", "xe", "nouveau",
})


@lru_cache(maxsize=1)
def gpu_modules() -> FrozenSet[str]:
    """Names of GPU driver modules (the shared list in the signature data)."""
    names = set(_BASE)
    try:  # the signature layer owns the list; use it when present
        from triage.classify import gpu as _gpu  # type: ignore[attr-defined]
        names |= set(_gpu.gpu_modules())
    except Exception:  # noqa: BLE001 - layer not available yet: base list only
        pass
    return frozenset(names)


def is_gpu_module(name: Optional[str]) -> bool:
    """True when `name` is a GPU driver module (nvidia_uvm and nvidia-uvm alike)."""
    if not name:
        return False
    return name.replace("-", "_") in gpu_modules()
