"""Every rule-kind module, imported so that each registers itself.

Only checking a plan needs this (:mod:`policies.engine` imports it); reading
policy files and checking their setup need :mod:`policies.params` alone.

Adding a kind: write its parameter model in :mod:`policies.params` and add it
to ``KIND_PARAMS`` there; write ``policies/<kind>.py`` with an ``evaluate``
decorated by ``@register("<kind>")`` (taking its parameters with
``params_of(rule, <Kind>Params)``); and add one import line below.
"""

from . import (
    approval,  # noqa: F401
    capacity,  # noqa: F401
    classification,  # noqa: F401
    coverage,  # noqa: F401
    default_deny,  # noqa: F401
    delivery,  # noqa: F401
    encrypted_over,  # noqa: F401
    latency,  # noqa: F401
    logical_isolation,  # noqa: F401
    physical_isolation,  # noqa: F401
    redundancy,  # noqa: F401
    unified_channel,  # noqa: F401
    vrf_separation,  # noqa: F401
    zone_addressing,  # noqa: F401
    zone_placement,  # noqa: F401
)
