"""Bad plans get one clear FILE:LINE:COL message each, exit 2, no traceback."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.helpers import run_cli, write_plan
from topology import PlanError, load_plan, yaml_source

HEAD = """\
name: bad
domains:
  ext: {kind: extranet, pool: 10.53.0.0/16}
  int: {kind: intranet, clearance: 秘密, pool: 10.60.0.0/16}
sites: {楚雄州: {level: prefecture}}
defaults: {node: {domain: ext, site: 楚雄州, role: router}}
"""

LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$")


def issues_of(tmp_path, text: str, name: str = "plan.yaml") -> list[str]:
    path = write_plan(tmp_path, text, name)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    rendered = [i.render() for i in info.value.issues]
    for line in rendered:
        assert LINE.match(line), line
    return rendered


def at(issue: str) -> tuple[int, int]:
    m = LINE.match(issue)
    return int(m["line"]), int(m["col"])


def test_yaml_syntax_error_points_at_the_place(tmp_path):
    [issue] = issues_of(tmp_path, HEAD + "nodes:\n  a: {role: router\n  b: {}\n")
    assert "YAML syntax" in issue and at(issue)[0] in (8, 9)


def test_unknown_key_suggests_the_right_one(tmp_path):
    [issue] = issues_of(tmp_path, HEAD + "nodes:\n  a: {rol: router}\n")
    assert "unknown key 'rol'" in issue and "did you mean 'role'?" in issue
    assert at(issue) == (8, 7)


def test_unknown_top_level_section(tmp_path):
    [issue] = issues_of(tmp_path, HEAD + "linkz: []\n")
    assert "did you mean 'links'?" in issue and at(issue) == (7, 1)


def test_wrong_types_and_absurd_values_all_reported_at_once(tmp_path):
    issues = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    nodes:
      a: {role: teapot}
      b: {}
    links:
      - {a: a, b: b, bandwidth: -5M}
      - {a: a, b: b, latency: 20 years}
    """))
    text = "\n".join(issues)
    assert "teapot" in text and "'-5M' is not a bandwidth" in text and "not a delay" in text
    assert len(issues) == 3
    assert sorted(at(i)[0] for i in issues) == [8, 11, 12]


def test_dangling_references(tmp_path):
    issues = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    nodes:
      a: {domain: extrnet}
      b: {site: 昆明市}
      c: {group: nobody}
    links:
      - a -- zed
      - a:ge9 -- b
    """))
    text = "\n".join(issues)
    assert "unknown domain 'extrnet'" in text and "did you mean 'ext'" in text
    assert "unknown site '昆明市'" in text
    assert "unknown group 'nobody'" in text
    assert "'zed' is not a node" in text
    assert len(issues) == 4  # a:ge9 is fine: the interface is created on demand


def test_link_to_missing_declared_interface(tmp_path):
    [issue] = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    nodes:
      a: {interfaces: {ge0: {}}}
      b: {}
    links: [a:ge1 -- b]
    """))
    assert "has no interface 'ge1'" in issue and "did you mean 'ge0'" in issue and at(issue)[0] == 10


def test_duplicate_names(tmp_path):
    issues = issues_of(tmp_path, HEAD + "nodes:\n  a: {}\n  a: {}\n")
    assert "duplicate key 'a'" in issues[0] and at(issues[0]) == (9, 3)
    issues = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    stars: [{core: a, units: [a]}]
    nodes: {a: {}}
    """))
    assert any("node 'a' is defined twice" in i for i in issues)


def test_overlapping_address_plan(tmp_path):
    issues = issues_of(tmp_path, HEAD.replace("10.60.0.0/16", "10.53.128.0/17") + "nodes: {a: {}}\n")
    assert any("overlaps the pool of 'ext'" in i for i in issues)
    issues = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    nodes:
      a: {interfaces: {x: {address: 10.1.0.1/24}, y: {address: 10.1.0.2/24}}}
      b: {interfaces: {x: {address: 10.1.0.3/24}}}
      c: {lan: 10.1.0.0/25}
    """))
    assert any("overlaps" in i for i in issues)


def test_address_used_twice(tmp_path):
    issues = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    nodes:
      a: {interfaces: {x: {address: 10.9.0.1/30}}}
      b: {interfaces: {x: {address: 10.9.0.1/30}}}
    """))
    assert any("also used by" in i for i in issues)


def test_include_cycle_and_escape(tmp_path):
    write_plan(tmp_path, "include: [plan.yaml]\n", "part.yaml")
    [issue] = issues_of(tmp_path, HEAD + "include: [part.yaml]\n")
    assert "forms a cycle" in issue and issue.split(":")[0].endswith("part.yaml") and at(issue) == (1, 11)
    outside = tmp_path.parent / "outside.yaml"
    outside.write_text("nodes: {}\n", encoding="utf-8")
    [issue] = issues_of(tmp_path, HEAD + "include: [../outside.yaml]\n")
    assert "leaves the plan's folder" in issue


def test_template_and_group_cycles(tmp_path):
    issues = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    templates:
      t1: {use: [t2]}
      t2: {use: [t1]}
    groups:
      g1: {inherit: [g2]}
      g2: {inherit: [g1]}
    """))
    text = "\n".join(issues)
    assert "templates use each other in a cycle" in text and "groups inherit in a cycle" in text


def test_alias_bomb_fails_fast(tmp_path):
    bomb = ["name: bomb", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):
        bomb.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    [issue] = issues_of(tmp_path, "\n".join(bomb) + "\n")
    assert "alias bomb" in issue


def test_huge_file_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_source, "MAX_FILE_BYTES", 1000)
    [issue] = issues_of(tmp_path, HEAD + "# " + "x" * 2000 + "\n")
    assert "limited to" in issue and at(issue) == (1, 1)


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes(HEAD.encode() + b"nodes: {a: {title: \"\xb3\xfe\xd0\xdb\"}}\n")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    [issue] = info.value.issues
    assert "not valid UTF-8" in issue.message and (issue.mark.line, issue.mark.col) == (7, 21)


def test_python_tags_never_execute(tmp_path):
    [issue] = issues_of(tmp_path, HEAD + "nodes: {a: !!python/object/apply:os.system ['echo hi']}\n")
    assert "is not allowed" in issue


def test_bad_placeholder(tmp_path):
    issues = issues_of(tmp_path, HEAD + textwrap.dedent("""\
    templates: {t: {nodes: {"{sitee}核心": {}}}}
    level_templates: {prefecture: [t]}
    """))
    assert any("unknown placeholder {sitee}" in i for i in issues)


def test_pool_exhaustion(tmp_path):
    issues = issues_of(tmp_path, HEAD.replace("10.53.0.0/16", "10.53.0.0/30") + "nodes: {a: {}, b: {}, c: {}, d: {}, e: {}}\n")
    assert any("pool" in i and "no free" in i for i in issues)


def test_cli_reports_and_exits_2_without_traceback(tmp_path):
    bad = write_plan(tmp_path, HEAD + "nodes:\n  a: {rol: router}\n  b: {domain: nowhere}\n")
    good = write_plan(tmp_path, HEAD + "nodes: {a: {}}\n", "good.yaml")
    before = bad.read_bytes()
    result = run_cli("validate", good, bad)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [l for l in result.stderr.splitlines() if ": error: " in l]
    assert len(errors) == 1 and errors[0].startswith(f"{bad}:8:7: error: unknown key 'rol'")
    assert "good.yaml: ok" in result.stdout
    assert bad.read_bytes() == before


def test_cli_missing_file_and_directory(tmp_path):
    result = run_cli("validate", tmp_path / "nope.yaml")
    assert result.returncode == 2 and "cannot read the file" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("show", tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_a_static_route_via_a_node_that_is_not_a_neighbour(tmp_path):
    issues = issues_of(tmp_path, """\
    name: s
    domains: {d: {kind: extranet, pool: 10.0.0.0/24}}
    sites: {s: {}}
    defaults: {node: {domain: d, site: s}}
    nodes:
      a: {role: router, routes: [{prefix: 10.9.0.0/16, via: c}, {prefix: 10.8.0.0/16, via: 10.0.0.200}]}
      b: {role: router}
      c: {role: router}
    links: [a -- b, b -- c]
    """)
    assert any("goes via 'c', which is not linked to a" in i for i in issues), issues
    assert any("goes via 10.0.0.200, an address no node of the plan has" in i for i in issues), issues
