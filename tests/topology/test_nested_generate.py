"""Nested ``generate:`` of sites, checked against the same plan with every site written out by hand."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import write_plan
from topology import PlanError, load_plan

from .test_expand_properties import HEAD as EXPANSION_HEAD

HEAD = EXPANSION_HEAD + "sites:\n  省:\n"  # a province whose sites are generated below


def nested_text(counts: list[int], units: int) -> str:
    """The province with ``counts`` = [prefectures, counties per prefecture, townships per county] generated."""
    names = ["{parent}州{i}", "{prefecture}县{i}", "{county}镇{i:02d}"]
    spec = ""
    for count, name in reversed(list(zip(counts, names))):
        inner = f", generate: {spec}" if spec else ""
        spec = f'{{count: {count}, name: "{name}"{inner}}}'
    return HEAD % {"units": units} + f"    generate: {spec}\n"


def written_out_text(counts: list[int], units: int) -> str:
    """The same province with every site under ``children``, named as the patterns name them (the oracle)."""
    lines = [HEAD % {"units": units} + "    children:"]

    def below(parent: str, depth: int, indent: str) -> None:
        if depth == len(counts):
            return
        for i in range(1, counts[depth] + 1):
            name = (f"{parent}州{i}", f"{parent}县{i}", f"{parent}镇{i:02d}")[depth]
            if depth + 1 < len(counts):
                lines.append(f"{indent}{name}:")
                lines.append(f"{indent}  children:")
                below(name, depth + 1, indent + "    ")
            else:
                lines.append(f"{indent}{name}: {{}}")

    below("省", 0, "      ")
    return "\n".join(lines) + "\n"


def model(net) -> tuple:
    return (
        [(s.name, s.level, s.parent, s.phase) for s in net.sites.values()],
        sorted((n.name, n.site, n.role, str(n.loopback)) for n in net.nodes.values()),
        sorted((link.a, link.b) for link in net.links.values()),
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(0, 2))
def test_nested_generate_expands_to_the_sites_written_out(tmp_path_factory, counts, units):
    folder = tmp_path_factory.mktemp("n")
    nested = load_plan(write_plan(folder, nested_text(counts, units), "nested.yaml"))
    written = load_plan(write_plan(folder, written_out_text(counts, units), "written.yaml"))
    assert model(nested) == model(written)
    expected_sites, width = 1, 1
    for count in counts:
        width *= count
        expected_sites += width
    assert len(nested.sites) == expected_sites


def test_a_nested_generate_names_its_sites_from_every_level_above(tmp_path):
    net = load_plan(write_plan(tmp_path, nested_text([2, 2, 2], 0)))
    towns = [s for s in net.sites.values() if s.level == "township"]
    assert [s.name for s in towns[:3]] == ["省州1县1镇01", "省州1县1镇02", "省州1县2镇01"]
    assert all(net.sites[net.sites[t.parent].parent].level == "prefecture" for t in towns)


def test_a_nested_generate_past_the_site_limit_is_refused_at_its_count(tmp_path):
    path = write_plan(tmp_path, "limits: {sites: 500}\n" + nested_text([10, 10, 10], 0))
    try:
        load_plan(path)
    except PlanError as exc:
        text = str(exc)
    else:
        raise AssertionError("a plan of 1,111 sites loaded under a limit of 500")
    assert "more than 500 sites" in text and "plan.yaml:16:" in text


def test_generated_sites_must_sit_below_their_parent(tmp_path):
    text = HEAD % {"units": 0} + '    generate: {count: 2, name: "{parent}州{i}", generate: {count: 2, level: province}}\n'
    try:
        load_plan(write_plan(tmp_path, text))
    except PlanError as exc:
        message = str(exc)
    else:
        raise AssertionError("provinces generated below a prefecture were accepted")
    assert "cannot be of level province" in message and "plan.yaml:15:" in message
