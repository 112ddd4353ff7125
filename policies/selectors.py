"""Selecting domains and nodes in rule parameters.

Built-in packs must work on any plan, whatever its authors named the
networks, so rules name domains by *selector* rather than by name. The
grammar of a domain selector, complete:

==================  =========================================================
``*`` or ``any``    every domain
``kind:intranet``   every domain of that kind, or of a plan-declared kind that
                    takes its rules (``domain_kinds: {x: {like: intranet}}``);
                    built-in kinds: party_private, intranet, extranet,
                    internet, dmz; ``kind:x`` names a plan's own kind ``x``
``classified``      domains cleared for classified data (涉密, clearance > 0)
``unclassified``    domains with clearance 非涉密
``public``          untrusted domains and domains of kind ``internet``
``trusted``         every domain that is not public
``clearance:机密``  domains cleared for at least that classification
``!selector``       not the domains that selector matches
anything else       the domain of exactly that name
==================  =========================================================

Every parameter of a rule kind that holds domain selectors is typed
:data:`DomainSelector`, so selectors are checked wherever they appear: when a
policy file is loaded (:func:`selector_problem`: an unknown prefix such as
``kindd:``, a malformed kind, an unknown clearance) and, at check time, against
the plan (:func:`plan_selector_problem`: ``kind:x`` must be built in or
declared by the plan, a bare name must name one of its domains).
:func:`selector_values` finds them in a rule's parameters.

A well-formed selector that matches no domain of the plan is not an error: the
plan simply has no such network and rules about it are not applicable.

    >>> select_domains(net, ["kind:intranet", "classified"])   # doctest: +SKIP
    ['内网', '党委专网']
    >>> selector_problem("kindd:intranet")
    ("unknown domain selector 'kindd:intranet'", "did you mean 'kind:intranet'?")
"""

from __future__ import annotations

import fnmatch
import re
import types
import typing
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError

from topology.model import CLASSIFICATION_ORDER, Domain, Network, Node
from topology.schema import DOMAIN_KIND_PATTERN, KNOWN_DOMAIN_KINDS
from topology.validation import close_match, suggest

PUBLIC_KINDS = ("internet",)
SELECTOR_WORDS = ("*", "any", "classified", "unclassified", "public", "trusted")
SELECTOR_PREFIXES = ("kind", "clearance")


def is_public(domain: Domain) -> bool:
    """An untrusted network (the internet) or one of a public kind (or a kind taking its rules)."""
    return (not domain.trusted) or domain.base_kind in PUBLIC_KINDS


def domain_matches(domain: Domain, selector: str) -> bool:
    sel = selector.strip()
    if sel.startswith("!"):
        return not domain_matches(domain, sel[1:])
    if sel in ("*", "any"):
        return True
    if sel.startswith("kind:"):
        return sel[5:].strip() in (domain.kind, domain.base_kind)
    if sel.startswith("clearance:"):
        label = sel[10:].strip()
        return label in CLASSIFICATION_ORDER and domain.clearance >= CLASSIFICATION_ORDER.index(label)
    if sel == "classified":
        return domain.clearance > 0
    if sel == "unclassified":
        return domain.clearance == 0
    if sel == "public":
        return is_public(domain)
    if sel == "trusted":
        return not is_public(domain)
    return domain.name == sel


def select_domains(net: Network, selectors: Iterable[str]) -> list[str]:
    """Names of the domains any selector matches and no ``!selector`` excludes, in plan order.

    A list of exclusions only (``["!kind:dmz"]``) starts from every domain.
    """
    sels = [s.strip() for s in selectors]
    if not sels:
        return []
    wanted = [s for s in sels if not s.startswith("!")]
    unwanted = [s[1:].strip() for s in sels if s.startswith("!")]
    return [d.name for d in net.domains.values()
            if (not wanted or any(domain_matches(d, s) for s in wanted))
            and not any(domain_matches(d, s) for s in unwanted)]


# -- checking selectors ------------------------------------------------------------------

def selector_problem(text: str) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) when ``text`` is not a domain selector of the grammar, else None.

    A ``kind:`` of a kind that is not built in passes when its name could be a
    kind a plan declares: that is decided against the plan at check time.

    >>> selector_problem("kind:intranet") is None and selector_problem("!public") is None
    True
    >>> selector_problem("clearance:秘")
    ("unknown clearance '秘' in 'clearance:秘'", "did you mean 'clearance:秘密'?")
    """
    sel = text.strip()
    if sel.startswith("!"):
        sel = sel[1:].strip()
        if sel.startswith("!"):
            return f"'{text}' negates twice", "write the selector itself, or one '!' before it"
    if not sel:
        return "an empty domain selector", "write a domain name or a selector like kind:intranet or trusted"
    prefix, colon, value = sel.partition(":")
    if not colon:
        return None  # a word of the grammar or a domain name (checked against the plan)
    prefix, value = prefix.strip(), value.strip()
    if prefix == "kind":
        if value in KNOWN_DOMAIN_KINDS or re.fullmatch(DOMAIN_KIND_PATTERN, value):
            return None
        close = close_match(value, KNOWN_DOMAIN_KINDS)
        return (f"'{value}' in '{text}' is not a domain kind",
                f"did you mean 'kind:{close}'?" if close else
                f"built-in kinds: {', '.join(KNOWN_DOMAIN_KINDS)}; a plan's own kind is written like gov_private")
    if prefix == "clearance":
        if value in CLASSIFICATION_ORDER:
            return None
        close = close_match(value, CLASSIFICATION_ORDER, cutoff=0.3)
        return (f"unknown clearance '{value}' in '{text}'",
                f"did you mean 'clearance:{close}'?" if close else f"use one of {', '.join(CLASSIFICATION_ORDER)}")
    close = close_match(prefix, SELECTOR_PREFIXES)
    return (f"unknown domain selector '{text}'",
            f"did you mean '{close}:{value}'?" if close else
            "selectors: *, any, kind:K, clearance:L, classified, unclassified, public, trusted, !selector, "
            "or a domain name")


def plan_selector_problem(net: Network, text: str) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) when ``text`` cannot mean anything in ``net``, else None.

    Besides :func:`selector_problem`: ``kind:K`` must be a built-in kind or
    one the plan declares, a bare name must name a domain of the plan. A
    selector that is well formed and matches no domain of this plan is fine.
    """
    problem = selector_problem(text)
    if problem is not None:
        return problem
    sel = text.strip().removeprefix("!").strip()
    if sel.startswith("kind:"):
        kind = sel[5:].strip()
        if kind in KNOWN_DOMAIN_KINDS or kind in net.domain_kinds:
            return None
        return (f"no domain kind '{kind}' is built in or declared by the plan",
                suggest(kind, [*KNOWN_DOMAIN_KINDS, *net.domain_kinds], "domain kinds"))
    if ":" in sel or sel in SELECTOR_WORDS or sel in net.domains:
        return None
    return f"no domain '{sel}' in the plan", suggest(sel, net.domains, "domains")


class _SelectorTag:
    """Marks a parameter as a domain selector (found by :func:`selector_values`)."""

    def __repr__(self) -> str:
        return "DomainSelector"


SELECTOR_TAG = _SelectorTag()


def _check_selector(value: str) -> str:
    problem = selector_problem(value)
    if problem is not None:
        raise PydanticCustomError("domain_selector", "{message}", {"message": problem[0], "hint": problem[1]})
    return value


DomainSelector = Annotated[str, AfterValidator(_check_selector), SELECTOR_TAG,
                           WithJsonSchema({"type": "string", "description": "a domain selector"})]


def selector_values(model: BaseModel) -> list[tuple[tuple[Any, ...], str]]:
    """Every :data:`DomainSelector` in a validated parameter model: (its path by YAML keys, the selector).

    >>> class P(BaseModel):
    ...     domains: list[DomainSelector] = ["trusted", "!kind:dmz"]
    >>> selector_values(P())
    [(('domains', 0), 'trusted'), (('domains', 1), '!kind:dmz')]
    """
    return list(_walk_model(model, ()))


def _walk_model(model: BaseModel, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    for name, info in type(model).model_fields.items():
        yield from _walk(info.annotation, tuple(info.metadata), getattr(model, name), path + (info.alias or name,))


def _walk(annotation: Any, metadata: tuple[Any, ...], value: Any,
          path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if value is None:
        return
    if any(m is SELECTOR_TAG for m in metadata):
        if isinstance(value, str):
            yield path, value
        return
    if isinstance(value, BaseModel):
        yield from _walk_model(value, path)
        return
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        yield from _walk(args[0], tuple(args[1:]), value, path)
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            if _fits(arg, value):
                yield from _walk(arg, (), value, path)
                return
    elif origin in (list, tuple) and isinstance(value, (list, tuple)) and args:
        for i, item in enumerate(value):
            yield from _walk(args[0], (), item, path + (i,))
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            yield from _walk(args[1], (), item, path + (key,))


def _fits(annotation: Any, value: Any) -> bool:
    """Whether ``value`` is of the type ``annotation`` (a member of a union) describes."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _fits(args[0], value)
    if annotation is type(None):
        return value is None
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_fits(a, value) for a in args)
    if isinstance(origin, type):
        return isinstance(value, origin)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def describe_domain(net: Network, name: str) -> str:
    """A readable name: the plan's own name (政务内网), or a short title with a terse code name."""
    domain = net.domains.get(name)
    if domain is None or not domain.title or domain.title == name or not name.isascii() or len(domain.title) > 30:
        return name
    return f"{domain.title} ({name})"


class NodeMatch(BaseModel):
    """Which nodes a clause of a rule is about; every field given must match.

    ``service`` matches nodes hosting that service (``portal``,
    ``document_exchange`` ...), ``role`` the node role, ``name`` a glob on node
    names, ``domain`` a domain selector.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    service: str | list[str] | None = None
    role: str | list[str] | None = None
    name: str | None = None
    domain: DomainSelector | None = None
    tag: str | None = None

    def matches(self, net: Network, node: Node) -> bool:
        if self.service is not None:
            wanted = [self.service] if isinstance(self.service, str) else self.service
            if not any(s in node.services for s in wanted):
                return False
        if self.role is not None:
            roles = [self.role] if isinstance(self.role, str) else self.role
            if node.role not in roles:
                return False
        if self.name is not None and not fnmatch.fnmatchcase(node.name, self.name):
            return False
        if self.domain is not None:
            domain = net.domains.get(node.domain)
            if domain is None or not domain_matches(domain, self.domain):
                return False
        if self.tag is not None and self.tag not in node.tags:
            return False
        return True
