"""Links of unknown capacity (``bandwidth: unknown``): no rule that needs a capacity passes the plan."""

from __future__ import annotations

from pathlib import Path

from tests.policies.common import evaluate, load, plan

BODY = """
nodes:
  a: {role: host}
  r1: {role: router}
  r2: {role: router}
  r3: {role: router}
  s: {role: server}
links:
  - {a: a, b: r1, bandwidth: 1G}
  - {a: r1, b: r2, bandwidth: unknown, cost: 1}
  - {a: r1, b: r3, bandwidth: unknown, cost: 1}
  - {a: r2, b: s, bandwidth: 1G}
  - {a: r3, b: s, bandwidth: 1G}
services: {web: {kind: data, rate: 10M, protocol: tcp, port: 443}}
traffic: [{service: web, from: a, to: s}]
"""


def test_survival_with_unknown_capacities_is_not_a_pass(tmp_path: Path) -> None:
    net = load(tmp_path, plan(BODY))
    result = evaluate(net, "redundancy", {"failures": "n-1", "elements": ["links"], "survive": "reachable"})
    assert result.not_applicable_ and "no capacity" in result.message


def test_a_demand_cut_off_still_fails_with_unknown_capacities(tmp_path: Path) -> None:
    net = load(tmp_path, plan(BODY))  # the host's only link a--r1 fails: the demand is lost whatever the sizes
    result = evaluate(net, "redundancy", {"failures": "n-1", "elements": ["links"], "survive": "all"})
    assert result.failed_ and "overloads not judged" in result.message


def test_delays_need_capacities(tmp_path: Path) -> None:
    net = load(tmp_path, plan(BODY))
    result = evaluate(net, "latency", {"kinds": ["data"]})
    assert result.not_applicable_ and "cannot be computed" in result.message


def test_the_capacity_report_gives_loads_but_no_utilisation_for_them(tmp_path: Path) -> None:
    import json

    from tests.helpers import run_cli, write_plan

    path = write_plan(tmp_path, plan(BODY))
    done = run_cli("capacity", path, "--format", "json", "--failures", "none")
    links = {l["link"]: l for l in json.loads(done.stdout)["links"]}
    unknown, known = links["r1--r2"], links["a--r1"]
    assert unknown["capacity_bps"] is None and unknown["busier_utilisation"] is None
    assert unknown["worst_utilisation"] is None and unknown["busier_headroom_bps"] is None
    assert known["busier_utilisation"] == 10e6 / 1e9  # the demand over a 1G link, by hand
    text = run_cli("capacity", path, "--failures", "none").stdout
    assert any(line.split()[:2] == ["r1", "->"] and "unknown" in line for line in text.splitlines())
