"""Fuzz target: the BTF parser (triage.facts.btf) and the drgn types built from it
(triage.facts.btf_types), as the dump-facts finders use them.

The input is a .BTF blob; the seeds are real vmlinux BTF cut to a few types the
facts use (fuzz/make_facts_seeds.py). Every type record is decoded and turned
into a drgn type, struct members included, and the by-name lookups the finders
make are run.
"""

import os

from _harness import instrumented, run

with instrumented():
    from triage.facts import btf as B
    from triage.facts.btf_types import TypeBuilder

os.environ.setdefault("DRGN_DISABLE_PLUGINS", "*")
import drgn  # noqa: E402

PLATFORM = drgn.Platform(drgn.Architecture.X86_64,
                         drgn.PlatformFlags.IS_64_BIT | drgn.PlatformFlags.IS_LITTLE_ENDIAN)
MAX_TYPES_BUILT = 400


def test_one(data: bytes) -> None:
    try:
        btf = B.Btf(data)
    except B.BtfError:
        return
    types = TypeBuilder(drgn.Program(PLATFORM), btf)
    for name, kinds in (("list_head", (B.STRUCT,)), ("zone_stat_item", (B.ENUM, B.ENUM64)),
                        ("atomic_long_t", (B.TYPEDEF,)), ("panic", (B.FUNC,))):
        btf.find(name, kinds)
    btf.enumerator("NR_FREE_PAGES")
    btf.var("runqueues")
    for tid in range(1, min(btf.count, MAX_TYPES_BUILT)):
        try:
            t = btf.type(tid)
            if t.kind in (B.STRUCT, B.UNION):
                btf.members(t)
            elif t.kind in (B.ENUM, B.ENUM64):
                btf.enumerators(t)
            elif t.kind == B.FUNC_PROTO:
                btf.params(t)
            elif t.kind == B.DATASEC:
                btf.datasec(t)
            btf.resolve(tid)
            if t.kind in (B.DATASEC, B.DECL_TAG):
                continue
            built = types.type(tid)
            if built.kind in (drgn.TypeKind.STRUCT, drgn.TypeKind.UNION) and built.is_complete():
                for m in built.members:
                    m.type          # members are built lazily: force them
        except B.BtfError:
            continue


if __name__ == "__main__":
    run(test_one)
