"""Expansion: from the plan as written (:mod:`topology.schema`) to the model (:mod:`topology.model`).

Expansion is a pipeline of passes, each a function from a
:class:`~topology.expand.draft.Draft` to the same draft with the sections it
owns filled in, documented with an example in its own module:

============  ====================================================================
pass          what it does
============  ====================================================================
domains       phases, the plan's own domain kinds, security domains and pools
sites         the site tree (``children``, ``generate``)
inheritance   groups (``inherit``) and template orders (``use``), cycles refused
templates     the plan's body and templates per site: node, link, tunnel drafts
fields        each node's fields (own > groups > star/aggregation > core > defaults)
pools         the address plan: reserve every hand-written block
links         links and the interfaces they cable, link subnets allocated
nodes         nodes with their interfaces and loopbacks
addresses     no address twice, no two blocks overlapping
rules         ACLs, VRFs, and what interfaces and static routes name
tunnels       VPN tunnels
flows         services and traffic flows
sections      approvals, waivers, declined policies
risk_groups   shared-risk groups: the links and nodes that fail together
============  ====================================================================

Every reference is checked and every problem is collected with the mark of
the YAML that caused it, so one run reports all of them; :func:`expand_plan`
raises them together as a :class:`~topology.errors.PlanError`.

    >>> from topology.loader import draft_of
    >>> net = network(run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet}}
    ... sites: {楚雄州: {level: prefecture}}
    ... nodes: {州核心: {role: core_router, domain: 政务外网, site: 楚雄州}}
    ... ''')))
    >>> list(net.nodes), net.nodes["州核心"].site
    (['州核心'], '楚雄州')

Written by hand: no library expands a plan of this shape (netlab's
transformation stages, which this pipeline follows, are bound to its own
topology format).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..model import Network, freeze
from ..schema import PlanSpec
from .address_plan import addresses, pools
from .domains import domains
from .draft import Draft, TooLarge
from .fields import fields
from .flows import flows
from .inheritance import inheritance
from .links import DEFAULT_BANDWIDTH, DEFAULT_LATENCY, REFERENCE_BANDWIDTH, links
from .nodes import nodes
from .risk_groups import risk_groups
from .rules import rules
from .sections import sections
from .sites import sites
from .templates import templates
from .tunnels import tunnels

__all__ = ["DEFAULT_BANDWIDTH", "DEFAULT_LATENCY", "PASSES", "REFERENCE_BANDWIDTH", "Draft",
           "expand_plan", "network", "run"]

Pass = Callable[[Draft], Draft]
PASSES: tuple[tuple[str, Pass], ...] = (
    ("domains", domains), ("sites", sites), ("inheritance", inheritance), ("templates", templates),
    ("fields", fields), ("pools", pools), ("links", links), ("nodes", nodes), ("addresses", addresses),
    ("rules", rules), ("tunnels", tunnels), ("flows", flows), ("sections", sections),
    ("risk_groups", risk_groups),
)


def run(draft: Draft, upto: str | None = None) -> Draft:
    """Run the passes in order on ``draft``, stopping after pass ``upto`` (all by default).

    A limit reached (:class:`~topology.expand.draft.TooLarge`) stops the
    pipeline and raises what was found so far.
    """
    names = [name for name, _ in PASSES]
    if upto is not None and upto not in names:
        raise ValueError(f"unknown pass {upto!r}; passes: {', '.join(names)}")
    try:
        for name, step in PASSES:
            draft = step(draft)
            if name == upto:
                break
    except TooLarge:
        draft.issues.raise_if_any()
        raise
    return draft


def network(d: Draft) -> Network:
    """The immutable model of a fully expanded draft; raises PlanError with every issue found."""
    d.issues.raise_if_any()
    spec = d.spec
    return Network(
        name=spec.name, title=spec.title, file=d.file,
        domains=freeze(d.domains), sites=freeze(dict(d.sites)), nodes=freeze(d.model_nodes),
        links=freeze(d.model_links), tunnels=freeze(d.model_tunnels), acls=freeze(d.acls), vrfs=freeze(d.vrfs),
        services=freeze(d.services), flows=tuple(d.flows), phases=d.phases, policies=tuple(spec.policies),
        assumptions=tuple(spec.assumptions), waivers=d.waivers, approvals=d.approvals,
        expect_fail=tuple(spec.expect.fail) if spec.expect is not None else None,
        declined_policies=d.declined, domain_kinds=freeze(d.kinds), risk_groups=freeze(d.risk_groups),
        allocated=tuple((kind, name, block) for (kind, name), block in d.allocated.items()),
        mark=d.mark(()),
    )


def expand_plan(spec: PlanSpec, marks: dict, root: Path | str) -> Network:
    """Expand a validated plan into the immutable model; raises PlanError."""
    return network(run(Draft.start(spec, marks, root)))

