"""The [skip] lists tested one pattern at a time and as one joined alternation
agree on every frame name; the join is made only once a combination is asked
for repeatedly (a single dump asks once per section)."""

from triage.classify.guilty import _skipped
from triage.classify.rules import JOIN_AFTER, load_rules
from triage.events.model import Frame


def test_joined_and_separate_skip_lists_agree():
    rules = load_rules()
    names = sorted(rules.skip)
    assert len(names) >= 4
    separate = rules.skip_patterns(names)
    for _ in range(JOIN_AFTER - 2):
        assert rules.skip_patterns(names) is not None
    joined = rules.skip_patterns(names)
    assert len(separate) > 100 and len(joined) < len(separate)      # one alternation (or the few unjoinable)
    assert rules.skip_patterns(names) is joined                     # made once, then kept
    frames = ["dump_stack", "dump_stack_lvl", "warn_slowpath_fmt", "__warn", "panic", "nv_gpu_init_channel",
              "do_syscall_64", "entry_SYSCALL_64_after_hwframe", "_raw_spin_lock", "queued_spin_lock_slowpath",
              "kmalloc_trace", "__kmalloc", "vfs_write", "ksys_write", "__schedule", "schedule_timeout",
              "wait_for_completion", "acme_trigger_write", "mutex_lock", "asm_exc_page_fault", "", "x"]
    frames += [p.pattern.strip("^$\\") for p in separate[:200:7]]   # names near the patterns themselves
    skipped = 0
    for name in frames:
        fr = Frame(function=name)
        assert _skipped(fr, separate) == _skipped(fr, joined), name
        skipped += _skipped(fr, joined)
    assert 5 < skipped < len(frames) - 5          # both answers occur: not a vacuous comparison
