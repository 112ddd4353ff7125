"""One-way gateways (网闸 / data diodes): pass one direction, allowed protocols only.

Definition. A node with a ``gateway: {from: A, to: B, allow: [...]}`` forwards
a packet only when it enters from the A side (the neighbour it arrives from is
in domain A, or the packet comes out of a tunnel of domain A) and leaves
towards the B side (the next hop is in domain B), and its protocol is in
``allow`` (``ip`` allows every protocol). Everything else is denied by the
gateway, replies of permitted sessions included: nothing flows back.

Example::

    >>> from topology.model import Gateway
    >>> g = Gateway("extranet", "intranet", ("udp",), False)
    >>> gateway_allows(g, "extranet", "intranet", 17)
    True
    >>> gateway_allows(g, "intranet", "extranet", 17)
    False
    >>> gateway_allows(g, "extranet", "intranet", 6)
    False
"""

from __future__ import annotations

from topology.model import Gateway
from topology.vocabulary import PROTO_NUMBERS

from .headerspace import FULL, PROTO, IntervalSet


def allowed_protocols(gateway: Gateway) -> IntervalSet:
    """The protocol numbers a gateway lets through."""
    if "ip" in gateway.allow:
        return FULL[PROTO]
    return IntervalSet.of((PROTO_NUMBERS[p], PROTO_NUMBERS[p]) for p in gateway.allow)


def gateway_allows(gateway: Gateway, from_domain: str | None, to_domain: str | None, proto: int) -> bool:
    """Whether a packet entering from ``from_domain`` and leaving to ``to_domain`` passes."""
    if from_domain != gateway.from_domain or to_domain != gateway.to_domain:
        return False
    return "ip" in gateway.allow or any(PROTO_NUMBERS.get(p) == proto for p in gateway.allow)
