"""The JSON Schema of a plan part: a file that a plan includes.

A part holds the sections of a plan (:func:`topology.schema.plan_json_schema`),
none of them required, and never ``name``: the including plan names the plan,
and a part that set it too would set a section twice, which the loader
refuses. ``govnet schema --part`` prints it for editors (the plan's own
schema would flag every part for its missing ``name``).

    >>> schema = part_json_schema()
    >>> "name" in schema["properties"], "required" in schema, schema["additionalProperties"]
    (False, False, False)
"""

from __future__ import annotations

import copy
from typing import Any

from .schema import plan_json_schema

PART_ONLY_IN_PLAN = ("name",)  # sections a part may not set


def part_json_schema() -> dict[str, Any]:
    """JSON Schema of an included part: the plan's sections, none required, without ``name``."""
    schema = copy.deepcopy(plan_json_schema())
    for section in PART_ONLY_IN_PLAN:
        schema["properties"].pop(section, None)
    schema.pop("required", None)
    schema["title"] = "govnet plan part"
    schema["description"] = ("A part of a plan: a file a plan includes. It holds the sections of a plan, none "
                             "required, and never name (the including plan's).")
    return schema
