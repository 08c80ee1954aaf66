"""classify() keeps a bounded number of matches per rule without changing the
ranking's head. Oracle: the same log classified with the cap lifted."""

import textwrap

from triage.classify import classify, load_rules
from triage.classify import engine
from triage.events import parse_log

RULES = load_rules()

WARN = textwrap.dedent("""\
    [%(ts)12.6f] WARNING: CPU: 3 PID: %(pid)d at drivers/gpu/drm/acme/acme_drv.c:10 acme_submit+0x10/0x200 [acme]
    [%(ts)12.6f] Modules linked in: acme(OE) ext4
    [%(ts)12.6f] RIP: 0010:acme_submit+0x10/0x200 [acme]
    [%(ts)12.6f] ---[ end trace 0000000000000000 ]---
    """)
ALLOC = "[%(ts)12.6f] python3: page allocation failure: order:4, mode:0x6040c0(GFP_KERNEL|__GFP_COMP), nodemask=(null)\n"
OOPS = textwrap.dedent("""\
    [%(ts)12.6f] BUG: kernel NULL pointer dereference, address: 0000000000000010
    [%(ts)12.6f] CPU: 0 PID: 301 Comm: sh Tainted: G           OE     6.1.0-18-amd64 #1
    [%(ts)12.6f] RIP: 0010:crashme_write+0x1a/0x40 [crashme]
    [%(ts)12.6f] Kernel panic - not syncing: Fatal exception
    """)


def _lines():
    text = "".join((WARN if i % 3 else ALLOC) % {"ts": 10 + i * 0.01, "pid": 100 + i} for i in range(90))
    return (text + OOPS % {"ts": 20.0}).splitlines()


def _summary(matches):
    return [(m.rule.id, m.title, m.event.line if m.event else None, m.evidence, m.confidence) for m in matches]


def test_cap_keeps_the_head_of_the_ranking_and_counts_everything(monkeypatch):
    full = classify(parse_log(_lines()), RULES)
    monkeypatch.setattr(engine, "MAX_MATCHES_PER_RULE", 5)
    capped = classify(parse_log(_lines()), RULES)
    assert len(full) > 60 and len(capped) < 20
    # every rule keeps its first matches in log order, the panic's cause always
    assert _summary(capped) == [s for s in _summary(full) if s in _summary(capped)]
    assert _summary(capped)[:5] == _summary(full)[:5]
    assert capped[0].panicked and capped[0].event is not None
    assert capped.counts == full.counts
    assert sum(full.counts.values()) == len(full)
    by_rule = {}
    for m in capped:
        by_rule[m.rule.id] = by_rule.get(m.rule.id, 0) + 1
    assert all(n <= 5 or rid == capped[0].rule.id for rid, n in by_rule.items())
    assert max(full.counts.values()) == 60
