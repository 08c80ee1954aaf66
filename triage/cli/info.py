"""`triage info PATH...`: what a dump is and what kernel it holds (`--json` for data)."""

import datetime
import json
import sys

import click

from triage.cli import names_input, INPUT_PATH
from triage.errors import EXIT_PARTIAL

# makedumpfile -d bits: which page classes a filtered dump left out.
_DUMP_LEVEL_CLASSES = ((1, "zero"), (2, "cache"), (4, "cache-private"), (8, "user"), (16, "free"))


def excluded_classes(level):
    if level is None:
        return None
    return [name for bit, name in _DUMP_LEVEL_CLASSES if level & bit]


def gather(paths):
    """Everything `info` reports, as a dict, plus the partial flag."""
    from triage.logsource import open_reader, utsname_mismatch
    from triage.dumps.vmcoreinfo import parse_vmcoreinfo
    from triage.errors import TriageError, UnsupportedArchError
    with open_reader(list(paths)) as reader:
        facts = reader.facts()
        text = reader.vmcoreinfo()
        info = parse_vmcoreinfo(text) if text else None
        hostname = version = machine = None
        layout = None
        if info is not None:
            try:
                from triage.memory.kernel import KernelMemory
                from triage.memory.utsname import read_utsname
                mem = KernelMemory(reader, info, facts.arch)
                layout = mem.translator.layout or None
                hostname, version, machine = read_utsname(mem, info)
                mismatch = utsname_mismatch(reader, hostname, version)
                if mismatch:
                    facts.problems.extend(mismatch)
                    facts.complete = False
            except UnsupportedArchError:
                raise                   # exit 10: what the dump is cannot be described further
            except TriageError as exc:
                facts.problems.append(f"utsname unreadable: {exc.message}")
        prstatus = sum(1 for n in reader.notes() if n.name == "CORE" and n.type == 1)
    crash = info.crash_time if info else None
    d = {
        "path": list(paths),
        "format": facts.format,
        "compression": facts.compression,
        "writer": facts.writer,
        "arch": facts.arch,
        "osrelease": info.osrelease if info else None,
        "build_id": info.build_id if info else None,
        "version": version,
        "hostname": hostname,
        "page_size": (info.page_size if info and info.page_size else facts.page_size),
        "crashtime": crash,
        "crashtime_utc": (datetime.datetime.fromtimestamp(crash, datetime.timezone.utc).isoformat()
                          if crash is not None else None),
        "kaslr_offset": (f"{info.kernel_offset:#x}" if info and info.kernel_offset is not None else None),
        "dump_level": facts.dump_level,
        "excluded_classes": excluded_classes(facts.dump_level),
        "pages_present": facts.pages_present,
        "pages_total": facts.pages_total,
        "cpus_prstatus": prstatus,
        "complete": facts.complete,
        "problems": facts.problems,
        "vmcoreinfo_source": facts.vmcoreinfo_source,
        "address_layout": layout,
    }
    return d, not facts.complete


@click.command("info")
@click.argument("paths", nargs=-1, required=True, type=INPUT_PATH)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@names_input
def info(ctx: click.Context, paths, as_json: bool) -> None:
    """Describe the dump in PATHS (several paths for a --split dump)."""
    d, partial = gather(paths)
    if as_json:
        sys.stdout.write(json.dumps(d, indent=2) + "\n")
    else:
        labels = [("format", "format"), ("compression", "compression"), ("writer", "writer"),
                  ("arch", "arch"), ("osrelease", "kernel release"), ("version", "kernel version"),
                  ("build_id", "build id"), ("hostname", "hostname"), ("page_size", "page size"),
                  ("crashtime_utc", "crash time"), ("kaslr_offset", "KASLR offset"),
                  ("dump_level", "dump level"), ("excluded_classes", "excluded pages"),
                  ("pages_present", "pages present"), ("pages_total", "pages total"),
                  ("cpus_prstatus", "CPUs (PRSTATUS)"), ("complete", "complete"),
                  ("vmcoreinfo_source", "VMCOREINFO from"), ("address_layout", "address layout")]
        for key, label in labels:
            v = d[key]
            if v is None:
                v = "-"
            elif isinstance(v, list):
                v = ", ".join(v) or "none"
            elif isinstance(v, dict):
                v = "; ".join(f"{k} {x}" for k, x in v.items())
            elif isinstance(v, bool):
                v = "yes" if v else "no"
            click.echo(f"{label + ':':18} {click.unstyle(str(v))}")
        for p in d["problems"]:
            click.echo(f"{'problem:':18} {p}")
    if partial:
        click.echo(f"triage: warning: {d['path'][0]}: dump is partial ({'; '.join(d['problems'])})", err=True)
        ctx.exit(EXIT_PARTIAL)
