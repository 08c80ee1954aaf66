"""Build a drgn.Program over a dump triage can open, with no debuginfo.

Memory: drgn's own core-dump reader (`set_core_dump`) where it opens the file
(ELF, kdump-compressed through its bundled libkdumpfile); otherwise (QEMU's
flattened kdump, split dumps, anything drgn rejects) physical memory is served
by triage's reader through `add_memory_segment(..., physical=True)` and the
kernel is declared with `set_linux_kernel_custom(vmcoreinfo)`.
Symbols: drgn's kallsyms loader, on the tables VMCOREINFO names (6.0+) or,
before 6.0, on those triage.facts.kallsyms_scan finds in the kernel image.
Types and globals: the BTF finders of triage.facts.finders, or a DWARF
vmlinux when one is given (the oracle and `--vmlinux` path).
"""

import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from triage.errors import EXIT_NO_LOG, TriageError
from triage.facts.kallsyms_scan import MAX_SYMS as MAX_KALLSYMS, MAX_TOKEN
from triage.memory.x86_64 import DEFAULT_KERNEL_IMAGE_SIZE, START_KERNEL_MAP

MAX_PHYS_BITS = 52            # x86_64 MAXPHYSADDR: the physical segment's upper bound
MAX_BTF_BYTES = 64 << 20
PAGE = 4096
MAX_CACHED_PAGES = 4096       # 16 MiB of kernel-image pages at most


class FactsUnavailable(TriageError):
    """Dump facts cannot be read; the message is the reason shown in dump.source
    (`triage analyze`) or the error of `triage shell` (exit 7: the dump lacks what
    drgn needs without debuginfo, e.g. kallsyms in VMCOREINFO or BTF)."""

    exit_code = EXIT_NO_LOG


@dataclass
class OpenedProgram:
    """A drgn Program plus how it was built (for dump.source)."""

    prog: Any
    method: str                        # "btf+kallsyms" or "dwarf"
    memory: str                        # "drgn core dump" or "triage reader"
    # {file, how, rejected}: the DWARF vmlinux used (file None when none) and why others were not
    debuginfo: Dict[str, Any] = field(default_factory=lambda: {"file": None, "how": None, "rejected": []})
    btf: Any = None                    # triage.facts.btf.Btf when types come from BTF
    notes: List[str] = field(default_factory=list)
    reader: Any = None                 # kept open while the Program serves reads from it
    kallsyms: Optional[str] = None     # where the kallsyms tables were found: "vmcoreinfo" or "scan"
    # CPU -> struct pt_regs bytes from the dump's PRSTATUS notes, for Programs drgn
    # did not open itself (it then has no saved registers for the running tasks)
    cpu_regs: Dict[int, bytes] = field(default_factory=dict)
    arch: str = "x86_64"

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


def _import_drgn():
    # drgn loads third-party plugins (importlib.metadata entry points) when the
    # first Program is made: that scan costs ~0.3 s, and no plugin should run
    # while triage reads an untrusted dump. Respect a user's own setting.
    os.environ.setdefault("DRGN_DISABLE_PLUGINS", "*")
    try:
        import drgn
    except ImportError:
        raise FactsUnavailable("drgn is not installed (pip install drgn) so dump facts were not read") from None
    return drgn


KALLSYMS_SOURCES = ("auto", "vmcoreinfo", "scan")


def open_program(paths: Sequence[str], vmlinux: Optional[str] = None,
                 triage_reader: bool = False, search_debuginfo: bool = False,
                 debuginfo_root: str = "/", strict_vmlinux: bool = True,
                 kallsyms: str = "auto") -> OpenedProgram:
    """A drgn Program over the dump `paths` (several for a split dump).

    Types come from DWARF when a vmlinux matching the dump is at hand: `vmlinux`
    when given, else (`search_debuginfo`) the standard debuginfo paths under
    `debuginfo_root` (triage.facts.debuginfo), else debuginfod when the user set
    DEBUGINFOD_URLS. A found vmlinux that does not match the dump is ignored, and
    `debuginfo.rejected` says why; so is a given `vmlinux` with
    `strict_vmlinux=False`, while by default it raises FactsUnavailable (a caller
    that names a file, like the drgn+DWARF oracle, must not get BTF instead).
    Otherwise types come from the dump's BTF.
    `triage_reader=True` serves memory through triage's reader even where drgn
    could open the file (tests compare the two paths on the same dump).
    `kallsyms`: where the symbol tables are found: "vmcoreinfo" (6.0+), "scan"
    (the kernel image, as for older kernels), "auto" (VMCOREINFO when it names
    them, else the scan).
    Raises FactsUnavailable with the reason when no usable Program results.
    """
    if kallsyms not in KALLSYMS_SOURCES:
        raise ValueError(f"kallsyms must be one of {KALLSYMS_SOURCES}, not {kallsyms!r}")
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
        arch = dump_arch(facts.arch, info)
        # checked once: it walks every page descriptor (page_data_past_end)
        refused = _libkdumpfile_refusal(reader, facts)
        prog, memory, keep = _program_with_memory(drgn, reader, facts, raw, paths, triage_reader, arch, refused)
        if arch == "aarch64":
            _add_arm64_image_segment(prog, info, reader.read_phys if keep else None)
        else:
            _add_kernel_image_segment(prog, info, reader.read_phys if keep else None)
        opened = OpenedProgram(prog, "btf+kallsyms", memory,
                               reader=reader if keep else None,
                               # drgn finds a running task's registers through crash_notes,
                               # which a functions-only kallsyms (arm64) lacks: keep PRSTATUS
                               cpu_regs=prstatus_regs(reader.notes(), arch)
                               if keep or arch != "x86_64" else {})
        opened.arch = arch
        if keep and refused:
            opened.notes.append(f"memory read through triage's reader, not libkdumpfile: {refused}"[:400])
        if _load_dwarf(drgn, prog, info, opened, vmlinux, search_debuginfo, debuginfo_root, strict_vmlinux):
            if not keep:
                reader.close()
            opened.method = "dwarf"
            opened.notes += _module_symbols(prog)
            return opened
        use_scan = kallsyms == "scan" or (kallsyms == "auto" and _vmcoreinfo_locations(info) is None)
        # the scan reads the image through triage's own reader and translator
        loc = _scan_locations(reader, info, arch) if use_scan else _vmcoreinfo_locations(info)
        if not keep:
            reader.close()
        try:
            if loc is None:
                raise FactsUnavailable("VMCOREINFO has no kallsyms_* symbols")
            _add_kallsyms(drgn, prog, info, loc, arch, scanned=use_scan)
        except FactsUnavailable as exc:
            if opened.debuginfo["rejected"]:      # say why no vmlinux served instead
                exc.message += "; debuginfo not used: " + "; ".join(opened.debuginfo["rejected"])
            raise
        opened.kallsyms = "scan" if use_scan else "vmcoreinfo"
        from triage.facts.finders import install_btf
        blob, symbols = _btf_and_symbols(prog, info, opened.notes)
        opened.btf = install_btf(prog, blob, symbols)
        opened.notes += _enable_orc(drgn, prog)
        return opened
    except BaseException:
        reader.close()
        raise


ARCHES = {"x86_64": "X86_64", "aarch64": "AARCH64"}


def dump_arch(arch: Optional[str], info) -> str:
    """The dump's architecture as triage.memory names it ("x86_64", "aarch64"): the
    file's own word, else the VMCOREINFO keys only one architecture exports.
    FactsUnavailable for any other (drgn Programs are built for these two only)."""
    from triage.memory.arch import _ALIASES, arch_from_vmcoreinfo
    name = _ALIASES.get(arch) if arch else arch_from_vmcoreinfo(info)
    if name not in ARCHES:
        raise FactsUnavailable(f"dump facts are read for x86_64 and aarch64 dumps only, not {arch or 'this one'}")
    return name


# libkdumpfile (drgn's kdump reader) reads a page bitmap whole into memory: past this
# (a 2 TiB machine's bitmap with 4 KiB pages) the dump is read through triage's
# reader, which counts the bitmap a chunk at a time.
MAX_LIBKDUMPFILE_BITMAP = 64 << 20


def _libkdumpfile_refusal(reader, facts) -> Optional[str]:
    """Why a kdump file must not be handed to libkdumpfile, or None.

    It maps the areas the header names and the page data and reads them in place: an
    area or a page past the end of the file (a damaged offset_eraseinfo, size_note,
    page descriptor offset, or a file cut inside a page) kills the process with
    SIGBUS, which no handler can catch. And it allocates the whole page bitmap: a
    header claiming 2**36 pages (a sparse file of a few KB) made it allocate 8 GiB."""
    if facts.format != "kdump":
        return None
    past_end = getattr(reader, "areas_past_end", lambda: [])()
    if past_end:
        return "; ".join(past_end)
    bitmap = getattr(reader, "bitmap_bytes", lambda: 0)()
    if bitmap > MAX_LIBKDUMPFILE_BITMAP:
        return (f"its page bitmap is {bitmap} bytes (more than {MAX_LIBKDUMPFILE_BITMAP}, "
                f"which libkdumpfile would hold in memory)")
    # a page past the end is read in place too: SIGBUS (one damaged descriptor offset did it)
    pages = getattr(reader, "page_data_past_end", None)
    return pages() if pages is not None else None


def _program_with_memory(drgn, reader, facts, raw: str, paths: Sequence[str], triage_reader: bool = False,
                         arch: str = "x86_64", refused: Optional[str] = None):
    """(Program with memory, how memory is read, keep the reader open?). `refused`:
    why libkdumpfile must not read the file (_libkdumpfile_refusal), or None."""
    if len(paths) == 1 and facts.format in ("elf", "kdump") and not triage_reader and not refused:
        prog = drgn.Program()
        try:
            prog.set_core_dump(str(paths[0]))
            return prog, "drgn core dump", False
        except Exception:       # noqa: BLE001 - drgn rejects some files; triage's reader serves them
            pass
    from triage.errors import MemoryReadError
    prog = drgn.Program(drgn.Platform(getattr(drgn.Architecture, ARCHES[arch]),
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


class _PageCache:
    """Page-sized reads of physical memory, remembered (bounded) for small reads."""

    def __init__(self, read_phys: Callable[[int, int], bytes], limit: int = MAX_CACHED_PAGES):
        self._read = read_phys
        self._pages: Dict[int, bytes] = {}
        self._limit = limit

    def read(self, paddr: int, count: int) -> bytes:
        off = paddr & (PAGE - 1)
        if off + count > PAGE:
            return self._read(paddr, count)
        page = self._pages.get(paddr - off)
        if page is None:
            page = self._read(paddr - off, PAGE)
            if len(self._pages) >= self._limit:
                self._pages.clear()
            self._pages[paddr - off] = page
        return page[off:off + count]


def _add_kernel_image_segment(prog, info, read_phys: Optional[Callable[[int, int], bytes]]) -> None:
    """Serve the kernel image's virtual range (x86_64: vaddr - __START_KERNEL_map +
    phys_base, the same window triage's translator uses) without page-table walks.

    drgn's kallsyms loader makes ~100k small reads; through a page walk each
    (QEMU ELF has no virtual addresses, flattened dumps go through Python for
    every table level) they cost 0.25-0.4 s, through this cached segment ~0.1 s.
    Without NUMBER(phys_base) drgn's own page walk stays in charge."""
    phys_base = info.number("phys_base")
    if phys_base is None:
        return
    size = info.number("KERNEL_IMAGE_SIZE") or DEFAULT_KERNEL_IMAGE_SIZE
    _add_linear_segment(prog, START_KERNEL_MAP, size, START_KERNEL_MAP - phys_base, read_phys)


def _add_arm64_image_segment(prog, info, read_phys: Optional[Callable[[int, int], bytes]]) -> None:
    """arm64's kernel image, _stext up to swapper_pg_dir (text, rodata with the
    kallsyms tables and BTF), served as vaddr - kimage_voffset: the window
    triage's aarch64 translator uses, so kallsyms and BTF need no page walks."""
    voff, lo, pgd = info.number("kimage_voffset"), info.symbol("_stext"), info.symbol("swapper_pg_dir")
    if voff is None or lo is None or pgd is None or not 0 < pgd - lo <= MAX_IMAGE_BYTES:
        return
    _add_linear_segment(prog, lo, pgd - lo, voff, read_phys)


def _add_linear_segment(prog, start: int, size: int, virt_minus_phys: int,
                        read_phys: Optional[Callable[[int, int], bytes]]) -> None:
    """A virtual segment [start, start+size) read as physical vaddr - virt_minus_phys,
    through a small page cache (from `read_phys`, else drgn's own physical reads)."""
    import drgn
    from triage.errors import MemoryReadError
    if read_phys is None:
        def read_phys(paddr: int, count: int) -> bytes:
            return prog.read(paddr, count, True)
    cache = _PageCache(read_phys)

    def read_fn(address: int, count: int, offset: int, physical: bool) -> bytes:
        try:
            return cache.read((address - virt_minus_phys) & ((1 << 64) - 1), count)
        except MemoryReadError as exc:
            raise drgn.FaultError(str(exc.message), address) from None

    prog.add_memory_segment(start, size, read_fn)


MAX_IMAGE_BYTES = 1 << 30
PRSTATUS_REG_OFFSET = 112     # struct elf_prstatus (64-bit): pr_reg follows 112 bytes of header
# struct pt_regs starts with the registers PRSTATUS carries: x86_64 the first 21
# slots of user_regs_struct (r15..ss), arm64 user_pt_regs (x0-x30, sp, pc, pstate)
PT_REGS_SIZE = {"x86_64": 21 * 8, "aarch64": 34 * 8}
MAX_CPUS = 8192


def prstatus_regs(notes: Sequence[Any], arch: str = "x86_64") -> Dict[int, bytes]:
    """CPU number -> the pt_regs prefix of each NT_PRSTATUS note, in note order (the
    order kdump and QEMU write them: one per CPU, ascending)."""
    size = PT_REGS_SIZE[arch]
    out: Dict[int, bytes] = {}
    for n in notes:
        if n.type == 1 and len(n.desc) >= PRSTATUS_REG_OFFSET + size and len(out) < MAX_CPUS:
            out[len(out)] = bytes(n.desc[PRSTATUS_REG_OFFSET:PRSTATUS_REG_OFFSET + size])
    return out


def _vmcoreinfo_locations(info):
    """The kallsyms tables VMCOREINFO names (6.0+), or None."""
    from triage.facts.kallsyms_scan import KallsymsLocations
    need = ("kallsyms_names", "kallsyms_num_syms", "kallsyms_token_table", "kallsyms_token_index")
    if any(info.symbol(k) is None for k in need):
        return None
    if info.symbol("kallsyms_offsets") is None and info.symbol("kallsyms_addresses") is None:
        return None
    return KallsymsLocations(
        num_syms=0, kallsyms_num_syms=info.symbol("kallsyms_num_syms"),
        kallsyms_names=info.symbol("kallsyms_names"), kallsyms_markers=0,
        kallsyms_token_table=info.symbol("kallsyms_token_table"),
        kallsyms_token_index=info.symbol("kallsyms_token_index"),
        kallsyms_offsets=info.symbol("kallsyms_offsets") or 0,
        kallsyms_relative_base=info.symbol("kallsyms_relative_base") or 0,
        kallsyms_addresses=info.symbol("kallsyms_addresses") or 0)


X86_64_TEXT_BASE = START_KERNEL_MAP + 0x1000000    # _text without KASLR (CONFIG_PHYSICAL_START 16 MiB)


def kernel_stext(info, arch: Optional[str]) -> Optional[int]:
    """_stext: VMCOREINFO's SYMBOL(_stext), else (x86_64) the default text base + KERNELOFFSET."""
    stext = info.symbol("_stext")
    if stext is None and (arch or "x86_64") == "x86_64":
        stext = X86_64_TEXT_BASE + (info.kernel_offset or 0)
    return stext


def _scan_locations(reader, info, arch: Optional[str]):
    """The kallsyms tables found by scanning the kernel image (FactsUnavailable when not)."""
    from triage.errors import TriageError
    from triage.facts.kallsyms_scan import scan_kallsyms
    from triage.memory.kernel import KernelMemory
    stext = kernel_stext(info, arch)
    if stext is None:
        raise FactsUnavailable("VMCOREINFO has no kallsyms_* symbols and no _stext to scan the image from")
    try:
        mem = KernelMemory(reader, info, arch=arch)

        def read(vaddr: int, size: int) -> bytes:
            return bytes(mem.read_tolerant(vaddr, size)[0])
        return scan_kallsyms(read, stext, stext, _image_span(info, stext), _data_start(info, stext))
    except TriageError as exc:
        raise FactsUnavailable(f"no kallsyms tables found by scanning the kernel image (VMCOREINFO "
                               f"names them only from 6.0): {exc.message}") from None


DEFAULT_SCAN = 64 << 20


def _image_span(info, stext: int) -> int:
    """Bytes from _stext to the last VMCOREINFO variable in the kernel image (.data
    and .bss follow .rodata, where kallsyms is); DEFAULT_SCAN when none is there."""
    inside = [v for v in info.symbols.values() if stext < v < stext + (1 << 30)]
    return max(inside) - stext if inside else DEFAULT_SCAN


def _data_start(info, stext: int) -> Optional[int]:
    """The lowest VMCOREINFO variable in the kernel image (its .data, above the
    read-only data holding kallsyms), or None."""
    inside = [v for v in info.symbols.values() if stext < v < stext + (1 << 30)]
    return min(inside) if inside else None


# SYMBOL()s every kernel's VMCOREINFO exports whose value is the symbol's address
# (mem_section's is the pointer's value): the scanned table must agree with them
CHECK_SYMBOLS = ("_stext", "init_uts_ns", "swapper_pg_dir", "init_top_pgt", "vmap_area_list",
                 "node_online_map", "node_data", "prb", "printk_rb_static", "clear_seq",
                 "log_buf", "log_buf_len", "log_first_idx", "log_next_idx")


def _add_kallsyms(drgn, prog, info, loc, arch: str, scanned: bool) -> None:
    """Symbols from the kernel's own kallsyms tables at `loc` (KallsymsLocations)."""
    # drgn sizes its tables by kallsyms_num_syms: bound it before drgn allocates
    try:
        (n,) = struct.unpack("<I", prog.read(loc.kallsyms_num_syms, 4))
    except Exception as exc:    # noqa: BLE001 - FaultError: the page is not in the dump
        raise FactsUnavailable(f"kallsyms_num_syms not readable: {exc}") from None
    if not 0 < n <= MAX_KALLSYMS:
        raise FactsUnavailable(f"kallsyms_num_syms {n} is not plausible (1..{MAX_KALLSYMS})")
    # scanned tables were found by these same checks (tokens short and ordered, the
    # n names filling their marked blocks exactly): only VMCOREINFO's are checked here
    names = _names_bytes(prog, loc)
    problem = None if scanned else _kallsyms_tables_problem(prog, loc, n, names)
    if problem:
        raise FactsUnavailable(f"kallsyms tables look damaged: {problem}")
    if names:
        _add_bytes_segment(prog, loc.kallsyms_names, names)
    try:
        if scanned:
            index = _load_kallsyms_at(prog, loc, kernel_stext(info, arch))
        else:
            from drgn.helpers.linux.kallsyms import load_vmlinux_kallsyms
            index = load_vmlinux_kallsyms(prog)
    except FactsUnavailable:
        raise
    except Exception as exc:    # noqa: BLE001 - a damaged table must degrade, not crash
        raise FactsUnavailable(f"kallsyms could not be decoded: {exc}") from None
    if scanned:
        _check_scanned(prog, index, info)
    prog.register_symbol_finder("kallsyms", index, enable_index=0)


DEBUGINFOD_MAXTIME_S = "300"     # libdebuginfod's whole-download limit, unless the user set one


def _load_dwarf(drgn, prog, info, opened: OpenedProgram, vmlinux: Optional[str],
                search: bool, root: str, strict: bool = True) -> bool:
    """Load the DWARF vmlinux matching the dump into `prog`; False when there is none.
    Fills opened.debuginfo with the file used and every file rejected, with why."""
    from triage.facts.debuginfo import find_vmlinux, mismatch
    di = opened.debuginfo
    path, how = None, None
    if vmlinux:
        why = mismatch(vmlinux, info.osrelease, info.build_id)
        if why is None:
            path, how = vmlinux, "--vmlinux"
        elif strict:
            raise FactsUnavailable(f"{vmlinux} is not this dump's vmlinux: {why}")
        else:
            di["rejected"].append(f"{vmlinux}: {why}")
    if path is None and search:
        found = find_vmlinux(info.osrelease, info.build_id, root)
        di["rejected"] += found.rejected
        path, how = found.path, found.how
    if path is not None:
        try:
            prog.load_debug_info([path])
        except Exception as exc:     # noqa: BLE001 - MissingDebugInfoError: the file has no usable DWARF
            if strict and how == "--vmlinux":
                raise FactsUnavailable(f"drgn could not load {path}: {exc}"[:300]) from None
            di["rejected"].append(f"{path}: drgn could not load it: {exc}"[:300])
            return False
        di["file"], di["how"] = path, how
        return True
    if search and os.environ.get("DEBUGINFOD_URLS") and info.build_id:
        return _load_from_debuginfod(drgn, prog, info, di)
    return False


def _load_from_debuginfod(drgn, prog, info, di: Dict[str, Any]) -> bool:
    """Ask the debuginfod servers the user configured (DEBUGINFOD_URLS) for the
    kernel's debuginfo by build id, through drgn's own debuginfod finder
    (libdebuginfod, which verifies the build id). Time-bounded by
    DEBUGINFOD_MAXTIME (set to DEBUGINFOD_MAXTIME_S unless the user set it)."""
    if "debuginfod" not in prog.registered_debug_info_finders():
        di["rejected"].append("debuginfod: drgn has no debuginfod support here (libdebuginfod not found)")
        return False
    os.environ.setdefault("DEBUGINFOD_MAXTIME", DEBUGINFOD_MAXTIME_S)
    prog.set_enabled_debug_info_finders(["debuginfod"])
    try:
        prog.load_debug_info(main=True)
    except drgn.MissingDebugInfoError as exc:
        di["rejected"].append(f"debuginfod: {exc}"[:300])
    except Exception as exc:         # noqa: BLE001 - a server or cache failure: fall back to BTF
        di["rejected"].append(f"debuginfod: {type(exc).__name__}: {exc}"[:300])
    finally:
        prog.set_enabled_debug_info_finders([])
    try:
        path = prog.main_module().debug_file_path
    except LookupError:
        path = None
    if not path:
        return False
    from triage.facts.debuginfo import mismatch
    why = mismatch(path, info.osrelease, info.build_id)   # a server may hand out a stripped file
    if why is not None:
        di["rejected"].append(f"debuginfod: {path}: {why}")
        return False
    di["file"], di["how"] = path, "debuginfod"
    return True


def _module_symbols(prog) -> List[str]:
    """Name module frames from the modules' kallsyms (no module debuginfo is loaded)."""
    from drgn.helpers.linux.kallsyms import load_module_kallsyms
    bad_list = _modules_list_problem(prog)
    if bad_list:
        return [f"module symbols not loaded: {bad_list}"[:200]]
    try:
        prog.register_symbol_finder("module_kallsyms", load_module_kallsyms(prog), enable_index=-1)
    except Exception as exc:         # noqa: BLE001 - module frames are then unnamed, nothing worse
        return [f"module symbols not loaded: {exc}"[:200]]
    return []


PRIVATE_KALLSYMS = "_linux_helper_load_builtin_kallsyms"


def _load_kallsyms_at(prog, loc, stext: Optional[int]):
    """drgn's own kallsyms decoder (what load_vmlinux_kallsyms runs on VMCOREINFO's
    addresses) on the tables at `loc`.

    drgn 0.3.0 has no public call taking the addresses: load_vmlinux_kallsyms reads
    them from the Program's VMCOREINFO only (which names them from Linux 6.0), and
    a SymbolIndex of Symbols would mean decoding kallsyms again in Python. So this
    calls the private helper drgn's public wrapper calls, by its keyword names;
    when a drgn release drops it or changes its arguments, the facts degrade to
    VMCOREINFO alone with that reason (docs/json-schema.md, `source.notes`)."""
    import _drgn
    load = getattr(_drgn, PRIVATE_KALLSYMS, None)
    version = getattr(sys.modules.get("drgn"), "__version__", "?")
    if load is None:
        raise FactsUnavailable(f"drgn {version} has no {PRIVATE_KALLSYMS} (drgn 0.3.0's private kallsyms "
                               "decoder), so kallsyms found by scanning the kernel image cannot be loaded")
    try:
        return load(prog, names=loc.kallsyms_names, token_table=loc.kallsyms_token_table,
                    token_index=loc.kallsyms_token_index, num_syms=loc.kallsyms_num_syms,
                    offsets=loc.kallsyms_offsets, relative_base=loc.kallsyms_relative_base,
                    addresses=loc.kallsyms_addresses, _stext=stext or 0)
    except TypeError as exc:    # the arguments drgn 0.3.0's helper takes are not this one's
        raise FactsUnavailable(f"drgn {version}'s {PRIVATE_KALLSYMS} takes other arguments than drgn "
                               f"0.3.0's ({exc}), so kallsyms found by scanning the kernel image cannot "
                               "be loaded") from None


def _check_scanned(prog, index, info) -> None:
    """The scanned table must put every symbol VMCOREINFO names, and that the table
    has, where VMCOREINFO says (some are macros for others: x86_64 swapper_pg_dir)."""
    agree = 0
    for name in CHECK_SYMBOLS:
        want = info.symbol(name)
        if want is None:
            continue
        got = [sym.address for sym in index(prog, name, None, False)]
        if not got:
            continue
        if want not in got:
            raise FactsUnavailable(f"the kallsyms tables found in the image put {name} at "
                                   f"{', '.join(map(hex, got))}, VMCOREINFO at {want:#x}")
        agree += 1
    # the scan itself matched _stext; arm64 kallsyms may list functions only, so
    # VMCOREINFO's data symbols cannot always add to it
    if agree < 1:
        raise FactsUnavailable("the kallsyms tables found in the image cannot be checked: "
                               f"none of {', '.join(CHECK_SYMBOLS)} is in both it and VMCOREINFO")


def _enable_orc(drgn, prog) -> List[str]:
    """Let drgn unwind kernel stacks with the ORC tables in the dump's memory.

    drgn reads a module's built-in ORC (__start_orc_unwind_ip ... found through
    kallsyms) once the module has an address range; for the main kernel module
    that range normally comes from the vmlinux file. Giving it the kernel text
    (_stext.._etext from kallsyms) through drgn's module API is enough, and
    module symbols (load_module_kallsyms) name the frames in modules.
    Returns notes for dump.source; stacks stay empty, with a reason, on failure."""
    from drgn.helpers.linux.kallsyms import load_module_kallsyms
    notes = []
    bad_list = _modules_list_problem(prog)
    if bad_list:
        notes.append(f"module symbols not loaded: {bad_list}"[:200])
    else:
        try:
            prog.register_symbol_finder("module_kallsyms", load_module_kallsyms(prog), enable_index=1)
        except Exception as exc:    # noqa: BLE001 - module frames are then unnamed, nothing worse
            notes.append(f"module symbols not loaded: {exc}"[:200])
    try:
        if bad_list:
            # the kernel alone: libdrgn's module discovery would walk the broken list
            main = prog.main_module("kernel", create=True)
        else:
            prog.create_loaded_modules()
            main = prog.main_module()
        main.address_range = (prog.symbol("_stext").address, prog.symbol("_etext").address)
    except Exception as exc:    # noqa: BLE001
        notes.append(f"kernel ORC not enabled: {exc}"[:200])
    return notes


def _modules_list_problem(prog) -> Optional[str]:
    """Why the `modules` list must not be handed to libdrgn, or None. libdrgn walks it
    in C (module kallsyms, loaded-module discovery), where a loop in a damaged dump
    runs until memory is exhausted; a missing `modules` symbol is left to drgn."""
    from triage.facts.bounds import ContainerError, check_list
    try:
        head = prog["modules"].address_
    except (LookupError, ValueError):
        return None
    try:
        check_list(prog, head, "modules")
    except ContainerError as exc:
        return str(exc)
    return None


MAX_NAMES_BYTES = 32 << 20


def _names_bytes(prog, loc) -> Optional[bytes]:
    """kallsyms_names up to the token table that follows it (both orders of the
    tables, triage.facts.kallsyms_scan), read at once; None when the tables are in
    another order, the span is implausible, or it is not readable."""
    span = loc.kallsyms_token_table - loc.kallsyms_names
    if not 0 < span <= MAX_NAMES_BYTES:
        return None
    try:
        return prog.read(loc.kallsyms_names, span)
    except Exception:           # noqa: BLE001 - FaultError: the decoder then reads (and reports) itself
        return None


def _add_bytes_segment(prog, start: int, data: bytes) -> None:
    """Serve [start, start + len(data)) from `data`, already read from the dump.

    drgn's kallsyms decoder finds the end of kallsyms_names with one 1-byte read
    per symbol (~95k on Debian 6.1) before reading the names whole; through the
    image segment each is a Python call into the page cache (~120 ms in all),
    through this one a slice (about half)."""
    def read_fn(address: int, count: int, offset: int, physical: bool) -> bytes:
        return data[offset:offset + count]

    prog.add_memory_segment(start, len(data), read_fn)


def _kallsyms_tables_problem(prog, loc, n: int, names: Optional[bytes] = None) -> Optional[str]:
    """Why drgn's decoder should not be run on these tables, or None.

    drgn expands every name through the 256-entry token table; garbage there
    (long "tokens") or in the names' length prefixes makes it run for minutes
    (measured: 187 s with the token table pointer moved by 400 KB). The tokens
    must be short NUL-terminated strings in increasing order, and the n
    length-prefixed names must fit before the token table that follows them."""
    try:
        index = struct.unpack("<256H", prog.read(loc.kallsyms_token_index, 512))
        table = prog.read(loc.kallsyms_token_table, index[255] + MAX_TOKEN + 1)
    except Exception as exc:    # noqa: BLE001 - FaultError, missing symbol
        return f"token table not readable ({exc})"
    if any(b <= a for a, b in zip(index, index[1:])):
        return "token index is not increasing"
    for i, start in enumerate(index):
        end = table.find(b"\0", start, start + MAX_TOKEN + 1)
        if end <= start:
            return f"token {i} is empty or longer than {MAX_TOKEN} bytes"
    if not 0 < loc.kallsyms_token_table - loc.kallsyms_names <= MAX_NAMES_BYTES:
        return None             # another table order: nothing to bound the names by
    if names is None:
        return "names not readable"
    data = names
    pos = 0
    for _ in range(n):
        if pos >= len(data):
            return "names run past the token table"
        length = data[pos]
        if length & 0x80:       # "big" symbols: a second length byte (7 bits + 8)
            if pos + 1 >= len(data):
                return "names run past the token table"
            length = (length & 0x7F) | (data[pos + 1] << 7)
            pos += 1
        pos += 1 + length
    return None if pos <= len(data) else "names run past the token table"


def _btf_and_symbols(prog, info, notes: List[str]):
    """(BTF blob, DumpSymbols or None). A kallsyms with data symbols (CONFIG_KALLSYMS_ALL)
    gives __start_BTF and every global; one listing functions only (Debian arm64) does
    not, and then the image's read-only data is searched (triage.facts.symbols)."""
    try:
        return read_btf(prog), None
    except FactsUnavailable as exc:
        try:
            prog.symbol("init_task")
            raise               # kallsyms has data symbols: the BTF is really missing
        except LookupError:
            pass
        from triage.facts.symbols import DumpSymbols, ImageScan, image_window
        try:
            scan = ImageScan(lambda a, n: prog.read(a, n), *image_window(prog, info))
        except ValueError as why:
            raise FactsUnavailable(f"{exc.message}; and the image cannot be searched: {why}") from None
        blob = scan.btf()
        if blob is None:
            raise FactsUnavailable("kernel has no BTF (not in kallsyms, and no BTF header in its "
                                   "read-only data)") from None
        notes.append("kallsyms lists functions only (no CONFIG_KALLSYMS_ALL): BTF found by its header "
                     f"in the image ({len(blob)} bytes), data addresses from VMCOREINFO, the export "
                     f"table ({len(scan.exports())} symbols) and BTF's per-CPU section")
        syms = dict(info.symbols)
        from triage.facts.modlist import modules_head
        stext, u64 = prog.symbol("_stext").address, (1 << 64) - 1
        windows = [(max(stext - (4 << 30), 0), min(stext + (4 << 30), u64))]
        lo, hi = info.number("MODULES_VADDR"), info.number("MODULES_END")
        if lo is not None and hi is not None:
            windows.append((lo & u64, hi & u64))
        from triage.facts.a64code import loaded_address
        from triage.facts.hstates import hstates_address
        found = {"modules": lambda: modules_head(prog, windows, (stext, stext + MAX_IMAGE_BYTES)),
                 "hstates": lambda: hstates_address(prog)}
        if info.number("kimage_voffset") is not None:      # arm64 machine code
            found["nr_vmalloc_pages"] = lambda: loaded_address(prog, "vmalloc_nr_pages")
            found["panic_cpu"] = lambda: _panic_cpu(prog)
        return blob, DumpSymbols(scan, syms, found)


def _panic_cpu(prog) -> Optional[int]:
    """&panic_cpu (drgn's panic_task reads it): the variable nmi_panic() and
    crash_kexec() both atomic_cmpxchg; they must agree, and the value must be a
    CPU number or PANIC_CPU_INVALID (-1)."""
    from triage.facts.a64code import atomic_target
    got = {a for a in (atomic_target(prog, f) for f in ("nmi_panic", "crash_kexec")) if a is not None}
    if len(got) != 1:
        return None
    addr = got.pop()
    try:
        (value,) = struct.unpack("<i", prog.read(addr, 4))
        ncpus = struct.unpack("<I", prog.read(prog["nr_cpu_ids"].address_, 4))[0]
    except Exception:           # noqa: BLE001
        return None
    return addr if -1 <= value < min(ncpus, MAX_CPUS) else None


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
        # Only the bytes the header's sections cover: a __stop_BTF moved by damage
        # (up to MAX_BTF_BYTES on) must not make this read, and the copies parsing
        # makes, tens of MiB of whatever follows the blob. A header that is not
        # BTF's is left for the parser to name.
        head = prog.read(start, min(size, 24))
        if len(head) == 24 and head[:2] == b"\x9f\xeb":
            hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<IIIII", head, 4)
            need = hdr_len + max(type_off + type_len, str_off + str_len)
            if 24 <= need < size:
                size = need
        return prog.read(start, size)
    except Exception as exc:    # noqa: BLE001 - FaultError: BTF pages missing from the dump
        raise FactsUnavailable(f"BTF section not readable from the dump: {exc}") from None
