"""A re-check after edits gives what a full check of the edited plan gives (policies.recheck, simulator.carry).

The oracle is the full check itself: :func:`policies.engine.check_plan` of the
edited plan loaded afresh, nothing carried. Edits are drawn over every line of
the Chuxiong plan's files that says a port, an action, a bandwidth, a rate, a
latency, a cost or a count of generated sites (ACL rules, links, traffic,
sites and their nodes added or removed), in sequences, so a re-check also
starts from a re-checked version (``GOVNET_RECHECK_EXAMPLES`` sets how many sequences; 5 by default, the
suite's time). Planted faults must be found by the re-check
too, and the tests show which reuse each kind of edit gets.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import check_plan
from policies.loader import policies_to_check
from policies.recheck import Rechecker
from policies.report import render
from tests.helpers import REPO
from topology import load_plan
from topology.errors import GovnetError

SCENARIO = REPO / "scenarios" / "chuxiong"
EDITABLE = {  # what a line says → values an edit may put there
    "dport": ["22", "53", "80", "443", "3389", "8443"],
    "action": ["permit", "deny"],
    "bandwidth": ["2M", "10M", "100M", "1G", "10G"],
    "rate": ["64k", "2M", "20M", "200M"],
    "latency": ["1ms", "5ms", "40ms"],
    "cost": ["1", "10", "300"],
    "count": ["1", "3", "6"],
}
FIELD = re.compile(r"\b(" + "|".join(EDITABLE) + r"): ([0-9A-Za-z.]+)")


def _candidates() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(SCENARIO.rglob("*.yaml")):
        if "faults" in path.parts:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            out += [(str(path.relative_to(SCENARIO)), i, m.group(1)) for m in FIELD.finditer(line)]
    return out


CANDIDATES = _candidates()


def _edit(folder: Path, where: tuple[str, int, str], pick: int) -> None:
    name, index, field = where
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    value = EDITABLE[field][pick % len(EDITABLE[field])]
    lines[index] = re.sub(rf"\b{field}: [0-9A-Za-z.]+", f"{field}: {value}", lines[index], count=1)
    path.write_text("".join(lines), encoding="utf-8")


def _full(plan: Path) -> str:
    net = load_plan(plan)
    return render(check_plan(net, policies_to_check(net, ())), "json")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("recheck") / "chuxiong"
    shutil.copytree(SCENARIO, out, ignore=shutil.ignore_patterns("faults"))
    return out


def _reset(folder: Path) -> None:
    for path in SCENARIO.rglob("*.yaml"):
        if "faults" not in path.parts:
            shutil.copyfile(path, folder / path.relative_to(SCENARIO))


def test_the_editable_lines_cover_every_kind_of_edit():
    assert {field for _, _, field in CANDIDATES} == set(EDITABLE)
    assert len(CANDIDATES) > 50


EXAMPLES = int(os.environ.get("GOVNET_RECHECK_EXAMPLES", "5"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(CANDIDATES), st.integers(0, 1000)), min_size=1, max_size=3))
def test_a_recheck_equals_the_full_check_after_random_edits(folder: Path, edits):
    _reset(folder)
    plan = folder / "plan.yaml"
    checker = Rechecker()
    checker.check(load_plan(plan))
    for where, pick in edits:
        _edit(folder, where, pick)
        try:
            expected = _full(plan)
        except GovnetError:  # the edit made a plan that does not load (or a policy that does not fit): no check
            continue
        runs, _ = checker.check(load_plan(plan))
        assert render(runs, "json") == expected, f"after editing {where}"


@pytest.fixture()
def fresh(tmp_path: Path) -> Path:
    out = tmp_path / "chuxiong"
    shutil.copytree(SCENARIO, out, ignore=shutil.ignore_patterns("faults"))
    return out


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_acl_hole_is_found_by_the_recheck_with_the_forwarding_kept(fresh: Path):
    plan = fresh / "plan.yaml"
    checker = Rechecker()
    runs, _ = checker.check(load_plan(plan))
    assert "EGOV-LI-1" not in [r.rule.id for r in runs[0].failed]
    # the planted fault of faults/firewall-hole.yaml: the internet side lets remote desktop into the extranet
    _replace(fresh / "parts" / "acl-internet.yaml", "dst: 楚雄州公众信息网, dport: 80,", "dst: 10.53.0.0/16, dport: 3389,")
    runs, stats = checker.check(load_plan(plan))
    assert "EGOV-LI-1" in [r.rule.id for r in runs[0].failed]
    assert render(runs, "json") == _full(plan)
    (carried,) = stats.carried
    assert carried.forwarding and carried.changed == {"楚雄州互联网接入防火墙"}
    assert stats.kept > 0 and stats.judged > 0
    assert carried.trips > 0  # the round trips that do not pass the firewall are kept


def test_a_node_added_rebuilds_the_forwarding_and_judges_every_rule(fresh: Path):
    plan = fresh / "plan.yaml"
    checker = Rechecker()
    checker.check(load_plan(plan))
    _replace(fresh / "parts" / "network.yaml", "双柏县: {generate: {count: 8}}", "双柏县: {generate: {count: 9}}")
    runs, stats = checker.check(load_plan(plan))
    assert render(runs, "json") == _full(plan)
    assert stats.kept == 0 and not stats.carried[0].forwarding
    assert "routing" in stats.carried[0].reason


def test_an_unchanged_plan_keeps_every_answer(fresh: Path):
    plan = fresh / "plan.yaml"
    checker = Rechecker()
    checker.check(load_plan(plan))
    runs, stats = checker.check(load_plan(plan))
    (carried,) = stats.carried
    assert carried.forwarding and not carried.changed and carried.answers > 0 and carried.trips > 0
    assert render(runs, "json") == _full(plan)


def test_every_phase_and_a_waiver_that_expires_are_rechecked_as_a_full_check_does(fresh: Path):
    plan = fresh / "plan.yaml"
    checker = Rechecker(phase="all")
    checker.check(load_plan(plan))
    _replace(fresh / "parts" / "acl-internet.yaml", "dst: 楚雄州公众信息网, dport: 80,", "dst: 10.53.0.0/16, dport: 3389,")
    runs, stats = checker.check(load_plan(plan))
    net = load_plan(plan)
    assert render(runs, "json") == render(check_plan(net, policies_to_check(net, ()), "all"), "json")
    assert len(stats.carried) == len(runs) > 1 and all(c.forwarding for c in stats.carried)
    _replace(fresh / "parts" / "network.yaml", "expires: 2030-12-31", "expires: 2020-12-31")  # the waiver lapses
    runs, stats = checker.check(load_plan(plan))
    net = load_plan(plan)
    assert render(runs, "json") == render(check_plan(net, policies_to_check(net, ()), "all"), "json")
    assert stats.kept > 0
