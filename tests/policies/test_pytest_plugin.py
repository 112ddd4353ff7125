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
