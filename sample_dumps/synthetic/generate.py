"""Write synthetic pre-5.10 (struct printk_log) vmcores and the log they must yield.

    python3 sample_dumps/synthetic/generate.py OUTDIR [--formats elf,zlib,lzo,snappy,zstd]

For each variant it writes VARIANT.elf (kexec-style ELF), VARIANT.kdump-CODEC
(kdump-compressed, written by kdump_writer) and VARIANT.dmesg.txt, the text
`makedumpfile --dump-dmesg` must print. The output is accepted only when
makedumpfile agrees (tests/dumps/test_synthetic_printk_log.py checks it).
"""

import argparse
import os
import sys
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import elf_writer  # noqa: E402
import guest  # noqa: E402
import kdump_writer  # noqa: E402
import records  # noqa: E402

VARIANTS = {
    # name: (profile, records, log_buf_len, dynamic log_buf)
    "centos7-static": (guest.CENTOS7, lambda: records.centos7_records(), 1 << 18, False),
    "centos7-wrapped": (guest.CENTOS7, lambda: records.filler_records(150, 1_000_000_000)
                        + records.centos7_records()[22:], 1 << 14, False),
    "centos8-dynamic": (guest.CENTOS8, lambda: records.centos8_records(), 1 << 20, True),
    "centos8-wrapped": (guest.CENTOS8, lambda: records.filler_records(120, 2_000_000_000)
                        + records.centos8_records(), 1 << 14, True),
}
FORMATS = ["elf", "zlib", "lzo", "snappy", "zstd"]


def make_guest(name: str) -> guest.Guest:
    prof, recs, buflen, dyn = VARIANTS[name]
    return guest.build_guest(prof, recs(), log_buf_len=buflen, dynamic_log_buf=dyn)


def notes_blob(g: guest.Guest) -> bytes:
    return (elf_writer.note(b"CORE", 1, elf_writer.prstatus(1234, g.crash_rip))
            + elf_writer.note(b"VMCOREINFO", 0, g.vmcoreinfo.encode()))


def write_kdump(g: guest.Guest, path: str, spec: kdump_writer.KdumpSpec) -> None:
    ram = [pfn for a, b in guest.RAM for pfn in range(a // guest.PAGE, b // guest.PAGE)]
    max_mapnr = guest.RAM[-1][1] // guest.PAGE
    with open(path, "wb") as f:
        kdump_writer.write_kdump(f, max_mapnr, ram, g.page_bytes, g.vmcoreinfo.encode(),
                                 notes_blob(g), spec)


def generate(outdir: str, formats: List[str], variants: List[str]) -> Dict[str, List[str]]:
    os.makedirs(outdir, exist_ok=True)
    written: Dict[str, List[str]] = {}
    for name in variants:
        g = make_guest(name)
        files = []
        with open(os.path.join(outdir, f"{name}.dmesg.txt"), "w") as f:
            f.write(g.expected)
        for fmt in formats:
            if fmt == "elf":
                path = os.path.join(outdir, f"{name}.elf")
                with open(path, "wb") as f:
                    elf_writer.write_elf(g, f)
            else:
                path = os.path.join(outdir, f"{name}.kdump-{fmt}")
                spec = kdump_writer.KdumpSpec(codec=fmt, phys_base=g.phys_base,
                                              utsname=("Linux", "crashhost.example.com",
                                                       g.profile.release, g.profile.version,
                                                       "x86_64", "(none)"))
                write_kdump(g, path, spec)
            files.append(path)
        written[name] = files
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    a = ap.parse_args()
    for name, files in generate(a.outdir, a.formats.split(","), a.variants.split(",")).items():
        print(name, " ".join(files))


if __name__ == "__main__":
    main()
