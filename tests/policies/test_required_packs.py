"""Clearance brings its law: a classified plan is always checked with the classified pack; declined packs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from policies.engine import check_plan
from policies.errors import PolicyError
from policies.loader import load_pack, required_packs, select_policies
from policies.report import render

from .common import load, plan

SECRET_DOMAIN = plan("""\
policies: [djbh-l3]
nodes:
  core: {role: core_router}
  ipc: {role: host, domain: intra}
  icore: {role: core_router, domain: intra}
links: [ipc -- icore]
""").replace("intra: {kind: intranet, pool: 172.16.0.0/16}", "intra: {kind: intranet, clearance: 秘密, pool: 172.16.0.0/16}")

# a 机密 server on the unclassified extranet (the Weihai fault, small)
SECRET_SERVER = plan("""\
policies: [egov-baseline]
nodes:
  core: {role: core_router}
  机要服务器: {role: server, classification: 机密}
links: [机要服务器 -- core]
""")


def test_a_domain_cleared_for_mimi_adds_the_classified_pack(tmp_path):
    net = load(tmp_path, SECRET_DOMAIN)
    (required,) = required_packs(net)
    assert required.pack == "classified" and required.reasons == ("domain intra is cleared for 秘密",)
    selection = select_policies(net)
    assert [p.name for p in selection.policies] == ["djbh-l3", "classified"]
    assert [str(a) for a in selection.added] == ["classified added: domain intra is cleared for 秘密"]
    (run,) = check_plan(net, selection)
    assert {"CLS-1", "CLS-2", "CLS-3", "CLS-4"} <= {r.rule.id for r in run.results}


def test_a_jimi_server_on_an_unclassified_extranet_adds_the_pack_and_cls1_fails(tmp_path):
    net = load(tmp_path, SECRET_SERVER)
    selection = select_policies(net, ["egov-baseline"])  # the command line's choice does not escape the law
    assert [str(a) for a in selection.added] == ["classified added: node 机要服务器 holds 机密 data"]
    (run,) = check_plan(net, selection)
    cls1 = next(r for r in run.results if r.rule.id == "CLS-1")
    assert cls1.status == "fail"
    (ev,) = cls1.evidence
    assert ev.subjects == ("机要服务器",) and ev.marks[0].line == SECRET_SERVER.splitlines().index(
        "  机要服务器: {role: server, classification: 机密}") + 1
    # the other classified rules have no classified network to judge
    assert {r.rule.id: r.status for r in run.results}["CLS-2"] == "not_applicable"


def test_a_listed_pack_is_not_added_twice(tmp_path):
    net = load(tmp_path, SECRET_DOMAIN.replace("policies: [djbh-l3]", "policies: [classified, djbh-l3]"))
    selection = select_policies(net)
    assert [p.name for p in selection.policies] == ["classified", "djbh-l3"] and selection.added == ()
    # a plain list handed to the engine gets the law too
    (run,) = check_plan(net, [load_pack("djbh-l3")])
    assert [a.pack for a in run.added] == ["classified"] and run.policies == ("djbh-l3", "classified")


def test_an_unclassified_plan_requires_nothing(tmp_path):
    net = load(tmp_path, SECRET_SERVER.replace("classification: 机密", "classification: 非涉密"))
    assert required_packs(net) == [] and select_policies(net).added == ()


def test_reports_say_which_pack_was_added_and_why(tmp_path):
    net = load(tmp_path, SECRET_SERVER)
    runs = check_plan(net, select_policies(net))
    reason = "classified added: node 机要服务器 holds 机密 data"
    text = render(runs, "text").splitlines()
    assert text[0].endswith("policies: egov-baseline, classified") and text[1] == reason
    data = json.loads(render(runs, "json"))
    assert data["added_policies"] == [{"pack": "classified", "reasons": ["node 机要服务器 holds 机密 data"]}]
    props = {p.get("name"): p.get("value") for p in ET.fromstring(render(runs, "junit")).iter("property")}
    assert props["added_policy"] == reason and props["policies"] == "egov-baseline, classified"
    sarif = json.loads(render(runs, "sarif"))
    assert sarif["runs"][0]["properties"]["addedPolicies"] == [
        {"pack": "classified", "reasons": ["node 机要服务器 holds 机密 data"]}]


# -- declined packs ---------------------------------------------------------------------------------

def test_a_declined_pack_is_listed_in_every_report(tmp_path):
    text = (SECRET_SERVER.replace("classification: 机密", "classification: 非涉密")
            + "declined_policies: {djbh-l3: 等保定级为第二级}\n")
    runs = check_plan(load(tmp_path, text), select_policies(load(tmp_path, text)))
    line = len(text.splitlines())  # the last line; the key after 'declined_policies: {'
    assert f"declined: djbh-l3 (等保定级为第二级) (at {tmp_path / 'plan.yaml'}:{line}:21)" in render(runs, "text")
    data = json.loads(render(runs, "json"))
    assert [(d["pack"], d["reason"]) for d in data["declined_policies"]] == [("djbh-l3", "等保定级为第二级")]
    props = {p.get("name"): p.get("value") for p in ET.fromstring(render(runs, "junit")).iter("property")}
    assert props["declined_policy"] == "djbh-l3: 等保定级为第二级"
    sarif = json.loads(render(runs, "sarif"))
    assert sarif["runs"][0]["properties"]["declinedPolicies"] == [{"pack": "djbh-l3", "reason": "等保定级为第二级"}]


@pytest.mark.parametrize("declined, message, hint", [
    ("classified: 不涉密", ("the plan declines the pack 'classified', which the law requires of it "
                          "(node 机要服务器 holds 机密 data)"), "remove 'classified' from declined_policies"),
    ("djbh-l2: 二级", "declined policy 'djbh-l2' is not a built-in pack", "did you mean 'djbh-l3'?"),
    ("egov-baseline: 不适用", "the plan both takes and declines the pack 'egov-baseline'", "remove it from policies:"),
])
def test_declining_what_may_not_be_declined_is_an_error_at_its_position(tmp_path, declined, message, hint):
    text = SECRET_SERVER + f"declined_policies: {{{declined}}}\n"
    net = load(tmp_path, text)
    with pytest.raises(PolicyError) as exc:
        select_policies(net)
    (issue,) = exc.value.issues
    assert (issue.mark.line, issue.mark.col) == (len(text.splitlines()), 21)
    assert issue.message == message and issue.hint.startswith(hint)
