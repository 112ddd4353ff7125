"""Sweeps give the identical answer serially, on local processes and on a real Dask cluster.

Dask and tqdm are the extra ``govnet[sweep]``, which the ``test`` extra pulls
in: they are imported here outright (a missing one is a failure, not a skip),
and their absence is simulated to check what a user without the extra sees.
"""

from __future__ import annotations

import io
import sys

import distributed
import pytest

from simulator.failures import FailureAnalysis
from simulator.sweep import SweepError, restore, run_sweep, snapshot
from tests.helpers import write_plan
from topology import load_plan

from .capacity_plans import province_plan


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    # a meshed province core with tree-shaped counties: every kind of failure case, some overloads
    text = province_plan(prefectures=4, counties=3, units=3, townships=1, uplink="20M")
    return load_plan(write_plan(tmp_path_factory.mktemp("sweep"), text))


def test_snapshot_round_trip(net):
    back = restore(snapshot(net))
    assert list(back.nodes) == list(net.nodes) and list(back.links) == list(net.links)
    assert back.nodes == net.nodes or all(back.nodes[n] == net.nodes[n] for n in net.nodes)
    assert back.flows == net.flows


def test_local_processes_and_dask_cluster_agree_with_serial(net):
    serial = run_sweep(net, "n-2", ["州0*核心--省核心*"], jobs=1)
    assert serial.methods.get("rerouted") and serial.methods.get("closed-form")
    assert serial.worst and serial.lost
    forked = run_sweep(net, "n-2", ["州0*核心--省核心*"], jobs=2, analysis=FailureAnalysis(net))
    assert forked == serial
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        on_cluster = run_sweep(net, "n-2", ["州0*核心--省核心*"], scheduler=cluster.scheduler_address)
    assert on_cluster == serial


def test_an_unreachable_scheduler_is_an_error(net, monkeypatch):
    monkeypatch.setattr("simulator.sweep.CONNECT_TIMEOUT", 1.0)
    with pytest.raises(SweepError, match="cannot reach"):
        run_sweep(net, "n-1", scheduler="tcp://127.0.0.1:9")


def test_a_progress_bar_only_when_asked_or_on_a_terminal(net, capsys):
    run_sweep(net, "n-1", jobs=1, progress=True)
    assert "failures" in capsys.readouterr().err
    run_sweep(net, "n-1", jobs=1)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_scheduler_without_the_sweep_extra_says_what_to_install(net, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if govnet[sweep] were not installed
    with pytest.raises(SweepError, match=r"Dask scheduler .*pip install 'govnet\[sweep\]'"):
        run_sweep(net, "n-1", scheduler="tcp://127.0.0.1:9")


def test_without_tqdm_an_asked_bar_is_an_error_and_the_terminal_bar_is_left_out(net, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(SweepError, match=r"progress bar .*govnet\[sweep\]"):
        run_sweep(net, "n-1", jobs=1, progress=True)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert run_sweep(net, "n-1", jobs=1) == run_sweep(net, "n-1", jobs=1, progress=False)
    assert terminal.getvalue() == ""
