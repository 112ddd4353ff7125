"""The sign-off report's content, without a browser: what each section says, byte-identical output, nothing fetched."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from policies.html import ReportOptions, render_html, report_data
from policies.html.capacity import chart
from policies.html.font import font_data_url
from policies.html.network_map import coordinates, map_data
from policies.loader import select_policies
from tests.helpers import REPO
from topology import load_plan

from .common import load, plan

EPOCH = "1767225600"  # 2026-01-01


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


@pytest.fixture(scope="module")
def firewall_hole():
    net = load_plan(REPO / "scenarios/chuxiong/faults/firewall-hole.yaml")
    with pytest.MonkeyPatch.context() as m:
        m.setenv("SOURCE_DATE_EPOCH", EPOCH)
        data = report_data(net, select_policies(net), ReportOptions(lang="zh", version="9.9"))
        html = render_html(data)
    return net, data, html


def test_the_sign_off_page_names_every_file_with_its_hash_and_every_verdict(firewall_hole):
    net, data, html = firewall_hole
    assert data["plan"]["name"] == net.name and data["version"] == "9.9" and data["date"] == "2026-01-01"
    files = {f["file"]: f["sha256"] for f in data["files"]}
    assert len(files) == len(net.sources)
    for source in net.sources:
        digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        assert digest in files.values() and digest in html
    assert data["phases"] == ["一期", "二期"]
    li1 = next(r for r in data["verdicts"] if r["id"] == "EGOV-LI-1")
    assert [c["status"] for c in li1["cells"]] == ["fail", "fail"] and li1["title"] == "互联网只能访问公开服务"
    pi1 = next(r for r in data["verdicts"] if r["id"] == "EGOV-PI-1")
    assert pi1["cells"][0]["status"] == "not_applicable" and "party_private" in pi1["cells"][0]["message"]
    assert data["conclusion"] == "fail"
    assert data["assumptions"] == list(net.assumptions) and net.assumptions[0] in html
    for word in ("审核人", "单位", "日期", "签字", "审核结论", "不适用", "已豁免"):
        assert word in html
    assert data["tree"] is not None and len(data["tree"]["commit"]) == 40  # the repository is a git work tree


def test_waivers_show_reason_approver_expiry_and_the_findings_they_cover(firewall_hole):
    _, data, html = firewall_hole
    assert data["waivers"], "the Chuxiong plan records waivers"
    w = data["waivers"][0]
    assert w["approver"] and w["reason"] and w["expires"] and w["checked"]
    assert w["findings"] and w["findings"][0]["status"] == "waived" and w["findings"][0]["findings"]
    assert w["reason"] in html and w["expires"] in html


def test_a_failure_carries_its_path_hops_packet_pcap_line_and_fix(firewall_hole):
    from scapy.utils import rdpcap

    _, data, _ = firewall_hole
    li1 = next(f for f in data["findings"] if f["id"] == "EGOV-LI-1")
    ev = li1["drawn"][0]
    assert [n["name"] for n in ev["figure"]["nodes"]] == [h["node"] for h in ev["hops"]]
    assert ev["figure"]["edges"][0]["cross"]  # 互联网 — firewall: where the networks meet
    assert ev["packet"].startswith("tcp ") and ev["packet"].endswith(":3389")
    decided = [h for h in ev["hops"] if h["rule"]]
    assert decided[0]["rule"] == "防火墙-互联网侧入 #5 permit"
    assert decided[0]["rule_source"]["where"] == "scenarios/chuxiong/faults/firewall-hole.yaml:33:7"
    assert "dport: 3389" in decided[0]["rule_source"]["text"]
    packets = rdpcap(io.BytesIO(base64.b64decode(ev["pcap"]["href"].split(",", 1)[1])))
    assert len(packets) == len(ev["hops"])
    assert li1["fix"].startswith("把放行这些数据包的防火墙规则")


def test_crossings_list_device_rule_line_and_approval_state(firewall_hole):
    _, data, _ = firewall_hole
    hole = [c for c in data["crossings"] if any(ctl["ref"] == "防火墙-互联网侧入#5" for ctl in c["controls"])]
    assert hole and hole[0]["from_domain"] == "互联网" and hole[0]["state"] == "unapproved"
    assert hole[0]["controls"][0]["sources"][0]["where"].startswith("scenarios/chuxiong/faults/firewall-hole.yaml:33")
    assert hole[0]["phases"] == ["一期", "二期"]
    assert all(c["classes"] and c["class_count"] >= len(c["classes"]) for c in data["crossings"])


def test_the_page_is_self_contained_and_byte_identical(firewall_hole):
    net, _, html = firewall_hole
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html)
    assert "@font-face" in html and "data:font/woff;base64," in html
    again = render_html(report_data(net, select_policies(net), ReportOptions(lang="zh", version="9.9")))
    assert again == html


def test_english_on_request(tmp_path):
    net = load_plan(REPO / "scenarios/civil-affairs/plan.yaml")
    html = render_html(report_data(net, select_policies(net), ReportOptions(lang="en")))
    assert '<html lang="en">' in html and "Review conclusion" in html and "审核结论" not in html
    assert "Every crossing into the intranet approved" in html
    assert "approved by 市政府应急办, 规划假设-专网接入审批-001, 2024-01-01" in html


def test_the_embedded_font_has_the_page_s_characters_and_is_deterministic():
    url = font_data_url("审核结论 楚雄州")
    assert url == font_data_url("楚雄州 审核结论")
    font = TTFont(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "审核结论楚雄州A1%")
    assert len(cmap) < 200  # cut down, not the whole font


def test_the_map_data_covers_every_node_and_collapses_a_province(tmp_path):
    net = load_plan(REPO / "scenarios/yunnan/plan.yaml")
    data = map_data(net)
    assert len(data["nodes"]) == len(net.nodes) and len(data["links"]) == len(net.links)
    assert len(data["sites"]) == len(net.sites)
    assert data["collapse"] == 1  # the province open, the 16 prefectures as bubbles
    depths = [s[6] for s in data["sites"]]
    assert depths == sorted(depths)  # parents before children, as the page's script needs
    assert not data["geo"]


def test_imported_coordinates_lay_the_map_out(tmp_path):
    net = load(tmp_path, plan("""\
nodes:
  a: {role: router, tags: [lat=40.0, lon=116.4]}
  b: {role: router, tags: [lat=31.2, lon=121.5]}
  c: {role: router}
links: [a -- b, b -- c]
"""))
    where = coordinates(net)
    assert where is not None and where["a"][0] < where["b"][0] and where["a"][1] > where["b"][1]
    assert map_data(net)["geo"] is True


def test_the_capacity_chart_draws_hot_links_widest_and_marks_them():
    c = chart([{"link": "hot", "peak": 0.58, "worst": 0.9}, {"link": "cool", "peak": 0.1, "worst": 0.2}],
              0.5, 0.7, 1.0)
    hot, cool = c["bars"]
    assert hot["worst_w"] > cool["worst_w"] and hot["hot"] and not cool["hot"]


def test_capacity_section_names_the_failure_behind_each_worst_case(firewall_hole):
    from policies.html.capacity import capacity_section
    from policies.registry import Context

    _, data, html = firewall_hole
    cap = data["capacity"]
    assert cap["rows"] and cap["cases"] > 0
    assert f"{cap['rows'][0]['worst'] * 100:.0f} %" in html
    # Chuxiong is a tree: a failure cuts traffic off, it never adds to a link; Yunnan's prefectures have two lines
    yunnan = capacity_section(load_plan(REPO / "scenarios/yunnan/plan.yaml"), (), Context())
    assert yunnan is not None
    worsts = [r["worst"] for r in yunnan["rows"]]
    assert worsts == sorted(worsts, reverse=True)
    raised = [r for r in yunnan["rows"] if r["worst"] > r["peak"]]
    assert raised and all(r["failure"] for r in raised)  # each worst case above the peak names its failure


def test_the_utilisation_picture_draws_the_busiest_link_widest_with_its_percentage(tmp_path):
    from topology.draw import draw_network

    net = load(tmp_path, plan("""\
nodes:
  a: {role: core_router}
  b: {role: core_router, site: 县A}
  c: {role: core_router, site: 县B}
links: [a -- b, a -- c]
"""))
    svg = draw_network(net, "svg", link_values={"a--b": 0.58, "a--c": 0.05}, label_values=1).decode()
    assert 'id="value-a--b"' in svg and 'id="value-a--c"' not in svg
    widths = [float(w) for w in re.findall(r"stroke-width: ([\d.]+)", svg)]
    assert widths and max(widths) > 5 * min(w for w in widths if w > 0)
