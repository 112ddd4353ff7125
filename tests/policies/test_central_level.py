"""The central level (中央, the national extranet centre) above the provinces: the unified channel and coverage.

One small national plan, written by hand: 国家 (central) with two provinces, each with one prefecture;
every site has a core, a document exchange centre (the prefectures too) and a unit (a department);
the national centre and the provinces have an MCU. No firewall and no ACL: every path that exists
delivers, so every expected verdict below follows from the links alone.
"""

from __future__ import annotations

from policies.engine import evaluate_rule
from policies.loader import load_pack
from policies.registry import Context

from .common import evaluate, load

NATIONAL = """\
name: national
domains:
  ext: {kind: extranet, pool: 10.60.0.0/16}
sites:
  国家:
    level: central
    children:
      甲省: {level: province, children: {甲市: {}}}
      乙省: {level: province, children: {乙市: {}}}
defaults: {node: {domain: ext}}
nodes:
  国家核心: {role: core_router, site: 国家}
  国家公文: {role: server, site: 国家, services: [document_exchange]}
  国家MCU: {role: mcu, site: 国家}
  国家部门: {role: host, site: 国家}
  甲省核心: {role: core_router, site: 甲省}
  甲省公文: {role: server, site: 甲省, services: [document_exchange]}
  甲省MCU: {role: mcu, site: 甲省, mcu_parent: 国家MCU}
  甲省部门: {role: host, site: 甲省}
  甲市核心: {role: core_router, site: 甲市}
  甲市公文: {role: server, site: 甲市, services: [document_exchange]}
  甲市部门: {role: host, site: 甲市}
  乙省核心: {role: core_router, site: 乙省}
  乙省公文: {role: server, site: 乙省, services: [document_exchange]}
  乙省MCU: {role: mcu, site: 乙省, mcu_parent: 国家MCU}
  乙省部门: {role: host, site: 乙省}
  乙市核心: {role: core_router, site: 乙市}
  乙市公文: {role: server, site: 乙市, services: [document_exchange]}
  乙市部门: {role: host, site: 乙市}
links:
  - 国家公文 -- 国家核心
  - 国家MCU -- 国家核心
  - 国家部门 -- 国家核心
  - 甲省公文 -- 甲省核心
  - 甲省MCU -- 甲省核心
  - 甲省部门 -- 甲省核心
  - 甲市公文 -- 甲市核心
  - 甲市部门 -- 甲市核心
  - 乙省公文 -- 乙省核心
  - 乙省MCU -- 乙省核心
  - 乙省部门 -- 乙省核心
  - 乙市公文 -- 乙市核心
  - 乙市部门 -- 乙市核心
  - 甲市核心 -- 甲省核心
  - 乙市核心 -- 乙省核心
  - 甲省核心 -- 国家核心
%(乙省上联)s"""
UPLINK = "  - 乙省核心 -- 国家核心\n"         # 乙省's uplink to 中央
SIDEWAYS = "  - 乙省核心 -- 甲省核心\n"       # 乙省 hung below 甲省 instead of 中央
NONE = ""                                    # 乙省 without an uplink

# the pack's own rules, as a plan naming egov-baseline runs them
PACK = {r.id: r for r in load_pack("egov-baseline").rules}


def national(tmp_path, uplink: str):
    return load(tmp_path, NATIONAL % {"乙省上联": uplink})


def line_of(text: str, needle: str) -> int:
    (line,) = [i for i, row in enumerate(text.splitlines(), 1) if row == needle.rstrip("\n")]
    return line


def test_the_plan_has_a_central_site_above_two_provinces(tmp_path):
    net = national(tmp_path, UPLINK)
    assert [(s.name, s.level, s.parent) for s in net.sites.values()] == [
        ("国家", "central", None), ("甲省", "province", "国家"), ("甲市", "prefecture", "甲省"),
        ("乙省", "province", "国家"), ("乙市", "prefecture", "乙省")]


def test_provinces_uplinked_to_the_centre_pass_the_unified_channel(tmp_path):
    result = evaluate_rule(national(tmp_path, UPLINK), PACK["EGOV-UC-1"], Context())
    # 13 links inside sites + 2 prefecture uplinks + 2 province uplinks to 中央, all vertical
    assert result.status == "pass", result.message
    assert "all 17 links" in result.message


def test_provinces_uplinked_to_the_centre_pass_coverage(tmp_path):
    result = evaluate_rule(national(tmp_path, UPLINK), PACK["EGOV-COV-1"], Context())
    # the five departments (国家, 甲省, 甲市, 乙省, 乙市) each reach their core, their document exchange and the
    # one above (the provinces' is 国家公文), and an MCU at or above them; every core reaches the core above
    assert result.status == "pass", result.message
    assert "5 units" in result.message


def test_a_province_uplinked_to_another_province_fails_the_unified_channel(tmp_path):
    text = NATIONAL % {"乙省上联": SIDEWAYS}
    result = evaluate_rule(load(tmp_path, text), PACK["EGOV-UC-1"], Context())
    assert result.status == "fail"
    (ev,) = result.evidence  # only the side link; every other link is vertical
    assert ev.kind == "link"
    assert {ev.data["a"], ev.data["b"]} == {"乙省核心", "甲省核心"}
    assert ev.data["finding"] == "side_link"
    assert set(ev.data["sites"]) == {"甲省", "乙省"}
    assert ev.data["levels"] == ["province", "province"]
    assert ev.data["via"] == "国家"  # the channel joins two provinces at 中央
    assert ev.marks[0].line == line_of(text, SIDEWAYS)
    assert "国家 (central)" in ev.summary


def test_a_province_hung_below_another_still_has_coverage(tmp_path):
    # 乙省 reaches 中央 through 甲省: coverage holds, only the unified channel is broken
    result = evaluate(national(tmp_path, SIDEWAYS), "coverage")
    assert result.status == "pass", result.message


def test_a_province_without_its_uplink_to_the_centre_fails_coverage(tmp_path):
    net = national(tmp_path, NONE)
    assert evaluate_rule(net, PACK["EGOV-UC-1"], Context()).status == "pass"  # no link is wrong, one is missing
    result = evaluate_rule(net, PACK["EGOV-COV-1"], Context())
    assert result.status == "fail"
    # By hand: 乙省核心 cannot reach 国家核心 (纵向到底), and 乙省部门 cannot reach the document exchange of the
    # level above (国家公文). 乙市部门 needs only 乙市公文 and 乙省公文 and the MCU 乙省MCU, all inside 乙省;
    # 乙省部门 reaches its own core, its own 乙省公文 and 乙省MCU. Nothing else is cut off.
    found = {(e.data["node"], e.data["missing"], tuple(e.data["target"]), e.data["target_site"])
             for e in result.evidence}
    assert found == {("乙省核心", "parent_core", ("国家核心",), "国家"),
                     ("乙省部门", "document_exchange", ("国家公文",), "国家")}
    assert "2 gaps" in result.message


def test_the_centre_written_as_one_more_province_fails_every_uplink_with_a_hint(tmp_path):
    # the reported problem: no central level, so the national centre poses as a province beside the others
    text = """\
name: pose
domains: {ext: {kind: extranet, pool: 10.60.0.0/16}}
sites: {国家: {}, 甲省: {}, 乙省: {}}
defaults: {node: {domain: ext}}
nodes:
  国家核心: {role: core_router, site: 国家}
  甲省核心: {role: core_router, site: 甲省}
  乙省核心: {role: core_router, site: 乙省}
links:
  - 甲省核心 -- 国家核心
  - 乙省核心 -- 国家核心
"""
    net = load(tmp_path, text)
    assert {s.level for s in net.sites.values()} == {"province"}
    result = evaluate(net, "unified_channel")
    assert result.status == "fail"
    assert len(result.evidence) == 2
    assert {frozenset((e.data["a"], e.data["b"])) for e in result.evidence} == {
        frozenset(("甲省核心", "国家核心")), frozenset(("乙省核心", "国家核心"))}
    for ev in result.evidence:
        assert ev.data["via"] is None
        assert "level central (中央)" in ev.summary
    # with the centre at level central the same links are the channel itself
    fixed = load(tmp_path, text.replace("sites: {国家: {}, 甲省: {}, 乙省: {}}",
                                        "sites: {国家: {level: central, children: {甲省: {}, 乙省: {}}}}"))
    assert [s.level for s in fixed.sites.values()] == ["central", "province", "province"]
    assert evaluate(fixed, "unified_channel").status == "pass"
