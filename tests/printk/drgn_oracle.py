"""Record drgn's view of a dump's printk records (with debuginfo) as a test oracle.

    python3 tests/printk/drgn_oracle.py DUMP [VMLINUX]

writes tests/data/drgn-oracle/<dump path relative to sample_dumps, / -> __>.json.
VMLINUX defaults to Debian's /usr/lib/debug/boot/vmlinux-<OSRELEASE> (package
linux-image-<release>-dbg). drgn's get_printk_records reads the ring with full
type information, so its level/facility/caller/dict values check ours.
"""

import json
import sys
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parents[2]
ORACLE_DIR = ROOT / "tests" / "data" / "drgn-oracle"


def oracle_path(dump: Path) -> Path:
    rel = Path(dump).resolve().relative_to(ROOT / "sample_dumps")
    return ORACLE_DIR / (str(rel).replace("/", "__") + ".json")


def default_vmlinux(osrelease: str) -> Optional[Path]:
    p = Path(f"/usr/lib/debug/boot/vmlinux-{osrelease}")
    return p if p.is_file() else None


def drgn_records(dump: Path, vmlinux: Path) -> List[dict]:
    import drgn
    from drgn.helpers.linux.printk import get_printk_records
    prog = drgn.Program()
    prog.set_core_dump(str(dump))
    prog.load_debug_info([str(vmlinux)])
    out = []
    for r in get_printk_records(prog):
        caller = None
        if r.caller_tid is not None:
            caller = f"T{r.caller_tid}"
        elif r.caller_cpu is not None:
            caller = f"C{r.caller_cpu}"
        out.append({"seq": r.seq, "ts_nsec": r.timestamp, "text": r.text.decode("latin-1"),
                    "level": r.level, "facility": r.facility, "caller": caller,
                    "continuation": r.continuation,
                    "dict": {k.decode(): v.decode("latin-1") for k, v in r.context.items()}})
    return out


def main(argv: List[str]) -> int:
    dump = Path(argv[1])
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.logsource import open_reader
    with open_reader([str(dump)]) as r:
        info = parse_vmcoreinfo(r.vmcoreinfo())
    vmlinux = Path(argv[2]) if len(argv) > 2 else default_vmlinux(info.osrelease)
    if vmlinux is None:
        print(f"no debuginfo vmlinux for {info.osrelease}", file=sys.stderr)
        return 1
    recs = drgn_records(dump, vmlinux)
    ORACLE_DIR.mkdir(parents=True, exist_ok=True)
    out = oracle_path(dump)
    out.write_text(json.dumps({"build_id": info.build_id, "osrelease": info.osrelease,
                               "tool": "drgn get_printk_records", "records": recs}) + "\n")
    print(f"{out}: {len(recs)} records")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
