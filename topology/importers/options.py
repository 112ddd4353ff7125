"""What an import decides that the file does not say: the unit, how unsized links are sized, the cost model.

``govnet import`` takes them as ``--unit``, ``--size``, ``--headroom`` and
``--cost``; :class:`ImportOptions` carries them to the readers, and every
choice, given or defaulted, is written in plain words to the plan's
``assumptions:``.

- ``unit`` (SNDlib): the unit of a file whose META section gives none
  (``bit/s``, ``kbit/s``, ``Mbit/s``, ``Gbit/s``). Without it such a file is
  refused; a file with a META unit must not be given another.
- ``size``: what a link with no capacity becomes. SNDlib: a link with zero
  pre-installed capacity takes its ``largest`` or ``smallest`` module, or
  (``demand``, the default) the smallest module, without modules the smallest
  standard line rate, that carries its peak load with ``headroom``; ``none``
  leaves it ``bandwidth: unknown``. Topology Zoo: ``none`` leaves links
  without ``LinkSpeedRaw`` unsized instead of giving them the 1G default.
- ``headroom`` (``--size demand`` only): the share of a sized link left free
  at peak, default 0.3 (at most 70 % full, the capacity rule's fail level).
- ``cost``: the link cost model. ``bandwidth`` (100 Gbit/s ÷ bandwidth, the
  plan format's default), ``hop`` (1 per link; the default when links are
  left unsized, which have no bandwidth to price) or ``file`` (the SNDlib
  routing costs, as each link's ``cost:``).

    >>> ImportOptions(unit="Mbit/s").sndlib_unit
    'MBITPERSEC'
    >>> ImportOptions(size="largest", headroom=0.2)
    Traceback (most recent call last):
    ...
    topology.importers.options.ImporterError: --headroom applies to --size demand only (it sizes links for their load)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import GovnetError

UNITS = {"bit/s": "BITPERSEC", "kbit/s": "KBITPERSEC", "Mbit/s": "MBITPERSEC", "Gbit/s": "GBITPERSEC"}
SIZES = ("largest", "smallest", "demand", "none")
COSTS = ("hop", "bandwidth", "file")
DEFAULT_SIZE = "demand"  # SNDlib; see topology.importers.sndlib for why
DEFAULT_HEADROOM = 0.3


class ImporterError(GovnetError):
    """A file could not be imported: missing, unreadable, too large, of no format govnet reads, or bad options."""


@dataclass(frozen=True)
class ImportOptions:
    """The choices of one import; ``None`` takes the default the reader states in the plan's assumptions."""

    unit: str | None = None
    size: str | None = None
    headroom: float | None = None
    cost: str | None = None
    # how ``--size demand`` routes the demands (plan data -> an object with .busier and .undelivered): the
    # simulator's load model, which the command passes in, as topology depends on nothing above it
    load_model: Callable[[dict[str, Any]], Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.unit is not None and self.unit not in UNITS:
            raise ImporterError(f"unknown unit {self.unit!r}; use one of {', '.join(UNITS)}")
        if self.size is not None and self.size not in SIZES:
            raise ImporterError(f"unknown sizing {self.size!r}; use one of {', '.join(SIZES)}")
        if self.cost is not None and self.cost not in COSTS:
            raise ImporterError(f"unknown cost model {self.cost!r}; use one of {', '.join(COSTS)}")
        if self.headroom is not None:
            if (self.size or DEFAULT_SIZE) != "demand":
                raise ImporterError("--headroom applies to --size demand only (it sizes links for their load)")
            if not 0 <= self.headroom < 1:
                raise ImporterError(f"--headroom {self.headroom:g} is not a share of a link: give at least 0 and "
                                    "less than 1 (0.3: at most 70 % full at peak)")

    @property
    def sndlib_unit(self) -> str | None:
        """The SNDlib META spelling of ``unit`` (``MBITPERSEC``), or None."""
        return UNITS[self.unit] if self.unit is not None else None

    @property
    def headroom_or_default(self) -> float:
        return DEFAULT_HEADROOM if self.headroom is None else self.headroom
