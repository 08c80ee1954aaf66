"""Copy a QEMU dump-guest-memory ELF so that makedumpfile 1.7.2 can read it.

QEMU 7.2 writes its section header right after the ELF header and the program
headers after that (e_phoff 192); makedumpfile assumes the program headers follow
the ELF header and fails. The copy moves the program header table to offset 64
(over the now-dropped section header; notes and memory keep their offsets), so
makedumpfile can convert a real guest's memory into its own formats (-c, -l, -E,
-F, --split) for tests.

    python3 sample_dumps/synthetic/qemu_elf_fix.py QEMU_ELF OUT_ELF
"""

import shutil
import struct
import sys

EHDR = "<HHIQQQIHHHHHH"


def fix(src: str, dst: str) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            raise SystemExit(f"{src}: not an ELF64 file")
        (e_type, e_machine, ver, entry, phoff, shoff, flags, ehsize, phentsize, phnum,
         shentsize, shnum, shstrndx) = struct.unpack_from(EHDR, head, 16)
        if phnum == 0xFFFF:
            raise SystemExit(f"{src}: PN_XNUM program header counts are not handled")
        f.seek(phoff)
        table = f.read(phnum * phentsize)
        first_data = min(struct.unpack_from("<Q", table, i * phentsize + 8)[0] for i in range(phnum))
        if 64 + len(table) > first_data:
            raise SystemExit(f"{src}: no room for the program headers at offset 64")
        f.seek(16)
        f.write(struct.pack(EHDR, e_type, e_machine, ver, entry, 64, 0, flags, ehsize, phentsize,
                            phnum, shentsize, 0, 0))
        f.seek(64)
        f.write(table)


if __name__ == "__main__":
    fix(sys.argv[1], sys.argv[2])
