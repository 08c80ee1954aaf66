"""One name per CPU architecture.

The same machine is called `arm64` by the kernel's build banner and Debian,
and `aarch64` by ELF (e_machine 183) and utsname; `amd64` and `x86_64` are
one too. Readers keep whatever name their source gives; code that compares
names (translator choice, the log-vs-dump cross-check) compares these.
"""

from typing import Optional

# alias -> the name triage.memory's translators use
ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "x86-64": "x86_64",
           "aarch64": "aarch64", "arm64": "aarch64"}


def canonical_arch(name: Optional[str]) -> Optional[str]:
    """The canonical name of `name` ("arm64" -> "aarch64"); an unknown name as
    given (stripped, lower case), None for None."""
    if name is None:
        return None
    key = str(name).strip().lower()
    return ALIASES.get(key, key)
