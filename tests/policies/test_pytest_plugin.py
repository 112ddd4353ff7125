"""The pytest plugin: every rule of every plan is an item ``plan.yaml::RULE`` with the evidence as message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from policies.pytest_plugin import NETWORK_SECTIONS, is_plan_file, top_level_keys
from tests.helpers import shipped_plans

from .common import plan

REPO = Path(__file__).resolve().parents[2]
PLAN = plan("""\
policies: [rules.yaml]
nodes:
  ecore: {role: core_router}
  ipc: {role: host, domain: intra}
  icore: {role: core_router, domain: intra}
links:
  - ipc -- icore
  - ipc -- ecore
""")
RULES = """\
rules:
  - id: PI-1
    kind: physical_isolation
    severity: critical
    clause: 中办发〔2002〕17号
    params: {domains: [kind:intranet], against: [kind:extranet]}
  - id: UC-1
    kind: unified_channel
  - id: PI-LOW
    kind: physical_isolation
    severity: low
    params: {domains: [kind:intranet], against: [kind:extranet]}
"""


def run_pytest(folder: Path, *args: str, target: Path | None = None) -> subprocess.CompletedProcess:
    """pytest on ``target`` (default: ``folder``), with ``folder`` as rootdir and working directory."""
    registered = any(ep.value == "policies.pytest_plugin" for ep in entry_points(group="pytest11"))
    plugin = [] if registered else ["-p", "policies.pytest_plugin"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "--rootdir", str(folder),
                           "-c", os.devnull, *args, str(target or folder)], capture_output=True, text=True, cwd=folder,
                          env=env, timeout=600)


def test_items_named_plan_rule_with_evidence(tmp_path):
    scen = tmp_path / "scenarios" / "one"
    scen.mkdir(parents=True)
    (scen / "plan.yaml").write_text(PLAN, encoding="utf-8")
    (scen / "rules.yaml").write_text(RULES, encoding="utf-8")
    (scen / "notes.yaml").write_text("not: a plan\n", encoding="utf-8")
    broken = tmp_path / "scenarios" / "broken"
    broken.mkdir()
    (broken / "plan.yaml").write_text("name: x\nnodes: {a: {role: hots}}\n", encoding="utf-8")
    result = run_pytest(tmp_path, "-v", "-rA", "--continue-on-collection-errors")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "scenarios/one/plan.yaml::PI-1 FAILED" in out
    assert "scenarios/one/plan.yaml::UC-1 PASSED" in out
    assert "scenarios/one/plan.yaml::PI-LOW XFAIL" in out  # below --govnet-fail-on high
    assert "notes.yaml" not in out
    # the failure message is the evidence, with the plan line it points at
    assert "ipc [intra] — ecore [ext]" in out
    line = PLAN.splitlines().index("  - ipc -- ecore") + 1
    assert f"plan.yaml:{line}:" in out
    # a plan that does not load is a collection error with FILE:LINE:COL
    assert "ERROR scenarios/broken/plan.yaml" in out and "broken/plan.yaml:2:" in out


def test_plugin_imports_nothing_heavy_and_knows_the_severities():
    code = ("import sys, policies.pytest_plugin as p, policies.model as m; "
            "print(p.SEVERITIES == m.SEVERITIES)")
    quiet = "import sys, policies.pytest_plugin; print('networkx' in sys.modules or 'scapy' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout.strip() == "True"
    assert subprocess.run([sys.executable, "-c", quiet], capture_output=True, text=True, env=env).stdout.strip() == "False"


STATUS_PLAN = plan("""\
policies: [rules.yaml]
nodes:
  ecore: {role: core_router}
  ipc: {role: host, domain: intra}
  icore: {role: core_router, domain: intra}
links:
  - ipc -- icore
  - ipc -- ecore
waivers:
  - {rule: PI-1, scope: ipc, reason: 临时测试终端, approver: 市委保密局, document: 保密〔2024〕3号, expires: 2030-12-31}
""")
STATUS_RULES = """\
rules:
  - id: PI-1
    kind: physical_isolation
    severity: critical
    params: {domains: [kind:intranet], against: [kind:extranet]}
  - id: PP-1
    kind: physical_isolation
    params: {domains: [kind:party_private], against: ["*"]}
"""


def test_not_applicable_is_skipped_and_waived_is_xfail(tmp_path):
    scen = tmp_path / "scenarios" / "two"
    scen.mkdir(parents=True)
    (scen / "plan.yaml").write_text(STATUS_PLAN, encoding="utf-8")
    (scen / "rules.yaml").write_text(STATUS_RULES, encoding="utf-8")
    result = run_pytest(tmp_path, "-v", "-rA")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "scenarios/two/plan.yaml::PP-1 SKIPPED" in out
    assert "PP-1 not applicable: the plan has no network matching kind:party_private" in out
    assert "scenarios/two/plan.yaml::PI-1 XFAIL" in out
    assert "waived: 1 of 1 network pair that must share no cable or device is physically connected" in out


def test_a_waiver_of_an_unknown_rule_is_a_collection_error(tmp_path):
    scen = tmp_path / "scenarios" / "three"
    scen.mkdir(parents=True)
    (scen / "plan.yaml").write_text(STATUS_PLAN.replace("rule: PI-1", "rule: PI-2"), encoding="utf-8")
    (scen / "rules.yaml").write_text(STATUS_RULES, encoding="utf-8")
    result = run_pytest(tmp_path, "-v")
    line = STATUS_PLAN.splitlines().index(next(l for l in STATUS_PLAN.splitlines() if "rule: PI-1" in l)) + 1
    assert result.returncode != 0
    assert f"three/plan.yaml:{line}:5: error: waiver of rule 'PI-2', which is not among the rules checked" in result.stdout
    assert "did you mean 'PI-1'?" in result.stdout


# --- what is collected: plan.yaml and *.plan.yaml by name, any other YAML file whose top level is a plan's


def test_top_level_keys_reads_column_0_keys_of_the_first_document():
    assert top_level_keys("\ufeff%YAML 1.2\n---\n# c\nname: x   # n\n'include':\n- a.yaml\n\"nodes\": {}\n") == {
        "name": 4, "include": 5, "nodes": 7}
    # indented keys, block scalars and list items are not top-level keys
    assert top_level_keys("nodes:\n  name: x\ndescription: |\n  name: y\nlinks:\n- name: z\n") == {
        "nodes": 1, "description": 3, "links": 5}
    assert top_level_keys("name: x\n---\nnodes: {}\n") == {"name": 1}  # the first document only
    assert top_level_keys("{name: x,\n nodes: {a: {role: host}}}\n") == {"name": 1, "nodes": 2}  # flow: composed
    assert top_level_keys("- name: x\n  nodes: {}\n") is None  # a list, not a mapping
    assert top_level_keys("[1, 2]\n") is None
    assert top_level_keys("# only a comment\n") is None
    assert top_level_keys("just text\n") == {}


def test_network_sections_are_plan_sections():
    from topology.schema import plan_json_schema

    sections = set(plan_json_schema()["properties"]) - {"name", "title", "description"}
    assert sections >= NETWORK_SECTIONS


def test_shipped_plans_and_faults_are_plans_parts_and_packs_are_not():
    scenarios = REPO / "scenarios"
    assert all(is_plan_file(p) for p in [*scenarios.glob("*/plan.yaml"), *scenarios.glob("*/faults/*.yaml")])
    assert all(is_plan_file(p) for p in shipped_plans())  # the samples of large scenarios too
    others = [p for p in scenarios.rglob("*.yaml")
              if p.name != "plan.yaml" and p.parent.name != "faults" and p not in shipped_plans()]
    others += list((REPO / "policies" / "packs").glob("*.yaml"))
    assert len(others) > 20
    assert [p for p in others if is_plan_file(p)] == []


def test_plan_files_are_collected_parts_and_other_yaml_are_not(tmp_path):
    scen = tmp_path / "scenarios" / "one"
    (scen / "parts").mkdir(parents=True)
    (scen / "variants").mkdir()
    (scen / "plan.yaml").write_text(PLAN.replace("nodes:", "include: [parts/extra.yaml]\nnodes:"), encoding="utf-8")
    (scen / "parts" / "extra.yaml").write_text("nodes:\n  ipc2: {role: host, domain: intra}\n", encoding="utf-8")
    (scen / "rules.yaml").write_text(f"name: local rules\n{RULES}", encoding="utf-8")  # a policy file
    (scen / "compose.yaml").write_text("name: app\nservices: {web: {image: nginx}}\n", encoding="utf-8")
    (scen / "list.yaml").write_text("- name: x\n  nodes: {}\n", encoding="utf-8")
    (scen / "empty.yaml").write_text("", encoding="utf-8")
    variant = PLAN.replace("policies: [rules.yaml]", "policies: [../rules.yaml]\ninclude: [../parts/extra.yaml]")
    (scen / "variants" / "no-ecore.yaml").write_text(variant.replace("  ecore: {role: core_router}\n", "").replace(
        "  - ipc -- ecore\n", ""), encoding="utf-8")
    result = run_pytest(tmp_path, "--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    files = {line.split("::")[0] for line in result.stdout.splitlines() if "::" in line}
    assert files == {"scenarios/one/plan.yaml", "scenarios/one/variants/no-ecore.yaml"}
    # govnet_patterns narrows what is looked at beyond govnet_plans; empty: only plan.yaml and *.plan.yaml
    narrowed = run_pytest(tmp_path, "--collect-only", "-q", "-o", "govnet_patterns=")
    assert "variants/no-ecore.yaml" not in narrowed.stdout and "scenarios/one/plan.yaml::PI-1" in narrowed.stdout
    only = run_pytest(tmp_path, "--collect-only", "-q", "-o", "govnet_patterns=variants/*.yaml")
    assert "scenarios/one/variants/no-ecore.yaml::PI-1" in only.stdout


# --- a variant with expect: passes when exactly its expected rules fail


def test_shipped_scenario_with_its_faults_is_collected_and_green():
    folder = REPO / "scenarios" / "civil-affairs"
    result = run_pytest(folder, "-v", "-rs")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for fault in sorted((folder / "faults").glob("*.yaml")):
        assert f"faults/{fault.name}::" in out
    assert not [line for line in out.splitlines() if line.startswith("parts/")]
    # the expected failure passes its item; in an earlier phase, where the fault does not fail yet, it is skipped
    assert "faults/firewall-hole.yaml::EGOV-LI-1[规划] PASSED" in out
    assert "faults/clear-tunnel.yaml::EGOV-VPN-1[规划] PASSED" in out
    assert "faults/clear-tunnel.yaml::EGOV-VPN-1[现状] SKIPPED" in out
    assert "EGOV-VPN-1 was expected to fail (expect: in faults/clear-tunnel.yaml:12): in phase 现状 it passed" in out


@pytest.fixture(scope="module")
def fault_copies(tmp_path_factory) -> subprocess.CompletedProcess:
    """Variants of civil-affairs/faults/firewall-hole.yaml (which must fail EGOV-LI-1), checked on the whole plan."""
    root = tmp_path_factory.mktemp("copies")
    shipped = REPO / "scenarios" / "civil-affairs"
    scen = root / "civil-affairs"
    shutil.copytree(shipped / "parts", scen / "parts")
    shutil.copy(shipped / "plan.yaml", scen / "plan.yaml")
    (scen / "faults").mkdir()
    fault = (shipped / "faults" / "firewall-hole.yaml").read_text(encoding="utf-8")
    assert "  fail: [EGOV-LI-1]\n" in fault
    faults = scen / "faults"
    (faults / "wrong-rule.yaml").write_text(fault.replace("fail: [EGOV-LI-1]", "fail: [EGOV-VPN-1]"), encoding="utf-8")
    (faults / "unknown-rule.yaml").write_text(fault.replace("fail: [EGOV-LI-1]", "fail: [EGOV-LI-1, EGOV-LI1]"),
                                              encoding="utf-8")
    # the fault without its fault: the plan's own includes, the 3389 hole gone
    plan_lines = (shipped / "plan.yaml").read_text(encoding="utf-8").splitlines()
    parts = [line.split("#")[0].strip()[2:] for line in plan_lines if line.strip().startswith("- parts/")]
    compliant = fault.split("\ninclude:\n")[0] + "\ninclude:\n" + "".join(f"  - ../{part}\n" for part in parts)
    (faults / "no-fault.yaml").write_text(compliant, encoding="utf-8")
    return run_pytest(root, "-v", "-rA", "--govnet-phase", "final", target=faults)


def failed_items(out: str, file: str) -> list[str]:
    """The failed items of ``file`` in the short test summary."""
    return [line.split(" ")[1] for line in out.splitlines() if line.startswith("FAILED ") and file in line]


def expect_line(text: str) -> int:
    return text.splitlines().index("expect:") + 1


def test_a_fault_whose_expect_names_the_wrong_rule_is_red(fault_copies):
    out = fault_copies.stdout
    assert fault_copies.returncode == 1, out + fault_copies.stderr
    # the fault's real failure is unexpected: it fails as in any plan, and the rule named is held to fail
    assert failed_items(out, "wrong-rule.yaml") == ["civil-affairs/faults/wrong-rule.yaml::EGOV-LI-1",
                                                     "civil-affairs/faults/wrong-rule.yaml::EGOV-VPN-1"]
    line = expect_line((REPO / "scenarios/civil-affairs/faults/firewall-hole.yaml").read_text(encoding="utf-8"))
    assert f"EGOV-VPN-1 was expected to fail (expect: in civil-affairs/faults/wrong-rule.yaml:{line}) but passed" in out


def test_a_fault_variant_without_its_fault_is_red(fault_copies):
    out = fault_copies.stdout
    assert "faults/no-fault.yaml::EGOV-LI-1 FAILED" in out
    assert "EGOV-LI-1 was expected to fail (expect: in civil-affairs/faults/no-fault.yaml:" in out
    assert "but passed: " in out
    assert failed_items(out, "no-fault.yaml") == ["civil-affairs/faults/no-fault.yaml::EGOV-LI-1"]  # the others as usual


def test_an_expected_rule_not_among_the_rules_checked_is_red(fault_copies):
    out = fault_copies.stdout
    assert "faults/unknown-rule.yaml::EGOV-LI-1 PASSED" in out  # the fault's real failure, as expected
    assert "faults/unknown-rule.yaml::EGOV-LI1 FAILED" in out
    assert ("EGOV-LI1 was expected to fail (expect: in civil-affairs/faults/unknown-rule.yaml:12) but is not among "
            "the rules checked") in out
    assert "did you mean 'EGOV-LI-1'?" in out
    assert failed_items(out, "unknown-rule.yaml") == ["civil-affairs/faults/unknown-rule.yaml::EGOV-LI1"]
