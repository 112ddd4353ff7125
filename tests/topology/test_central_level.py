"""The central level (中央) in the site tree: sites below it, its placeholder, the error that names it, spreadsheets.

Expected trees and messages are written by hand from the plans below.
"""

from __future__ import annotations

import pytest

from topology.errors import Mark, PlanError
from topology.importers import import_bytes
from topology.loader import load_text
from topology.vocabulary import LEVEL_NAMES_CN, LEVELS

NATIONAL = """\
name: national
domains: {ext: {kind: extranet, pool: 10.60.0.0/16}}
defaults: {node: {domain: ext}}
level_templates: {central: [centre], province: [up], prefecture: [up], county: [up]}
templates:
  centre:
    nodes: {"{site}核心": {role: core_router}}
  up:
    nodes:
      "{site}核心": {role: core_router}
      "{site}视频MCU": {role: mcu, mcu_parent: "{central}核心"}
    links: ["{site}核心 -- {parent}核心"]
sites:
  国家:
    level: central
    children:
      甲省: {children: {甲市: {children: {甲县: {}}}}}
      乙省: {}
"""


def test_the_levels_start_at_the_centre() -> None:
    assert LEVELS[0] == "central" and LEVEL_NAMES_CN["central"] == "中央"
    assert LEVELS.index("central") < LEVELS.index("province")


def test_sites_below_the_centre_are_provinces_and_below() -> None:
    net = load_text(NATIONAL)
    assert [(s.name, s.level, s.parent) for s in net.sites.values()] == [
        ("国家", "central", None), ("甲省", "province", "国家"), ("甲市", "prefecture", "甲省"),
        ("甲县", "county", "甲市"), ("乙省", "province", "国家")]


def test_the_central_placeholder_and_the_uplinks_to_the_centre() -> None:
    net = load_text(NATIONAL)
    # {central} names 国家 at every site below it, from the province to the county
    assert {n.name: n.mcu_parent for n in net.nodes.values() if n.role == "mcu"} == {
        "甲省视频MCU": "国家核心", "甲市视频MCU": "国家核心", "甲县视频MCU": "国家核心", "乙省视频MCU": "国家核心"}
    # {parent} of a province is the centre: each province's core is uplinked to 国家核心
    assert sorted(tuple(sorted((l.a, l.b))) for l in net.links.values()) == sorted([
        tuple(sorted(("甲省核心", "国家核心"))), tuple(sorted(("乙省核心", "国家核心"))),
        tuple(sorted(("甲市核心", "甲省核心"))), tuple(sorted(("甲县核心", "甲市核心")))])


def test_a_centre_without_its_level_is_a_province_and_the_error_says_what_to_write() -> None:
    text = NATIONAL.replace("    level: central\n", "").replace("      甲省: {children:", "      甲省: {level: province, children:")
    text = text.replace("      乙省: {}", "      乙省: {level: province}")
    with pytest.raises(PlanError) as caught:
        load_text(text)
    below = [i for i in caught.value.issues if "cannot sit below" in i.message]
    lines = text.splitlines()
    assert [(i.mark.line, i.message) for i in below] == [
        (lines.index("      甲省: {level: province, children: {甲市: {children: {甲县: {}}}}}") + 1,
         "site '甲省' (province) cannot sit below '国家' (province)"),
        (lines.index("      乙省: {level: province}") + 1, "site '乙省' (province) cannot sit below '国家' (province)")]
    for issue in below:
        assert "highest first central, province, prefecture" in issue.hint
        assert "needs level: central" in issue.hint


SHEET = ("类型 (type),名称 (name),角色 (role),安全域 (domain),站点 (site),级别 (level),上级站点 (parent),a,b\n"
         "site,国家,,,,{level},,,\n"
         "site,甲省,,,,省,国家,,\n"
         "node,国家核心,core_router,政务外网,国家,,,,\n"
         "node,甲省核心,core_router,政务外网,甲省,,,,\n"
         "link,,,,,,,甲省核心,国家核心\n")


def test_a_centre_without_its_level_makes_its_provinces_prefectures_and_central_unresolved() -> None:
    # without any level the tree shifts down one level: 国家 a province, 甲省 a prefecture; {central} has no value
    with pytest.raises(PlanError) as caught:
        load_text(NATIONAL.replace("    level: central\n", ""))
    assert any("placeholder {central} in '{central}核心' has no value here" in i.message for i in caught.value.issues)


@pytest.mark.parametrize("word", ["central", "中央", "国家"])
def test_a_spreadsheet_names_the_central_level(word: str) -> None:
    plan = import_bytes(SHEET.format(level=word).encode(), "p.csv")
    assert plan["sites"] == {"国家": {"level": "central", "children": {"甲省": {"level": "province"}}}}


def test_a_spreadsheet_with_an_unknown_level_is_told_the_chinese_names_too() -> None:
    with pytest.raises(PlanError) as caught:
        import_bytes(SHEET.format(level="全国").encode(), "p.csv")
    (issue,) = caught.value.issues
    assert (issue.mark, issue.message) == (Mark("p.csv", 2, 6), "unknown level '全国'")
    assert issue.hint == ("use one of central, province, prefecture, county, township, village "
                          "(or 中央, 省, 州/市, 县, 乡镇, 村)")
