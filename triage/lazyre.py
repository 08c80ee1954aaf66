"""Regexes compiled on first use.

`triage analyze` imports ~110 module-level regexes of the log parser and
loads ~900 from the built-in rules, and one dump or log consults a fraction of
them: compiling them all cost ~25 ms (imports) + ~25 ms (rules) of every run.
A LazyPattern compiles on its first attribute access, then keeps the compiled
pattern's methods in its own __dict__, so later calls cost what a compiled
pattern's do (no __getattr__ on the hot path)."""

import re
from typing import Any, Optional, Pattern


class LazyPattern:
    """re.compile(pattern, flags), deferred until first used. `.pattern` is
    there without compiling; everything else is the compiled Pattern's."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._re: Optional[Pattern] = None

    def compiled(self) -> Pattern:
        """The compiled pattern (compiles it the first time; re.error if it is bad)."""
        if self._re is None:
            self._re = re.compile(self.pattern, self._flags)
        return self._re

    def __getattr__(self, name: str) -> Any:
        # only reached for names not in __dict__: the first use of each method
        if name.startswith("__") or name in ("_re", "_flags", "pattern"):
            raise AttributeError(name)
        value = getattr(self.compiled(), name)
        if callable(value):
            self.__dict__[name] = value
        return value

    def __reduce__(self):
        return (LazyPattern, (self.pattern, self._flags))

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"


def lazy_compile(pattern: str, flags: int = 0) -> LazyPattern:
    """A module-level regex compiled on first use (see LazyPattern)."""
    return LazyPattern(pattern, flags)
