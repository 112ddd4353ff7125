"""docs/format.md is what the generator renders today, every property is described, the examples load."""

from __future__ import annotations

import doctest
import importlib
import json

import jsonschema
import pytest

from tests.helpers import REPO, run_cli
from topology import load_plan, reference
from topology.part_schema import part_json_schema
from topology.reference import (
    SECTION_EXAMPLES,
    VARIANT_SECTIONS,
    FormatReferenceError,
    check_examples,
    render_reference,
    write_example_plan,
)
from topology.schema import plan_json_schema
from topology.yaml_source import parse_yaml_text

FORMAT_MD = REPO / "docs" / "format.md"
REGENERATE = "regenerate it with: govnet schema --reference -o docs/format.md"


def test_docs_format_md_is_what_the_generator_renders():
    assert FORMAT_MD.is_file(), f"docs/format.md is missing; {REGENERATE}"
    assert FORMAT_MD.read_text(encoding="utf-8") == render_reference(), f"docs/format.md is out of date; {REGENERATE}"


def _models(schema: dict) -> list[tuple[str, dict]]:
    return [("the plan", schema), *sorted(schema["$defs"].items())]


def test_every_property_and_every_model_of_the_schema_has_a_description():
    schema = plan_json_schema()
    missing = [f"{name}.{key}" for name, model in _models(schema)
               for key, prop in model.get("properties", {}).items() if not prop.get("description", "").strip()]
    undocumented = [name for name, model in _models(schema) if not model.get("description", "").strip()]
    count = sum(len(model.get("properties", {})) for _, model in _models(schema))
    assert count > 150, "the walk found the properties"
    assert missing == [], f"properties without a description: {missing}"
    assert undocumented == [], f"models without a docstring: {undocumented}"


def test_every_property_appears_in_the_reference():
    page = render_reference()
    schema = plan_json_schema()
    for name, model in _models(schema):
        if name != "the plan":
            assert f"### {name} object" in page
        for key in model.get("properties", {}):
            assert f"| `{key}` |" in page or f"## `{key}`" in page, f"{name}.{key} is not in the reference"


def test_rendering_is_deterministic_and_ends_with_one_newline():
    first, second = render_reference(), render_reference()
    assert first == second
    assert first.endswith("\n") and not first.endswith("\n\n")


def test_the_examples_make_a_plan_that_validates(tmp_path):
    from policies.loader import select_policies
    from policies.setup import prepare_check

    net = load_plan(write_example_plan(tmp_path))
    prepare_check(net, select_policies(net, None))  # as govnet validate: policies, waivers, declined packs
    assert net.expect_fail is None
    roles = {n.role for n in net.nodes.values()}
    assert {"cloud", "firewall", "mcu", "vpn_gateway", "aggregation"} <= roles
    assert "示例县汇聚节点1" in net.nodes and net.nodes["示例县民政局"].role == "host"  # aggregation members: new nodes
    cloud = net.nodes["互联网"]
    assert net.domains[cloud.domain].trusted is False and cloud.site == "示例县"
    firewall_out = net.nodes["示例县防火墙"].interfaces["outside"]
    assert firewall_out.acl_in == "互联网入" and firewall_out.nat
    assert firewall_out.address is not None and firewall_out.address.ip in net.domains["互联网"].pool  # domain: 互联网


def test_the_variant_example_validates(tmp_path):
    net = load_plan(write_example_plan(tmp_path, variant=True))
    assert net.expect_fail == ("EGOV-LI-1",)


def test_each_example_but_name_is_a_part_and_a_part_may_not_name_the_plan():
    validator = jsonschema.Draft202012Validator(part_json_schema())
    for section, text in SECTION_EXAMPLES.items():
        data = parse_yaml_text(text, f"{section}.yaml").data
        errors = [e.message for e in validator.iter_errors(data)]
        assert (errors != []) == (section == "name"), f"example of {section}: {errors}"
    for part, text in reference.EXAMPLE_PARTS.items():
        assert list(validator.iter_errors(parse_yaml_text(text, part).data)) == []


def test_every_section_needs_an_example():
    check_examples(plan_json_schema()["properties"])
    with pytest.raises(FormatReferenceError, match="examples missing"):
        check_examples([*plan_json_schema()["properties"], "new_section"])
    assert set(VARIANT_SECTIONS) <= set(SECTION_EXAMPLES)


def test_the_figures_the_prose_states_are_the_code_s():
    from policies.pytest_plugin import DEFAULT_PATTERNS
    from simulator.packets import DEFAULT_TTL
    from simulator.routing import BOUNDARY_PENALTY
    from simulator.traffic import CASCADE_FACTOR, DEFAULT_VIDEO_RATE

    assert reference.CASCADE_FACTOR == CASCADE_FACTOR
    assert reference.DEFAULT_VIDEO_RATE == DEFAULT_VIDEO_RATE
    assert reference.BOUNDARY_PENALTY == BOUNDARY_PENALTY
    assert reference.DEFAULT_TTL == DEFAULT_TTL
    assert list(reference.PLUGIN_PATTERNS) == list(DEFAULT_PATTERNS)
    cost = plan_json_schema()["$defs"]["LinkAttrs"]["properties"]["cost"]["description"]
    assert f"{BOUNDARY_PENALTY:,}" in cost


class _Options:
    """Records what the plugin's pytest_addoption declares (a stand-in for pytest's parser)."""

    def __init__(self) -> None:
        self.declared: dict[str, dict] = {}

    def getgroup(self, *_: object) -> _Options:
        return self

    def addoption(self, *names: str, **attrs: object) -> None:
        self.declared.update(dict.fromkeys(names, attrs))

    def addini(self, name: str, **attrs: object) -> None:
        self.declared[name] = attrs


def test_the_plugin_defaults_are_the_ones_stated():
    from policies import pytest_plugin

    options = _Options()
    pytest_plugin.pytest_addoption(options)  # type: ignore[arg-type]
    assert options.declared["--govnet-fail-on"]["default"] == reference.PLUGIN_FAIL_ON
    assert options.declared["--govnet-phase"]["default"] == "all"
    assert list(options.declared["govnet_plans"]["default"]) == list(reference.PLUGIN_PATTERNS)


@pytest.mark.parametrize("name", ["topology.reference", "topology.part_schema"])
def test_doctests(name):
    failed, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failed == 0


def test_cli_prints_the_reference_and_the_part_schema(tmp_path):
    result = run_cli("schema", "--reference")
    assert result.returncode == 0 and result.stdout == render_reference()
    out = tmp_path / "format.md"
    assert run_cli("schema", "--reference", "-o", out).returncode == 0
    assert out.read_text(encoding="utf-8") == render_reference()
    part = run_cli("schema", "--part")
    assert part.returncode == 0 and json.loads(part.stdout) == part_json_schema()
    both = run_cli("schema", "--part", "--reference")
    assert both.returncode == 2 and "not both" in both.stderr


def test_python_m_entry_prints_the_reference():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "topology.reference"], check=False, capture_output=True, cwd=REPO,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.decode("utf-8") == render_reference()
