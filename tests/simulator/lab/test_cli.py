"""``govnet lab`` as a user runs it: up, run, down; ``run PLAN`` on a lab that is not up does all three."""

from __future__ import annotations

from simulator.lab.build import lab_exists
from tests.helpers import run_cli, write_plan
from tests.simulator import sim_plans

from .conftest import lab_name


def test_lab_up_run_down(tmp_path, lab_capable):
    plan = write_plan(tmp_path, sim_plans.ONE_WAY)
    name, folder = lab_name(), str(tmp_path / "state")
    try:
        started = run_cli("lab", "up", plan, "--lab", name, "--state-dir", folder)
        assert started.returncode == 0, started.stderr
        assert "one_way" in started.stdout and "nftables" in started.stdout
        checked = run_cli("lab", "run", "--lab", name, "--state-dir", folder)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "AGREE" in checked.stdout and "pairs" in checked.stdout
        other = run_cli("lab", "run", write_plan(tmp_path, sim_plans.ECMP, "other.yaml"), "--lab", name,
                        "--state-dir", folder)
        assert other.returncode == 2 and "not" in other.stderr
    finally:
        stopped = run_cli("lab", "down", "--lab", name, "--state-dir", folder)
    assert stopped.returncode == 0 and "is down" in stopped.stdout
    assert lab_exists(name) == []


def test_lab_run_plan_brings_it_up_and_down(tmp_path, lab_capable):
    plan = write_plan(tmp_path, sim_plans.LPM)
    name = lab_name()
    done = run_cli("lab", "run", plan, "--lab", name, "--state-dir", str(tmp_path / "s"), "--kinds", "pairs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert lab_exists(name) == []


def test_bad_lab_name_is_an_input_error(tmp_path):
    done = run_cli("lab", "down", "--lab", "Bad Name")
    assert done.returncode == 2 and "lab name" in done.stderr
