"""Header-space algebra and ACL partitions against plain Python sets over tiny fields."""

from __future__ import annotations

import ipaddress
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.acl import compile_acl, rule_box
from simulator.headerspace import (
    FULL,
    HeaderSpace,
    IntervalSet,
    box,
    box_subtract,
    int_ip,
    map_box,
    prefix_interval,
    universe,
)
from topology.model import Acl, Rule

SMALL = 12


def intervals(max_value: int = SMALL, min_size: int = 0):
    pair = st.tuples(st.integers(0, max_value), st.integers(0, max_value)).map(lambda p: (min(p), max(p)))
    return st.lists(pair, min_size=min_size, max_size=3).map(IntervalSet.of)


def as_set(s: IntervalSet) -> set[int]:
    return {v for lo, hi in s for v in range(lo, hi + 1)}


@settings(max_examples=200)
@given(intervals(), intervals())
def test_interval_set_operations_match_python_sets(a, b):
    assert as_set(a & b) == as_set(a) & as_set(b)
    assert as_set(a - b) == as_set(a) - as_set(b)
    assert as_set(a | b) == as_set(a) | as_set(b)
    for s in (a & b, a - b, a | b):  # normal form: sorted, disjoint, not adjacent
        assert all(s[i][1] + 1 < s[i + 1][0] for i in range(len(s) - 1))
    for v in range(SMALL + 2):
        assert a.contains(v) == (v in as_set(a))


def small_boxes():
    return st.tuples(*[intervals(3, min_size=1) for _ in range(5)])


def points(b) -> set[tuple]:
    return set(itertools.product(*[sorted(as_set(f)) for f in b]))


@settings(max_examples=60)
@given(small_boxes(), small_boxes())
def test_box_subtract_is_exact_and_disjoint(a, b):
    pieces = box_subtract(a, b)
    sets = [points(p) for p in pieces]
    assert set().union(*sets) == points(a) - points(b)
    assert sum(len(s) for s in sets) == len(set().union(*sets))  # disjoint


@settings(max_examples=40)
@given(st.lists(small_boxes(), min_size=1, max_size=3))
def test_union_and_coalesce_keep_the_set(boxes):
    space = HeaderSpace()
    for b in boxes:
        space = space.union(HeaderSpace.of(b))
    expected = set().union(*[points(b) for b in boxes])
    got = set().union(*[points(b) for b in space.boxes])
    assert got == expected
    assert space.size() == len(expected)


ADDRESSES = ["10.0.0.0/30", "10.0.0.1/32", "10.0.0.2/31", "0.0.0.0/0", "10.0.0.3/32"]


@st.composite
def rules(draw):
    proto = draw(st.sampled_from(["ip", "tcp", "udp", "icmp"]))
    ports = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda p: (min(p), max(p)))
    return {
        "action": draw(st.sampled_from(["permit", "deny"])),
        "src": ipaddress.IPv4Network(draw(st.sampled_from(ADDRESSES))),
        "dst": ipaddress.IPv4Network(draw(st.sampled_from(ADDRESSES))),
        "proto": proto,
        "sport": draw(st.none() | ports) if proto in ("tcp", "udp") else None,
        "dport": draw(st.none() | ports) if proto in ("tcp", "udp") else None,
        "icmp_type": draw(st.none() | st.integers(0, 5)) if proto == "icmp" else None,
    }


def first_match_by_hand(rule_list, packet):
    src, dst, proto, sport, dport = packet
    names = {6: "tcp", 17: "udp", 1: "icmp"}
    for r in rule_list:
        if ipaddress.IPv4Address(src) not in r.src or ipaddress.IPv4Address(dst) not in r.dst:
            continue
        if r.proto != "ip" and names.get(proto) != r.proto:
            continue
        if r.sport and not r.sport[0] <= sport <= r.sport[1]:
            continue
        if r.dport and not r.dport[0] <= dport <= r.dport[1]:
            continue
        if r.icmp_type is not None and dport != r.icmp_type:
            continue
        return r.index, r.action == "permit"
    return 0, False


@settings(max_examples=30)
@given(st.lists(rules(), max_size=5))
def test_acl_partition_agrees_with_first_match_everywhere(specs):
    rule_list = tuple(Rule(i + 1, **spec) for i, spec in enumerate(specs))
    acl = compile_acl(Acl("a", rule_list))
    base = int_ip("10.0.0.0")
    space = universe(src=IntervalSet.span(base, base + 4), dst=IntervalSet.span(base, base + 4))
    parts = acl.partition(space)
    covered = HeaderSpace()
    for _index, _permit, part in parts:
        covered = covered.union_disjoint(part)
    assert covered.size() == space.size()  # the parts tile the space
    for src, dst, proto in itertools.product(range(base, base + 5), range(base, base + 5), (6, 17, 1)):
        for sport, dport in itertools.product(range(7) if proto != 1 else (0,), range(7)):
            packet = (src, dst, proto, sport, dport)
            expected = first_match_by_hand(rule_list, packet)
            assert acl.first_match(*packet) == expected
            owners = [(i, p) for i, p, part in parts if part.contains(packet)]
            assert owners == [expected]


def test_text_and_mapping():
    web = box(dst=prefix_interval("10.53.1.4/32"), proto=(6, 6), dport=(3389, 3389))
    assert str(HeaderSpace.of(web)) == "tcp 0.0.0.0/0 -> 10.53.1.4/32 dport 3389"
    icmp = box(src=prefix_interval("10.0.0.0/8"), proto=(1, 1), sport=(0, 0), dport=(8, 8))
    assert str(HeaderSpace.of(icmp)) == "icmp 10.0.0.0/8 -> 0.0.0.0/0 type 8"
    # after NAT the source is a constant: a rule on the source holds for all headers or none
    rule = rule_box(Rule(1, "permit", ipaddress.IPv4Network("198.51.100.10/32"), ipaddress.IPv4Network("0.0.0.0/0"),
                         "tcp", None, None, None))
    assert map_box(rule, (int_ip("198.51.100.10"), None, None, None, None))[0] == FULL[0]
    assert map_box(rule, (int_ip("198.51.100.11"), None, None, None, None)) is None
    assert universe().size() == 2**64 * (2 * 65536**2 + 256 + 253)
