"""The parameters of every rule kind: which kinds exist and what each takes.

Definition. A rule's ``params`` (the mapping under ``params:`` in a policy
file) is valid when it validates as the model of its kind in
:data:`KIND_PARAMS` (kind name → model), the one place that says which kinds
exist. Every model is a :class:`Params`: strict like the plan format (an
unknown key is an error, values are not coerced, a policy file is written by
hand), every key has a default unless the kind cannot do without it.

The models live here, apart from the kinds' evaluators, so that reading and
checking a policy file (:mod:`policies.loader`, :mod:`policies.setup`) needs
the plan format alone and never the simulator; each kind module takes its
model from here, and :func:`policies.registry.register` pairs the evaluator
with it.

    >>> KIND_PARAMS["capacity"].model_validate({"warn": 0.6})
    CapacityParams(warn=0.6, fail=0.7)
    >>> from pydantic import ValidationError
    >>> try:
    ...     KIND_PARAMS["logical_isolation"].model_validate({"from": ["public"], "to": ["kind:dmz"], "alow": []})
    ... except ValidationError as exc:
    ...     print([(e["loc"], e["type"]) for e in exc.errors()])
    [(('alow',), 'extra_forbidden')]
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from topology.schema import Delay, SelectorSpec
from topology.selectors import DomainSelector, NodeSelector
from topology.units import parse_port_range
from topology.vocabulary import CONTROLLED_ROLES, UNTRUSTED_MEDIA, Protocol


class Params(BaseModel):
    """Unknown keys are errors; values are not coerced (a policy file is written by hand)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class OneWay(Params):
    """A direction in which a declared one-way gateway (网闸 / data diode) may carry data."""

    from_: DomainSelector = Field(alias="from", description="domain selector of the sending side")
    to: DomainSelector = Field(description="domain selector of the receiving side")
    approved: bool = Field(False, description="accept only gateways marked as approved import devices")


# -- approval --------------------------------------------------------------------------------------

class ApprovalParams(Params):
    fail_into: list[DomainSelector] = Field(
        ["kind:intranet", "classified"],
        description="an unapproved crossing into these domains fails the rule; into any other, it is reported")


# -- capacity --------------------------------------------------------------------------------------

class CapacityParams(Params):
    warn: float = Field(0.5, gt=0, le=10, description="utilisation above which a direction is reported (plan at 50 %)")
    fail: float = Field(0.7, gt=0, le=10, description="utilisation above which the rule fails (act at 70 %)")


# -- classification --------------------------------------------------------------------------------

class ClassificationParams(Params):
    clearance: bool = True
    public_path: bool = True
    import_only: bool = True
    domains: list[DomainSelector] = ["classified"]
    public: list[DomainSelector] = ["public"]


# -- coverage --------------------------------------------------------------------------------------

class Need(Params):
    service: str
    levels: list[Literal["own", "above"]] = Field(["own"], min_length=1)
    required: bool = False


class Probe(Params):
    """The packet a reachability probe sends (its answer must come back too)."""

    proto: Literal["tcp", "udp", "icmp"] = "tcp"
    dport: int = Field(443, ge=0, le=65535, description="destination port (tcp, udp) or ICMP type")


class CoverageParams(Params):
    domains: list[DomainSelector] = ["trusted"]
    unit_roles: list[str] = ["host"]
    core_roles: list[str] = ["core_router"]
    needs: list[Need] = [Need(service="document_exchange", levels=["own", "above"]), Need(service="video_mcu")]
    vpn_units: bool = Field(False, description="count hosts inside department VPNs as units too")
    core_probe: Probe = Probe(proto="icmp", dport=8)
    probe: Probe = Probe()


# -- default_deny ----------------------------------------------------------------------------------

class DefaultDenyParams(Params):
    domains: list[DomainSelector] = ["*"]
    devices: list[str] = sorted(CONTROLLED_ROLES)
    require_device: bool = True
    ends_in_deny: bool = True
    directions: list[Literal["in", "out"]] = ["in"]
    shadowed: Literal["fail", "note", "off"] = "fail"


# -- delivery --------------------------------------------------------------------------------------

class DeliveryParams(Params):
    flows: bool = True
    replies: bool = True
    tunnels: bool = True
    phases: bool = True


# -- encrypted_over --------------------------------------------------------------------------------

class EncryptedOverParams(Params):
    domains: list[DomainSelector] = ["trusted"]
    media: list[str] = list(UNTRUSTED_MEDIA)
    shared: bool = True
    untrusted: list[DomainSelector] = ["public"]
    trace: bool = True


# -- latency ---------------------------------------------------------------------------------------

class LatencyParams(Params):
    max_delay: Delay = Field(0.150, description="one-way delay limit (150ms: ITU-T G.114)")
    kinds: list[str] = Field(["video"], min_length=1, description="service kinds whose flows are checked")
    queueing: bool = Field(True, description="add the M/M/1 queueing estimate at peak utilisation")
    saturated: Literal["skip", "fail"] = Field("skip", description="flows over a link at or above 100 %: left to "
                                                                   "the capacity rule (skip) or failed here")


# -- logical_isolation -----------------------------------------------------------------------------

def _ports(value: Any) -> tuple[int, int] | None:
    return None if value is None else parse_port_range(value)


class Allow(Params):
    """One allowed crossing: a protocol, optionally a destination port range, towards some nodes."""

    proto: Protocol = "ip"
    dport: int | str | None = Field(None, description="port or range 'lo-hi' (for icmp: the type)")
    to: SelectorSpec | None = None
    from_: SelectorSpec | None = Field(None, alias="from")
    description: str = ""

    @field_validator("dport")
    @classmethod
    def _check_ports(cls, value: Any) -> Any:
        _ports(value)  # raises on a malformed or out-of-range port
        return value

    def port_range(self) -> tuple[int, int] | None:
        return _ports(self.dport)


class LogicalIsolationParams(Params):
    from_: list[DomainSelector] = Field(alias="from", min_length=1)
    to: list[DomainSelector] = Field(min_length=1)
    allow: list[Allow] = []
    require_device: bool = True
    devices: list[str] = sorted(CONTROLLED_ROLES)


# -- physical_isolation ----------------------------------------------------------------------------

class PhysicalIsolationParams(Params):
    domains: list[DomainSelector] = Field(min_length=1, description="domain selectors; every pair among them must be isolated")
    against: list[DomainSelector] | None = Field(None, description="if given, pairs are one of domains and one of against")
    one_way: list[OneWay] = Field([], description="directions in which declared one-way gateways are accepted")


# -- redundancy ------------------------------------------------------------------------------------

class RedundancyParams(Params):
    failures: Literal["n-1", "n-2"] = "n-1"
    elements: list[Literal["links", "nodes", "risk_groups"]] = Field(
        ["links", "nodes"], min_length=1, description="what fails, one at a time: every link, every node, every "
                                                      "shared-risk group of the plan (risk_groups: all its members "
                                                      "at once)")
    pairs: list[str] = Field([], description="names or globs of the links and nodes N-2 pairs are drawn from "
                                             "(default: every link of the meshed core)")
    max_utilisation: float = Field(1.0, gt=0, le=10)
    survive: Literal["reachable", "all"] = Field("reachable", description="which demands must still route: "
                                                 "those with a physical path left (reachable) or every one (all)")
    key: list[NodeSelector] = Field(["service:data_centre", "tag:key"],
                                    description="node selectors of the key nodes that need two disjoint paths")
    key_levels: int = Field(0, ge=0, le=6, description="also count as key nodes the core routers of this many of "
                                                       "the highest levels of the plan (2: e.g. province and prefecture)")
    key_to: list[NodeSelector] = Field([], description="node selectors of the partners of the key nodes "
                                                       "(default: each other)")


# -- unified_channel -------------------------------------------------------------------------------

class UnifiedChannelParams(Params):
    domains: list[DomainSelector] = ["trusted"]
    unit_roles: list[str] = ["host"]
    lateral_roles: list[str] = []


# -- vrf_separation --------------------------------------------------------------------------------

class VrfSeparationParams(Params):
    domains: list[DomainSelector] = ["*"]
    shared: list[str] | Literal["auto"] = "auto"
    shared_services: list[str] = []


# -- zone_addressing -------------------------------------------------------------------------------

class ZoneAddressingParams(Params):
    domains: list[DomainSelector] = ["trusted"]
    vrfs: Literal["exempt", "check"] = "exempt"


# -- zone_placement --------------------------------------------------------------------------------

class ZonePlacementParams(Params):
    important: list[SelectorSpec] = [SelectorSpec(role="server")]
    edge_services: list[str] = ["portal"]
    untrusted: list[DomainSelector] = ["public"]
    edge_domains: list[DomainSelector] = ["kind:dmz"]
    min_hops: int = Field(3, ge=1, le=64)


KIND_PARAMS: dict[str, type[Params]] = {
    "approval": ApprovalParams,
    "capacity": CapacityParams,
    "classification": ClassificationParams,
    "coverage": CoverageParams,
    "default_deny": DefaultDenyParams,
    "delivery": DeliveryParams,
    "encrypted_over": EncryptedOverParams,
    "latency": LatencyParams,
    "logical_isolation": LogicalIsolationParams,
    "physical_isolation": PhysicalIsolationParams,
    "redundancy": RedundancyParams,
    "unified_channel": UnifiedChannelParams,
    "vrf_separation": VrfSeparationParams,
    "zone_addressing": ZoneAddressingParams,
    "zone_placement": ZonePlacementParams,
}
"""Every rule kind (the name a policy file gives under ``kind:``) → the model of its ``params``."""
