"""Per-site ACLs: a template's ACLs are made at every site it applies to, names and rules filled there."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.reach import reach
from simulator.trace import trace
from tests.helpers import write_plan
from topology import PlanError, load_plan
from topology.diff import model_changes
from topology.expand import network, run
from topology.loader import draft_of

LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$")

# Two prefectures from one template, each with its firewall, its portal and its internet-side ACL.
PLAN = """\
name: two-prefectures
domains:
  外网: {kind: extranet, pool: 10.53.0.0/16}
  互联网: {kind: internet, pool: 198.51.100.0/24}
defaults: {node: {domain: 外网}}
sites:
  云南省:
    level: province
    children: {昆明市: {}, 楚雄州: {}}
templates:
  州:
    nodes:
      "{site}核心": {role: core_router}
      "{site}门户": {role: server, services: [portal]}
      "{site}防火墙":
        role: firewall
        interfaces:
          inside: {}
          outside: {acl_in: "{site}互联网入", nat: true}
    links:
      - "{site}核心 -- {parent}核心"
      - "{site}门户 -- {site}核心"
      - "{site}防火墙:inside -- {site}核心"
    acls:
      "{site}互联网入":
        - {action: permit, proto: tcp, dst: "{site}门户", dport: 443, description: "{province}{site}门户 HTTPS"}
        - {action: deny, description: "{site}其余拒绝"}
level_templates: {prefecture: [州]}
nodes:
  云南省核心: {role: core_router, site: 云南省}
  互联网: {role: cloud, domain: 互联网, site: 云南省}
  公众: {role: host, domain: 互联网, site: 云南省}
links:
  - {a: 公众, b: 互联网, domain: 互联网}
  - {a: "昆明市防火墙:outside", b: 互联网, medium: internet, domain: 互联网}
  - {a: "楚雄州防火墙:outside", b: 互联网, medium: internet, domain: 互联网}
"""
CHUXIONG_EXIT = '  - {a: "楚雄州防火墙:outside", b: 互联网, medium: internet, domain: 互联网}\n'


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line of ``text`` containing ``needle`` (found by hand, not by govnet)."""
    [number] = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return number


def issues_of(tmp_path, text: str) -> list[tuple[int, int, str]]:
    path = write_plan(tmp_path, text)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    out = []
    for issue in info.value.issues:
        m = LINE.match(issue.render())  # FILE:LINE:COL: error: message (hint)
        assert m, issue.render()
        assert m["file"] == str(path) and m["msg"].startswith(issue.message)
        out.append((int(m["line"]), int(m["col"]), issue.message))
    return out


def test_each_prefecture_gets_its_own_acl_with_its_names_filled(tmp_path):
    net = load_plan(write_plan(tmp_path, PLAN))
    assert list(net.acls) == ["昆明市互联网入", "楚雄州互联网入"]
    for site in ("昆明市", "楚雄州"):
        acl = net.acls[f"{site}互联网入"]
        portal = net.nodes[f"{site}门户"]
        assert len(portal.addresses) == 2  # its loopback and its link's address: a node stands for each
        assert [(r.index, r.action, r.dst, r.dport, r.description) for r in acl.rules] == [
            *[(1, "permit", ipaddress.IPv4Network(f"{a.ip}/32"), (443, 443), f"云南省{site}门户 HTTPS")
              for a in portal.addresses],
            (2, "deny", ipaddress.IPv4Network("0.0.0.0/0"), None, f"{site}其余拒绝"),
        ]
        assert net.nodes[f"{site}防火墙"].interfaces["outside"].acl_in == f"{site}互联网入"
        # marks: the ACL and its rules point at the template's lines
        assert acl.mark.line == line_of(PLAN, '"{site}互联网入":')
        assert [r.mark.line for r in acl.rules] == [line_of(PLAN, "{site}门户 HTTPS")] * 2 + [line_of(PLAN, "{site}其余拒绝")]
        assert acl.mark.file.endswith("plan.yaml")


def test_each_firewall_permits_only_its_own_portal(tmp_path):
    net = load_plan(write_plan(tmp_path, PLAN))
    for site in ("昆明市", "楚雄州"):
        t = trace(net, "公众", f"{site}门户", dport=443)
        assert t.delivered
        [(node, rule)] = [(h.node, h.rule) for h in t.hops if h.rule is not None]
        assert rule is not None and (node, rule.acl, rule.index) == (f"{site}防火墙", f"{site}互联网入", 1)
    # Without 楚雄州's own exit, the internet reaches 楚雄州门户 only through 昆明市防火墙, whose ACL does not
    # list it (one global ACL would have had to).
    alone = load_plan(write_plan(tmp_path, PLAN.replace(CHUXIONG_EXIT, "")))
    t = trace(alone, "公众", "楚雄州门户", dport=443)
    assert not t.delivered
    last = t.hops[-1]
    assert last.rule is not None
    assert (last.node, last.decision, last.rule.acl, last.rule.index) == ("昆明市防火墙", "denied", "昆明市互联网入", 2)
    assert trace(alone, "公众", "昆明市门户", dport=443).delivered
    reached = {c.dst_node for c in reach(alone, ["公众"], ["昆明市门户", "楚雄州门户"])}
    assert reached == {"昆明市门户"}


def test_a_generated_acl_name_twice_is_an_error_at_the_template(tmp_path):
    same = PLAN.replace('"{site}互联网入":\n', '"互联网入":\n').replace('acl_in: "{site}互联网入"', "acl_in: 互联网入")
    issues = issues_of(tmp_path, same)
    at = line_of(same, '"互联网入":')
    assert [(line, msg) for line, _, msg in issues] == [
        (at, f"ACL '互联网入' is defined twice (first at {tmp_path / 'plan.yaml'}:{at}:7)"),
    ]
    assert issues[0][1] == 7
    # against an ACL of the plan: the plan's comes first, the template's is the one refused
    clash = PLAN + "acls:\n  楚雄州互联网入: [{action: deny}]\n"
    issues = issues_of(tmp_path, clash)
    first = line_of(clash, "  楚雄州互联网入: [")
    assert [(line, col, msg) for line, col, msg in issues] == [
        (line_of(clash, '"{site}互联网入":'), 7,
         f"ACL '楚雄州互联网入' is defined twice (first at {tmp_path / 'plan.yaml'}:{first}:3)"),
    ]
    path = write_plan(tmp_path, clash)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert "ACL names must be unique across the plan" in info.value.issues[0].hint


@pytest.mark.parametrize("bad", ["{sitee}门户", "{site.__class__}门户", "{site:999}门户", "{site"])
def test_a_bad_placeholder_in_an_acl_rule_is_the_error_of_a_node_name(tmp_path, bad):
    in_rule = PLAN.replace('dst: "{site}门户", dport', f'dst: "{bad}", dport')
    in_node = PLAN.replace('      "{site}核心": {role: core_router}\n',
                           f'      "{{site}}核心": {{role: core_router}}\n      "{bad}": {{role: host}}\n')
    rule_issues = issues_of(tmp_path, in_rule)
    node_issues = issues_of(tmp_path, in_node)
    assert rule_issues and node_issues
    assert {msg for *_, msg in rule_issues} == {msg for *_, msg in node_issues}
    assert {line for line, *_ in rule_issues} == {line_of(in_rule, f'dst: "{bad}"')}
    # the hints are the same too
    hints = []
    for text in (in_rule, in_node):
        with pytest.raises(PlanError) as info:
            load_plan(write_plan(tmp_path, text))
        hints.append({i.hint for i in info.value.issues})
    assert hints[0] == hints[1]


def test_a_bad_placeholder_in_an_acl_name_or_an_interface_is_reported_there(tmp_path):
    text = PLAN.replace('"{site}互联网入":\n', '"{sitee}互联网入":\n')
    issues = issues_of(tmp_path, text)
    assert (line_of(text, '"{sitee}互联网入":'), "unknown placeholder {sitee} in '{sitee}互联网入'") in \
        {(line, msg) for line, _, msg in issues}
    text = PLAN.replace('acl_in: "{site}互联网入"', 'acl_in: "{county}互联网入"')
    issues = issues_of(tmp_path, text)
    assert {(line, msg) for line, _, msg in issues} == {
        (line_of(text, "{county}互联网入"), "placeholder {county} in '{county}互联网入' has no value here")}


def test_an_approval_names_a_generated_acl_rule(tmp_path):
    approvals = """\
approvals:
  - {approves: "楚雄州互联网入#1", unit: 州保密局, document: 楚保〔2024〕3号, date: 2024-03-01}
"""
    net = load_plan(write_plan(tmp_path, PLAN + approvals))
    [approval] = net.approvals
    assert (approval.kind, approval.acl, approval.index) == ("acl_rule", "楚雄州互联网入", 1)
    approved = {r.dst for r in net.acls[approval.acl].rules if r.index == approval.index}
    assert approved == {ipaddress.IPv4Network(f"{a.ip}/32") for a in net.nodes["楚雄州门户"].addresses}
    wrong = PLAN + approvals.replace("#1", "#3")
    assert [msg for *_, msg in issues_of(tmp_path, wrong)] == ["ACL '楚雄州互联网入' has no rule '3' (it has 2)"]
    unknown = PLAN + approvals.replace("楚雄州互联网入#1", "楚雄洲互联网入#1")
    [(line, _, msg)] = issues_of(tmp_path, unknown)
    assert msg == "approval of an ACL rule names the unknown ACL '楚雄洲互联网入'"
    assert line == line_of(unknown, "楚雄洲互联网入#1")


def test_a_changed_template_rule_shows_in_the_diff_of_every_site_at_the_template_line(tmp_path):
    old = load_plan(write_plan(tmp_path / "old", PLAN))
    changed = PLAN.replace("dport: 443, description", "dport: 8443, description")
    new = load_plan(write_plan(tmp_path / "new", changed))
    changes = model_changes(old, new)
    assert {c.section for c in changes} == {"acls"}
    # a rule as written is one model rule per address of its node: each shows, removed and added
    assert {(c.name, c.action) for c in changes} == {(f"{site}互联网入#1", action) for site in ("昆明市", "楚雄州")
                                                     for action in ("removed", "added")}
    assert {(c.mark.file, c.mark.line) for c in changes} == {
        (str(tmp_path / side / "plan.yaml"), line_of(changed, "dport: 8443")) for side in ("old", "new")}


def test_the_plans_own_acls_are_taken_as_written(tmp_path):
    own = PLAN + "acls:\n  '{全局}': [{action: deny, description: '{不填}'}]\n"
    net = load_plan(write_plan(tmp_path, own))
    assert net.acls["{全局}"].rules[0].description == "{不填}"
    assert list(net.acls) == ["{全局}", "昆明市互联网入", "楚雄州互联网入"]


# -- generated site trees: the ACL set equals the one expanded by hand --------------------------------------

SITE_NAME = st.text(alphabet="甲乙丙丁戊己庚辛壬癸子丑寅卯", min_size=1, max_size=3)
TEMPLATE_ACL = "{prefecture}-{site}入"
RULES = (
    ("permit", "{site}门户", "{province}/{prefecture}/{site} 门户"),
    ("deny", "any", "{site} 其余拒绝"),
)


@st.composite
def site_trees(draw):
    """A province and its prefectures, each with counties: every name unique across the tree."""
    names = draw(st.lists(SITE_NAME, min_size=2, max_size=12, unique=True))
    province, rest = "省" + names[0], names[1:]
    sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    tree: dict[str, list[str]] = {}
    taken = 0
    for p, size in enumerate(sizes):
        counties = [f"县{n}" for n in rest[taken:taken + size]]
        taken += size
        tree[f"州{p}"] = counties
    return province, tree


def tree_plan(province: str, tree: dict[str, list[str]]) -> str:
    lines = ["name: gen", "domains: {ext: {kind: extranet, pool: 10.0.0.0/12}}", "defaults: {node: {domain: ext}}",
             "sites:", f"  {province}:", "    level: province", "    children:"]
    for prefecture, counties in tree.items():
        lines.append(f"      {prefecture}:")
        lines.append("        children: {" + ", ".join(f"{c}: {{}}" for c in counties) + "}")
    lines += ["templates:", "  county:", '    nodes: {"{site}门户": {role: server}}', "    acls:",
              f'      "{TEMPLATE_ACL}":']
    for action, dst, description in RULES:
        lines.append(f'        - {{action: {action}, proto: tcp, dst: "{dst}", description: "{description}"}}')
    lines += ["level_templates: {county: [county]}", "acls:", "  全局: [{action: deny}]"]
    return "\n".join(lines) + "\n"


def by_hand(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site_trees())
def test_generated_trees_get_the_acls_expanded_by_hand(generated):
    province, tree = generated
    text = tree_plan(province, tree)
    net = network(run(draft_of(text)))
    expected: dict[str, list[tuple[int, str, str, str]]] = {"全局": [(1, "deny", "0.0.0.0/0", "")]}
    for prefecture, counties in tree.items():
        for county in counties:
            values = {"province": province, "prefecture": prefecture, "site": county}
            rules = []
            for i, (action, dst, description) in enumerate(RULES, 1):
                target = by_hand(dst, values)
                targets = ["0.0.0.0/0"] if target == "any" else [f"{a.ip}/32" for a in net.nodes[target].addresses]
                rules += [(i, action, t, by_hand(description, values)) for t in targets]
            expected[by_hand(TEMPLATE_ACL, values)] = rules
    got = {name: [(r.index, r.action, str(r.dst), r.description or "") for r in acl.rules]
           for name, acl in net.acls.items()}
    assert got == expected
    rule_lines = [line_of(text, f'dst: "{dst}"') for _, dst, _ in RULES]
    for name, acl in net.acls.items():
        if name != "全局":
            assert acl.mark.line == line_of(text, f'"{TEMPLATE_ACL}":')
            assert [r.mark.line for r in acl.rules] == [rule_lines[r.index - 1] for r in acl.rules]
            assert [r.index for r in acl.rules] == sorted(r.index for r in acl.rules)
