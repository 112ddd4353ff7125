"""A mapping that is another with a few keys changed or removed, without copying it.

Definition. ``Patched(base, changes)`` reads as ``base`` where ``changes``
says nothing, as ``changes[key]`` where it gives a value and as absent where it
gives :data:`GONE`. The state of a network after a failure differs from the
intact one's in the few entries of the nodes and links that failed; a copy of
the intact mappings (a few hundred thousand entries on the national plan) cost
more than everything else a failure case does, once to build and once to free.
A patch costs what it changes. ``collections.ChainMap`` cannot remove a key of
a map behind the first, which a failure needs, so this is written here.

Writes go to the patch (``patched[key] = value``, ``del patched[key]``,
``pop``); the base is never touched. Iteration gives the base's keys in its
order, then the keys new to it.

Example::

    >>> base = {1: "a", 2: "b", 3: "c"}
    >>> p = Patched(base)
    >>> del p[2]; p[4] = "d"; p[1] = "A"
    >>> dict(p), len(p), 2 in p, p.get(2, "-"), base
    ({1: 'A', 3: 'c', 4: 'd'}, 3, False, '-', {1: 'a', 2: 'b', 3: 'c'})
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class _Gone:
    __slots__ = ()

    def __repr__(self) -> str:
        return "GONE"


GONE = _Gone()  # the value in a patch of a key removed from the base


class Patched(MutableMapping[K, V], Generic[K, V]):
    """``base`` read through a patch of changed and removed keys (see the module docstring)."""

    __slots__ = ("base", "changes")

    def __init__(self, base: Mapping[K, V], changes: dict[K, V | _Gone] | None = None):
        if isinstance(base, Patched):  # a patch of a patch: one level, the base's changes under ours
            changes = {**base.changes, **(changes or {})}
            base = base.base
        self.base: Mapping[K, V] = base
        self.changes: dict[K, V | _Gone] = changes if changes is not None else {}

    def __getitem__(self, key: K) -> V:
        if key in self.changes:
            value = self.changes[key]
            if isinstance(value, _Gone):
                raise KeyError(key)
            return value
        return self.base[key]

    @overload
    def get(self, key: K, /) -> V | None: ...

    @overload
    def get(self, key: K, default: V | T, /) -> V | T: ...

    def get(self, key: K, default: object = None) -> object:
        if key in self.changes:
            value = self.changes[key]
            return default if isinstance(value, _Gone) else value
        return self.base.get(key, default)

    def __contains__(self, key: object) -> bool:
        if key in self.changes:
            return not isinstance(self.changes[key], _Gone)
        return key in self.base

    def __setitem__(self, key: K, value: V) -> None:
        self.changes[key] = value

    def __delitem__(self, key: K) -> None:
        if key not in self:
            raise KeyError(key)
        self.changes[key] = GONE

    def __iter__(self) -> Iterator[K]:
        changes = self.changes
        for key in self.base:
            if key not in changes or not isinstance(changes[key], _Gone):
                yield key
        for key, value in changes.items():
            if key not in self.base and not isinstance(value, _Gone):
                yield key

    def __len__(self) -> int:
        n = len(self.base)
        for key, value in self.changes.items():
            gone = isinstance(value, _Gone)
            if key in self.base:
                n -= gone
            else:
                n += not gone
        return n
