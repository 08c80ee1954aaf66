"""Plain data classes without the dataclasses module.

The modules `triage dmesg` loads (dump readers, VMCOREINFO, printk) declare their
records with DataRecord instead of @dataclass: importing dataclasses (it imports
inspect, which imports ast, dis and tokenize) and generating each class's methods
with exec() were over half of that command's import time, beside makedumpfile's C
start-up. A subclass is written like a dataclass: its fields are its annotated class
attributes in order (a base class's first), a class attribute is the field's
default and Factory(list) a default made for each instance. It gets __init__
(positional or keyword arguments), __repr__ and __eq__ (same class, equal fields;
unhashable, as a dataclass with eq); replace() copies one with some fields changed.
The findings, which are rendered and redacted through dataclasses.fields, stay
dataclasses.
"""

from typing import Any, Callable, ClassVar, Dict, Tuple, TypeVar

R = TypeVar("R", bound="DataRecord")
_MISSING = object()


class Factory:
    """A default made anew for each instance (dataclasses' default_factory)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]):
        self.make = make


class DataRecord:
    """Base of a plain data class: fields from the subclass's annotations."""

    _fields: ClassVar[Tuple[str, ...]] = ()
    _defaults: ClassVar[Dict[str, Any]] = {}
    __hash__ = None     # type: ignore[assignment]  # mutable, compared by value

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields, defaults = list(cls._fields), dict(cls._defaults)
        for name, hint in cls.__dict__.get("__annotations__", {}).items():
            if hint is ClassVar or getattr(hint, "__origin__", None) is ClassVar:
                continue
            if name not in fields:
                fields.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
            else:
                defaults.pop(name, None)
        seen_default = None
        for name in fields:
            if name in defaults:
                seen_default = name
            elif seen_default is not None:
                raise TypeError(f"{cls.__name__}: field {name!r} without a default follows {seen_default!r}")
        cls._fields, cls._defaults = tuple(fields), defaults

    def __init__(self, *args: Any, **kwargs: Any):
        fields, name_of = self._fields, type(self).__name__
        if len(args) > len(fields):
            raise TypeError(f"{name_of}() takes {len(fields)} positional arguments but {len(args)} were given")
        for name, value in zip(fields, args):
            if name in kwargs:
                raise TypeError(f"{name_of}() got multiple values for argument {name!r}")
            setattr(self, name, value)
        for name in fields[len(args):]:
            value = kwargs.pop(name, _MISSING)
            if value is _MISSING:
                value = self._defaults.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{name_of}() missing required argument: {name!r}")
                if value.__class__ is Factory:
                    value = value.make()
            setattr(self, name, value)
        if kwargs:
            raise TypeError(f"{name_of}() got an unexpected keyword argument {next(iter(kwargs))!r}")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()   # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(" + ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self._fields) + ")"

    def replace(self: R, **changes: Any) -> R:
        """A copy with `changes` applied (dataclasses.replace)."""
        return type(self)(**{name: changes.pop(name, getattr(self, name)) for name in self._fields}, **changes)
