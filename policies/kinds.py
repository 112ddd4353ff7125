"""Every rule-kind module, imported so that each registers itself.

Adding a kind: write ``policies/<kind>.py`` with an ``evaluate`` decorated by
``@register("<kind>", params=...)`` and add one import line below.
"""

from . import capacity  # noqa: F401
from . import classification  # noqa: F401
from . import coverage  # noqa: F401
from . import delivery  # noqa: F401
from . import default_deny  # noqa: F401
from . import encrypted_over  # noqa: F401
from . import latency  # noqa: F401
from . import logical_isolation  # noqa: F401
from . import physical_isolation  # noqa: F401
from . import redundancy  # noqa: F401
from . import unified_channel  # noqa: F401
from . import vrf_separation  # noqa: F401
from . import zone_addressing  # noqa: F401
from . import zone_placement  # noqa: F401
