"""``--size demand``: each unsized link takes the smallest capacity that carries its peak load with headroom.

A link to size has its candidate capacities, smallest first (an SNDlib
link's modules, or the standard line rates :data:`topology.units.STANDARD_RATES`).
The plan's demands are routed with govnet's own load model
(:func:`simulator.sizing.plan_loads`), and each link takes the smallest
candidate of at least ``busier direction's load / (1 - headroom)``: with
headroom 0.3 a link is at most 70 % full at peak. A link whose load needs
more than its largest candidate takes the fewest copies of the largest that
carry it (SNDlib installs modules in whole numbers; the plan has one line of
their total capacity), and is reported; one that would need more than the
10T a plan allows takes the most copies within it, and is reported short.

Under a cost model that does not depend on bandwidth (``hop``, the file's
costs) the routes are known before the sizes and one round is exact. Under
``bandwidth`` sizes change costs and costs change routes, so sizing repeats
from the smallest candidates, only ever raising a link, until a round changes
nothing: then every link carries the load of the routes its final size gives.
It ends, since each round raises some link to a larger one of finitely many
candidates.

    >>> b = PlanBuilder("line")
    >>> for n in "abc":
    ...     b.add_node(n)
    >>> ab, bc = b.add_link("a", "b"), b.add_link("b", "c")
    >>> b.add_traffic("a", "c", 3e6)
    >>> b.cost_model = "hop"
    >>> from simulator.sizing import plan_loads      # the caller gives the simulator's load model
    >>> sized = size_for_load(b, {ab: (2e6, 10e6), bc: (1e6, 4e6, 5e6)}, headroom=0.3, loads=plan_loads)
    >>> sized.bps, sized.rounds      # 3M / 0.7 = 4.29M: 10M on a--b, 5M on b--c
    ({'a--b': 10000000.0, 'b--c': 5000000.0}, 1)
    >>> sized = size_for_load(b, {ab: (1e6,), bc: (2e6,)}, headroom=0.3, loads=plan_loads)
    >>> sized.bps, sized.copies      # 4.29M: five 1M modules, three 2M modules
    ({'a--b': 5000000.0, 'b--c': 6000000.0}, {'a--b': 5, 'b--c': 3})
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..units import MAX_BANDWIDTH
from .builder import PlanBuilder
from .options import ImporterError

TOLERANCE = 1e-9


@dataclass
class Sized:
    """What sizing gave: the capacity of each link, its load, and the links short of capacity."""

    bps: dict[str, float]
    loads: dict[str, float]
    rounds: int
    copies: dict[str, int] = field(default_factory=dict)  # links taking several of their largest candidate
    short: list[str] = field(default_factory=list)  # would need more than MAX_BANDWIDTH
    undelivered: int = 0


LoadModel = Callable[[dict[str, Any]], Any]  # plan data -> an object with .busier and .undelivered


def size_for_load(builder: PlanBuilder, candidates: Mapping[str, Sequence[float]], headroom: float,
                  loads: LoadModel | None = None) -> Sized:
    """Size the links ``candidates`` names (link -> capacities, smallest first) in ``builder``'s plan, routing the
    demands with ``loads`` (the simulator's :func:`simulator.sizing.plan_loads`, given by the caller: topology
    depends on nothing above it)."""
    if loads is None:
        raise ImporterError("sizing links for their demand (--size demand) needs the simulator's load model: "
                            "pass ImportOptions(load_model=simulator.sizing.plan_loads), as govnet import does, "
                            "or choose another --size")
    sizes = {name: float(options[0]) for name, options in candidates.items()}
    repeat = builder.cost_model == "bandwidth"
    rounds = 0
    while True:
        rounds += 1
        for name, bps in sizes.items():
            builder.set_bandwidth(name, bps)
        found = loads(builder.to_dict())
        changed = False
        copies: dict[str, int] = {}
        short = []
        for name, options in candidates.items():
            need = found.busier.get(name, 0.0) / (1 - headroom)
            fit = next((float(c) for c in options if c >= need * (1 - TOLERANCE)), None)
            if fit is None:
                largest = float(options[-1])
                count = math.ceil(need * (1 - TOLERANCE) / largest)
                if count * largest > MAX_BANDWIDTH:
                    short.append(name)
                    count = max(1, int(MAX_BANDWIDTH // largest))
                copies[name] = count
                fit = count * largest
            if fit > sizes[name]:
                sizes[name] = fit
                changed = True
        if not changed or not repeat:
            break
    for name, bps in sizes.items():
        builder.set_bandwidth(name, bps)
    return Sized(sizes, {n: found.busier.get(n, 0.0) for n in candidates}, rounds, copies, short, found.undelivered)
