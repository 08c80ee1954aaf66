"""Build a drgn.Program over a dump triage can open, with no debuginfo.

Memory: drgn's own core-dump reader (`set_core_dump`) where it opens the file
(ELF, kdump-compressed through its bundled libkdumpfile); otherwise (QEMU's
flattened kdump, split dumps, anything drgn rejects) physical memory is served
by triage's reader through `add_memory_segment(..., physical=True)` and the
kernel is declared with `set_linux_kernel_custom(vmcoreinfo)`.
Symbols: drgn's kallsyms loader (VMCOREINFO carries kallsyms_* since 6.0).
Types and globals: the BTF finders of triage.facts.finders, or a DWARF
vmlinux when one is given (the oracle and `--vmlinux` path).
"""

from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence

from triage.errors import TriageError

MAX_PHYS_BITS = 52            # x86_64 MAXPHYSADDR: the physical segment's upper bound
MAX_BTF_BYTES = 64 << 20


class FactsUnavailable(TriageError):
    """Dump facts cannot be read; the message is the reason shown in dump.source."""


@dataclass
class OpenedProgram:
    """A drgn Program plus how it was built (for dump.source)."""

    prog: Any
    method: str                        # "btf+kallsyms" or "dwarf"
    memory: str                        # "drgn core dump" or "triage reader"
    btf: Any = None                    # triage.facts.btf.Btf when types come from BTF
    notes: List[str] = field(default_factory=list)
    reader: Any = None                 # kept open while the Program serves reads from it

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


def _import_drgn():
    try:
        import drgn
    except ImportError:
        raise FactsUnavailable("drgn is not installed (pip install drgn) so dump facts were not read") from None
    return drgn


def open_program(paths: Sequence[str], vmlinux: Optional[str] = None) -> OpenedProgram:
    """A drgn Program over the dump `paths` (several for a split dump).

    Types come from `vmlinux` (DWARF) when given, else from the dump's BTF.
    Raises FactsUnavailable with the reason when no usable Program results.
    """
    drgn = _import_drgn()
    from triage.logsource import open_reader
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    reader = open_reader(list(paths))
    try:
        raw = reader.vmcoreinfo()
        if not raw:
            raise FactsUnavailable("the dump carries no VMCOREINFO")
        info = parse_vmcoreinfo(raw)
        facts = reader.facts()
        if (facts.arch or "x86_64") != "x86_64":
            raise FactsUnavailable(f"dump facts are read only for x86_64 dumps, not {facts.arch}")
        prog, memory, keep = _program_with_memory(drgn, reader, facts, raw, paths)
        opened = OpenedProgram(prog, "dwarf" if vmlinux else "btf+kallsyms", memory,
                               reader=reader if keep else None)
        if not keep:
            reader.close()
        if vmlinux:
            prog.load_debug_info([vmlinux])
            return opened
        _add_kallsyms(drgn, prog, info)
        from triage.facts.finders import install_btf
        opened.btf = install_btf(prog, read_btf(prog))
        return opened
    except BaseException:
        reader.close()
        raise


def _program_with_memory(drgn, reader, facts, raw: str, paths: Sequence[str]):
    """(Program with memory, how memory is read, keep the reader open?)."""
    if len(paths) == 1 and facts.format in ("elf", "kdump"):
        prog = drgn.Program()
        try:
            prog.set_core_dump(str(paths[0]))
            return prog, "drgn core dump", False
        except Exception:       # noqa: BLE001 - drgn rejects some files; triage's reader serves them
            pass
    from triage.errors import MemoryReadError
    prog = drgn.Program(drgn.Platform(drgn.Architecture.X86_64,
                                      drgn.PlatformFlags.IS_64_BIT | drgn.PlatformFlags.IS_LITTLE_ENDIAN))
    read_phys = reader.read_phys

    def read_fn(address: int, count: int, offset: int, physical: bool) -> bytes:
        try:
            return read_phys(address, count)
        except MemoryReadError as exc:
            raise drgn.FaultError(str(exc.message), address) from None

    prog.add_memory_segment(0, 1 << MAX_PHYS_BITS, read_fn, physical=True)
    prog.set_linux_kernel_custom(raw.encode() if isinstance(raw, str) else raw, False)
    return prog, "triage reader", True


def _add_kallsyms(drgn, prog, info) -> None:
    """Symbols from the kernel's own kallsyms tables (located through VMCOREINFO)."""
    if info.symbol("kallsyms_names") is None or info.symbol("kallsyms_num_syms") is None:
        raise FactsUnavailable("VMCOREINFO has no kallsyms_* symbols (kernel before 6.0 or no backport)")
    from drgn.helpers.linux.kallsyms import load_vmlinux_kallsyms
    try:
        index = load_vmlinux_kallsyms(prog)
    except Exception as exc:    # noqa: BLE001 - a damaged table must degrade, not crash
        raise FactsUnavailable(f"kallsyms could not be decoded: {exc}") from None
    prog.register_symbol_finder("kallsyms", index, enable_index=0)


def read_btf(prog) -> bytes:
    """The bytes between __start_BTF and __stop_BTF (bounded), read from the dump."""
    try:
        start = prog.symbol("__start_BTF").address
        stop = prog.symbol("__stop_BTF").address
    except LookupError:
        raise FactsUnavailable("kernel has no BTF (__start_BTF/__stop_BTF not in kallsyms)") from None
    size = stop - start
    if not 0 < size <= MAX_BTF_BYTES:
        raise FactsUnavailable(f"BTF section size {size} is not plausible")
    try:
        return prog.read(start, size)
    except Exception as exc:    # noqa: BLE001 - FaultError: BTF pages missing from the dump
        raise FactsUnavailable(f"BTF section not readable from the dump: {exc}") from None
