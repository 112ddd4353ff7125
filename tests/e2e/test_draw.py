"""``govnet draw``: PNG, SVG and PDF pictures of a plan, filters, and the errors a user can make."""

from __future__ import annotations

import re
import time
import warnings

import pytest
from click.testing import CliRunner

from govnet.cli import cli
from tests.helpers import run_cli, write_plan
from topology import load_plan
from topology.cjk_font import CjkFontWarning, cjk_font_families
from topology.draw import DrawError, draw_network, output_format

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

PLAN = """\
name: draw
title: 楚雄州测试网
domains:
  ext: {kind: extranet, title: 政务外网, pool: 10.53.0.0/16}
  inet: {kind: internet, pool: 203.0.113.0/24}
sites:
  云南省:
    children:
      楚雄州:
        children:
          双柏县: {generate: {count: 3}}
phases: {一期: {start: 2005-01}, 二期: {}}
defaults:
  node: {domain: ext}
  link: {bandwidth: 100M}
level_templates:
  county: [county]
  township: [town]
templates:
  county:
    nodes: {"{site}核心": {role: core_router}}
    links: [{a: "{site}核心", b: "{prefecture}核心", medium: leased_fibre, bandwidth: 1G}]
    stars: [{core: "{site}核心", count: 3, name: "{site}部门{i:02d}"}]
  town:
    nodes: {"{site}核心": {role: router}}
    links: [{a: "{site}核心", b: "{county}核心", medium: leased_fibre, bandwidth: 10M}]
nodes:
  楚雄州核心: {role: core_router, site: 楚雄州}
  fw: {role: firewall, site: 楚雄州}
  isp: {role: cloud, site: 楚雄州, domain: inet}
  州二期单位: {role: host, site: 楚雄州, phase: 二期}
links:
  - 楚雄州核心 -- fw
  - {a: fw, b: isp, medium: internet, phase: 二期}
  - {a: 州二期单位, b: 楚雄州核心, medium: leased_fibre, phase: 二期}
aggregations:
  - {name: 汇聚1, core: 楚雄州核心, members: [州财政局, 州粮食局], site: 楚雄州}
"""


@pytest.fixture()
def plan(tmp_path):
    return write_plan(tmp_path, PLAN)


def draw(*args: object):
    return CliRunner().invoke(cli, ["draw", *map(str, args)])


def labels(svg: bytes) -> set[str]:
    """Names of the nodes labelled in an SVG drawing (each label is a group with id ``label-NAME``)."""
    return set(re.findall(r'id="label-([^"]+)"', svg.decode("utf-8")))


def test_png_end_to_end(plan, tmp_path):
    out = tmp_path / "net.png"
    result = run_cli("draw", plan, "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".pdf", b"%PDF"), (".PNG", PNG_MAGIC)])
def test_each_format_from_the_suffix(plan, tmp_path, suffix, magic):
    out = tmp_path / f"net{suffix}"
    result = draw(plan, "-o", out)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(magic) if magic != b"<svg" else magic in data


def test_bad_suffix_exits_2_and_writes_nothing(plan, tmp_path):
    out = tmp_path / "net.jpg"
    result = run_cli("draw", plan, "-o", out)
    assert result.returncode == 2
    assert "'.jpg' is not a drawing format" in result.stderr and ".png, .svg, .pdf" in result.stderr
    assert list(tmp_path.iterdir()) == [plan]


def test_unknown_domain_lists_the_domains(plan, tmp_path):
    result = draw(plan, "-o", tmp_path / "net.png", "--domain", "intra")
    assert result.exit_code == 2
    assert "no domain 'intra'" in result.output and "ext, inet" in result.output
    assert not (tmp_path / "net.png").exists()


def test_unknown_phase_exits_2(plan, tmp_path):
    result = draw(plan, "-o", tmp_path / "net.png", "--phase", "三期")
    assert result.exit_code == 2 and "phases: 一期, 二期" in result.output


def test_all_labels_on_a_small_plan(plan, tmp_path):
    out = tmp_path / "net.svg"
    assert draw(plan, "-o", out).exit_code == 0
    assert labels(out.read_bytes()) == set(load_plan(plan).nodes)


def test_domain_filter_keeps_only_that_domain(plan, tmp_path):
    out = tmp_path / "ext.svg"
    assert draw(plan, "-o", out, "--domain", "ext").exit_code == 0
    net = load_plan(plan)
    assert labels(out.read_bytes()) == {n for n, v in net.nodes.items() if v.domain == "ext"}
    assert "isp" not in labels(out.read_bytes())


def test_phase_filter_drops_later_nodes(plan, tmp_path):
    out = tmp_path / "p1.svg"
    assert draw(plan, "-o", out, "--phase", "一期").exit_code == 0
    drawn = labels(out.read_bytes())
    assert "州二期单位" not in drawn and "楚雄州核心" in drawn


def test_drawing_is_deterministic(plan):
    net = load_plan(plan)
    for fmt in ("png", "svg", "pdf"):
        assert draw_network(net, fmt) == draw_network(load_plan(plan), fmt), fmt


def test_link_values_draw_a_colour_scale(plan):
    net = load_plan(plan)
    plain = draw_network(net, "svg")
    valued = draw_network(net, "svg", link_values={name: i / 4 for i, name in enumerate(net.links)})
    assert valued != plain and valued.startswith(b"<?xml")


def test_output_format_and_draw_errors(plan):
    assert output_format("a/b.Svg") == "svg"
    with pytest.raises(DrawError, match="no suffix"):
        output_format("picture")
    with pytest.raises(DrawError, match="domains: ext, inet"):
        draw_network(load_plan(plan), "png", domain="nope")


def test_a_cjk_font_is_found():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CjkFontWarning)
        families = cjk_font_families()
    assert families[0] != "DejaVu Sans"


def test_without_a_cjk_font_it_warns_and_draws_anyway(plan, monkeypatch):
    from topology import cjk_font

    monkeypatch.setattr(cjk_font, "PACKAGED_FONTS", (("no_such_font_package", "sans_path"),))
    monkeypatch.setattr(cjk_font, "KNOWN_FAMILIES", ())
    monkeypatch.setattr(cjk_font, "_has_glyph", lambda path: False)
    cjk_font.cjk_font_families.cache_clear()
    try:
        with pytest.warns(CjkFontWarning, match="Chinese labels may render as boxes"):
            png = draw_network(load_plan(plan), "png")
    finally:
        cjk_font.cjk_font_families.cache_clear()
    assert png.startswith(PNG_MAGIC)


def ten_thousand_node_plan() -> str:
    """16 prefectures, 129 counties, 1,419 townships: about 10,000 nodes."""
    lines = ["name: big", "domains: {ext: {kind: extranet, pool: 10.0.0.0/8}}", "sites:", "  云南省:", "    children:"]
    county = 0
    for p in range(16):
        lines += [f"      州{p:02d}:", "        children:"]
        for _ in range(9 if p == 15 else 8):
            lines.append(f"          县{county:03d}: {{generate: {{count: 11}}}}")
            county += 1
    lines += [
        "defaults: {node: {domain: ext}, link: {bandwidth: 100M}}",
        "level_templates: {prefecture: [pref], county: [county], township: [town]}",
        "templates:",
        "  pref: {nodes: {'{site}核心': {role: core_router}}, links: ['{site}核心 -- 省核心'],"
        " stars: [{core: '{site}核心', count: 30}]}",
        "  county: {nodes: {'{site}核心': {role: core_router}}, links: ['{site}核心 -- {prefecture}核心'],"
        " stars: [{core: '{site}核心', count: 20}]}",
        "  town: {nodes: {'{site}核心': {role: router}}, links: ['{site}核心 -- {county}核心'],"
        " stars: [{core: '{site}核心', count: 4}]}",
        "nodes: {省核心: {role: core_router, site: 云南省}}",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_a_ten_thousand_node_plan_draws_in_seconds(tmp_path):
    net = load_plan(write_plan(tmp_path, ten_thousand_node_plan()))
    assert len(net.nodes) > 9500
    start = time.perf_counter()
    png = draw_network(net, "png")
    elapsed = time.perf_counter() - start
    assert png.startswith(PNG_MAGIC)
    assert elapsed < 60, f"drawing {len(net.nodes)} nodes took {elapsed:.1f} s"
