"""Pydantic validation errors as plan issues: a position, and "did you mean" for unknown keys.

Pydantic reports an unknown key without the keys that were allowed; this
module walks the model along the error's location to find them and suggests
the closest, the way Kubernetes' strict decoder does. Shared by the plan
loader and the policy-file loader. :func:`suggest` is the one "did you mean"
hint for a name that names nothing (a node, a domain kind, a rule id ...).
A validator may give its own hint by raising
``PydanticCustomError(kind, message, {"hint": ...})``.

    >>> from topology.schema import PlanSpec
    >>> allowed_keys(PlanSpec, ("nodes", "core"))[:3]
    ['role', 'domain', 'site']
    >>> suggest("intranett", ["intranet", "extranet"], "domain kinds")
    "did you mean 'intranet'?"
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import PlanIssue
from .yaml_source import mark_for


def issues_from_validation(exc: ValidationError, marks: dict, display: str, root: type[BaseModel],
                           prefix: tuple = ()) -> list[PlanIssue]:
    """One issue per pydantic error, placed by ``marks``; ``prefix`` is where ``root`` sits in the file."""
    issues = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        full = prefix + loc
        mark = mark_for(marks, full, display)
        where = ".".join(str(p) for p in full) or "plan"
        kind = error["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            allowed = allowed_keys(root, loc[:-1])
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"allowed keys: {', '.join(sorted(allowed))}" if allowed else "remove it")
            issues.append(PlanIssue(mark, f"unknown key '{key}' in {'.'.join(map(str, full[:-1])) or 'the plan'}", hint))
        elif kind == "missing":
            issues.append(PlanIssue(mark_for(marks, full[:-1], display), f"{where}: required key '{full[-1]}' is missing",
                                    f"add '{full[-1]}: ...'"))
        elif kind == "literal_error":
            issues.append(PlanIssue(mark, f"{where}: {error['input']!r} is not allowed",
                                    f"use one of {error['ctx']['expected']}"))
        else:
            message = error["msg"].removeprefix("Value error, ")
            hint = (error.get("ctx") or {}).get("hint") or _hint_for(kind)
            issues.append(PlanIssue(mark, f"{where}: {message}", str(hint)))
    return issues


def close_match(name: str, known: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The known name closest to ``name`` (difflib), or None when none is close.

    >>> close_match("kindd", ["kind", "clearance"])
    'kind'
    """
    if not isinstance(name, str):
        return None
    found = difflib.get_close_matches(name, [k for k in known if isinstance(k, str)], n=1, cutoff=cutoff)
    return found[0] if found else None


def suggest(name: str, known: Iterable[str], what: str) -> str:
    """A hint for ``name``, which names none of ``known`` (the defined ``what``).

    >>> suggest("昆明", [], "sites")
    'define it under sites'
    >>> suggest("x", ["a", "b"], "rule ids")
    'defined rule ids: a, b'
    """
    known = list(known)
    close = close_match(name, known)
    if close is not None:
        return f"did you mean '{close}'?"
    if not known:
        return f"define it under {what}"
    sample = ", ".join(sorted(known)[:5])
    return f"defined {what}: {sample}{', ...' if len(known) > 5 else ''}"


def _hint_for(kind: str) -> str:
    return {
        "string_type": "write it as text; quote it if it looks like a number",
        "int_type": "write a whole number without quotes",
        "bool_type": "write true or false",
        "dict_type": "write a mapping (key: value lines)",
        "list_type": "write a list ([a, b] or '- item' lines)",
        "model_type": "write a mapping (key: value lines)",
        "greater_than_equal": "use a larger value",
        "less_than_equal": "use a smaller value",
        "string_too_short": "give a non-empty name",
        "string_pattern_mismatch": "use lower-case letters, digits and _",
    }.get(kind, "fix the value")


def allowed_keys(root: type[BaseModel], loc: tuple) -> list[str]:
    """Field names (by alias) of the model reached by following ``loc`` from ``root``."""
    current: Any = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    model = _as_model(current)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _as_model(tp: Any) -> type[BaseModel] | None:
    for candidate in _flatten(tp):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _flatten(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out = []
        for arg in typing.get_args(tp):
            out.extend(_flatten(arg))
        return out
    return [tp]


def _step(tp: Any, part: Any) -> Any:
    for candidate in _flatten(tp):
        origin = typing.get_origin(candidate)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel) and isinstance(part, str):
            for name, field in candidate.model_fields.items():
                if part in (name, field.alias):
                    return field.annotation
        elif origin is dict:
            return typing.get_args(candidate)[1]
        elif origin is list and isinstance(part, int):
            return typing.get_args(candidate)[0]
    return None
