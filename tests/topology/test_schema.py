"""The exported JSON Schema is valid and agrees with the loader on what a plan may say."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.helpers import run_cli
from tests.topology.small_plans import SMALL
from topology.schema import plan_json_schema
from topology.yaml_source import parse_yaml_text


@pytest.fixture(scope="module")
def validator():
    schema = plan_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_small_plan_validates_against_schema(validator):
    data = parse_yaml_text(SMALL, "small.yaml").data
    assert list(validator.iter_errors(data)) == []


def test_schema_rejects_unknown_keys_and_accepts_link_forms(validator):
    base = parse_yaml_text(SMALL, "small.yaml").data
    assert list(validator.iter_errors({**base, "linkz": []}))
    ok = {**base, "links": ["a -- b", ["a", "b"], {"a": "a", "b": "b", "bandwidth": "1G"}]}
    assert list(validator.iter_errors(ok)) == []
    assert list(validator.iter_errors({**base, "links": [["a", "b", "c"]]}))


def test_cli_schema_is_json():
    result = run_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "govnet plan" and "nodes" in schema["properties"]
