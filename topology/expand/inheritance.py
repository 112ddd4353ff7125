"""Pass ``inheritance``: what each group and each template stands for, cycles refused.

Definition. A group's fields are those of the groups it ``inherit``\\ s, in
order, then its own (later over earlier, its own over all). A template's
*order* is the templates it ``use``\\ s (each with its own order, each once)
followed by itself: applying a template applies its order. A group or
template that names an unknown one, or takes part in a cycle, is an error
and the offending edge is ignored.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... groups:
    ...   device: {domain: 政务外网, phase: 一期}
    ...   router: {inherit: [device], role: core_router}
    ... templates:
    ...   base: {}
    ...   county: {use: [base]}
    ... '''), upto="inheritance")
    >>> d.group_fields["router"]
    {'domain': '政务外网', 'phase': '一期', 'role': 'core_router'}
    >>> d.template_order["county"]
    ['base', 'county']
"""

from __future__ import annotations

from ..schema import NodeFields
from ..validation import suggest
from .draft import Draft, Fields, explicit

NODE_FIELDS = tuple(NodeFields.model_fields)


def inheritance(d: Draft) -> Draft:
    """Fill ``d.group_fields`` and ``d.template_order``."""
    for name in d.spec.groups:
        _group(d, name, ())
    for name in d.spec.templates:
        _order(d, name, ())
    return d


def _group(d: Draft, name: str, stack: tuple[str, ...]) -> Fields:
    if name in d.group_fields:
        return d.group_fields[name]
    group = d.spec.groups[name]
    merged: Fields = {}
    for i, parent in enumerate(group.inherit):
        path = ("groups", name, "inherit", i)
        if parent not in d.spec.groups:
            d.error(path, f"group '{name}' inherits unknown group '{parent}'", suggest(parent, d.spec.groups, "groups"))
        elif parent in stack or parent == name:
            d.error(path, f"groups inherit in a cycle: {' -> '.join(stack + (name, parent))}", "break the cycle")
        else:
            merged.update(_group(d, parent, stack + (name,)))
    merged.update(explicit(group, NODE_FIELDS))
    d.group_fields[name] = merged
    return merged


def _order(d: Draft, name: str, stack: tuple[str, ...]) -> list[str]:
    if name in d.template_order:
        return d.template_order[name]
    out: list[str] = []
    for i, used in enumerate(d.spec.templates[name].use):
        path = ("templates", name, "use", i)
        if used not in d.spec.templates:
            d.error(path, f"template '{name}' uses unknown template '{used}'", suggest(used, d.spec.templates, "templates"))
        elif used in stack or used == name:
            d.error(path, f"templates use each other in a cycle: {' -> '.join(stack + (name, used))}", "break the cycle")
        else:
            out.extend(t for t in _order(d, used, stack + (name,)) if t not in out)
    out.append(name)
    d.template_order[name] = out
    return out
