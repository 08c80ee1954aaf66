"""Rewrite a real kdump-compressed (or flattened) dump with another codec or layout.

    python3 sample_dumps/synthetic/recompress.py SRC OUTDIR [--codecs snappy,zstd]
            [--diskdump] [--split N] [--truncate]

Debian's makedumpfile 1.7.2 writes only zlib and lzo; this turns one of its dumps
(or QEMU's) into snappy and zstd files with the same pages, bitmaps, VMCOREINFO and
notes, plus optional DISKDUMP-signature, --split and truncated variants. Pages are
read with triage's own reader, so compare the results with the source through an
independent oracle (makedumpfile --dump-dmesg on the zlib/lzo source, or the ELF
of the same crash).
"""

import argparse
import os
import sys
from typing import List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

import kdump_writer  # noqa: E402


def _source(path: str):
    from triage.dumps import open_dump
    r = open_dump(path)
    if not hasattr(r, "_parts"):
        raise SystemExit(f"{path}: not a kdump-compressed dump")
    return r


def recompress(src: str, outdir: str, codecs: List[str], diskdump: bool = False, split: int = 0,
               truncate: bool = False) -> List[str]:
    r = _source(src)
    part = r._parts[0]
    h = part.hdr
    vmci = (r.vmcoreinfo() or "").encode()
    notes = b""
    if h.size_note:
        notes = part.store.read(h.offset_note, h.size_note)
    ram = [pfn for pfn in range(h.max_mapnr) if part.bitmap1.test(pfn)]

    def pages(pfn):
        return r.read_page(pfn) if r.has_page(pfn) else None

    base = os.path.basename(src)
    os.makedirs(outdir, exist_ok=True)
    written = []

    def spec(codec, **kw):
        return kdump_writer.KdumpSpec(codec=codec, utsname=tuple(h.utsname.values()),
                                      phys_base=h.phys_base or 0, dump_level=h.dump_level or 0,
                                      header_version=h.header_version, nr_cpus=h.nr_cpus, **kw)

    def write(path, s):
        with open(path, "wb") as f:
            kdump_writer.write_kdump(f, h.max_mapnr, ram, pages, vmci, notes, s)
        written.append(path)

    for codec in codecs:
        write(os.path.join(outdir, f"{base}.{codec}"), spec(codec))
        if diskdump:
            write(os.path.join(outdir, f"{base}.{codec}.diskdump"), spec(codec, signature=b"DISKDUMP"))
        if split:
            step = (h.max_mapnr + split - 1) // split
            for i in range(split):
                rng = (i * step, min(h.max_mapnr, (i + 1) * step))
                write(os.path.join(outdir, f"{base}.{codec}.split{i}"), spec(codec, split=rng))
        if truncate:
            full = written[len(written) - 1 - (split or 0) - (1 if diskdump else 0)]
            size = os.path.getsize(full)
            for frac in (0.5, 0.9):
                cut = os.path.join(outdir, f"{base}.{codec}.cut{int(frac * 100)}")
                with open(full, "rb") as a, open(cut, "wb") as b:
                    b.write(a.read(int(size * frac)))
                written.append(cut)
    r.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("outdir")
    ap.add_argument("--codecs", default="snappy,zstd")
    ap.add_argument("--diskdump", action="store_true")
    ap.add_argument("--split", type=int, default=0)
    ap.add_argument("--truncate", action="store_true")
    a = ap.parse_args()
    for p in recompress(a.src, a.outdir, a.codecs.split(","), a.diskdump, a.split, a.truncate):
        print(p)


if __name__ == "__main__":
    main()
