"""``govnet check --scheduler``: the rules' failure sweeps run on a Dask cluster, with the answer of a local check."""

from __future__ import annotations

import distributed

from tests.helpers import run_cli, scenario_plan


def test_a_check_on_a_dask_cluster_answers_as_a_local_one():
    plan = scenario_plan("chuxiong")
    local = run_cli("check", plan, "--format", "json")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        remote = run_cli("check", plan, "--format", "json", "--scheduler", cluster.scheduler_address)
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert '"DJ-NA-5"' in local.stdout  # the redundancy rule, whose N-1 sweep ran on the cluster
    assert remote.stdout == local.stdout


def test_an_unreachable_scheduler_is_an_input_error(monkeypatch):
    monkeypatch.setenv("GOVNET_DASK_CONNECT_TIMEOUT", "1")
    result = run_cli("check", scenario_plan("chuxiong"), "--scheduler", "tcp://127.0.0.1:9")
    assert result.returncode == 2 and "cannot reach the Dask scheduler" in result.stderr
    assert "Traceback" not in result.stderr
