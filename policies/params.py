"""Base of the parameter models of rule kinds (strict, like the plan format)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from topology.selectors import DomainSelector


class Params(BaseModel):
    """Unknown keys are errors; values are not coerced (a policy file is written by hand)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class OneWay(Params):
    """A direction in which a declared one-way gateway (网闸 / data diode) may carry data."""

    from_: DomainSelector = Field(alias="from", description="domain selector of the sending side")
    to: DomainSelector = Field(description="domain selector of the receiving side")
    approved: bool = Field(False, description="accept only gateways marked as approved import devices")
