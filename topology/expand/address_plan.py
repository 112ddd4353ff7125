"""Passes ``pools`` and ``addresses``: the unified address plan around the links and nodes passes.

Definition. ``pools`` gives every domain with a pool an allocator
(:class:`topology.addressing.PoolAllocator`) and reserves in it every block the
plan writes by hand (interface addresses, LANs), so automatic allocation
never hands them out again, then every block of the plan's address register
(``allocations:``, the 地址分配表 ``govnet addresses`` writes) that no
hand-written block overlaps: explicit addresses win. The ``links`` pass then
takes a subnet of its domain's ``link_prefix`` for each unaddressed link and
the ``nodes`` pass a /32 loopback for each node: the block the register
holds for it when it holds one (of that size, in that pool), else the next
free one in plan order. The same plan always gets the same addresses; with
a register, adding, removing or renaming a node or link moves no other's
address (a removed one's block stays reserved until the register is written
again). ``addresses`` checks the result: no address on two interfaces, no
two blocks (link subnets, LANs, addresses of uncabled interfaces)
overlapping.

    >>> from topology.expand import run
    >>> from topology.loader import draft_of
    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture}}
    ... defaults: {node: {domain: 政务外网, site: 楚雄州, role: core_router}}
    ... nodes: {a: {lan: 10.53.0.0/24}, b: {}}
    ... links: [{a: a, b: b}]
    ... '''))
    >>> str(d.model_links["a--b"].subnet), str(d.model_nodes["a"].loopback), str(d.model_nodes["b"].loopback)
    ('10.53.1.0/31', '10.53.1.2/32', '10.53.1.3/32')

With a register holding those, a node added before b changes nothing of b's:

    >>> d = run(draft_of('''
    ... name: demo
    ... domains: {政务外网: {kind: extranet, pool: 10.53.0.0/16}}
    ... sites: {楚雄州: {level: prefecture}}
    ... defaults: {node: {domain: 政务外网, site: 楚雄州, role: core_router}}
    ... nodes: {a: {lan: 10.53.0.0/24}, new: {}, b: {}}
    ... links: [{a: a, b: b}]
    ... allocations: {loopbacks: {a: 10.53.1.2/32, b: 10.53.1.3/32}, links: {a--b: 10.53.1.0/31}}
    ... '''))
    >>> [str(d.model_nodes[n].loopback) for n in ("a", "new", "b")]
    ['10.53.1.2/32', '10.53.1.4/32', '10.53.1.3/32']
"""

from __future__ import annotations

import ipaddress

from ..addressing import PoolAllocator, PoolExhausted, find_overlaps
from .draft import Draft


def pools(d: Draft) -> Draft:
    """Fill ``d.allocators`` with every hand-written block reserved."""
    d.allocators = {name: PoolAllocator(dom.pool) for name, dom in d.domains.items() if dom.pool is not None}
    for draft in d.nodes.values():
        taken = [iface.address.network for iface in draft.interfaces.values() if iface.address is not None]
        lan = draft.own.get("lan")
        if lan is not None:
            taken.append(lan)
        for block in taken:
            for alloc in d.allocators.values():
                if alloc.pool.overlaps(block):
                    alloc.reserve(block)
    hand_written = [span for alloc in d.allocators.values() for span in alloc.reserved]
    register = d.spec.allocations
    entries = [] if register is None else [*(("loopback", n, b) for n, b in register.loopbacks.items()),
                                           *(("link", n, b) for n, b in register.links.items())]
    for kind, name, block in entries:
        start, end = int(block.network_address), int(block.broadcast_address)
        if any(s <= end and e >= start for s, e in hand_written):
            continue  # the plan now writes an address there itself: it wins
        d.register[(kind, name)] = block
        for alloc in d.allocators.values():
            if alloc.pool.overlaps(block):
                alloc.reserve(block)
    return d


def allocate(d: Draft, domain: str | None, prefixlen: int, path: tuple,
             owner: tuple[str, str] | None = None) -> ipaddress.IPv4Network | None:
    """The block of ``owner`` (``("loopback"|"link", name)``): the register's when it holds one of that size in
    ``domain``'s pool, else the next free /``prefixlen``; None without a pool or once it ran out (recorded)."""
    alloc = d.allocators.get(domain or "")
    if alloc is None:
        return None
    kept = d.register.get(owner) if owner is not None else None
    if owner is not None and kept is not None and kept.prefixlen == prefixlen and kept.subnet_of(alloc.pool):
        d.allocated[owner] = kept
        return kept
    try:
        block = alloc.allocate(prefixlen)
        if owner is not None:
            d.allocated[owner] = block
        return block
    except PoolExhausted as exc:
        d.error(("domains", domain, "pool"), f"domain '{domain}': {exc}", "give the domain a larger pool")
        d.allocators.pop(domain or "", None)
        return None


def addresses(d: Draft) -> Draft:
    """Check that every address is used once and no two blocks of the plan overlap."""
    owners: list[tuple[ipaddress.IPv4Network, tuple]] = []
    seen: dict[int, str] = {}  # by the address as a number: hashing an int is far cheaper
    for link in d.model_links.values():
        if link.subnet is not None:
            owners.append((link.subnet, ("link", link.name, link.mark)))
    for node in d.model_nodes.values():
        if node.lan is not None:
            owners.append((node.lan, ("LAN of", node.name, node.mark)))
        for iface in node.interfaces.values():
            if iface.address is None:
                continue
            where = f"{node.name}:{iface.name}"
            ip = int(iface.address)
            if ip in seen:
                d.issues.add(iface.mark, f"address {iface.address.ip} of {where} is also used by {seen[ip]}",
                             "every interface needs its own address")
            seen[ip] = where
            if iface.link is None:
                owners.append((iface.address.network, ("interface", where, iface.mark)))
    for first, second in find_overlaps(owners):
        d.issues.add(second[2], f"{second[0]} {second[1]} overlaps {first[0]} {first[1]}",
                     "every link and LAN needs its own block of the address plan")
    return d
