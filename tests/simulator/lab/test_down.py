"""``lab down`` removes everything a lab made, also after a crash; a lab is never brought up twice."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from simulator.lab import LabError, down, up
from simulator.lab.build import lab_exists
from simulator.lab.netns import add_namespaces, namespace_pids
from tests.helpers import write_plan
from tests.simulator import sim_plans

from .conftest import lab_name


def test_down_after_a_crash_finds_namespaces_and_processes_by_name(tmp_path, lab_capable):
    name = lab_name()
    add_namespaces([f"gl-{name}-0", f"gl-{name}-1", f"gl-{name}x-0"])  # the last is another lab's
    sleeper = subprocess.Popen(["ip", "netns", "exec", f"gl-{name}-1", sys.executable, "-c",
                                "import time; time.sleep(60)"])
    try:
        for _ in range(50):
            if namespace_pids(f"gl-{name}-1"):
                break
            time.sleep(0.1)
        report = down(name, tmp_path / "no-state")  # no state folder: found by prefix alone
        assert report.namespaces == 2 and report.processes >= 1
        assert sleeper.wait(timeout=10) != 0
        assert lab_exists(name) == [] and lab_exists(f"{name}x") == [f"gl-{name}x-0"]
    finally:
        sleeper.kill()
        down(f"{name}x", tmp_path / "other")


def test_a_lab_is_not_brought_up_twice_and_down_is_idempotent(tmp_path, lab_capable):
    plan = write_plan(tmp_path, sim_plans.ECMP)
    name, folder = lab_name(), tmp_path / "state"
    try:
        up(plan, name, folder)
        with pytest.raises(LabError, match="already up"):
            up(plan, name, folder)
    finally:
        down(name, folder)
    assert lab_exists(name) == [] and not folder.exists()
    assert down(name, folder).namespaces == 0


def test_a_tunnel_lab_stops_its_endpoints(tmp_path, lab_capable):
    plan = write_plan(tmp_path, sim_plans.tunnel_plan("ipsec"))
    name, folder = lab_name(), tmp_path / "state"
    try:
        up(plan, name, folder)
        pid = int((folder / "tunneld.pid").read_text())
    finally:
        report = down(name, folder)
    assert report.processes >= 1
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(pid, 0)
