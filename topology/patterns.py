"""Name patterns: the placeholders a template's names may use, and nothing else.

Definition. A *pattern* is text with placeholders in braces, filled per site
(and per generated unit): ``{site}``, ``{parent}``, ``{level}``, the names of
the site's ancestors by level (``{province}``, ``{prefecture}``, ``{county}``,
``{township}``, ``{central}``), in a star or a generated list ``{i}`` (the
unit's number) and ``{core}``. A placeholder is a bare name, optionally with
a simple width (``{i:02d}``, ``{i:3}``): no attribute or index access
(``{site.__class__}``), no conversions, no widths above :data:`MAX_WIDTH`.
The filled name is at most :data:`MAX_NAME` characters. Python's
``str.format`` would run arbitrary attribute lookups and build strings of any
size, hence this small checked filler over ``string.Formatter().parse``.

    >>> fill("{site}部门{i:02d}", {"site": "双柏县", "i": 7})
    '双柏县部门07'
    >>> fill("{site.__class__}", {"site": "x"})
    Traceback (most recent call last):
    ...
    topology.patterns.PatternError: '{site.__class__}' is not a placeholder a name may use
"""

from __future__ import annotations

import difflib
import functools
import re
import string
from collections.abc import Mapping
from typing import Any

from .errors import GovnetError

PLACEHOLDERS = ("site", "parent", "level", "central", "province", "prefecture", "county", "township", "village",
                "i", "core")
MAX_WIDTH = 12
MAX_NAME = 200
_SPEC = re.compile(r"^0?(\d{1,2})?d?$")


def _check(pattern: str, field: str, spec: str | None, conversion: str | None) -> None:
    if conversion is not None or any(c in field for c in ".[]()"):
        raise PatternError(f"'{{{field}{'!' + conversion if conversion else ''}}}' is not a placeholder a name "
                           "may use", "use " + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
    if field not in PLACEHOLDERS:
        close = difflib.get_close_matches(field, PLACEHOLDERS, n=1, cutoff=0.6)
        raise PatternError(f"unknown placeholder {{{field}}} in '{pattern}'", f"did you mean {{{close[0]}}}?"
                           if close else "use " + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
    match = _SPEC.match(spec or "")
    if not match or int(match.group(1) or 0) > MAX_WIDTH:
        raise PatternError(f"'{{{field}:{spec}}}' in '{pattern}' is not a simple width",
                           f"write a width of at most {MAX_WIDTH}, like {{i:02d}}")


class PatternError(GovnetError):
    """A pattern uses a placeholder or a format it may not, or fills a name that is too long."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@functools.lru_cache(maxsize=4096)
def _parsed(pattern: str) -> tuple[tuple[str, str | None, str | None, str | None], ...]:
    """The pattern's literals and placeholders, every placeholder checked (a pattern is filled for every site
    and index: it is parsed once; one that does not pass raises each time and is not kept)."""
    try:
        parts = tuple(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise PatternError(f"bad braces in '{pattern}': {exc}", "write placeholders like {site} or {i:02d}") from None
    for _, field, spec, conversion in parts:  # every placeholder is checked before any is filled
        if field is not None:
            _check(pattern, field, spec, conversion)
    return parts


def fill(pattern: str, values: Mapping[str, Any]) -> str:
    """``pattern`` with its placeholders filled from ``values`` (see the module docstring)."""
    if "{" not in pattern and "}" not in pattern:
        return pattern
    out = []
    for literal, field, spec, _ in _parsed(pattern):
        out.append(literal)
        if field is None:
            continue
        if field not in values:
            raise KeyError(field)
        value = values[field]
        if spec and isinstance(value, str):
            spec = spec.rstrip("d")
        out.append(format(value, spec or ""))
    name = "".join(out)
    if len(name) > MAX_NAME:
        raise PatternError(f"'{pattern}' makes a name of {len(name)} characters", f"names are at most {MAX_NAME}")
    return name
