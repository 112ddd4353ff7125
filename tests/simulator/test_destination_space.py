"""The destination space of a reachability query, against the union of the other destinations' addresses.

:class:`simulator.reach.DestinationSpace` builds the union once and answers
"every destination but this one" from the addresses two or more of them
share; the oracle is the plain union over the others, drawn on overlapping
address sets (shared LANs, duplicated addresses, one destination answering
for everything as an internet cloud does).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.headerspace import IntervalSet
from simulator.reach import DestinationSpace


class Owned:
    """A stand-in for the forwarder: only the addresses each node answers for."""

    def __init__(self, owned: dict[str, list[tuple[int, int]]]):
        self.owned = owned

    def owned_intervals(self, node: str) -> tuple[tuple[int, int], ...]:
        return tuple(self.owned[node])


intervals = st.tuples(st.integers(0, 60), st.integers(0, 12)).map(lambda t: (t[0], t[0] + t[1]))
owned = st.dictionaries(st.sampled_from("abcdefg"), st.lists(intervals, max_size=4), min_size=1)


@settings(max_examples=300)
@given(owned, st.booleans(), st.lists(st.sampled_from("abcdefgz"), max_size=9))
def test_the_space_without_a_destination_is_the_union_of_the_others(own, cloud, order):
    if cloud:
        own = {**own, "z": [(0, 2**32 - 1)]}
    destinations = [d for d in order if d in own] or list(own)
    space = DestinationSpace(Owned(own), destinations)  # type: ignore[arg-type]
    assert space.full == IntervalSet.of(iv for d in destinations for iv in own[d])
    for d in [*own, "nobody"]:
        others = IntervalSet.of(iv for o in destinations if o != d for iv in own[o])
        assert space.without(d) == others, d
