"""Policy files and packs: loading, and every mistake reported at its FILE:LINE:COL."""

from __future__ import annotations

import textwrap

import pytest

from policies.errors import PolicyError
from policies.loader import (
    load_pack,
    load_policy_file,
    pack_names,
    plan_policies,
    resolve_policies,
)
from policies.registry import RULE_KINDS

from .common import load, plan


def write(tmp_path, text, name="rules.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def issues(exc: pytest.ExceptionInfo) -> list[str]:
    return [i.render() for i in exc.value.issues]


def test_builtin_packs_load_and_cite_their_sources():
    assert {"egov-baseline", "classified", "djbh-l3"} <= set(pack_names())
    for name in ("egov-baseline", "classified", "djbh-l3"):
        policy = load_pack(name)
        assert policy.pack and policy.rules
        for rule in policy.rules:
            assert rule.kind in RULE_KINDS
            assert rule.clause, f"{rule.id} cites no source"
            assert rule.description
            assert rule.mark is not None and rule.mark.file == f"policies/packs/{name}.yaml"


def test_packs_mark_rules_on_secondary_or_unverified_sources():
    for name in ("egov-baseline", "classified", "djbh-l3"):
        for rule in load_pack(name).rules:
            assert any(tag in rule.clause + rule.description for tag in ("[V]", "[S]", "[U]", "seed")), rule.id


def test_a_policy_file_loads(tmp_path):
    path = write(tmp_path, """\
        name: local
        rules:
          - id: L-1
            kind: physical_isolation
            severity: critical
            clause: 中办发〔2002〕17号
            params: {domains: [kind:intranet], against: [kind:extranet]}
          - id: L-2
            kind: unified_channel
        """)
    policy = load_policy_file(path)
    assert policy.name == "local" and [r.id for r in policy.rules] == ["L-1", "L-2"]
    assert policy.rules[1].severity == "high" and policy.rules[0].mark.line == 3


def test_unknown_kind_key_and_bad_params_are_reported_with_positions(tmp_path):
    path = write(tmp_path, """\
        rules:
          - id: L-1
            kind: physical_isolatoin
          - id: L-2
            kind: unified_channel
            severty: high
          - id: L-3
            kind: coverage
            params:
              needs: [{service: mail, levels: [own, sideways]}]
          - id: L-4
            kind: physical_isolation
            params: {domain: [x]}
        """)
    with pytest.raises(PolicyError) as exc:
        load_policy_file(path)
    text = issues(exc)
    assert any(f"{path}:3:5: error: unknown rule kind 'physical_isolatoin'" in t and "physical_isolation" in t
               for t in text)
    assert any(f"{path}:6:5: error: unknown key 'severty'" in t and "did you mean 'severity'" in t for t in text)
    assert any(f"{path}:10:45: error" in t and "'sideways' is not allowed" in t for t in text)
    assert any(f"{path}:13:14: error: unknown key 'domain'" in t and "did you mean 'domains'" in t for t in text)


def test_duplicate_ids_and_broken_yaml(tmp_path):
    dup = write(tmp_path, """\
        rules:
          - {id: A, kind: unified_channel}
          - {id: A, kind: unified_channel}
        """)
    with pytest.raises(PolicyError) as exc:
        load_policy_file(dup)
    assert any(":3:6: error: rule id 'A' is used twice" in t for t in issues(exc))
    broken = write(tmp_path, "rules:\n  - {id: A, kind: [\n", "broken.yaml")
    with pytest.raises(PolicyError) as exc:
        load_policy_file(broken)
    assert "YAML syntax" in issues(exc)[0]
    empty = write(tmp_path, "rules: []\n", "empty.yaml")
    with pytest.raises(PolicyError):
        load_policy_file(empty)


def test_plan_names_packs_and_files_relative_to_itself(tmp_path):
    write(tmp_path, "rules:\n  - {id: MINE-1, kind: unified_channel}\n", "mine.yaml")
    net = load(tmp_path, plan("policies: [djbh-l3, mine.yaml]\nnodes: {a: {role: host}}\n"))
    policies = plan_policies(net)
    assert [p.name for p in policies] == ["djbh-l3", "mine"]


def test_unknown_pack_or_missing_file_points_at_the_plan_line(tmp_path):
    net = load(tmp_path, plan("policies: [egov-basline, nothere.yaml]\nnodes: {a: {role: host}}\n"))
    with pytest.raises(PolicyError) as exc:
        plan_policies(net)
    text = issues(exc)
    plan_file = str(tmp_path / "plan.yaml")
    assert any(t.startswith(f"{plan_file}:13:12:") and "unknown policy pack 'egov-basline'" in t
               and "did you mean 'egov-baseline'" in t for t in text)
    assert any(t.startswith(f"{plan_file}:13:26:") and "policy file 'nothere.yaml' does not exist" in t for t in text)


def test_rule_ids_must_be_unique_across_policies(tmp_path):
    path = write(tmp_path, "rules:\n  - {id: DJ-BP-1, kind: unified_channel}\n")
    with pytest.raises(PolicyError) as exc:
        resolve_policies(["djbh-l3", str(path)])
    assert "defined both in" in issues(exc)[0]
