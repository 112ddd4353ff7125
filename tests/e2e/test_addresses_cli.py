"""``govnet addresses``: write the register, include it, and the plan's addresses stop moving."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import SCENARIOS, run_cli
from topology import load_plan

NEW_NODE = """
nodes:
  新增服务器: {role: server, domain: 政务外网, site: 楚雄州}
links:
  - {a: 楚雄州外网核心, b: 新增服务器}
"""


def _scenario(tmp_path: Path) -> Path:
    shutil.copytree(SCENARIOS / "chuxiong", tmp_path / "chuxiong")
    return tmp_path / "chuxiong"


def _loopbacks(plan: Path) -> dict[str, str]:
    return {n.name: str(n.loopback) for n in load_plan(plan).nodes.values()}


def test_a_registered_plan_keeps_its_addresses_when_a_node_is_added(tmp_path: Path) -> None:
    root = _scenario(tmp_path)
    plan = root / "plan.yaml"
    done = run_cli("addresses", plan, "-o", root / "地址分配表.yaml")
    assert done.returncode == 0, done.stderr
    before = _loopbacks(plan)
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("include:\n", "include:\n  - 地址分配表.yaml\n", 1) + NEW_NODE, encoding="utf-8")
    after = _loopbacks(plan)
    assert {k: v for k, v in after.items() if k != "新增服务器"} == before
    # --update registers the new node and rewrites only the register
    done = run_cli("addresses", plan, "--update")
    assert done.returncode == 0, done.stderr
    assert "新增服务器:" in (root / "地址分配表.yaml").read_text(encoding="utf-8")
    assert _loopbacks(plan) == after


def test_the_register_is_never_written_over_an_input(tmp_path: Path) -> None:
    root = _scenario(tmp_path)
    part = root / "parts" / "core.yaml"
    before = part.read_bytes()
    done = run_cli("addresses", root / "plan.yaml", "-o", part)
    assert done.returncode == 2 and part.read_bytes() == before


def test_update_needs_a_register_of_its_own(tmp_path: Path) -> None:
    root = _scenario(tmp_path)
    done = run_cli("addresses", root / "plan.yaml", "--update")
    assert done.returncode == 2 and "no allocations: section" in done.stderr
