"""``govnet capacity`` as a user runs it: exit codes, the JSON contract, the picture, the planted fault."""

from __future__ import annotations

import json
import re
import sys
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from govnet.cli import cli
from tests.helpers import REPO, SCENARIOS, run_cli, write_plan
from tests.policies.test_capacity_rules import RING
from tests.simulator.capacity_plans import STAR

CHUXIONG = SCENARIOS / "chuxiong" / "plan.yaml"
THIN = SCENARIOS / "chuxiong" / "faults" / "thin-uplink.yaml"
def invoke(*args):
    """The command in-process (as run_cli, without the interpreter start-up): returncode, stdout, stderr."""
    r = CliRunner().invoke(cli, ["capacity", *map(str, args)])
    return SimpleNamespace(returncode=r.exit_code, stdout=r.stdout, stderr=r.stderr)


LINK_KEYS = {"link", "capacity_bps", "busier_direction", "busier_load_bps", "busier_utilisation", "total_load_bps",
             "worst_direction", "worst_load_bps", "worst_utilisation", "worst_failure"}


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
    assert srv["capacity_bps"] == 5e6 and srv["busier_load_bps"] == 4e6 and srv["busier_utilisation"] == 0.8
    assert srv["busier_direction"] == "core -> srv" and srv["total_load_bps"] == 4e6  # nothing comes back
    assert srv["directions"]["core -> srv"]["headroom_bps"] == 1e6
    assert [v["kind"] for v in report["violations"]] == ["capacity"]
    assert report["violations"][0]["link"] == "srv--core"
    assert report["upgrades"] == [{"link": "srv--core", "capacity_bps": 5e6, "busier_load_bps": 4e6, "worst_load_bps": 4e6,
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
    assert links["r0--r1"]["busier_utilisation"] == pytest.approx(0.03)
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


# -- which failures, shared-risk groups, one failure replayed ----------------------------------------------

RISK = RING.replace("BW", "100M") + """\
risk_groups:
  电信: {links: [r2--r3, r3--r0], reason: 中国电信}
  机房: {nodes: [r1]}
"""


def test_failure_choices_give_exactly_their_cases_and_combine(tmp_path):
    plan = write_plan(tmp_path, RISK)
    _, links = capacity_json(plan, "--failures", "links")
    assert links["sweep"]["cases"] == 9 == len(links["links"]) and links["failures"] == "links"
    _, nodes = capacity_json(plan, "--failures", "nodes")
    assert nodes["sweep"]["cases"] == 8
    repeated = invoke(plan, "--format", "json", "--failures", "links", "--failures", "risk-groups")
    joined = invoke(plan, "--format", "json", "--failures", "links,risk-groups")
    assert repeated.stdout == joined.stdout
    report = json.loads(joined.stdout)
    assert report["sweep"]["cases"] == 9 + 2 and report["failures"] == "links+risk-groups"
    assert [g["name"] for g in report["risk_groups"]] == ["电信", "机房"]


def test_a_risk_group_fails_all_its_members_and_the_worst_case_names_it(tmp_path):
    # 6M from h0 to h2 splits 3M/3M over the two halves of the ring; 电信 takes the r3 half down at once,
    # so all 6M go r0 -> r1 -> r2: 6 % of 100M (hand-computed)
    _, report = capacity_json(write_plan(tmp_path, RISK), "--failures", "risk-groups")
    links = {l["link"]: l for l in report["links"]}
    assert report["sweep"]["cases"] == 2
    for name, direction in (("r0--r1", "r0 -> r1"), ("r1--r2", "r1 -> r2")):
        d = links[name]["directions"][direction]
        assert d["load_bps"] == 3e6 and d["worst_load_bps"] == 6e6 and d["worst_failure"] == "risk group 电信"
        assert links[name]["worst_failure"] == "risk group 电信" and links[name]["worst_direction"] == direction
    assert links["r3--r0"]["worst_failure"] == "risk group 机房"  # r1 down: all 6M over r3
    assert links["r3--r0"]["worst_load_bps"] == 6e6


def test_under_shows_the_network_in_that_failure(tmp_path):
    plan = write_plan(tmp_path, RISK)
    code, report = capacity_json(plan, "--under", "电信")
    assert code == 0  # CAP-UTIL and CAP-DELAY judge the network in the failure: 6 % fits
    assert report["under"] == {"failure": "risk group 电信", "risk_group": "电信", "reason": "中国电信",
                               "failed_links": ["r2--r3", "r3--r0"], "failed_nodes": [], "lost_demands": 0,
                               "cut_demands": 0, "orphaned_demands": 0}
    links = {l["link"]: l for l in report["links"]}
    assert "r2--r3" not in links and "r3--r0" not in links
    assert links["r0--r1"]["directions"]["r0 -> r1"]["load_bps"] == 6e6
    assert report["sweep"] is None and [r["id"] for r in report["rules"]] == ["CAP-UTIL", "CAP-DELAY"]
    text = invoke(plan, "--under", "risk group 电信").stdout
    assert "under risk group 电信 (中国电信): 2 links down (r2--r3, r3--r0)" in text
    # h0 hangs on r0 alone: failing it costs the demand, cut off
    _, cut = capacity_json(plan, "--under", "h0--r0")
    assert cut["under"]["lost_demands"] == cut["under"]["cut_demands"] == 1
    assert cut["lost"] == [{"failure": "link h0--r0", "service": "s", "src": "h0", "dst": "h2", "share": 1.0}]
    assert [(u["src"], u["dst"]) for u in cut["undelivered"]] == [("h0", "h2")]


def test_under_equals_the_network_recomputed_without_the_failed_elements(tmp_path):
    from simulator.failures import failure_cases, without
    from simulator.forwarding import Forwarder
    from simulator.load import assign
    from simulator.routing import RoutingState
    from simulator.traffic import demands
    from topology import load_plan

    plan = write_plan(tmp_path, RISK.replace("traffic:\n", "traffic:\n  - {service: s, from: h2, to: dc1, rate: 4M}\n"))
    net = load_plan(plan)
    intact = demands(net)
    for failure in failure_cases(net, "n-1", groups=True):
        _, report = capacity_json(plan, "--under", failure.label)
        after = without(net, failure.links, failure.nodes)
        kept = [d for d in intact if d.src not in failure.nodes and d.dst not in failure.nodes]
        want = assign(after, kept, Forwarder(after, RoutingState(after))).load
        got = {(l["link"], label): d["load_bps"] for l in report["links"] for label, d in l["directions"].items()}
        assert len(got) == 2 * len(after.links), failure.label
        for link in after.links.values():
            for index, label in ((0, f"{link.a} -> {link.b}"), (1, f"{link.b} -> {link.a}")):
                assert got[(link.name, label)] == pytest.approx(want.get((link.name, index), 0.0), abs=1e-3), \
                    (failure.label, link.name, label)


def test_the_worst_case_replayed_carries_the_worst_load(tmp_path):
    plan = write_plan(tmp_path, RISK)
    _, report = capacity_json(plan, "--failures", "n-1,risk-groups")
    worst = [(l["link"], label, d) for l in report["links"] for label, d in l["directions"].items()
             if d["worst_failure"]]
    assert worst
    for link, label, d in worst:
        _, under = capacity_json(plan, "--under", d["worst_failure"])
        shown = {l["link"]: l for l in under["links"]}[link]["directions"][label]
        assert shown["load_bps"] == d["worst_load_bps"], (link, label, d["worst_failure"])


@pytest.mark.parametrize("args, message", [
    (["--under", "r0-r1"], "did you mean 'link r0--r1'?"),
    (["--under", "nothing at all"], "no link, node or risk group 'nothing at all'"),
    (["--under", "电信", "--failures", "n-1"], "give one of them"),
    (["--failures", "none,links"], "give it alone"),
    (["--failures", "link"], "unknown failure choice 'link'"),
    (["--failures", "links", "--pairs", "r*"], "give --failures n-2"),
])
def test_bad_failure_choices_and_labels_exit_2(tmp_path, args, message):
    r = invoke(write_plan(tmp_path, RISK), *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_risk_groups_of_a_plan_without_any_exit_2(tmp_path):
    r = invoke(write_plan(tmp_path, STAR), "--failures", "links,risk-groups")
    assert r.returncode == 2 and "declares no shared-risk group" in r.stderr


# -- the JSON is documented ---------------------------------------------------------------------------

MAPS = ("links[].directions", "sweep.methods", "queue.by_kind")  # objects keyed by data, not by field names


def json_paths(value, path="") -> set[str]:
    """Every field of a report as a path: ``links[].busier_load_bps``, ``links[].directions{}.load_bps``."""
    out: set[str] = set()
    if isinstance(value, dict):
        if path in MAPS:
            for item in value.values():
                out |= json_paths(item, path + "{}")
            return out | {path + "{}"}
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            out |= {child} | json_paths(item, child)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                out |= json_paths(item, path + "[]") | {path + "[]"}
    return out


def test_every_field_the_json_writer_emits_is_in_the_readme_table(tmp_path):
    from tests.simulator.capacity_plans import CASCADE

    runs = [
        (STAR, ["--queue", "srv--core", "--queue-time", "0.2", "--strict"]),  # capacity links, queue, lost
        (STAR.replace("  srv: {role: server}\n", "  srv: {role: server}\n  r9: {role: router}\n").replace(
            "- {a: h2, b: core, bandwidth: 10M, latency: 1ms}", "- {a: h2, b: r9}"), ["--failures", "none"]),
        (RING.replace("BW", "5M"), []),                                       # overloads, a key node
        (CASCADE, ["--max-delay", "1ms"]),                                    # latency
        (RISK, ["--failures", "links,risk-groups"]),
        (RISK, ["--under", "h0--r0"]),
    ]
    seen: set[str] = set()
    for i, (text, args) in enumerate(runs):
        _, report = capacity_json(write_plan(tmp_path / str(i), text), *args)
        seen |= json_paths(report)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Capacity and failures", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z_]+(?:\[\]|\{\})?(?:\.[a-z_0-9]+(?:\[\]|\{\})?)*)`", section))

    def bare(paths: set[str]) -> set[str]:  # `lost[]` documents the field lost, also when it is empty
        return {x.replace("[]", "").replace("{}", "") for x in paths}

    assert bare(seen) - bare(documented) == set(), "fields the README's capacity table does not name"
    for key in ("violations[].overloaded[].utilisation", "violations[].disjoint_paths", "violations[].delay_s",
                "violations[].drops[].decision", "queue.by_kind{}.p99", "under.failed_links", "lost[].share"):
        assert key in seen, key  # the runs above do reach every kind of evidence
