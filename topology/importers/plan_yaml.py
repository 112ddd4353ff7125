"""Plan dicts as YAML text that reads like a hand-written plan, byte-identical per input.

The plan and its sections are written in block style, and so is anything
long (the ``assumptions``); below the sections, a mapping or list of a few short scalars (a link, a traffic entry, a node
with its tags, a domain) is written on one line in flow style, as people write plans.
The choice depends only on the data, so the same plan always gives the same
bytes. LibYAML's emitter is used when PyYAML has it (about four times
faster); its output was checked identical to the pure-Python emitter's on all
284 Topology Zoo and SNDlib files the project tests with.

    >>> print(dump_plan({"name": "demo", "links": [{"a": "x", "b": "y", "bandwidth": "1G"}]}), end="")
    name: demo
    links:
    - {a: x, b: y, bandwidth: 1G}
"""

from __future__ import annotations

from typing import Any

import yaml

FLOW_MAX_CHARS = 90  # total length of keys and values a one-line entry may hold

_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _FlowMap(dict):
    """A mapping written on one line."""


class _FlowSeq(list):
    """A list written on one line."""


class _PlanDumper(_BaseDumper):
    """Safe dumper that writes :class:`_FlowMap` and :class:`_FlowSeq` in flow style."""


_PlanDumper.add_representer(
    _FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True))
_PlanDumper.add_representer(
    _FlowSeq, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True))


def dump_plan(plan: dict[str, Any]) -> str:
    """YAML text of ``plan``: block sections, short entries on one line, Unicode kept, keys in given order."""
    return yaml.dump(_styled(plan), Dumper=_PlanDumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)


def _styled(value: Any, depth: int = 0) -> Any:
    """``value`` with short entries below the sections marked for flow style (sections stay blocks)."""
    if isinstance(value, dict):
        items = {k: _styled(v, depth + 1) for k, v in value.items()}
        return _FlowMap(items) if depth >= 2 and _short(list(items) + list(items.values())) else items
    if isinstance(value, list):
        entries = [_styled(v, depth + 1) for v in value]
        return _FlowSeq(entries) if depth >= 2 and _short(entries) else entries
    return value


def _short(values: list[Any]) -> bool:
    """Whether ``values`` are scalars or one-line entries, few enough characters for one line."""
    return bool(values) and all(_flat(v) for v in values) and _chars(values) <= FLOW_MAX_CHARS


def _flat(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, _FlowMap, _FlowSeq))


def _chars(values: Any) -> int:
    if isinstance(values, dict):
        return _chars(list(values)) + _chars(list(values.values()))
    if isinstance(values, list):
        return sum(_chars(v) for v in values)
    return len(str(values))
