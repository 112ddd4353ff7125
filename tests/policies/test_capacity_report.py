"""The capacity report's verdict: a pass only when some rule judged the plan and none failed."""

from __future__ import annotations

from policies.capacity_report import verdict
from policies.model import PolicyRule, RuleResult
from tests.helpers import run_cli, write_plan

RULE = PolicyRule("CAP-UTIL", "capacity")

# two routers and a host, no traffic and no video: nothing for capacity, latency or redundancy to judge
IDLE = """\
name: idle
domains: {d: {kind: extranet, pool: 10.0.0.0/16}}
sites: {s: {}}
defaults: {node: {site: s, domain: d}}
nodes: {r0: {role: router}, r1: {role: router}, h: {role: host}}
links: [r0 -- r1, h -- r0]
"""


def test_verdict_of_each_mix_of_statuses():
    na = RuleResult.not_applicable(RULE, "no demand")
    ok = RuleResult.passed(RULE, "fits")
    bad = RuleResult.failed(RULE, "over", [])
    waived = RuleResult(RULE, "waived", "over, waived")
    assert verdict([na, na]) == "not_applicable"
    assert verdict([]) == "not_applicable"
    assert verdict([ok, na]) == "pass"
    assert verdict([waived, na]) == "pass"
    assert verdict([ok, bad, na]) == "fail"


def test_a_run_where_no_rule_applied_is_not_a_pass(tmp_path):
    done = run_cli("capacity", write_plan(tmp_path, IDLE))
    assert done.returncode == 0, done.stderr
    assert "  N/A   CAP-UTIL   capacity    the plan has no peak demand (no traffic flows, no video cascade)" \
        in done.stdout
    assert done.stdout.rstrip().endswith(
        "verdict: NOT JUDGED (no rule applied to the plan: capacity, latency, redundancy)")
    assert "PASS" not in done.stdout


def test_a_pass_names_the_rules_that_did_not_apply(tmp_path):
    text = IDLE + "services: {s: {kind: data, rate: 1M}}\ntraffic: [{service: s, from: h, to: r1}]\n"
    done = run_cli("capacity", write_plan(tmp_path, text), "--failures", "none")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("verdict: PASS (latency not applicable)")
