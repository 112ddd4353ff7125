"""``govnet capacity`` as a user runs it: exit codes, the JSON contract, the picture, the planted fault."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from govnet.cli import cli
from tests.helpers import SCENARIOS, run_cli, write_plan
from tests.policies.test_capacity_rules import RING
from tests.simulator.capacity_plans import STAR

CHUXIONG = SCENARIOS / "chuxiong" / "plan.yaml"
THIN = SCENARIOS / "chuxiong" / "faults" / "thin-uplink.yaml"
def invoke(*args):
    """The command in-process (as run_cli, without the interpreter start-up): returncode, stdout, stderr."""
    r = CliRunner().invoke(cli, ["capacity", *map(str, args)])
    return SimpleNamespace(returncode=r.exit_code, stdout=r.stdout, stderr=r.stderr)


LINK_KEYS = {"link", "capacity_bps", "load_bps", "utilisation", "worst_utilisation", "worst_failure"}


def capacity_json(*args):
    r = invoke(*args, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_star_fails_capacity_with_the_contracted_json(tmp_path):
    plan = write_plan(tmp_path, STAR)
    code, report = capacity_json(plan)
    assert code == 1
    assert report["verdict"] == "fail"
    assert [(r["kind"], r["status"]) for r in report["rules"]] == [
        ("capacity", "fail"), ("latency", "not_applicable"), ("redundancy", "pass")]  # the star has no video
    links = {l["link"]: l for l in report["links"]}
    assert all(set(l) >= LINK_KEYS for l in links.values())
    srv = links["srv--core"]
    assert srv["capacity_bps"] == 5e6 and srv["load_bps"] == 4e6 and srv["utilisation"] == 0.8
    assert srv["directions"]["core -> srv"]["headroom_bps"] == 1e6
    assert [v["kind"] for v in report["violations"]] == ["capacity"]
    assert report["violations"][0]["link"] == "srv--core"
    assert report["upgrades"] == [{"link": "srv--core", "capacity_bps": 5e6, "load_bps": 4e6, "worst_load_bps": 4e6,
                                   "needed_bps": 8e6, "upgrade_to_bps": 10e6, "reason": "peak above the fail level"}]
    ok, _ = capacity_json(plan, "--fail", "0.9")
    assert ok == 0


def test_worst_case_names_the_failure_and_is_byte_identical(tmp_path):
    plan = write_plan(tmp_path, RING.replace("BW", "100M"))
    first = invoke(plan, "--format", "json")
    again = invoke(plan, "--format", "json")
    assert first.stdout == again.stdout
    report = json.loads(first.stdout)
    links = {l["link"]: l for l in report["links"]}
    # 6M from h0 to h2 splits 3M/3M over the two halves of the ring; losing r0--r1 moves it all to r3
    assert links["r0--r1"]["utilisation"] == pytest.approx(0.03)
    assert links["r3--r0"]["worst_utilisation"] == pytest.approx(0.06)
    assert links["r3--r0"]["worst_failure"] in ("link r0--r1", "link r1--r2", "node r1")
    assert report["sweep"]["cases"] == len(links) + 8
    # the key data centres: dc2 hangs on one line, so redundancy fails
    assert first.returncode == 1
    assert [r["kind"] for r in report["rules"] if r["status"] == "fail"] == ["redundancy"]
    none = json.loads(invoke(plan, "--format", "json", "--failures", "none").stdout)
    assert none["sweep"] is None and [r["kind"] for r in none["rules"]] == ["capacity", "latency"]


def test_text_table_picture_and_queue(tmp_path):
    plan = write_plan(tmp_path, STAR)
    picture = tmp_path / "util.png"
    r = run_cli("capacity", plan, "-o", picture, "--queue", "srv--core", "--queue-time", "1")
    assert r.returncode == 1, r.stderr
    assert "core -> srv" in r.stdout and "80%" in r.stdout
    assert "queue simulation (fast) at core -> srv" in r.stdout
    assert "verdict: FAIL (capacity)" in r.stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    j = json.loads(invoke(plan, "--format", "json", "--queue", "srv--core", "--queue-time", "1").stdout)
    assert j["queue"]["link"] == "srv--core" and j["queue"]["offered_utilisation"] == pytest.approx(0.8)


@pytest.mark.parametrize("args, message", [
    (["--phase", "no-such-phase"], "no phase"),
    (["--failures", "n-2", "--pairs", "nothing*"], "names no link"),
    (["-o", "picture.jpg"], ".png"),
    (["--queue", "nowhere"], "neither a link nor a site"),
    (["--scheduler", "tcp://127.0.0.1:9", "--failures", "n-1"], "cannot reach"),
])
def test_input_errors_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.setattr("simulator.sweep.CONNECT_TIMEOUT", 1.0)
    monkeypatch.chdir(tmp_path)
    plan = write_plan(tmp_path, STAR)
    r = invoke(plan, *args)
    assert r.returncode == 2
    assert message in r.stderr


def test_a_scheduler_without_the_sweep_extra_exits_2_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if govnet[sweep] were not installed
    r = invoke(write_plan(tmp_path, STAR), "--scheduler", "tcp://127.0.0.1:9")
    assert r.returncode == 2
    assert "pip install 'govnet[sweep]'" in r.stderr


def test_a_broken_plan_exits_2(tmp_path):
    r = invoke(write_plan(tmp_path, "name: x\nnodes: {a: {role: nonsense}}\n"))
    assert r.returncode == 2 and "error" in r.stderr


@pytest.mark.skipif(not THIN.is_file() or not CHUXIONG.is_file(), reason="Chuxiong scenario not written yet")
def test_the_thin_uplink_fault_fails_exactly_the_capacity_rule():
    base_code, base = capacity_json(CHUXIONG)
    code, thin = capacity_json(THIN)
    assert code == 1
    failed = [r["kind"] for r in thin["rules"] if r["status"] == "fail"]
    assert failed == ["capacity"], thin["rules"]
    assert {v["link"] for v in thin["violations"]} == {"永仁县外网核心--楚雄州外网核心"}
    assert [r["kind"] for r in base["rules"] if r["status"] == "fail"] == []
    assert base_code == 0


def test_demand_that_cannot_be_placed_fails_the_capacity_command(tmp_path):
    # h2 hangs on a router with no way to the server: its demand is listed as not placed, exit 1
    text = STAR.replace("  srv: {role: server}\n", "  srv: {role: server}\n  r9: {role: router}\n").replace(
        "- {a: h2, b: core, bandwidth: 10M, latency: 1ms}", "- {a: h2, b: r9}")
    r = invoke(write_plan(tmp_path, text), "--failures", "none", "--format", "json")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    assert [(u["src"], u["dst"]) for u in report["undelivered"]] == [("h2", "srv")]
    assert report["undelivered"][0]["drops"][0]["node"] == "r9"
    assert [x["status"] for x in report["rules"] if x["kind"] == "capacity"] == ["fail"]
