"""The small exception hierarchy of triage and the exit codes the CLI maps it to.

Library code raises these; only the CLI boundary (triage.cli) turns them into a
one-line message on stderr and an exit code. The codes are documented in
docs/exit-codes.md.
"""

from contextlib import contextmanager
from typing import Iterator, Optional

EXIT_OK = 0
EXIT_INTERNAL = 1       # a bug in triage (message asks for a report)
EXIT_USAGE = 2          # bad command line (click's own code)
EXIT_INPUT = 3          # path missing, unreadable, a directory, empty
EXIT_FORMAT = 4         # not a dump or kernel log triage recognises
EXIT_CORRUPT = 5        # recognised format, but damaged beyond use
EXIT_PARTIAL = 6        # output printed, but the dump is truncated/incomplete
EXIT_NO_LOG = 7         # dump readable but holds no usable kernel log / VMCOREINFO
EXIT_SIGNATURES = 8     # a signature rule file is invalid
EXIT_BATCH_ERRORS = 9   # batch finished, but some dumps ended as errors
EXIT_ARCH = 10          # the dump's CPU architecture is unknown or not supported
EXIT_OUTPUT = 11        # the output could not be written (disk full, broken pipe, unwritable file)


class TriageError(Exception):
    """Base of every error triage reports to a user."""

    exit_code = EXIT_INTERNAL
    hint: Optional[str] = None      # what the user can do instead, after the offset

    def __init__(self, message: str, *, path: Optional[str] = None, offset: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.offset = offset

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}: "
        tail = f" (at offset {self.offset:#x})" if self.offset is not None else ""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{where}{self.message}{tail}{hint}"


class InputError(TriageError):
    """The input cannot be opened as a file: missing, unreadable, directory, empty."""

    exit_code = EXIT_INPUT


class UsageError(TriageError):
    """The command line asks for something the command does not do (several dumps to
    `analyze`): one line and exit 2, as click's own usage errors, without its usage text."""

    exit_code = EXIT_USAGE


class FormatError(TriageError):
    """The input is not in a format triage understands."""

    exit_code = EXIT_FORMAT


class CorruptDumpError(TriageError):
    """A recognised dump whose structures are damaged."""

    exit_code = EXIT_CORRUPT


class MemoryReadError(TriageError):
    """An address is not present in the dump (excluded, truncated or unmapped)."""

    exit_code = EXIT_CORRUPT

    def __init__(self, message: str, *, address: Optional[int] = None, **kw):
        super().__init__(message, **kw)
        self.address = address


class NoLogError(TriageError):
    """The dump has no VMCOREINFO or no printk buffer triage can find."""

    exit_code = EXIT_NO_LOG


class OutputError(TriageError):
    """The report or log could not be written: disk full, unwritable file, closed pipe."""

    exit_code = EXIT_OUTPUT

    def __init__(self, message: str, *, errno: Optional[int] = None, **kw):
        super().__init__(message, **kw)
        self.errno = errno      # EPIPE: the reader went away on purpose, the CLI stays quiet


class UnsupportedArchError(TriageError):
    """The dump is from an architecture triage cannot translate addresses for (or
    whose architecture it cannot tell); the message names it."""

    exit_code = EXIT_ARCH


class SignatureError(TriageError):
    """A signature rule file is malformed; the message names the file and rule."""

    exit_code = EXIT_SIGNATURES


@contextmanager
def about_input(path: str) -> Iterator[None]:
    """Name `path` in any TriageError raised inside that does not name a file yet.

    Deep layers (memory reads, printk walks) know addresses, not file names;
    the user needs both."""
    try:
        yield
    except TriageError as exc:
        if exc.path is None:
            exc.path = str(path)
        raise
