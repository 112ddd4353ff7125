"""Peak loads of a plan still being built: what ``govnet import --size demand`` sizes links for.

:func:`plan_loads` takes a plan as plain data (what the importers build, see
:mod:`topology.importers`), expands it and routes its demands with govnet's
own load model (:func:`simulator.load.base_assignment`: the routes the
simulator forwards on, equal ECMP splits), and gives the load of each link's
busier direction, which is what a full-duplex link must carry.

    >>> plan = {"name": "line", "domains": {"x": {"kind": "extranet", "pool": "10.0.0.0/16"}},
    ...         "sites": {"s": {"level": "province"}},
    ...         "defaults": {"node": {"role": "router", "domain": "x", "site": "s"}},
    ...         "nodes": {"a": {}, "b": {}, "c": {}}, "links": [{"a": "a", "b": "b"}, {"a": "b", "b": "c"}],
    ...         "services": {"d": {"kind": "data", "rate": "1M"}},
    ...         "traffic": [{"service": "d", "from": "a", "to": "c", "rate": "3M"},
    ...                     {"service": "d", "from": "c", "to": "b", "rate": "1M"}]}
    >>> plan_loads(plan)
    PlanLoads(busier={'a--b': 3000000.0, 'b--c': 3000000.0}, undelivered=0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from topology.importers.plan_yaml import dump_plan
from topology.loader import load_text

from .load import base_assignment


@dataclass(frozen=True)
class PlanLoads:
    busier: dict[str, float]  # link name -> peak load of its busier direction, bit/s
    undelivered: int  # demands the simulator does not deliver (they load nothing)


def plan_loads(plan: dict[str, Any]) -> PlanLoads:
    """The peak load of every link's busier direction in ``plan`` (plain plan data); raises PlanError."""
    net = load_text(dump_plan(plan), f"{plan.get('name', 'plan')}.yaml")
    a = base_assignment(net)
    busier = {name: max(a.load.get((name, 0), 0.0), a.load.get((name, 1), 0.0)) for name in net.links}
    return PlanLoads(busier, len(a.undelivered()))
