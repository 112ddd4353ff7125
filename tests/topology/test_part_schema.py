"""Every shipped plan validates against the plan schema, and every file a plan includes against the part schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from tests.helpers import SCENARIOS, shipped_plans
from topology.loader import plan_file
from topology.part_schema import part_json_schema
from topology.schema import plan_json_schema
from topology.yaml_source import read_yaml_file

PLANS = sorted({*SCENARIOS.glob("*/plan.yaml"), *shipped_plans(), *SCENARIOS.glob("*/faults/*.yaml")})


def _data(path: Path) -> dict:
    data = read_yaml_file(path, str(path.relative_to(SCENARIOS))).data
    assert isinstance(data, dict), f"{path} is not a mapping of sections"
    return data


def _included(path: Path, seen: set[Path]) -> None:
    """Add every file ``path`` includes, and what those include, to ``seen``."""
    for name in _data(path).get("include", []):
        target = (path.parent / name).resolve()
        if target not in seen:
            seen.add(target)
            _included(target, seen)


def _parts() -> list[Path]:
    seen: set[Path] = set()
    for plan in PLANS:
        _included(plan, seen)
    return sorted(seen)


PARTS = _parts()


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.resolve().relative_to(SCENARIOS.resolve())) for p in paths]


@pytest.fixture(scope="module")
def plan_validator() -> jsonschema.Draft202012Validator:
    schema = plan_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def part_validator() -> jsonschema.Draft202012Validator:
    schema = part_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_scenario_file_is_a_plan_or_a_part():
    files = {p.resolve() for p in SCENARIOS.rglob("*.yaml")}
    plans = {p.resolve() for p in PLANS}
    parts = set(PARTS)
    assert len(parts) >= 25, f"only {len(parts)} included parts found"
    assert plans.isdisjoint(parts), "no plan is included by another"
    assert files == plans | parts, f"neither plan nor part: {sorted(files - plans - parts)}"


@pytest.mark.parametrize("part", PARTS, ids=_ids(PARTS))
def test_shipped_part_validates_against_the_part_schema(part, part_validator, plan_validator):
    data = _data(part)
    assert [e.message for e in part_validator.iter_errors(data)] == []
    assert any(e.validator == "required" for e in plan_validator.iter_errors(data)), "a part is no plan (no name)"


@pytest.mark.parametrize("plan", PLANS, ids=_ids(PLANS))
def test_shipped_plan_validates_against_the_plan_schema(plan, plan_validator):
    assert [e.message for e in plan_validator.iter_errors(_data(plan))] == []


def test_part_schema_refuses_name_and_unknown_sections_and_needs_nothing(part_validator):
    assert list(part_validator.iter_errors({})) == []
    assert list(part_validator.iter_errors({"nodes": {"a": {"role": "host"}}})) == []
    assert list(part_validator.iter_errors({"name": "x"}))
    assert list(part_validator.iter_errors({"nodez": {}}))


def test_a_scenario_folder_names_its_plan_yaml():
    assert plan_file(SCENARIOS / "weihai") == SCENARIOS / "weihai" / "plan.yaml"
    assert plan_file(SCENARIOS / "weihai" / "parts") == SCENARIOS / "weihai" / "parts"
