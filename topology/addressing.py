"""The unified address plan (统一的地址体系): pools, allocation and overlaps.

Each domain owns an address pool. Explicit addresses in the plan are reserved
first; every node then gets a /32 loopback and every link a point-to-point
subnet (``link_prefix``, /31 by default) from its domain's pool, in plan order,
so the same plan always gets the same addresses. A domain without a pool gets
one automatically (a /16 from 10.128.0.0/9 that overlaps nothing explicit).

Overlaps are errors: two domain pools that overlap, an explicit address or LAN
outside its domain's pool, two links whose subnets overlap, one address used
twice.

Inside :func:`shared_addresses` (``govnet check --watch``, for as long as it
watches), the blocks and interface addresses handed out are shared: one
object per value (they are immutable). A plan loaded again then gets the same
objects, so comparing two versions costs an identity test per address rather
than :mod:`ipaddress`'s comparison, and building them costs a lookup. Outside,
nothing is kept: a single run would only pay for the table.

    >>> a = PoolAllocator(ipaddress.IPv4Network("10.0.0.0/30"))
    >>> str(a.allocate(32)), str(a.allocate(31))
    ('10.0.0.0/32', '10.0.0.2/31')
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

AUTO_POOL_SPACE = ipaddress.IPv4Network("10.128.0.0/9")
AUTO_POOL_PREFIX = 16
_shared: dict[tuple[type, int, int], ipaddress.IPv4Network | ipaddress.IPv4Interface] | None = None


@contextmanager
def shared_addresses() -> Iterator[None]:
    """Inside, the blocks and interface addresses handed out are shared (see the module docstring).

    >>> with shared_addresses():
    ...     block(167772160, 31) is block(167772160, 31)
    True
    >>> block(167772160, 31) is block(167772160, 31)
    False
    """
    global _shared
    before = _shared
    _shared = {} if before is None else before
    try:
        yield
    finally:
        _shared = before


def block(start: int, prefixlen: int) -> ipaddress.IPv4Network:
    """The network ``start/prefixlen`` (shared inside :func:`shared_addresses`).

    >>> str(block(167772160, 31))
    '10.0.0.0/31'
    """
    return _shared_value(ipaddress.IPv4Network, start, prefixlen)


def interface(ip: int, prefixlen: int) -> ipaddress.IPv4Interface:
    """The interface address ``ip/prefixlen`` (shared inside :func:`shared_addresses`).

    >>> str(interface(167772161, 31))
    '10.0.0.1/31'
    """
    return _shared_value(ipaddress.IPv4Interface, ip, prefixlen)


A = TypeVar("A", ipaddress.IPv4Network, ipaddress.IPv4Interface)


def _shared_value(kind: type[A], value: int, prefixlen: int) -> A:
    if _shared is None:
        return kind((value, prefixlen))
    key = (kind, value, prefixlen)
    found = _shared.get(key)
    if found is None:
        found = _shared[key] = kind((value, prefixlen))
    return found  # type: ignore[return-value]


class PoolExhausted(Exception):
    """The pool has no free block of the asked size."""


@dataclass
class PoolAllocator:
    """Hands out aligned blocks from a pool, skipping reserved ranges."""

    pool: ipaddress.IPv4Network
    cursor: int = field(init=False)
    reserved: list[tuple[int, int]] = field(default_factory=list)  # sorted [start, end] inclusive

    def __post_init__(self) -> None:
        self.cursor = int(self.pool.network_address)

    def reserve(self, network: ipaddress.IPv4Network) -> None:
        span = (int(network.network_address), int(network.broadcast_address))
        bisect.insort(self.reserved, span)

    def _clash(self, start: int, end: int) -> int | None:
        """End of a reserved range overlapping [start, end], if any."""
        index = bisect.bisect_right(self.reserved, (end, 2**32))
        for r_start, r_end in self.reserved[:index]:
            if r_start <= end and r_end >= start:
                return r_end
        return None

    def allocate(self, prefixlen: int) -> ipaddress.IPv4Network:
        size = 1 << (32 - prefixlen)
        last = int(self.pool.broadcast_address)
        while True:
            start = (self.cursor + size - 1) // size * size
            end = start + size - 1
            if end > last:
                raise PoolExhausted(f"pool {self.pool} has no free /{prefixlen} left")
            clash = self._clash(start, end)
            if clash is None:
                self.cursor = end + 1
                return block(start, prefixlen)
            self.cursor = clash + 1


def auto_pools(count: int, taken: list[ipaddress.IPv4Network]) -> list[ipaddress.IPv4Network]:
    """``count`` /16 pools from 10.128.0.0/9 overlapping none of ``taken``."""
    out: list[ipaddress.IPv4Network] = []
    for candidate in AUTO_POOL_SPACE.subnets(new_prefix=AUTO_POOL_PREFIX):
        if len(out) == count:
            break
        if not any(candidate.overlaps(t) for t in taken):
            out.append(candidate)
    if len(out) < count:
        raise PoolExhausted("no free /16 left in 10.128.0.0/9 for domains without a pool")
    return out


def find_overlaps(networks: Sequence[tuple[ipaddress.IPv4Network, T]]) -> list[tuple[T, T]]:
    """Pairs of owners whose networks overlap (sweep over sorted ranges)."""
    spans = sorted(((start := int(n.network_address), start + (1 << (32 - n.prefixlen)) - 1, owner)
                    for n, owner in networks),
                   key=lambda s: (s[0], -s[1]))
    out: list[tuple[T, T]] = []
    open_spans: list[tuple[int, int, T]] = []
    for start, end, owner in spans:
        open_spans = [s for s in open_spans if s[1] >= start]
        for other in open_spans:
            out.append((other[2], owner))
        open_spans.append((start, end, owner))
    return out
