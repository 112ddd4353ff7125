"""A rule that cannot judge the plan is not applicable, with the reason; it is never a pass."""

from __future__ import annotations

import pytest

from .common import evaluate, load, plan

# one extranet unit on its core; nothing else (no party network, no classified data, no VRF, no video ...)
LONE = plan("""\
nodes:
  core: {role: core_router}
  unit: {role: host}
links: [unit -- core]
""")

CASES = [
    ("physical_isolation", {"domains": ["kind:party_private"], "against": ["*"]},
     "the plan has no network matching kind:party_private"),
    ("physical_isolation", {"domains": ["kind:extranet"], "against": ["kind:party_private"]},
     "the plan has no other network matching kind:party_private to keep apart from it"),
    ("coverage", {"domains": ["kind:party_private"]}, "no unit or core in a network matching kind:party_private"),
    ("default_deny", {"shadowed": "off"},
     "no link joins the forwarding devices of two networks (one matching *)"),
    ("default_deny", {"require_device": False, "ends_in_deny": False, "shadowed": "fail"},
     "no ACL is applied on a firewall or one_way_gateway or vpn_gateway"),
    ("classification", {"clearance": False}, "the plan has no classified network (matching classified)"),
    ("unified_channel", {"domains": ["kind:party_private"]},
     "no link joins two nodes of one network matching kind:party_private"),
    ("logical_isolation", {"from": ["kind:party_private"], "to": ["kind:extranet"]},
     "no node in a network matching kind:party_private (- → ext)"),
    ("encrypted_over", {"domains": ["kind:party_private"]},
     "the plan has no protected network (one matching kind:party_private that is not untrusted)"),
    ("zone_addressing", {"domains": ["kind:party_private"]}, "the plan has no network matching kind:party_private"),
    ("latency", {}, "the plan has no video flows"),
    ("vrf_separation", {}, "fewer than two department VPNs in the networks matching * (0 department VPNs)"),
    ("zone_placement", {},
     "the plan has no important node (a server of a trusted network that is not at the edge)"),
]


@pytest.mark.parametrize("kind, params, why", CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_each_kind_says_why_it_does_not_apply(tmp_path, kind, params, why):
    result = evaluate(load(tmp_path, LONE), kind, params)
    assert result.status == "not_applicable"
    assert not result.passed_ and not result.failed_ and result.not_applicable_
    assert result.message == why and result.evidence == ()


def test_a_rule_that_judged_something_still_passes(tmp_path):
    result = evaluate(load(tmp_path, LONE), "unified_channel", {"domains": ["kind:extranet"]})
    assert result.status == "pass" and result.message == "all 1 link inside the networks follow the unified channel"
