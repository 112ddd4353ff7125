"""unified_channel: links outside the channel, side links between sites, direct unit-to-unit lines."""

from __future__ import annotations

from .common import evaluate, load, plan

VERTICAL = plan("""\
nodes:
  pcore: {role: core_router}
  acore: {role: core_router, site: 县A}
  bcore: {role: core_router, site: 县B}
  a1: {role: host, site: 县A}
  a2: {role: host, site: 县A}
  b1: {role: host, site: 县B}
  ipc: {role: host, domain: intra, site: 县B}
links:
  - acore -- pcore
  - bcore -- pcore
  - a1 -- acore
  - a2 -- acore
  - b1 -- bcore
  - ipc -- a1
%(extra)s""")


def test_vertical_network_passes(tmp_path):
    result = evaluate(load(tmp_path, VERTICAL % {"extra": ""}), "unified_channel")
    assert result.status == "pass", result.message


def test_link_declared_outside_the_channel_fails(tmp_path):
    text = VERTICAL % {"extra": "  - {a: a1, b: pcore, channel: false}\n"}
    result = evaluate(load(tmp_path, text), "unified_channel")
    assert result.status == "fail"
    (ev,) = result.evidence
    assert ev.data["finding"] == "outside_channel"
    assert "channel: false" in text.splitlines()[ev.marks[0].line - 1]


def test_side_link_between_counties_fails(tmp_path):
    for extra, finding in (("  - a1 -- b1\n", "side_link"), ("  - acore -- bcore\n", "side_link"),
                           ("  - a1 -- a2\n", "unit_to_unit")):
        result = evaluate(load(tmp_path, VERTICAL % {"extra": extra}), "unified_channel")
        assert result.status == "fail", extra
        assert [e.data["finding"] for e in result.evidence] == [finding]


def test_side_links_between_declared_backbone_roles_can_be_accepted(tmp_path):
    net = load(tmp_path, VERTICAL % {"extra": "  - acore -- bcore\n"})
    assert evaluate(net, "unified_channel", {"lateral_roles": ["core_router"]}).status == "pass"


def test_links_between_networks_are_left_to_isolation(tmp_path):
    # ipc (intranet, 县B) -- a1 (extranet, 县A) crosses sites and networks: not this rule's business
    result = evaluate(load(tmp_path, VERTICAL % {"extra": ""}), "unified_channel", {"domains": ["*"]})
    assert result.status == "pass"
