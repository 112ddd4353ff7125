"""The address register (地址分配表): the addresses a plan got automatically, written down so they never move.

Definition. The register of a network lists every loopback and link subnet
the expansion handed out from a pool (:attr:`Network.allocated`), node and
link by name, in plan order, as the plan's ``allocations:`` section. A plan
that includes it keeps each of those addresses whatever is added, removed or
renamed elsewhere (:mod:`topology.expand.address_plan`): new nodes and links
take free blocks, a removed one's block stays reserved until the register
is written again, and addresses the plan writes by hand win over it.
Writing the register again from the plan as it now is drops the entries of
what was removed.

    >>> from topology.loader import load_text
    >>> net = load_text('''
    ... name: demo
    ... domains: {外网: {kind: extranet, pool: 10.1.0.0/16}}
    ... sites: {州: {level: prefecture}}
    ... defaults: {node: {domain: 外网, site: 州, role: core_router}}
    ... nodes: {a: {}, b: {}}
    ... links: [{a: a, b: b}]
    ... ''')
    >>> print(register_yaml(net), end="")
    # 地址分配表 (address register) of demo, written by govnet addresses.
    # Include this file in the plan (include: [...]) and these addresses never move; write it again after a change
    # to register the new nodes and links (and free the addresses of removed ones).
    allocations:
      loopbacks:
        a: 10.1.0.2/32
        b: 10.1.0.3/32
      links:
        a--b: 10.1.0.0/31
"""

from __future__ import annotations

import yaml

from .model import Network

SECTION = "allocations"
KINDS = {"loopback": "loopbacks", "link": "links"}


def register_data(net: Network) -> dict[str, dict[str, dict[str, str]]]:
    """The ``allocations:`` section of ``net``'s register, as plain data."""
    out: dict[str, dict[str, str]] = {plural: {} for plural in KINDS.values()}
    for kind, name, block in net.allocated:
        out[KINDS[kind]][name] = str(block)
    return {SECTION: {k: v for k, v in out.items() if v}}


def register_yaml(net: Network) -> str:
    """The register as a YAML file with a header saying what it is (deterministic)."""
    head = (f"# 地址分配表 (address register) of {net.name}, written by govnet addresses.\n"
            "# Include this file in the plan (include: [...]) and these addresses never move; write it again after "
            "a change\n# to register the new nodes and links (and free the addresses of removed ones).\n")
    return head + yaml.safe_dump(register_data(net), allow_unicode=True, sort_keys=False, default_flow_style=False)


__all__ = ["SECTION", "register_data", "register_yaml"]
