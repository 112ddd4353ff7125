"""The lab: a plan built as a real Linux network on one machine, and every verdict checked against the kernel.

``up`` (:mod:`simulator.lab.build`) makes one network namespace per node,
veth pairs for links, installs the simulator's forwarding state as kernel
routes (:mod:`simulator.lab.fib`) or runs FRR's ospfd
(:mod:`simulator.lab.ospf`), the filters, NAT and one-way gateways as
nftables (:mod:`simulator.lab.firewall`) and runs tunnel endpoints in user
space (:mod:`simulator.lab.tunneld`); ``run`` (:mod:`simulator.lab.run`)
sends the packets of :mod:`simulator.lab.checks` and compares the kernel's
story with the simulator's (:mod:`simulator.lab.capture`,
:mod:`simulator.lab.compare`); ``down`` removes everything. The lab holds no
forwarding model of its own: it installs the simulator's decisions and
compares against the simulator.
"""

from __future__ import annotations

from .build import DownReport, down, up
from .errors import LabError, LabUnavailable
from .run import RunReport, report_text, run
from .state import DEFAULT_LAB, LabState

__all__ = ["DEFAULT_LAB", "DownReport", "LabError", "LabState", "LabUnavailable", "RunReport", "down",
           "report_text", "run", "up"]
