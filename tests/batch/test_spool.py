"""The plan's item spool (triage.batch.spool) read back a page at a time.

Oracle: the items added and the decisions written, kept in plain lists here:
every reader (all items, the items of one kind, the copies of one task's crash)
gives them in discovery order across page boundaries, while the caller writes
decisions between pages, and a second item with an id already added is ignored.
"""

from triage.batch import spool
from triage.batch.discover import DumpItem


def test_pages_give_every_item_in_order_while_deciding(tmp_path, monkeypatch):
    monkeypatch.setattr(spool, "PAGE", 3)
    sp = spool.Spool(str(tmp_path / "items.sqlite"))
    try:
        items = [DumpItem(id=f"/d/{i}\udcff", layout="bare") for i in range(11)]
        for it in items + [DumpItem(id=items[4].id, layout="other")]:
            sp.add(it)
        assert sp.count == 11
        seen = []
        for seq, it in sp.items(every=True):       # decide() between the pages
            seen.append((seq, it.id, it.layout))
            if seq % 4 == 1:
                sp.decide(seq, "task", f"k{seq}", f"c{seq}")
            elif seq % 2 == 0:
                sp.decide(seq, "dup", f"k{seq}", "c1", lead=1)
        assert seen == [(i + 1, it.id, "bare") for i, it in enumerate(items)]
        assert [seq for seq, _ in sp.items("task")] == [1, 5, 9]
        assert [(it.id, ck, cr) for it, ck, cr in sp.dups(1)] == \
            [(items[s - 1].id, f"k{s}", "c1") for s in (2, 4, 6, 8, 10)]
        assert list(sp.dups(5)) == []
        assert list(sp.ids()) == [it.id for it in items]
        assert sp.task_of_crash("c5") == 5 and sp.task_of_crash("c1") == 1
        assert sp.counts() == {"task": 3, "dup": 5}
    finally:
        sp.close()
