"""Every rule-kind module, imported so that each registers itself.

Adding a kind: write ``policies/<kind>.py`` with an ``evaluate`` decorated by
``@register("<kind>", params=...)`` and add one import line below.
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
