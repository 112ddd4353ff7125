"""The lab's names and its state folder: what ``down`` needs to remove a lab, even after a crash.

Node names are Chinese and long; Linux wants ASCII namespace names and
interface names of at most 15 bytes. Every name here is short and derived
from the lab's name and a position, deterministically:

- namespace of the *i*-th node (plan order): ``gl-<lab>-<i>``; the prefix
  ``gl-<lab>-`` followed by digits alone identifies the lab's namespaces, so
  ``down`` finds them without the state folder;
- interface *k* of a node (interfaces in name order): ``e<k>``; its copy for
  VRF *j* on a backbone link (VRF-lite, see :mod:`simulator.lab.build`):
  ``e<k>v<j>``; the TUN device of tunnel end *k*: ``t<k>``.

The state folder (``/run/govnet-lab/<lab>/`` unless given) holds ``lab.json``
(written before anything is made, completed as the lab comes up) and the
logs and pid files of the processes the lab runs.

    >>> ns_name("t1", 7), ns_prefix("t1"), is_lab_namespace("t1", "gl-t1-7"), is_lab_namespace("t1", "gl-t1-x")
    ('gl-t1-7', 'gl-t1-', True, False)
    >>> check_lab_name("Lab 1")
    Traceback (most recent call last):
    ...
    simulator.lab.errors.LabError: lab name 'Lab 1' must be 1-10 lower-case ASCII letters or digits, starting with a letter
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from topology.files import write_atomic

from .errors import LabError

DEFAULT_LAB = "govnet"
STATE_ROOT = Path("/run/govnet-lab")
STATE_FILE = "lab.json"
_LAB_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")


def check_lab_name(lab: str) -> str:
    """``lab`` if it is a valid lab name (namespace and device names are built from it)."""
    if not _LAB_NAME.match(lab):
        raise LabError(f"lab name '{lab}' must be 1-10 lower-case ASCII letters or digits, starting with a letter")
    return lab


def ns_prefix(lab: str) -> str:
    return f"gl-{lab}-"


def ns_name(lab: str, index: int) -> str:
    return f"{ns_prefix(lab)}{index}"


def is_lab_namespace(lab: str, name: str) -> bool:
    """Whether namespace ``name`` belongs to lab ``lab`` (its prefix followed by digits alone)."""
    prefix = ns_prefix(lab)
    return name.startswith(prefix) and name[len(prefix):].isdigit()


def device_name(index: int, vrf_index: int = 0) -> str:
    """The device of a node's ``index``-th interface (its copy for VRF ``vrf_index`` > 0 on a backbone link)."""
    return f"e{index}" if vrf_index == 0 else f"e{index}v{vrf_index}"


def tun_name(index: int) -> str:
    return f"t{index}"


def state_dir(lab: str, folder: str | Path | None = None) -> Path:
    return Path(folder) if folder is not None else STATE_ROOT / lab


@dataclass
class Device:
    """One kernel device of the lab: where it is and what part of the plan it stands for."""

    node: str
    dev: str
    interface: str | None  # the plan's interface; None for a TUN device
    vrf: str | None
    link: str | None = None
    peer_node: str | None = None
    peer_dev: str | None = None
    tunnel: str | None = None  # for a TUN device: the tunnel whose end it is
    mac: str | None = None


@dataclass
class LabState:
    """What ``lab.json`` records: enough to rebuild the lab's network and to remove everything it made."""

    lab: str
    plan: str
    folder: str = ""
    phase: str | None = None
    select: list[str] = field(default_factory=list)
    routing: str = "static"
    namespaces: dict[str, str] = field(default_factory=dict)  # node -> namespace
    devices: list[Device] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # VRF ("" = the global table) -> routing table id
    mechanisms: dict[str, str] = field(default_factory=dict)
    features: dict[str, bool] = field(default_factory=dict)
    complete: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        data = dict(data)
        data["devices"] = [Device(**d) for d in data.get("devices", [])]
        return cls(**data)

    def node_of(self, namespace: str) -> str | None:
        for node, ns in self.namespaces.items():
            if ns == namespace:
                return node
        return None

    def device_index(self) -> dict[tuple[str, str], Device]:
        """(node, device name) -> device."""
        return {(d.node, d.dev): d for d in self.devices}


def save_state(folder: Path, state: LabState) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / STATE_FILE, json.dumps(state.to_json(), ensure_ascii=False, indent=1).encode("utf-8"))


def load_state(folder: Path) -> LabState | None:
    """The lab recorded in ``folder``, or None when there is none (or it is unreadable: down still works)."""
    path = folder / STATE_FILE
    try:
        return LabState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
