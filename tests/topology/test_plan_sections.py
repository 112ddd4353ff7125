"""The plan sections of accepted risks and closed vocabularies: waivers, domain_kinds, declined_policies."""

from __future__ import annotations

import datetime
import re

import pytest

from tests.helpers import run_cli, write_plan
from topology import PlanError, load_plan

HEAD = """\
name: sections
sites: {州: {level: prefecture}}
defaults: {node: {site: 州, role: router}}
"""
LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$")


def issues_of(tmp_path, text: str) -> list[str]:
    path = write_plan(tmp_path, text)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    rendered = [i.render() for i in info.value.issues]
    assert all(LINE.match(line) for line in rendered), rendered
    return rendered


def position(text: str, needle: str, col_of: str | None = None) -> tuple[int, int]:
    """1-based line and column of ``col_of`` (default ``needle``) on the first line containing ``needle``."""
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if needle in line)
    return index + 1, lines[index].index(col_of or needle) + 1


def at(issue: str) -> tuple[int, int]:
    m = LINE.match(issue)
    return int(m["line"]), int(m["col"])


# -- domain kinds ---------------------------------------------------------------------------------

def test_an_unknown_domain_kind_is_rejected_with_a_suggestion(tmp_path):
    text = HEAD + "domains:\n  内网: {kind: intranett}\n"
    [issue] = issues_of(tmp_path, text)
    assert "domain '内网' has unknown kind 'intranett'" in issue and "(did you mean 'intranet'? or declare" in issue
    assert at(issue) == position(text, "kind: intranett", "kind")


def test_a_kind_far_from_every_known_one_says_how_to_declare_it(tmp_path):
    [issue] = issues_of(tmp_path, HEAD + "domains:\n  专网: {kind: gov_private}\n")
    assert "unknown kind 'gov_private'" in issue
    assert "declare it under domain_kinds: {gov_private: {like: <built-in kind>}}" in issue


def test_a_declared_kind_takes_the_rules_of_its_built_in_kind(tmp_path):
    net = load_plan(write_plan(tmp_path, HEAD + """\
domain_kinds:
  gov_private: {like: intranet, title: 政府专网, description: joined through an isolation device}
  carrier: {like: internet}
domains:
  专网: {kind: gov_private}
  外网: {kind: extranet}
  运营商: {kind: carrier}
"""))
    assert (net.domains["专网"].kind, net.domains["专网"].base_kind) == ("gov_private", "intranet")
    assert (net.domains["外网"].kind, net.domains["外网"].base_kind) == ("extranet", "extranet")
    assert net.domains["专网"].trusted and not net.domains["运营商"].trusted  # trust defaults by the built-in kind
    kind = net.domain_kinds["gov_private"]
    assert (kind.like, kind.title, kind.mark.line) == ("intranet", "政府专网", 5)


def test_a_built_in_kind_cannot_be_declared_and_like_must_be_built_in(tmp_path):
    text = HEAD + "domain_kinds:\n  intranet: {like: extranet}\n"
    [issue] = issues_of(tmp_path, text)
    assert "'intranet' is a built-in domain kind" in issue and at(issue) == position(text, "intranet:")
    text = HEAD + "domain_kinds:\n  mine: {like: gov_private}\n"
    [issue] = issues_of(tmp_path, text)
    assert "domain_kinds.mine.like: 'gov_private' is not allowed" in issue and "'intranet'" in issue
    assert at(issue) == position(text, "like:", "like")


# -- waivers --------------------------------------------------------------------------------------

WAIVER = "  - {rule: DJ-NA-4, scope: 'role:server', reason: 临时放置, approver: 州网管中心, document: 楚电政〔2024〕12号, expires: %s}\n"


def test_a_waiver_is_read_into_the_model_with_its_position(tmp_path):
    text = HEAD + "domains: {外网: {kind: extranet}}\nnodes: {srv: {role: server, domain: 外网}}\nwaivers:\n" + WAIVER % "2025-06-30" + \
        "  - {rule: CLS-1, reason: 待迁移, approver: 市委保密局, expires: '2026-01-31'}\n"
    net = load_plan(write_plan(tmp_path, text))
    first, second = net.waivers
    assert (first.rule, first.scope, first.reason, first.approver, first.document, first.expires) == (
        "DJ-NA-4", "role:server", "临时放置", "州网管中心", "楚电政〔2024〕12号", datetime.date(2025, 6, 30))
    assert (first.mark.line, first.mark.col) == position(text, "DJ-NA-4", "{")
    assert (second.scope, second.document, second.expires) == ("*", None, datetime.date(2026, 1, 31))


@pytest.mark.parametrize("value, why", [
    ("2025-02-30", "'2025-02-30' is not a real date"),
    ("2025/06/30", "'2025/06/30' is not a date like 2026-12-31"),
    ("next year", "'next year' is not a date like 2026-12-31"),
])
def test_a_bad_expiry_date_is_an_error_at_its_position(tmp_path, value, why):
    text = HEAD + "waivers:\n" + WAIVER % value
    [issue] = issues_of(tmp_path, text)
    assert why in issue and "waivers.0.expires" in issue
    assert at(issue) == position(text, "DJ-NA-4", "expires")


def test_a_waiver_needs_a_reason_an_approver_and_an_expiry(tmp_path):
    text = HEAD + "waivers:\n  - {rule: X-1, reason: ' ', expires: 2025-01-01}\n"
    issues = issues_of(tmp_path, text)
    assert any("waivers.0.reason: must not be empty" in i for i in issues)
    assert any("required key 'approver' is missing" in i for i in issues)
    assert len(issues) == 2


def test_waivers_and_kinds_merge_across_includes(tmp_path):
    write_plan(tmp_path, """\
domain_kinds: {gov_private: {like: intranet}}
waivers:
  - {rule: B-1, reason: b, approver: y, expires: 2030-01-01}
declined_policies: {djbh-l3: 二级系统}
""", "part.yaml")
    net = load_plan(write_plan(tmp_path, HEAD + """\
include: [part.yaml]
domains: {专网: {kind: gov_private}}
waivers:
  - {rule: A-1, reason: a, approver: x, expires: 2030-01-01}
"""))
    assert [w.rule for w in net.waivers] == ["A-1", "B-1"]
    assert net.waivers[1].mark.file.endswith("part.yaml") and net.waivers[1].mark.line == 3
    assert net.domains["专网"].base_kind == "intranet"
    (declined,) = net.declined_policies
    assert (declined.pack, declined.reason, declined.mark.line) == ("djbh-l3", "二级系统", 4)


def test_declined_policies_need_a_reason(tmp_path):
    [issue] = issues_of(tmp_path, HEAD + "declined_policies: {djbh-l3: ''}\n")
    assert "declined_policies.djbh-l3: must not be empty" in issue


def test_validate_reports_the_kind_typo_like_any_plan_error(tmp_path):
    path = write_plan(tmp_path, HEAD + "domains:\n  外网: {kind: extarnet}\n")
    result = run_cli("validate", path)
    assert result.returncode == 2
    assert f"{path}:5:" in result.stderr and "did you mean 'extranet'?" in result.stderr
