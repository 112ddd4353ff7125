"""The pytest plugin: every rule of every plan is an item ``plan.yaml::RULE`` with the evidence as message."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

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


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    registered = any(ep.value == "policies.pytest_plugin" for ep in entry_points(group="pytest11"))
    plugin = [] if registered else ["-p", "policies.pytest_plugin"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "--rootdir", str(folder),
                           "-c", os.devnull, *args, str(folder)], capture_output=True, text=True, cwd=folder,
                          env=env, timeout=300)


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
