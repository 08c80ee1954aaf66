"""classify layer of triage: match signature rules (signatures/*.toml) against
a parsed KernelLog and rank the results.

API for the report/CLI layers:

    load_rules(extra_dirs=()) -> RuleSet
        Built-in rules (package data of triage.signatures, mapped from the
        top-level signatures/ by setup.py; that directory itself in a
        checkout), then each extra dir (`--signatures DIR`), then
        $TRIAGE_SIGNATURES (colon-separated), then /etc/triage/signatures.d.
        A later rule with the same id replaces an earlier one. Raises
        SignatureError naming the file and rule id, when a named directory
        is missing, and when no rule loads.

    classify(log: KernelLog, rules: RuleSet) -> List[Match]
        Ranked best first, never empty. Match fields:
          rule        Rule: id, title (template), category, panic_category,
                      severity, priority, meaning, next_steps, source
          category    the verdict category (rule.panic_category when the
                      matched report made the kernel panic, e.g. warn_panic)
          severity    rule severity
          title       rendered, stable title ("BUG: kernel NULL pointer
                      dereference in nv_alloc_pages [nvidia]")
          event       the main Event (None for category "none")
          related     earlier/later Events that matter: the allocation
                      failure before a GPU NULL dereference, OOM kills,
                      the panic line, ... in log order
          culprit     triage.findings.Culprit: module (None = core
                      kernel), function, taint letters of the module from
                      `Modules linked in:`, proprietary/out_of_tree/
                      unsigned, is_gpu_driver
          confidence  0..1
          evidence    log line numbers supporting the match
          panicked    the matched report is the one that made the kernel panic
        Category "unknown" = a crash no rule recognises; "none" = no crash.

    run_examples(rules) -> List[ExampleResult]   every rule's inline examples
    panic_cause(log) -> (cause Event, panic Event)
    render_title(rule, event, function, module) -> str
"""

from triage.classify.engine import Match, classify, panic_cause, render_title
from triage.classify.examples import ExampleResult, run_examples
from triage.classify.rules import CATEGORIES, Rule, RuleSet, load_files, load_rules

__all__ = ["CATEGORIES", "ExampleResult", "Match", "Rule", "RuleSet", "classify", "load_files", "load_rules",
           "panic_cause", "render_title", "run_examples"]
