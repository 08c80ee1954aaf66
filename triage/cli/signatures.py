"""`triage signatures list|show|test|lint`: inspect and check signature rules."""

import re
from typing import Dict, List, Tuple

import click
from tabulate import tabulate

from triage.errors import EXIT_SIGNATURES
from triage.report.escape import safe_text

_SIG_OPTION = click.option(
    "--signatures", "signature_dirs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=str),
    help="Extra directory of signature rules (*.toml); repeatable.")


def _load(signature_dirs: Tuple[str, ...]):
    from triage.classify import load_rules
    return load_rules(extra_dirs=signature_dirs)


@click.group("signatures")
def signatures() -> None:
    """List, show, test and lint crash signatures (signatures/*.toml)."""


@signatures.command("list")
@_SIG_OPTION
def list_rules(signature_dirs: Tuple[str, ...]) -> None:
    """One line per rule: id, category, severity, priority, examples, file."""
    rs = _load(signature_dirs)
    rows = [(safe_text(r.id), r.category, r.severity, r.priority, len(r.examples), safe_text(r.source))
            for r in sorted(rs.rules, key=lambda r: (-r.priority, r.id))]
    click.echo(tabulate(rows, headers=["id", "category", "severity", "priority", "examples", "file"]))


@signatures.command("show")
@click.argument("rule_id")
@_SIG_OPTION
@click.pass_context
def show(ctx: click.Context, rule_id: str, signature_dirs: Tuple[str, ...]) -> None:
    """Everything about one rule: title, match conditions, meaning, next steps, examples."""
    rs = _load(signature_dirs)
    r = rs.rule(rule_id)
    if r is None:
        click.echo(f"triage: error: no rule with id {safe_text(rule_id)!r} (see `triage signatures list`)", err=True)
        ctx.exit(2)
    m = r.match
    lines = [
        f"id:         {safe_text(r.id)}",
        f"file:       {safe_text(r.source)}",
        f"title:      {safe_text(r.title)}",
        f"category:   {r.category}" + (f" (panicked: {r.panic_category})" if r.panic_category else ""),
        f"severity:   {r.severity}    priority: {r.priority}    confidence: {r.confidence}",
    ]
    for kind in m.kinds:
        sec = rs.section(kind, r)
        lines.append(f"guilty:     {kind}: read {sec.read}; skip {', '.join(sec.skip) or '-'}"
                     + (f"; anchors {', '.join(sec.anchor)}" if sec.anchor else "")
                     + (f"; prefer {', '.join(sec.prefer)}" if sec.prefer else ""))
    lines += [
        f"match:      kind in {', '.join(m.kinds)}",
    ]
    for name, pat in m.fields.items():
        lines.append(f"            {name} =~ {safe_text(pat.pattern)}")
    for name, pat in m.not_fields.items():
        lines.append(f"            {name} !~ {safe_text(pat.pattern)}")
    for label, val in (("culprit module in", m.culprit_module_in), ("culprit module not in", m.culprit_module_not_in),
                       ("any frame module in", m.any_frame_module_in), ("panicked", m.panicked)):
        if val is not None:
            lines.append(f"            {label} {val}")
    for label, rel in (("preceded by", m.preceded_by), ("not preceded by", m.not_preceded_by),
                       ("followed by", m.followed_by)):
        if rel is not None:
            extra = []
            if rel.same_module:
                extra.append("same module")
            if rel.within_s is not None:
                extra.append(f"within {rel.within_s} s")
            if rel.within_lines is not None:
                extra.append(f"within {rel.within_lines} lines")
            lines.append(f"            {label} {', '.join(rel.kinds)}" + (f" ({', '.join(extra)})" if extra else ""))
    lines.append("meaning:")
    lines += ["  " + safe_text(x) for x in r.meaning.splitlines()]
    lines.append("next steps:")
    lines += [f"  - {safe_text(s)}" for s in r.next_steps]
    lines.append(f"examples:   {sum(e.expect == 'match' for e in r.examples)} positive, "
                 f"{sum(e.expect == 'no_match' for e in r.examples)} negative")
    for e in r.examples:
        if e.label:
            lines.append(f"  - [{e.expect}] {safe_text(e.label)}")
    click.echo("\n".join(lines))


@signatures.command("test")
@click.argument("rule_id", required=False)
@_SIG_OPTION
@click.option("--verbose", "-v", is_flag=True, help="Print passing examples too.")
@click.pass_context
def test(ctx: click.Context, rule_id: str, signature_dirs: Tuple[str, ...], verbose: bool) -> None:
    """Run every rule's inline example logs (or RULE_ID's); exit 8 when one fails."""
    from triage.classify import run_examples
    rs = _load(signature_dirs)
    if rule_id is not None and rs.rule(rule_id) is None:
        click.echo(f"triage: error: no rule with id {safe_text(rule_id)!r} (see `triage signatures list`)", err=True)
        ctx.exit(2)
    results = run_examples(rs, only=rule_id)
    failed = [r for r in results if not r.ok]
    for r in results:
        if verbose or not r.ok:
            label = f" ({safe_text(r.example.label)})" if r.example.label else ""
            status = "ok  " if r.ok else "FAIL"
            click.echo(f"{status} {safe_text(r.rule)} example #{r.index + 1}{label}"
                       + (f": {safe_text(r.message)}" if r.message else ""))
    click.echo(f"{len(results) - len(failed)}/{len(results)} examples passed")
    if failed or (rule_id and not results):
        ctx.exit(EXIT_SIGNATURES)


_UNSTABLE = re.compile(r"\{(comm)\}")


def lint_problems(rs) -> List[str]:
    """Problems that make rules hard to trust even though they load."""
    from triage.classify import rules as rules_mod
    problems: List[str] = []
    used_lists = set()
    for r in rs.rules:
        where = f"{r.source}: rule '{r.id}'"
        if not any(e.expect == "match" for e in r.examples):
            problems.append(f"{where}: no positive example")
        if not any(e.expect == "no_match" for e in r.examples):
            problems.append(f"{where}: no negative example")
        if not r.next_steps:
            problems.append(f"{where}: no next_steps")
        if len(r.meaning) < 20:
            problems.append(f"{where}: meaning is too short to help an expert")
        if _UNSTABLE.search(r.title):
            problems.append(f"{where}: title uses a per-host value ({{comm}}); titles must be stable across hosts")
        if re.search(r"0x[0-9a-f]{4,}|\d{4,}", r.title):
            problems.append(f"{where}: title contains a number or address; titles must be stable")
        if "{function}" in r.title and any(rs.section(k, r).read == "none" for k in r.match.kinds):
            problems.append(f"{where}: title needs {{function}} but the guilty section is 'none'")
        for name in (r.match.culprit_module_in, r.match.culprit_module_not_in, r.match.any_frame_module_in):
            if name:
                used_lists.add(name)
        for rel in (r.match.preceded_by, r.match.not_preceded_by, r.match.followed_by):
            if rel is not None and rel.module_in:
                used_lists.add(rel.module_in)
    for name, pats in rs.skip.items():
        for pat in pats:
            if not pat.pattern.startswith("^"):
                # a skip list is joined into one alternation: one unanchored member makes it
                # search every position of every frame name
                problems.append(f"skip list '{name}': regex {pat.pattern!r} is not anchored with '^'")
    for name in rs.lists:
        if name not in used_lists and name not in rules_mod.CODE_LISTS:
            problems.append(f"list '{name}' is not used by any rule")
    problems += _gpu_data_problems(rs)
    problems += _helper_lib_problems(rs)
    problems += _gpu_function_problems(rs)
    problems += [f"section.{kind}: arg_check_skip without arg_check_sites is never used"
                 for kind, sec in sorted(rs.sections.items()) if sec.arg_check_skip and not sec.arg_check_sites]
    problems += [f"section.{kind}: arg_check_ips without arg_check_skip is never used"
                 for kind, sec in sorted(rs.sections.items()) if sec.arg_check_ips and not sec.arg_check_skip]
    return problems


def _gpu_function_problems(rs) -> List[str]:
    """[generated_gpu_functions] names are asked only when no prefix matches, and each must
    name one driver: a name listed under two drivers is ambiguous (the lookup would keep one
    silently), and a name a [gpu_prefixes] or [generated_gpu_prefixes] prefix already starts
    is never asked (a dead entry)."""
    starts = rs.gpu_prefix_table().starts
    owners: Dict[str, List[str]] = {}
    problems: List[str] = []
    for drv, names in rs.gpu_functions.items():
        for name in names:
            bare = name.lstrip("_")
            owners.setdefault(bare, [])
            if drv not in owners[bare]:
                owners[bare].append(drv)
            if starts and (name.startswith(starts) or bare.startswith(starts)):
                problems.append(f"generated_gpu_functions '{drv}': '{name}' already has a GPU prefix")
    problems += [f"generated_gpu_functions: '{name}' is listed under {', '.join(drvs)}"
                 for name, drvs in sorted(owners.items()) if len(drvs) > 1]
    return problems


def _helper_lib_problems(rs) -> List[str]:
    """A GPU library ([lists] gpu_helper_libs) must be a GPU module ([lists] gpu_modules): the
    classifier steps over a library's frames to the GPU driver that called it, and blames the
    library itself only as a GPU module."""
    from triage.classify.rules import GPU_HELPER_LIBS, GPU_MODULES
    return [f"[lists] {GPU_HELPER_LIBS}: '{m}' is not in [lists] {GPU_MODULES}"
            for m in rs.lists.get(GPU_HELPER_LIBS, ()) if not rs.in_list(GPU_MODULES, m)]


def _gpu_data_problems(rs) -> List[str]:
    """The modules the event parser's GPU data names ([gpu_devices], [gpu_prefixes],
    [generated_gpu_functions], [[gpu_driverless_wordings]]) must be GPU driver modules ([lists] gpu_modules): the
    culprit of a gpu_fault report they yield would not count as a GPU driver otherwise."""
    from triage.classify.rules import GPU_MODULES
    gpu = rs.gpu_data
    named = {**{m: f"gpu_devices '{d}'" for d, m in gpu.names.devices.items()},
             **{drv: f"gpu_prefixes '{drv}'" for drv in rs.gpu_prefixes},
             **{drv: f"generated_gpu_functions '{drv}'" for drv in rs.gpu_functions},
             **{g.driver: f"gpu_driverless_wordings '{g.wordings.headline}'" for g in gpu.driverless}}
    return [f"{where}: module '{m}' is not in [lists] {GPU_MODULES}" for m, where in sorted(named.items())
            if not rs.in_list(GPU_MODULES, m)]


@signatures.command("lint")
@_SIG_OPTION
@click.pass_context
def lint(ctx: click.Context, signature_dirs: Tuple[str, ...]) -> None:
    """Check rule files: they load, and every rule has examples, prose and a stable title."""
    rs = _load(signature_dirs)       # a broken file raises SignatureError naming file and rule
    problems = lint_problems(rs)
    for p in problems:
        click.echo(f"lint: {safe_text(p)}")
    click.echo(f"{len(rs.rules)} rules in {len(rs.files)} files, {len(problems)} problems")
    if problems:
        ctx.exit(EXIT_SIGNATURES)
