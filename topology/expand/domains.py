"""Pass ``domains``: phases, the plan's own domain kinds and the security domains.

Definition. Phases are numbered in plan order (a plan without phases has one,
``all``). A domain kind of the plan's own declares the built-in kind whose
rules its domains take (``like``); a built-in kind cannot be declared again.
Each domain gets its base kind, its trust (untrusted for the internet and
extranet kinds unless the plan says otherwise), its clearance as an index of
:data:`~topology.vocabulary.CLASSIFICATIONS` and its pool: its own, else the
next free /16 of 10.128.0.0/9 (:func:`topology.addressing.auto_pools`).

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... phases: {一期: {}, 二期: {}}
    ... domain_kinds: {video: {like: extranet}}
    ... domains:
    ...   政务外网: {kind: extranet, pool: 10.53.0.0/16}
    ...   视频专网: {kind: video}
    ... '''), upto="domains")
    >>> [(p.name, p.index) for p in d.phases]
    [('一期', 0), ('二期', 1)]
    >>> [(n, dom.base_kind, str(dom.pool)) for n, dom in d.domains.items()]
    [('政务外网', 'extranet', '10.53.0.0/16'), ('视频专网', 'extranet', '10.128.0.0/16')]
"""

from __future__ import annotations

from ..addressing import PoolExhausted, auto_pools, find_overlaps
from ..model import Domain, DomainKind, Phase
from ..validation import suggest
from ..vocabulary import CLASSIFICATIONS, DOMAIN_KINDS, UNTRUSTED_KINDS
from .draft import Draft


def domains(d: Draft) -> Draft:
    """Fill ``d.phases``, ``d.phase_index``, ``d.kinds`` and ``d.domains``."""
    d.phases = _phases(d)
    d.kinds = _kinds(d)
    d.domains = _domains(d)
    return d


def _phases(d: Draft) -> tuple[Phase, ...]:
    if not d.spec.phases:
        d.phase_index = {"all": 0}
        return (Phase("all", 0, "whole plan"),)
    out = []
    for index, (name, phase) in enumerate(d.spec.phases.items()):
        d.phase_index[name] = index
        out.append(Phase(name, index, phase.title, phase.start, phase.end))
    return tuple(out)


def _kinds(d: Draft) -> dict[str, DomainKind]:
    out = {}
    for name, spec in d.spec.domain_kinds.items():
        if name in DOMAIN_KINDS:
            d.error(("domain_kinds", name), f"'{name}' is a built-in domain kind",
                    "declare only kinds of your own; a built-in kind needs no declaration")
            continue
        out[name] = DomainKind(name, spec.like, spec.title, spec.description, d.mark(("domain_kinds", name)))
    return out


def _base_kind(d: Draft, domain: str, kind: str) -> str:
    """The built-in kind whose rules a domain of ``kind`` takes; an unknown kind is an error."""
    if kind in DOMAIN_KINDS:
        return kind
    if kind in d.kinds:
        return d.kinds[kind].like
    declare = f"domain_kinds: {{{kind}: {{like: <built-in kind>}}}}"
    hint = suggest(kind, [*DOMAIN_KINDS, *d.kinds], "domain kinds")
    if hint.startswith("did you mean"):
        hint += f" or declare it under {declare}"
    else:
        hint = f"built-in kinds: {', '.join(DOMAIN_KINDS)}; declare a kind of your own under {declare}"
    d.error(("domains", domain, "kind"), f"domain '{domain}' has unknown kind '{kind}'", hint)
    return kind


def _domains(d: Draft) -> dict[str, Domain]:
    spec = d.spec.domains
    explicit = [(dom.pool, name) for name, dom in spec.items() if dom.pool is not None]
    for first, second in find_overlaps(explicit):
        d.error(("domains", second, "pool"), f"the pool of domain '{second}' overlaps the pool of '{first}'",
                "give every domain its own block in the unified address plan")
    missing = [name for name, dom in spec.items() if dom.pool is None]
    try:
        autos = dict(zip(missing, auto_pools(len(missing), [p for p, _ in explicit])))
    except PoolExhausted as exc:
        d.error(("domains",), str(exc), "give the domains explicit pools")
        autos = {}
    out = {}
    for name, dom in spec.items():
        base = _base_kind(d, name, dom.kind)
        trusted = (dom.trust or ("untrusted" if base in UNTRUSTED_KINDS else "trusted")) == "trusted"
        out[name] = Domain(name, dom.kind, dom.title, CLASSIFICATIONS.index(dom.clearance), trusted,
                           dom.pool or autos.get(name), dom.owner, d.mark(("domains", name)), base)
    return out
