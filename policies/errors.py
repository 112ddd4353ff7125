"""Errors of the policy layer: bad policy files and bad rule parameters.

A :class:`PolicyError` is a :class:`topology.errors.PlanError`: it carries
:class:`~topology.errors.PlanIssue` items with the file, line and column they
point at, so the command line prints ``FILE:LINE:COL: error: ...`` and exits 2
exactly as it does for a bad plan.
"""

from __future__ import annotations

from topology.errors import PlanError


class PolicyError(PlanError):
    """A policy file, a pack name or a rule's parameters could not be used."""
