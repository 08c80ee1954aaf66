"""The generate command: plan runs, boot them, capture dumps, write oracles and manifests."""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import host, initramfs, qemu
from .convert import CONVERSIONS, convert
from .manifest import dump_entry, write_manifest
from .oracles import run_oracles
from .scenarios import SCENARIOS
from .target import TARGETS, ensure_foreign_arch, make_sysroot

SAMPLE = host.HERE
NOKASLR_SUBSET = ("gpu_alloc_null", "sysrq", "null_deref", "hung_task")
QEMU_CAPTURES = {"qemu-elf": "elf", "qemu-zlib": "kdump-zlib", "qemu-lzo": "kdump-lzo",
                 "qemu-snappy": "kdump-snappy"}


@dataclass(frozen=True)
class Run:
    """One boot: a scenario, guest shape and how its memory is captured."""
    scenario: str
    kaslr: bool
    kdump: bool
    ram_mib: int
    crashkernel_mib: Optional[int] = None
    paging: bool = False

    @property
    def run_id(self) -> str:
        k = "kaslr" if self.kaslr else "nokaslr"
        if self.kdump:
            return f"{self.scenario}-{self.ram_mib}M-ck{self.crashkernel_mib}M-{k}-kdump"
        return f"{self.scenario}-{self.ram_mib}M-{k}-qemu"


def _rhel_vmcore(tree: Path) -> Path:
    found = sorted(tree.glob("var/crash/*/vmcore"))
    if not found:
        log = (tree / "makedumpfile.log")
        raise RuntimeError("in-guest kdump wrote no vmcore: "
                           + (log.read_text()[-500:] if log.exists() else "no log"))
    return found[0]


def do_qemu_run(run: Run, env: Dict[str, Any], out: Path, captures: List[str],
                paging: bool) -> List[Dict[str, Any]]:
    sc = SCENARIOS[run.scenario]
    rdir = out / run.run_id
    shutil.rmtree(rdir, ignore_errors=True)
    cfg = qemu.BootConfig(env["kernel"].vmlinuz, env["lean_img"], run.ram_mib,
                          kaslr=run.kaslr, init_on_free=env["init_on_free"],
                          smp=env["smp"], extra_cmdline=env["extra_cmdline"],
                          target=env["target"])
    fmts = [QEMU_CAPTURES[c] for c in captures]
    dumps = qemu.boot_and_dump(sc, cfg, rdir, fmts, env["accel"], paging_elf=paging)
    entries = []
    for fmt, path in dumps.items():
        oracles = run_oracles(path, env["makedumpfile"])
        args = ["dump-guest-memory", f"format={fmt.replace('-paging', '')}",
                f"paging={'true' if fmt == 'elf-paging' else 'false'}"]
        entries.append(dump_entry(path, out, scenario=run.scenario,
                                  capture="qemu-dump-guest-memory", args=args,
                                  serial=rdir / "serial.log", guest_ram_mib=run.ram_mib,
                                  crashkernel_mib=None, oracles=oracles,
                                  extra=env["arch_extra"]))
    return entries


def do_kdump_run(run: Run, env: Dict[str, Any], out: Path, conversions: List[str]
                 ) -> List[Dict[str, Any]]:
    sc = SCENARIOS[run.scenario]
    rdir = out / run.run_id
    shutil.rmtree(rdir, ignore_errors=True)
    cfg = qemu.BootConfig(env["kernel"].vmlinuz, env["kdump_img"], run.ram_mib,
                          kaslr=run.kaslr, crashkernel_mib=run.crashkernel_mib,
                          extra_cmdline=env["extra_cmdline"], target=env["target"])
    tree = qemu.boot_kdump(sc, cfg, rdir, env["accel"], makedumpfile=env["makedumpfile"])
    mdf = env["makedumpfile"]
    vmcore = _rhel_vmcore(tree)
    serial = rdir / "serial.log"
    entries = []
    guest_oracle = {"vmcore-dmesg-in-guest": {"status": "ok", "output": "vmcore-dmesg.txt"}} \
        if (vmcore.parent / "vmcore-dmesg.txt").exists() else \
        {"vmcore-dmesg-in-guest": {"status": "failed", "error": "no vmcore-dmesg.txt"}}
    oracles = dict(run_oracles(vmcore, mdf), **guest_oracle)
    entries.append(dump_entry(vmcore, out, scenario=run.scenario, capture="in-guest-kdump",
                              args=["makedumpfile", "-l", "--message-level", "7", "-d", "31",
                                    "/proc/vmcore"],
                              serial=serial, guest_ram_mib=run.ram_mib,
                              crashkernel_mib=run.crashkernel_mib, oracles=oracles,
                              extra={"layout": "rhel", **env["arch_extra"]}))
    elf = tree / "vmcore-elf"
    entries.append(dump_entry(elf, out, scenario=run.scenario, capture="in-guest-kdump",
                              args=["makedumpfile", "-F", "-E", "-d", "31", "/proc/vmcore",
                                    "|", "makedumpfile", "-R"],
                              serial=serial, guest_ram_mib=run.ram_mib,
                              crashkernel_mib=run.crashkernel_mib, oracles=run_oracles(elf, mdf),
                              extra=env["arch_extra"]))
    # makedumpfile refuses -E on kdump-compressed input, so convert from the ELF.
    conv = convert(elf, rdir / "converted", conversions, mdf)
    (rdir / "converted" / "conversions.json").write_text(json.dumps(
        {k: {**v, "path": v["path"].name} for k, v in conv.items()}, indent=1))
    for name, res in conv.items():
        if res["status"] != "ok":
            print(f"{run.run_id}: conversion {name} failed: {res['message']}")
            continue
        entries.append(dump_entry(res["path"], out, scenario=run.scenario,
                                  capture="makedumpfile-convert",
                                  args=res["args"] + ["<in-guest ELF vmcore>"], serial=serial,
                                  guest_ram_mib=run.ram_mib,
                                  crashkernel_mib=run.crashkernel_mib,
                                  oracles=run_oracles(res["path"], mdf),
                                  extra={"converted_from": str(elf.relative_to(out)),
                                         **env["arch_extra"]}))
    return entries


def prepare(args: argparse.Namespace) -> Dict[str, Any]:
    """Host packages, kernel, modules and both initramfs images."""
    target = TARGETS[args.arch]
    if args.tcg_cpu:
        target = dataclasses.replace(target, tcg_cpu=args.tcg_cpu)
    if not args.no_apt:
        host.apt_install(list(target.host_packages))
        ensure_foreign_arch(target)
        if args.suite:
            host.ensure_suite(args.suite)
    cache = Path(args.cache)
    if args.kernel_abi:
        abi = args.kernel_abi
    elif args.suite:
        abi = host.suite_kernel_abi(args.suite, target)
    else:
        abi = host.default_kernel_abi(target)
    kernel = host.fetch_kernel(cache, abi, target)
    mods = host.build_modules(cache, abi, target, suite=args.suite)
    sysroot = make_sysroot(target, cache)
    work = cache / f"initramfs-{abi}"
    work.mkdir(parents=True, exist_ok=True)
    cap = initramfs.build_capture(kernel, work, sysroot)
    env = {"kernel": kernel, "target": target,
           "lean_img": initramfs.build_main(kernel, mods, None, work, sysroot),
           "kdump_img": initramfs.build_main(kernel, mods, cap, work, sysroot),
           "init_on_free": args.init_on_free, "smp": args.smp,
           "extra_cmdline": tuple(args.extra_cmdline.split()),
           # The dump's own architecture's makedumpfile reads it (arm64's under qemu-user).
           "makedumpfile": tuple(sysroot.runner() + [sysroot.path("/usr/bin/makedumpfile")]),
           # x86_64 entries keep their historical shape; others say what they are.
           "arch_extra": {} if target.name == "x86_64" else {"arch": target.name}}
    if args.la57:
        env["arch_extra"] = dict(env["arch_extra"], la57=True)
    if target.foreign:
        env["accel"] = "tcg"     # a foreign guest never runs under KVM here
    elif args.accel == "auto":
        env["accel"] = "kvm" if qemu.kvm_usable(kernel.vmlinuz) else "tcg"
    else:
        env["accel"] = args.accel
    print(f"kernel {abi}, accel {env['accel']}")
    return env


def plan(args: argparse.Namespace) -> List[Run]:
    names = args.scenarios.split(",") if args.scenarios else list(SCENARIOS)
    for n in names:
        if n not in SCENARIOS:
            raise SystemExit(f"unknown scenario {n}; known: {', '.join(SCENARIOS)}")
    runs = []
    for n in names:
        if args.kaslr == "matrix":
            # Every scenario with KASLR on; a few also with it off (plus a
            # paging=true QEMU ELF) so readers meet both layouts.
            kaslrs = [True, False] if n in NOKASLR_SUBSET else [True]
        else:
            kaslrs = {"on": [True], "off": [False], "both": [True, False]}[args.kaslr]
        for k in kaslrs:
            paging = args.paging or (args.kaslr == "matrix" and not k)
            if args.qemu_captures:
                runs.append(Run(n, k, False, args.ram, paging=paging))
            if args.kdump:
                runs.append(Run(n, k, True, args.kdump_ram, args.crashkernel))
    return runs


def collect_manifest(out: Path) -> Path:
    """Union of every run's entries under out/ into out/manifest.json."""
    entries = []
    for rj in sorted(out.glob("*/run.json")):
        entries += json.loads(rj.read_text())["entries"]
    path = out / "manifest.json"
    write_manifest(path, entries, "Generated; paths are relative to this file.")
    return path


def execute(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = plan(args)
    env = prepare(args)
    failures = []
    for run in runs:
        t0 = time.monotonic()
        print(f"=== {run.run_id}", flush=True)
        try:
            if run.kdump:
                entries = do_kdump_run(run, env, out, args.conversions)
            else:
                entries = do_qemu_run(run, env, out, args.qemu_captures, run.paging)
        except Exception as e:  # one failed boot must not lose the rest of the matrix
            print(f"{run.run_id}: FAILED: {e}")
            failures.append((run.run_id, str(e)))
            continue
        (out / run.run_id / "run.json").write_text(json.dumps(
            {"run": run.__dict__, "seconds": round(time.monotonic() - t0, 1),
             "entries": entries}, indent=1))
    if args.facts_oracle:
        from .dwarf import add_facts_oracles
        failures += [("facts oracle", f) for f in
                     add_facts_oracles(out, Path(args.cache), TARGETS[args.arch])]
    path = collect_manifest(out)
    if failures:
        (out / "FAILURES").write_text("".join(f"{r}: {e}\n" for r, e in failures))
        raise SystemExit(f"{len(failures)} run(s) failed: see {out / 'FAILURES'}")
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sample_dumps/generate", description=__doc__)
    p.add_argument("--scenarios", help="comma list; default all: " + ",".join(SCENARIOS))
    p.add_argument("--kaslr", choices=["matrix", "on", "off", "both"], default="matrix",
                   help="matrix (default): all scenarios with KASLR on, "
                        + ",".join(NOKASLR_SUBSET) + " also off (with a paging ELF)")
    p.add_argument("--ram", type=int, default=128, help="MiB for QEMU-captured guests")
    p.add_argument("--kdump-ram", type=int,
                   help="MiB for in-guest kdump guests (the capture kernel needs room; "
                        "default 384, arm64 512)")
    p.add_argument("--crashkernel", type=int, help="crashkernel= MiB (default 128, arm64 256)")
    p.add_argument("--qemu-captures", default="qemu-elf,qemu-zlib",
                   type=lambda s: [x for x in s.split(",") if x],
                   help="comma list of " + ",".join(QEMU_CAPTURES) + " ('' for none)")
    p.add_argument("--paging", action="store_true", help="also a QEMU ELF with paging=true")
    p.add_argument("--extra-cmdline", default="", help="more kernel parameters for every guest")
    p.add_argument("--smp", type=int, default=2, help="vCPUs of QEMU-captured guests")
    p.add_argument("--tcg-cpu", help="-cpu model under TCG (default max,la57=off for x86_64, max for "
                                     "arm64; e.g. max,lpa2=off: a 52-bit-VA arm64 kernel then runs "
                                     "with 47/48-bit VAs)")
    p.add_argument("--la57", action="store_true",
                   help="x86_64 guests with 5-level paging (-cpu max under TCG, which has "
                        "la57); default --out out-la57")
    p.add_argument("--suite", choices=sorted(host.SUITES),
                   help="take the kernel from this Debian release (added through its own "
                        "/etc/apt/sources.list.d/triage-<suite>.list), e.g. bullseye for "
                        "5.10; the default --kernel-abi is the newest of that suite and the "
                        "default --out out-<major.minor>")
    p.add_argument("--init-on-free", action="store_true",
                   help="boot QEMU-captured guests with init_on_free=1 (much smaller dumps)")
    p.add_argument("--no-kdump", dest="kdump", action="store_false",
                   help="skip the in-guest kdump runs")
    p.add_argument("--conversions", default=",".join(CONVERSIONS),
                   type=lambda s: [x for x in s.split(",") if x],
                   help="makedumpfile conversions of each in-guest vmcore")
    p.add_argument("--arch", choices=["x86_64", "arm64"], default="x86_64",
                   help="guest architecture: Debian's amd64 kernel, or its arm64 kernel under "
                        "qemu-system-aarch64 -machine virt (TCG) with arm64 makedumpfile "
                        "run under qemu-user; arm64 defaults to --out out-arm64")
    p.add_argument("--out", help="default sample_dumps/out (out-arm64 for --arch arm64)")
    p.add_argument("--cache", default=str(SAMPLE / "cache"))
    p.add_argument("--kernel-abi", help="e.g. 6.1.0-57-amd64 (default: linux-image-amd64's)")
    p.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto")
    p.add_argument("--no-apt", action="store_true", help="do not apt-get install anything")
    p.add_argument("--ci", action="store_true",
                   help="reduced matrix for CI: gpu_alloc_null, oom_panic, sysrq")
    p.add_argument("--committed", action="store_true",
                   help="regenerate the small committed set in sample_dumps/committed")
    p.add_argument("--committed-dir", help="write the committed set here instead "
                   "(trial runs; the manifest goes to its parent directory)")
    p.add_argument("--all", action="store_true",
                   help="everything: the full matrix, then the committed set")
    p.add_argument("--facts-oracle", dest="facts_oracle", action="store_true", default=None,
                   help="write the drgn + DWARF facts oracle <dump>.drgn-dwarf.json beside each "
                        "dump (the default; it needs Debian's linux-image-<abi>-dbg, "
                        "about 860 MB, and drgn from PyPI)")
    p.add_argument("--no-facts-oracle", dest="facts_oracle", action="store_false")
    p.add_argument("--facts-oracle-only", action="store_true",
                   help="no boots: (re)compute the facts oracle of every dump already in --out")
    p.add_argument("--refresh", action="store_true",
                   help="re-derive the manifests from existing dumps and serial logs, no boots")
    return p


def default_out(args: argparse.Namespace) -> str:
    """out/ for Debian 12's x86_64 kernel; otherwise out-<arch>, out-5.10 (a --suite
    kernel: its series), out-la57, ... joined in that order."""
    parts = ["out"]
    if args.arch != "x86_64":
        parts.append(args.arch)
    if args.suite:
        abi = args.kernel_abi
        parts.append(".".join(abi.split("-")[0].split(".")[:2]) if abi
                     else host.SUITE_KERNEL_SERIES[args.suite])
    if args.la57:
        parts.append("la57")
    return "-".join(parts)


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.la57:
        if args.arch != "x86_64":
            raise SystemExit("--la57 is an x86_64 option")
        if args.tcg_cpu and "la57=off" in args.tcg_cpu:
            raise SystemExit("--la57 contradicts --tcg-cpu " + args.tcg_cpu)
        args.tcg_cpu = args.tcg_cpu or "max"
    if args.out is None:
        args.out = str(SAMPLE / default_out(args))
    target = TARGETS[args.arch]
    if args.facts_oracle is None:
        args.facts_oracle = True
    if args.kdump_ram is None:
        args.kdump_ram = target.kdump_ram_mib
    if args.crashkernel is None:
        args.crashkernel = target.crashkernel_mib
    if args.ci and not args.scenarios:
        args.scenarios = "gpu_alloc_null,oom_panic,sysrq"
    if args.ci and args.arch != "x86_64" and args.kaslr == "matrix":
        # A TCG arm64 kdump boot takes 3-5 min here: KASLR on only (6 boots).
        args.kaslr = "on"
    if args.refresh:
        from .manifest import load_manifest, refresh_entry
        out = Path(args.out)
        for rj in sorted(out.glob("*/run.json")):
            doc = json.loads(rj.read_text())
            doc["entries"] = [refresh_entry(e, out) for e in doc["entries"]]
            rj.write_text(json.dumps(doc, indent=1))
        if out.is_dir():
            print(f"manifest: {collect_manifest(out)}")
        cm = SAMPLE / "manifest.json"
        if cm.exists():
            doc = load_manifest(cm)
            write_manifest(cm, [refresh_entry(e, SAMPLE) for e in doc["dumps"]], doc["note"])
            print(f"manifest: {cm}")
        return 0
    if args.facts_oracle_only:
        from .dwarf import add_facts_oracles
        out = Path(args.out)
        failures = add_facts_oracles(out, Path(args.cache), target)
        print(f"manifest: {collect_manifest(out)}")
        for f in failures:
            print(f"facts oracle failed: {f}")
        return 1 if failures else 0
    if args.arch != "x86_64" and (args.committed or args.all):
        raise SystemExit("--committed/--all make the x86_64 committed set only")
    if args.committed:
        from .committed import make_committed
        make_committed(args)
        return 0
    path = execute(args)
    print(f"manifest: {path}")
    if args.all:
        from .committed import make_committed
        args.no_apt = True
        make_committed(args)
    return 0
