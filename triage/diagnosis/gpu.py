"""Which modules are GPU drivers.

The authoritative list is data: `[lists] gpu_modules` in the signature files
(signatures/lists.toml, extensible from user signature directories). The
analysis pipeline registers the list of the RuleSet it uses; the names the
project requires (issue 4) are always included.
"""

from typing import FrozenSet, Iterable, Optional

# Always GPU drivers, whatever the signature data says.
_BASE = frozenset({
    "nvidia", "nvidia_uvm", "nvidia_modeset", "nvidia_drm", "nvidia_peermem",
    "amdgpu", "radeon", "i915", "xe", "nouveau",
})
_registered: FrozenSet[str] = frozenset()


def register(names: Iterable[str]) -> None:
    """Add the GPU module list of the signature data in use (RuleSet.lists["gpu_modules"])."""
    global _registered
    _registered = _registered | frozenset(n.replace("-", "_") for n in names)


def gpu_modules() -> FrozenSet[str]:
    """Names of GPU driver modules known to this process."""
    return _BASE | _registered


def is_gpu_module(name: Optional[str]) -> bool:
    """True when `name` is a GPU driver module (nvidia_uvm and nvidia-uvm alike)."""
    if not name:
        return False
    return name.replace("-", "_") in gpu_modules()
