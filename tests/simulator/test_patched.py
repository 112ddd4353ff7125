"""Patched mappings against a plain dict copy given the same writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simulator.patched import Patched

keys = st.integers(0, 12)
ops = st.lists(st.one_of(st.tuples(st.just("set"), keys, st.integers()), st.tuples(st.just("del"), keys, st.none()),
                         st.tuples(st.just("pop"), keys, st.none())), max_size=25)


@given(st.dictionaries(keys, st.integers(), max_size=10), ops, ops)
def test_a_patch_reads_as_the_copy_written_the_same_way(base, first, second):
    frozen = dict(base)
    want = dict(base)
    got = Patched(base)
    for step in (first, second):
        for op, key, value in step:
            if op == "set":
                want[key] = value
                got[key] = value
            elif op == "pop":
                assert got.pop(key, None) == want.pop(key, None)
            elif key in want:
                del want[key]
                del got[key]
        got = Patched(got)  # a patch of a patch reads the same
    assert sorted(got) == sorted(want) and len(got) == len(want) and dict(got.items()) == want
    kept = [k for k in base if k in want]
    assert list(got)[:len(kept)] == kept  # the base's order first, then the keys new to it
    for key in range(13):
        assert (key in got) == (key in want) and got.get(key, "-") == want.get(key, "-")
    assert base == frozen  # the base is never written
