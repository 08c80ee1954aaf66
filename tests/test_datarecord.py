"""triage.datarecord: the dataclass-like base of the records `triage dmesg` loads, held
to what @dataclass does with the same class body (the oracle: dataclasses itself)."""

import dataclasses
from typing import ClassVar, List, Optional

import pytest

from triage.datarecord import DataRecord, Factory


class Rec(DataRecord):
    name: str
    size: int = 4
    tags: List[str] = Factory(list)
    note: Optional[str] = None
    KIND: ClassVar[str] = "rec"


@dataclasses.dataclass
class Twin:
    name: str
    size: int = 4
    tags: List[str] = dataclasses.field(default_factory=list)
    note: Optional[str] = None
    KIND: ClassVar[str] = "rec"


@pytest.mark.parametrize("args, kwargs", [(("a",), {}), (("a", 8), {"note": "x"}),
                                          ((), {"name": "b", "tags": ["t"]}), (("c", 1, ["u"], "n"), {})])
def test_init_repr_eq_as_a_dataclass(args, kwargs):
    r, t = Rec(*args, **kwargs), Twin(*args, **kwargs)
    assert [getattr(r, f.name) for f in dataclasses.fields(Twin)] == [getattr(t, f.name) for f in dataclasses.fields(Twin)]
    assert repr(r) == repr(t).replace("Twin(", "Rec(")
    assert r == Rec(*args, **kwargs) and r != Rec("other")
    assert Rec._fields == tuple(f.name for f in dataclasses.fields(Twin))


def test_factory_defaults_are_per_instance_and_records_unhashable():
    a, b = Rec("a"), Rec("b")
    a.tags.append("x")
    assert b.tags == [] and Rec.KIND == "rec"
    with pytest.raises(TypeError):
        hash(a)


@pytest.mark.parametrize("args, kwargs", [((), {}), (("a", 1, [], None, "extra"), {}), (("a",), {"name": "b"}),
                                          (("a",), {"colour": 1})])
def test_bad_arguments_are_type_errors_as_for_a_dataclass(args, kwargs):
    with pytest.raises(TypeError):
        Twin(*args, **kwargs)
    with pytest.raises(TypeError):
        Rec(*args, **kwargs)


def test_replace_and_inheritance():
    r = Rec("a", tags=["t"])
    s = r.replace(size=9)
    assert (s.name, s.size, s.tags, r.size) == ("a", 9, ["t"], 4)
    with pytest.raises(TypeError):
        r.replace(colour=1)

    class Sub(Rec):
        extra: int = 0
    assert Sub._fields == Rec._fields + ("extra",) and Sub("z", extra=2).extra == 2


def test_a_field_without_default_after_one_with_is_refused():
    with pytest.raises(TypeError):
        class Bad(DataRecord):
            a: int = 0
            b: int
