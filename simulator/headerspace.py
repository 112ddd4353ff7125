"""Header space: sets of packet headers as unions of boxes of integer intervals.

Definition. A header is five integers ``(src, dst, proto, sport, dport)``:
IPv4 source and destination as 32-bit ints, the IP protocol number, and the
two ports. ICMP has no ports: its *type* is carried in ``dport`` and its code
(always 0 here) in ``sport``; a protocol without ports (ESP, GRE, ...) has
``sport = dport = 0``. The set of headers a node can put on the wire is
:func:`universe`.

An :class:`IntervalSet` is a sorted tuple of disjoint, non-adjacent closed
intervals. A *box* is a tuple of five interval sets (one per field) and
stands for their Cartesian product. A :class:`HeaderSpace` is a union of
pairwise disjoint boxes. Firewall rules, route prefixes and tunnel selectors
are single boxes, so intersecting and subtracting them (``A \\ B`` splits A
into at most five disjoint boxes) is all a reachability query needs to split
the header space into the classes every rule and prefix on the way induce
(the *atomic predicates* of those rules).

Why boxes, written here. Batfish and NetKAT-style tools encode header sets
as BDDs (JavaBDD, ``dd``); for govnet's rules a BDD buys nothing and costs a
native dependency: every predicate a plan can write is a box (a prefix, a
protocol, a port range), a query splits its space only at the rules and
prefixes on its way, and the pieces stay few (tens per query on the Yunnan
plan), so interval arithmetic on plain tuples is exact, hashable, easy to
print as evidence (``tcp 10.0.0.0/8 -> 10.53.1.4/32 dport 443``) and fast
enough. No maintained pure-Python library offers interval boxes with
subtraction (``portion`` has one-dimensional intervals only). The rest of
govnet sees a narrow interface: :func:`box`, :func:`universe`,
:class:`HeaderSpace` (intersect, subtract, split, union, contains,
representative) and the text/JSON renderers; swapping the representation
would touch this module only.

Example::

    >>> web = box(dst=prefix_interval("10.53.1.4/32"), proto=(6, 6), dport=(443, 443))
    >>> space = HeaderSpace.of(universe_box()).intersect_box(web)
    >>> str(space)
    'tcp 0.0.0.0/0 -> 10.53.1.4/32 dport 443'
    >>> space.contains((1, int_ip("10.53.1.4"), 6, 40000, 443))
    True
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from topology.vocabulary import (
    ICMP,
    PROTO_NAMES,
    TCP,
    UDP,
)

SRC, DST, PROTO, SPORT, DPORT = range(5)
FIELDS = ("src", "dst", "proto", "sport", "dport")
MAX = (2**32 - 1, 2**32 - 1, 255, 65535, 65535)

Interval = tuple[int, int]


def int_ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def ip_text(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def prefix_interval(prefix: str | ipaddress.IPv4Network) -> Interval:
    """The address interval of a prefix: ``10.0.0.0/30`` -> (10.0.0.0, 10.0.0.3) as ints."""
    net = prefix if isinstance(prefix, ipaddress.IPv4Network) else ipaddress.IPv4Network(prefix, strict=False)
    low = int(net.network_address)
    return (low, low + net.num_addresses - 1)


class IntervalSet(tuple):
    """A sorted tuple of disjoint, non-adjacent closed intervals ``(lo, hi)``."""

    __slots__ = ()

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> IntervalSet:
        """Normalise any intervals (overlapping, unsorted) into a set."""
        items = sorted((lo, hi) for lo, hi in intervals if lo <= hi)
        out: list[Interval] = []
        for lo, hi in items:
            if out and lo <= out[-1][1] + 1:
                if hi > out[-1][1]:
                    out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return cls(out)

    @classmethod
    def span(cls, lo: int, hi: int) -> IntervalSet:
        return cls(((lo, hi),)) if lo <= hi else EMPTY

    def __and__(self, other: IntervalSet) -> IntervalSet:
        if not self or not other:
            return EMPTY
        if len(other) == 1 and len(self) == 1:
            lo, hi = max(self[0][0], other[0][0]), min(self[0][1], other[0][1])
            return IntervalSet(((lo, hi),)) if lo <= hi else EMPTY
        out = []
        i = j = 0
        while i < len(self) and j < len(other):
            lo = max(self[i][0], other[j][0])
            hi = min(self[i][1], other[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if self[i][1] < other[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(out)

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        if not self or not other:
            return self
        out = []
        j = 0
        for lo, hi in self:
            while j < len(other) and other[j][1] < lo:
                j += 1
            k = j
            cur = lo
            while k < len(other) and other[k][0] <= hi:
                if other[k][0] > cur:
                    out.append((cur, other[k][0] - 1))
                cur = max(cur, other[k][1] + 1)
                if cur > hi:
                    break
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet(out)

    def __or__(self, other: IntervalSet) -> IntervalSet:
        if not other:
            return self
        if not self:
            return other
        return IntervalSet.of(list(self) + list(other))

    def contains(self, value: int) -> bool:
        if len(self) == 1:
            return self[0][0] <= value <= self[0][1]
        i = bisect.bisect_right(self, (value, 2**64)) - 1
        return i >= 0 and self[i][0] <= value <= self[i][1]

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self)

    def first(self) -> int:
        return self[0][0]

    def covers(self, other: IntervalSet) -> bool:
        return not (other - self)


EMPTY = IntervalSet(())
FULL = tuple(IntervalSet(((0, m),)) for m in MAX)

Box = tuple  # tuple[IntervalSet, IntervalSet, IntervalSet, IntervalSet, IntervalSet]


def box(src: Interval | IntervalSet | None = None, dst: Interval | IntervalSet | None = None,
        proto: Interval | IntervalSet | None = None, sport: Interval | IntervalSet | None = None,
        dport: Interval | IntervalSet | None = None) -> Box:
    """A box from per-field intervals (None = the whole field)."""
    out = []
    for f, value in enumerate((src, dst, proto, sport, dport)):
        if value is None:
            out.append(FULL[f])
        elif isinstance(value, IntervalSet):
            out.append(value)
        else:
            out.append(IntervalSet.span(*value))
    return tuple(out)


def universe_box() -> Box:
    return FULL


def universe(src: IntervalSet | None = None, dst: IntervalSet | None = None) -> HeaderSpace:
    """Every header a node can send: TCP/UDP with any ports, ICMP with any type, other protocols without ports."""
    s = src if src is not None else FULL[SRC]
    d = dst if dst is not None else FULL[DST]
    zero = IntervalSet.span(0, 0)
    boxes = [
        (s, d, IntervalSet.of([(TCP, TCP), (UDP, UDP)]), FULL[SPORT], FULL[DPORT]),
        (s, d, IntervalSet.span(ICMP, ICMP), zero, IntervalSet.span(0, 255)),
        (s, d, FULL[PROTO] - IntervalSet.of([(TCP, TCP), (UDP, UDP), (ICMP, ICMP)]), zero, zero),
    ]
    return HeaderSpace(tuple(b for b in boxes if not box_empty(b)))


def box_empty(b: Box) -> bool:
    return not (b[0] and b[1] and b[2] and b[3] and b[4])


def box_intersect(a: Box, b: Box) -> Box | None:
    out = (a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3] & b[3], a[4] & b[4])
    return None if box_empty(out) else out


def box_subtract(a: Box, b: Box) -> list[Box]:
    """``a \\ b`` as at most five disjoint boxes."""
    current = list(a)
    out: list[Box] = []
    for f in range(5):
        inter = current[f] & b[f]
        if not inter:
            out.append(tuple(current))
            return out
        diff = current[f] - b[f]
        if diff:
            piece = list(current)
            piece[f] = diff
            out.append(tuple(piece))
        current[f] = inter
    return out


def box_contains(b: Box, point: Sequence[int]) -> bool:
    return all(b[f].contains(point[f]) for f in range(5))


def box_size(b: Box) -> int:
    n = 1
    for f in range(5):
        n *= b[f].size()
    return n


@dataclass(frozen=True)
class HeaderSpace:
    """A union of pairwise disjoint boxes (see the module docstring)."""

    boxes: tuple[Box, ...] = ()

    @classmethod
    def of(cls, *boxes: Box) -> HeaderSpace:
        return cls(tuple(b for b in boxes if not box_empty(b)))

    def __bool__(self) -> bool:
        return bool(self.boxes)

    def is_empty(self) -> bool:
        return not self.boxes

    def intersect_box(self, b: Box) -> HeaderSpace:
        out = []
        for a in self.boxes:
            c = box_intersect(a, b)
            if c is not None:
                out.append(c)
        return HeaderSpace(tuple(out))

    def subtract_box(self, b: Box) -> HeaderSpace:
        out: list[Box] = []
        for a in self.boxes:
            out.extend(box_subtract(a, b))
        return HeaderSpace(tuple(out))

    def split_box(self, b: Box) -> tuple[HeaderSpace, HeaderSpace]:
        """(self ∩ b, self \\ b)."""
        inside, outside = [], []
        for a in self.boxes:
            c = box_intersect(a, b)
            if c is None:
                outside.append(a)
            else:
                inside.append(c)
                outside.extend(box_subtract(a, b))
        return HeaderSpace(tuple(inside)), HeaderSpace(tuple(outside))

    def intersect(self, other: HeaderSpace) -> HeaderSpace:
        out = []
        for a in self.boxes:
            for b in other.boxes:
                c = box_intersect(a, b)
                if c is not None:
                    out.append(c)
        return HeaderSpace(tuple(out))

    def subtract(self, other: HeaderSpace) -> HeaderSpace:
        current = self
        for b in other.boxes:
            current = current.subtract_box(b)
            if not current:
                break
        return current

    def union(self, other: HeaderSpace) -> HeaderSpace:
        """Union; ``other``'s boxes are made disjoint from ``self``'s."""
        return HeaderSpace(self.boxes + other.subtract(self).boxes).coalesce()

    def union_disjoint(self, other: HeaderSpace) -> HeaderSpace:
        """Union of two spaces known to be disjoint (no checking)."""
        return HeaderSpace(self.boxes + other.boxes)

    def contains(self, point: Sequence[int]) -> bool:
        return any(box_contains(b, point) for b in self.boxes)

    def size(self) -> int:
        """How many headers the space holds."""
        return sum(box_size(b) for b in self.boxes)

    def coalesce(self) -> HeaderSpace:
        """Merge boxes that differ in one field only (same set, fewer boxes)."""
        if len(self.boxes) <= 1:
            return self
        boxes = list(self.boxes)
        changed = True
        while changed and len(boxes) > 1:
            changed = False
            for f in (DST, SRC, DPORT, SPORT, PROTO):
                groups: dict[tuple, IntervalSet] = {}
                order: list[tuple] = []
                for b in boxes:
                    key = b[:f] + b[f + 1:]
                    if key in groups:
                        groups[key] = groups[key] | b[f]
                        changed = True
                    else:
                        groups[key] = b[f]
                        order.append(key)
                if len(order) < len(boxes):
                    boxes = [k[:f] + (groups[k],) + k[f:] for k in order]
        return HeaderSpace(tuple(sorted(boxes, key=_box_order)))

    def representative(self, prefer: Mapping[int, Iterable[int]] | None = None) -> tuple[int, int, int, int, int]:
        """One header of the space, taking a preferred value per field where the space allows it."""
        if not self.boxes:
            raise ValueError("empty header space has no representative")
        prefer = prefer or {}
        best: tuple[int, tuple[int, ...]] | None = None
        for b in self.boxes:
            point: list[int] = []
            score = 0
            for f in range(5):
                for value in prefer.get(f, ()):
                    if b[f].contains(value):
                        point.append(value)
                        score += 1
                        break
                else:
                    lo, hi = b[f][0]
                    point.append(lo + 1 if f in (SRC, DST) and hi - lo >= 3 and lo & 0xFF == 0 else lo)
            if best is None or score > best[0]:
                best = (score, tuple(point))
                if score == len(prefer):
                    break
        assert best is not None  # self.boxes is non-empty and the first box always sets best
        src, dst, proto, sport, dport = best[1]
        return src, dst, proto, sport, dport

    def __iter__(self) -> Iterator[Box]:
        return iter(self.boxes)

    def __len__(self) -> int:
        return len(self.boxes)

    def __str__(self) -> str:
        if not self.boxes:
            return "(nothing)"
        return " | ".join(box_text(b) for b in self.boxes)

    def to_json(self) -> list[dict]:
        return [box_json(b) for b in self.boxes]


def _box_order(b: Box) -> tuple:
    return tuple(b[f][0][0] for f in (PROTO, SRC, DST, SPORT, DPORT))


def addresses_text(s: IntervalSet, limit: int = 4) -> str:
    cidrs = address_prefixes(s)
    if len(cidrs) > limit:
        return ",".join(cidrs[:limit]) + f",+{len(cidrs) - limit} more"
    return ",".join(cidrs)


def address_prefixes(s: IntervalSet) -> list[str]:
    out: list[str] = []
    for lo, hi in s:
        out.extend(str(n) for n in ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi)))
    return out


def ranges_text(s: IntervalSet) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in s)


def proto_text(s: IntervalSet) -> str:
    if s == FULL[PROTO]:
        return "ip"
    missing = FULL[PROTO] - s
    if s.size() > 8 and missing.size() <= 4:
        return "ip except " + proto_text(missing)
    names: list[str] = []
    for lo, hi in s:
        if hi - lo <= 4:
            names.extend(PROTO_NAMES.get(p, f"proto {p}") for p in range(lo, hi + 1))
        else:
            names.append(f"protos {lo}-{hi}")
    return ",".join(names)


def box_text(b: Box) -> str:
    parts = [proto_text(b[PROTO]), addresses_text(b[SRC]), "->", addresses_text(b[DST])]
    icmp_only = b[PROTO] == IntervalSet.span(ICMP, ICMP)
    if icmp_only:
        if b[DPORT] != IntervalSet.span(0, 255):
            parts.append(f"type {ranges_text(b[DPORT])}")
        return " ".join(parts)
    if b[PROTO] & IntervalSet.of([(TCP, TCP), (UDP, UDP)]):
        if b[SPORT] != FULL[SPORT]:
            parts.append(f"sport {ranges_text(b[SPORT])}")
        if b[DPORT] != FULL[DPORT]:
            parts.append(f"dport {ranges_text(b[DPORT])}")
    return " ".join(parts)


def box_json(b: Box) -> dict:
    return {
        "src": address_prefixes(b[SRC]),
        "dst": address_prefixes(b[DST]),
        "proto": [[lo, hi] for lo, hi in b[PROTO]],
        "sport": [[lo, hi] for lo, hi in b[SPORT]],
        "dport": [[lo, hi] for lo, hi in b[DPORT]],
        "text": box_text(b),
    }


def map_box(b: Box, constants: Sequence[int | None]) -> Box | None:
    """A predicate box on the *current* header, seen from the original header.

    ``constants[f]`` is the value a rewrite (NAT, encapsulation) gave field f,
    or None when the field still carries the original value. A constant field
    either satisfies the predicate for every original header (the field becomes
    unconstrained) or for none (the box is empty: None).
    """
    out = []
    for f in range(5):
        c = constants[f]
        if c is None:
            out.append(b[f])
        elif b[f].contains(c):
            out.append(FULL[f])
        else:
            return None
    return tuple(out)
