"""Domain selectors: one grammar, checked where a policy file is loaded and against the plan at check time."""

from __future__ import annotations

import textwrap

import pytest

from policies.engine import check_plan
from policies.errors import PolicyError
from policies.loader import load_policy_file, resolve_policies
from policies.registry import RULE_PARAMS
from topology.model import Domain
from topology.selectors import (
    domain_matches,
    is_public,
    select_domains,
    selector_problem,
    selector_values,
)

from .common import load, plan


def write(tmp_path, text: str, name: str = "rules.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def where(text: str, needle: str) -> tuple[int, int]:
    """Line and column (1-based) of the first ``needle`` in ``text``."""
    before = textwrap.dedent(text)[:textwrap.dedent(text).index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


# -- at load time ---------------------------------------------------------------------------------

BAD = """\
rules:
  - id: B-1
    kind: physical_isolation
    params: {domains: [kindd:intranet], against: [kind:extranet]}
  - id: B-2
    kind: classification
    params: {domains: ["clearance:秘"]}
  - id: B-3
    kind: logical_isolation
    params:
      from: [public]
      to: [kind:extranet]
      allow: [{proto: tcp, to: {domain: "kind:Intranet"}}]
  - id: B-4
    kind: coverage
    params: {domains: ["!!trusted", " "]}
"""


def test_bad_selectors_are_rejected_when_the_policy_file_loads(tmp_path):
    path = write(tmp_path, BAD)
    with pytest.raises(PolicyError) as exc:
        load_policy_file(path)
    found = {(i.mark.line, i.mark.col): (i.message, i.hint) for i in exc.value.issues}
    assert found[where(BAD, "kindd:")] == ("rules.0.params.domains.0: unknown domain selector 'kindd:intranet'",
                                           "did you mean 'kind:intranet'?")
    assert found[where(BAD, '"clearance:')] == ("rules.1.params.domains.0: unknown clearance '秘' in 'clearance:秘'",
                                                "did you mean 'clearance:秘密'?")
    message, hint = found[where(BAD, 'domain: "kind:Intranet"')]  # a mapping value: at its key
    assert message == "rules.2.params.allow.0.to.domain: 'Intranet' in 'kind:Intranet' is not a domain kind"
    assert hint == "did you mean 'kind:intranet'?"
    assert found[where(BAD, '"!!trusted"')][0] == "rules.3.params.domains.0: '!!trusted' negates twice"
    assert found[where(BAD, '" "]')][0] == "rules.3.params.domains.1: an empty domain selector"
    assert len(exc.value.issues) == 5


def test_the_grammar_accepts_every_form_it_documents():
    for text in ("*", "any", "kind:intranet", "kind:gov_private", "clearance:机密", "classified", "unclassified",
                 "public", "trusted", "!kind:dmz", "! public", "政务外网"):
        assert selector_problem(text) is None, text


# -- at check time --------------------------------------------------------------------------------

PLAN = plan("""\
policies: [rules.yaml]
nodes:
  core: {role: core_router}
  ipc: {role: host, domain: intra}
  icore: {role: core_router, domain: intra}
links: [ipc -- icore]
""")


def test_a_bare_domain_name_typo_is_rejected_at_check_time(tmp_path):
    rules = """\
        rules:
          - id: N-1
            kind: physical_isolation
            params: {domains: [intra], against: [extt, kind:party_private]}
        """
    path = write(tmp_path, rules)
    net = load(tmp_path, PLAN)
    policies = resolve_policies([str(path)])  # loads: a bare name may name a domain of some plan
    with pytest.raises(PolicyError) as exc:
        check_plan(net, policies)
    (issue,) = exc.value.issues
    assert issue.mark.file == str(path) and (issue.mark.line, issue.mark.col) == where(rules, "extt")
    assert issue.message == "rule N-1: no domain 'extt' in the plan (selector 'extt')"
    assert issue.hint == "did you mean 'ext'?"


def test_a_kind_a_plan_may_declare_is_checked_against_the_plan(tmp_path):
    rules = """\
        rules:
          - id: K-1
            kind: unified_channel
            params: {domains: [kind:gov_private]}
        """
    path = write(tmp_path, rules)
    policies = resolve_policies([str(path)])
    with pytest.raises(PolicyError) as exc:
        check_plan(load(tmp_path, PLAN), policies)
    (issue,) = exc.value.issues
    assert (issue.mark.line, issue.mark.col) == where(rules, "kind:gov")
    assert issue.message == "rule K-1: no domain kind 'gov_private' is built in or declared by the plan " \
                            "(selector 'kind:gov_private')"
    assert issue.hint == "did you mean 'party_private'?"
    declared = plan("""\
domain_kinds: {gov_private: {like: intranet}}
nodes:
  a: {role: host, domain: gp, site: 县A}
  b: {role: core_router, domain: gp}
links: [a -- b]
""").replace("domains:\n", "domains:\n  gp: {kind: gov_private, pool: 10.99.0.0/16}\n", 1)
    (run,) = check_plan(load(tmp_path, declared, "declared.yaml"), policies)
    assert [(r.rule.id, r.status) for r in run.results] == [("K-1", "pass")]


def test_a_well_formed_selector_that_matches_nothing_makes_the_rule_not_applicable(tmp_path):
    path = write(tmp_path, """\
        rules:
          - {id: P-1, kind: physical_isolation, params: {domains: [kind:party_private], against: ["*"]}}
        """)
    (run,) = check_plan(load(tmp_path, PLAN), resolve_policies([str(path)]))
    (result,) = run.results
    assert result.status == "not_applicable"
    assert result.message == "the plan has no network matching kind:party_private"


# -- finding selectors generically ------------------------------------------------------------------

EXPECTED_SELECTORS = {  # the domain selectors of each kind's parameters, with nothing but what is required given
    "physical_isolation": ({"domains": ["a"], "against": ["b"], "one_way": [{"from": "c", "to": "d"}]},
                           [("domains", 0), ("against", 0), ("one_way", 0, "from"), ("one_way", 0, "to")]),
    "logical_isolation": ({"from": ["a"], "to": ["b"], "allow": [{"to": {"domain": "c"}, "from": {"domain": "d"}}]},
                          [("from", 0), ("to", 0), ("allow", 0, "to", "domain"), ("allow", 0, "from", "domain")]),
    "coverage": ({}, [("domains", 0)]),
    "encrypted_over": ({}, [("domains", 0), ("untrusted", 0)]),
    "classification": ({}, [("domains", 0), ("public", 0)]),
    "default_deny": ({}, [("domains", 0)]),
    "unified_channel": ({}, [("domains", 0)]),
    "vrf_separation": ({}, [("domains", 0)]),
    "zone_addressing": ({}, [("domains", 0)]),
    "zone_placement": ({"important": [{"domain": "x"}]}, [("important", 0, "domain"), ("untrusted", 0),
                                                          ("edge_domains", 0)]),
    "capacity": ({}, []),
    "latency": ({}, []),
    "redundancy": ({}, []),
    "delivery": ({}, []),
    "approval": ({}, [("fail_into", 0), ("fail_into", 1)]),
}


def test_every_domain_selector_parameter_is_found_by_its_type():
    assert set(EXPECTED_SELECTORS) == set(RULE_PARAMS)
    for kind, (params, paths) in EXPECTED_SELECTORS.items():
        found = [path for path, _ in selector_values(RULE_PARAMS[kind].model_validate(params))]
        assert found == paths, kind


# -- matching -------------------------------------------------------------------------------------

def test_kind_matches_a_declared_kind_and_the_built_in_kind_it_takes():
    gp = Domain("专网", "gov_private", None, 0, True, None, base_kind="intranet")
    assert domain_matches(gp, "kind:gov_private") and domain_matches(gp, "kind:intranet")
    assert not domain_matches(gp, "kind:extranet") and domain_matches(gp, "!kind:extranet")
    assert not is_public(gp) and domain_matches(gp, "trusted")
    carrier = Domain("运营商", "carrier", None, 0, True, None, base_kind="internet")
    untrusted = Domain("外部", "partner", None, 0, False, None, base_kind="extranet")
    assert is_public(carrier) and is_public(untrusted) and domain_matches(untrusted, "public")
    plain = Domain("外网", "extranet", None, 0, True, None)
    assert plain.base_kind == "extranet"


def test_select_domains_with_exclusions(tmp_path):
    net = load(tmp_path, plan("nodes: {a: {role: host}}\n"))
    assert select_domains(net, ["trusted", "!kind:dmz"]) == ["intra", "ext"]
    assert select_domains(net, ["!kind:dmz"]) == ["intra", "ext", "inet"]
