"""The ``risk_groups:`` section: members by name, glob and selector; every bad member an error at its line."""

from __future__ import annotations

import re

import pytest

from tests.helpers import write_plan
from topology import PlanError, load_plan

PLAN = """\
name: groups
domains: {ext: {kind: extranet, pool: 10.0.0.0/8}}
sites: {州: {level: prefecture, children: {甲县: {}, 乙县: {}}}}
phases: {一期: {}, 二期: {}}
defaults: {node: {domain: ext, role: core_router}}
nodes:
  州核心: {site: 州}
  州备份: {site: 州}
  甲核心: {site: 甲县}
  乙核心: {site: 乙县, phase: 二期}
links:
  - 甲核心 -- 州核心
  - {a: 甲核心, b: 州备份, medium: carrier_line}
  - {a: 乙核心, b: 州核心, medium: carrier_line}
risk_groups:
GROUPS"""
LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$")


def plan(groups: str) -> str:
    return PLAN.replace("GROUPS", groups)


def issues_of(tmp_path, text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(PlanError) as info:
        load_plan(write_plan(tmp_path, text))
    out = []
    for issue in info.value.issues:
        m = LINE.match(issue.render())
        assert m, issue.render()
        out.append((int(m["line"]), int(m["col"]), m["msg"]))
    return out


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if needle in line)
    return i + 1, lines[i].index(needle) + 1


def test_members_by_name_glob_link_selector_and_node_selector(tmp_path):
    net = load_plan(write_plan(tmp_path, plan("""\
  电信: {links: [{medium: carrier_line}], reason: " 中国电信 "}
  上联: {links: ["*--州核心"]}
  州机房: {nodes: ["site:州,level:prefecture", {node: 甲核心}], links: [{a: 甲核心, b: {site: 州}}]}
""")))
    g = net.risk_groups
    assert g["电信"].links == ("甲核心--州备份", "乙核心--州核心") and g["电信"].reason == "中国电信"
    assert g["上联"].links == ("甲核心--州核心", "乙核心--州核心")
    assert g["州机房"].nodes == ("州核心", "州备份", "甲核心")
    assert g["州机房"].links == ("甲核心--州核心", "甲核心--州备份")  # either way round
    assert g["州机房"].mark.line == 18
    first = net.at_phase("一期").risk_groups  # 乙核心 is built in the second phase: its line is not there yet
    assert first["电信"].links == ("甲核心--州备份",) and first["上联"].links == ("甲核心--州核心",)


@pytest.mark.parametrize("entry, needle, message", [
    ("{nodes: [州核芯]}", "州核芯", "risk group 'g' names the unknown node '州核芯' (did you mean '州核心'?)"),
    ('{nodes: ["site:丙县"]}', '"site:丙县"', "risk group 'g': 'site:丙县' names the unknown site '丙县'"),
    ('{nodes: ["rol:router"]}', '"rol:router"', "unknown selector key 'rol:'"),
    ("{nodes: [{site: 州, role: server}]}", "{site: 州", "the node selector names no node"),
    ("{links: [甲核心--州核芯]}", "甲核心--州核芯", "names the unknown link '甲核心--州核芯' (did you mean '甲核心--州核心'?)"),
    ('{links: ["*--丙*"]}', '"*--丙*"', "no link name matches '*--丙*'"),
    ("{links: [{a: 甲核心, b: 乙核心}]}", "{a: 甲核心", "the link selector names no link"),
    ("{links: [{a: 甲核芯}]}", "a: 甲核芯", "names the unknown node '甲核芯'"),
    ("{links: [{}]}", "{}", "a link selector with nothing to select"),
    ("{reason: 空}", "g:", "risk group 'g' names no link and no node"),
])
def test_a_bad_member_is_an_error_at_its_line_and_column(tmp_path, entry, needle, message):
    text = plan(f"  g: {entry}\n")
    [(line, col, msg)] = issues_of(tmp_path, text)
    assert message in msg
    row = where(text, "  g: ")[0]
    assert (line, col) == (row, text.splitlines()[row - 1].index(needle) + 1)


def test_every_bad_member_is_reported_at_once(tmp_path):
    issues = issues_of(tmp_path, plan("  a: {nodes: [x1]}\n  b: {links: [y1], nodes: [z1]}\n"))
    assert [m.split(" names")[0] for _, _, m in issues] == ["risk group 'a'", "risk group 'b'", "risk group 'b'"]
