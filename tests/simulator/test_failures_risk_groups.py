"""Link-only sweeps, shared-risk groups and the replayed failure, against a recomputation from scratch.

The oracle removes the failed elements (:func:`simulator.failures.without`)
and routes the intact plan's demands again on a fresh routing state with
:func:`simulator.load.assign`, the simulator's plain, non-incremental path,
with nothing of :meth:`FailureAnalysis.case` in between. The plans are drawn
by hypothesis: small router meshes (trees with extra links, equal costs
common), hosts hanging on one or two routers, flows between hosts, and up
to three risk groups of links and routers.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.failures import Failure, FailureAnalysis, FailureError, failure_cases, failure_named, without
from simulator.forwarding import Forwarder
from simulator.load import assign
from simulator.routing import RoutingState
from simulator.sweep import run_sweep
from tests.simulator.capacity_plans import HEAD
from topology.loader import load_text

REL, ABS = 1e-9, 1e-3


@st.composite
def small_plans(draw, groups: bool = False) -> str:
    """A plan (YAML text): routers r0.., hosts h0.., flows between hosts, optionally risk_groups."""
    n = draw(st.integers(3, 7))
    edges: dict[tuple[int, int], tuple[int, int]] = {}
    for child in range(1, n):
        edges[(draw(st.integers(0, child - 1)), child)] = (draw(st.integers(1, 3)), draw(st.sampled_from([10, 20, 50])))
    for _ in range(draw(st.integers(0, 4))):
        a, b = sorted((draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
        if a != b:
            edges.setdefault((a, b), (draw(st.integers(1, 3)), draw(st.sampled_from([10, 20, 50]))))
    hosts = draw(st.integers(2, 5))
    links = [f"  - {{a: r{a}, b: r{b}, cost: {c}, bandwidth: {bw}M}}" for (a, b), (c, bw) in sorted(edges.items())]
    names = [f"r{a}--r{b}" for a, b in sorted(edges)]
    for j in range(hosts):
        first = draw(st.integers(0, n - 1))
        links.append(f"  - {{a: h{j}, b: r{first}, cost: 1, bandwidth: 100M}}")
        names.append(f"h{j}--r{first}")
        second = draw(st.integers(0, n - 1))
        if second != first and draw(st.booleans()):
            links.append(f"  - {{a: h{j}, b: r{second}, cost: 2, bandwidth: 100M}}")
            names.append(f"h{j}--r{second}")
    flows = draw(st.lists(st.tuples(st.integers(0, hosts - 1), st.integers(0, hosts - 1), st.integers(1, 9)),
                          min_size=1, max_size=8))
    lines = [HEAD.format(name="drawn"), "nodes:", *[f"  r{i}: {{role: router}}" for i in range(n)],
             *[f"  h{j}: {{role: host}}" for j in range(hosts)], "links:", *links,
             "services:", "  s: {kind: data, rate: 1M, packet_size: 1000}", "traffic:"]
    lines += [f"  - {{service: s, from: h{a}, to: h{b}, rate: {r}M}}" for a, b, r in flows if a != b]
    if lines[-1] == "traffic:":  # no flow between two different hosts was drawn
        lines[-1] = "traffic: []"
    if groups:
        lines.append("risk_groups:")
        routers = [f"r{i}" for i in range(n)]
        for g in range(draw(st.integers(1, 3))):
            members = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
            nodes = draw(st.lists(st.sampled_from(routers), max_size=1 if members else 2, min_size=0 if members else 1,
                                  unique=True))
            lines.append(f"  g{g}: {{links: [{', '.join(members)}], nodes: [{', '.join(nodes)}], reason: drawn}}")
    return "\n".join(lines) + "\n"


def from_scratch(net, fa: FailureAnalysis, failure: Failure) -> tuple[dict, set[int]]:
    """(load per direction after ``failure``, intact indices of the demands it loses): the oracle."""
    after = without(net, failure.links, failure.nodes)
    failed = set(failure.nodes)
    kept = [i for i, d in enumerate(fa.demands) if d.src not in failed and d.dst not in failed]
    a = assign(after, [fa.demands[i] for i in kept], Forwarder(after, RoutingState(after)))
    lost = {i for i, p in zip(kept, a.paths) if fa.assignment.paths[i].delivered - p.delivered > 1e-9}
    return {k: v for k, v in a.load.items() if v > 1e-6}, lost


def assert_worst_is_brute_force(net, fa, sweep) -> None:
    """The sweep's worst load per direction, and the case it names, equal the oracle's over every case."""
    base = fa.assignment.load
    per_case = [from_scratch(net, fa, f) for f in sweep.failures]
    worst: dict = {}
    for loads, _ in per_case:
        for key, value in loads.items():
            if value > base.get(key, 0.0) + 1e-3:
                worst[key] = max(worst.get(key, 0.0), value)
    assert {k for k, (v, _) in sweep.worst.items() if v > base.get(k, 0.0) + 1e-3} == set(worst)
    for key, value in worst.items():
        load, case = sweep.worst[key]
        assert load == pytest.approx(value, rel=REL, abs=ABS)
        assert per_case[case][0].get(key, 0.0) == pytest.approx(value, rel=REL, abs=ABS), sweep.failures[case].label
    for case, (_, lost) in enumerate(per_case):
        assert {i for i, _ in sweep.lost.get(case, ())} == lost, sweep.failures[case].label


@settings(max_examples=30)
@given(small_plans())
def test_a_link_only_sweep_fails_exactly_every_link_and_its_worst_case_is_the_brute_force(text):
    net = load_text(text)
    fa = FailureAnalysis(net)
    sweep = run_sweep(net, "n-1", links=True, nodes=False, analysis=fa, jobs=1, progress=False)
    assert len(sweep.failures) == len(net.links)
    assert [f.links for f in sweep.failures] == [(l,) for l in net.links]
    assert all(not f.nodes and not f.group for f in sweep.failures)
    assert_worst_is_brute_force(net, fa, sweep)


@settings(max_examples=30)
@given(small_plans(groups=True))
def test_a_risk_group_fails_all_its_members_at_once(text):
    net = load_text(text)
    fa = FailureAnalysis(net)
    cases = failure_cases(net, "n-1", links=False, nodes=False, groups=True)
    assert [f.label for f in cases] == [f"risk group {g}" for g in net.risk_groups]
    base = fa.assignment.load
    for failure, group in zip(cases, net.risk_groups.values()):
        assert (failure.links, failure.nodes) == (group.links, group.nodes)
        want, lost = from_scratch(net, fa, Failure(links=group.links, nodes=group.nodes))  # every member at once
        r = fa.case(failure)
        got = r.loads(base)
        for key in set(got) | set(want):
            assert got.get(key, 0.0) == pytest.approx(want.get(key, 0.0), rel=REL, abs=ABS), (failure.label, key)
        assert {i for i, _ in r.lost} == lost, failure.label
    sweep = run_sweep(net, "n-1", links=True, nodes=True, groups=True, analysis=fa, jobs=1, progress=False)
    assert len(sweep.failures) == len(net.links) + len(net.nodes) + len(net.risk_groups)
    assert_worst_is_brute_force(net, fa, sweep)


@settings(max_examples=30)
@given(small_plans(groups=True), st.floats(0.2, 1.0))
def test_a_sweep_given_the_answers_of_its_first_cases_runs_the_rest_to_the_same_result(text, limit):
    """The sweep with groups, given a sweep whose cases are its first ones (links only; links and nodes), is the
    sweep run whole; a sweep that is not its beginning (nodes only, another limit) is not taken."""
    net = load_text(text)
    fa = FailureAnalysis(net)

    def sweep(**kw):
        return run_sweep(net, "n-1", analysis=fa, jobs=1, progress=False, limit=kw.pop("limit", limit), **kw)

    whole = sweep(links=True, nodes=True, groups=True)
    for prefix in (sweep(links=True, nodes=False), sweep(links=True, nodes=True),
                   sweep(links=False, nodes=True), sweep(links=True, nodes=True, limit=limit / 2)):
        assert sweep(links=True, nodes=True, groups=True, prefix=prefix) == whole
    assert sweep(links=True, nodes=True, groups=True, prefix=whole) == whole


@settings(max_examples=20)
@given(small_plans(groups=True), st.data())
def test_the_replayed_failure_is_the_network_recomputed_without_it(text, data):
    net = load_text(text)
    fa = FailureAnalysis(net)
    failure = data.draw(st.sampled_from(failure_cases(net, "n-1", groups=True)))
    replay = fa.replay(failure)
    want, lost = from_scratch(net, fa, failure)
    assert {k: v for k, v in replay.assignment.load.items() if v > 1e-6} == pytest.approx(want, rel=REL, abs=ABS)
    assert {i for i, _ in replay.lost} == lost
    assert set(replay.failed_links) == set(net.links) - set(replay.net.links)
    assert failure_named(net, failure.label) == failure  # the label the report prints names it back


def test_failure_labels_resolve_and_unknown_ones_are_errors_with_a_hint():
    net = load_text(HEAD.format(name="labels") + """\
nodes: {r0: {role: router}, r1: {role: router}, g: {role: router}}
links: [r0 -- r1, r1 -- g]
risk_groups:
  g: {links: [r0--r1]}
  机房: {nodes: [r1], reason: one room}
""")
    assert failure_named(net, "r0--r1") == Failure(links=("r0--r1",))
    assert failure_named(net, "link r0--r1 + node g") == Failure(links=("r0--r1",), nodes=("g",))
    assert failure_named(net, "机房") == Failure(nodes=("r1",), group="机房")
    assert failure_named(net, "risk group g").group == "g"
    with pytest.raises(FailureError, match="names a node and a group: say which"):
        failure_named(net, "g")
    with pytest.raises(FailureError, match="did you mean 'link r0--r1'"):
        failure_named(net, "r0-r1")
    with pytest.raises(FailureError, match="a risk group fails on its own"):
        failure_named(net, "机房 + link r1--g")
