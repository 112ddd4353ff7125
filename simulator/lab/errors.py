"""The lab's error type: what went wrong building, running or removing a lab.

A :class:`LabError` is a :class:`~topology.errors.GovnetError`, so the command
line prints it as ``govnet: error: ...`` and exits 2. A missing capability
(no namespaces, no nftables) is a :class:`LabUnavailable`, which tests turn
into a skip outside CI.
"""

from __future__ import annotations

from topology.errors import GovnetError


class LabError(GovnetError):
    """Building, running or removing a lab failed (a command's error, a lab that is not up ...)."""


class LabUnavailable(LabError):
    """This machine cannot hold a lab: not root, no network namespaces, or a tool is missing."""
