"""Valid, unique node and site names from the labels a foreign file carries.

Plan names must be non-empty, at most 200 characters, and free of the few
characters the plan format gives a meaning: ``:`` separates a node from an
interface in link ends and ``{ }`` are template placeholders. Foreign labels
repeat ("London" twice, "None" a dozen times) or are empty, so every label
that occurs more than once becomes ``"Label (id)"`` with the source's own id,
an empty label becomes ``"node <id>"``, and anything still clashing gets
``" #2"``, ``" #3"`` ... in source order. The same input always gives the same
names.

    >>> unique_names([("0", "London"), ("1", "Paris"), ("2", "London"), ("3", "")])
    ['London (0)', 'Paris', 'London (2)', 'node 3']
    >>> clean_name("ICELINK: Greenland {west}")
    'ICELINK - Greenland (west)'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

MAX_LABEL = 180  # leaves room for " (id)" within the format's 200 characters
_COLON = re.compile(r"\s*:\s*")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(text: str) -> str:
    """``text`` with whitespace collapsed and ``:`` ``{`` ``}`` replaced; may be empty."""
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    text = _COLON.sub(" - ", text).replace("{", "(").replace("}", ")")
    return text[:MAX_LABEL].strip()


def unique_names(items: Sequence[tuple[str, str]], empty: str = "node {id}") -> list[str]:
    """One unique, valid name per ``(id, label)`` pair, in the same order."""
    bases = [clean_name(label) for _, label in items]
    counts = Counter(b for b in bases if b)
    names = []
    for (key, _), base in zip(items, bases):
        ident = clean_name(key)[:16] or "?"
        if not base:
            names.append(empty.format(id=ident))
        elif counts[base] > 1:
            names.append(f"{base} ({ident})")
        else:
            names.append(base)
    return _suffix_clashes(names)


def unique_name(wanted: str, taken: set[str], fallback: str = "site") -> str:
    """``wanted`` cleaned, or with ``" #2"``... if ``taken`` has it already; adds it to ``taken``."""
    base = clean_name(wanted) or fallback
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base} #{n}"
    taken.add(name)
    return name


def _suffix_clashes(names: list[str]) -> list[str]:
    taken: set[str] = set()
    out = []
    for name in names:
        out.append(unique_name(name, taken))
    return out
