"""Pass ``tunnels``: the VPN tunnels of the plan and its templates.

Definition. A tunnel joins two nodes (names filled in the context it was
written in) and carries a domain's traffic. It is encrypted when it says so,
by default when its kind is ``ipsec``, and never with the ``NULL`` cipher;
GRE does not encrypt. Its phase is the latest of its own and its ends'. Each
tunnel gets an SPI, 0x1000 plus its place in the plan.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture}}
    ... defaults: {node: {domain: 政务外网, site: 楚雄州, role: vpn_gateway}}
    ... nodes: {a: {}, b: {}}
    ... tunnels: [{name: t1, a: a, b: b, kind: ipsec}, {name: t2, a: a, b: b, kind: ipsec, cipher: "NULL"}]
    ... '''), upto="tunnels")
    >>> [(t.name, t.encrypted, hex(t.spi)) for t in d.model_tunnels.values()]
    [('t1', True, '0x1000'), ('t2', False, '0x1001')]
"""

from __future__ import annotations

from ..model import Tunnel
from ..validation import suggest
from .draft import Draft


def tunnels(d: Draft) -> Draft:
    """Fill ``d.model_tunnels``."""
    nodes = d.model_nodes
    for i, draft in enumerate(d.tunnels):
        t, path, ctx = draft.spec, draft.path, draft.context
        name = d.format(t.name, ctx, path + ("name",))
        a, b = d.format(t.a, ctx, path + ("a",)), d.format(t.b, ctx, path + ("b",))
        if name is None or a is None or b is None:
            continue
        bad = False
        for key, end in (("a", a), ("b", b)):
            if end not in nodes:
                d.error(path + (key,), f"tunnel '{name}' ends at unknown node '{end}'", suggest(end, nodes, "nodes"))
                bad = True
        if t.domain and t.domain not in d.domains:
            d.error(path + ("domain",), f"tunnel '{name}' carries unknown domain '{t.domain}'",
                    suggest(t.domain, d.domains, "domains"))
        if name in d.model_tunnels:
            d.error(path + ("name",), f"tunnel '{name}' is defined twice", "give each tunnel its own name")
            bad = True
        if bad:
            continue
        encrypted = t.encrypted if t.encrypted is not None else t.kind == "ipsec"
        if t.kind == "gre" and encrypted:
            d.error(path + ("encrypted",), f"tunnel '{name}': GRE does not encrypt", "use kind: ipsec for an encrypted tunnel")
        phase = max(d.phase_of(t.phase, path + ("phase",)), nodes[a].phase, nodes[b].phase)
        d.model_tunnels[name] = Tunnel(name, t.kind, a, b, encrypted and t.cipher != "NULL", tuple(t.protect), t.cipher,
                                       phase, t.domain, 0x1000 + i, d.mark(path))
    return d
