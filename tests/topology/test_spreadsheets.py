"""Spreadsheets: the address plan and device list of a network, and plans imported from node and link sheets.

The round trip is judged against the original model (its nodes and links as
loaded), never against the exported rows; the address plan against a count
of the model's addresses made here.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from functools import cache

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import SCENARIOS
from topology import load_plan
from topology.errors import Mark, PlanError
from topology.importers import ImporterError, ImportOptions, dump_plan, import_bytes
from topology.loader import load_text
from topology.model import Network
from topology.spreadsheets import (
    Table,
    address_plan,
    csv_bytes,
    device_workbook,
    devices,
    xlsx_bytes,
)
from topology.vocabulary import ROLES


@cache
def chuxiong() -> Network:
    return load_plan(SCENARIOS / "chuxiong" / "plan.yaml")


def reimport(data: bytes, file: str) -> Network:
    return load_text(dump_plan(import_bytes(data, file)))


def assert_same_network(original: Network, imported: Network) -> None:
    """The imported plan has the original's nodes (name, role, domain, site) and links (ends, bandwidth)."""
    assert [(n.name, n.role, n.domain, n.site) for n in imported.nodes.values()] == \
        [(n.name, n.role, n.domain, n.site) for n in original.nodes.values()]
    assert [(l.a, l.b, l.bandwidth, l.sized) for l in imported.links.values()] == \
        [(l.a, l.b, l.bandwidth, l.sized) for l in original.links.values()]


def model_addresses(net: Network) -> Counter:
    """Every address of the model as (node, address text), counted from the nodes themselves."""
    found: Counter = Counter()
    for node in net.nodes.values():
        if node.loopback is not None:
            found[(node.name, str(node.loopback))] += 1
        if node.lan is not None:
            found[(node.name, str(node.lan))] += 1
        for iface in node.interfaces.values():
            if iface.address is not None:
                found[(node.name, str(iface.address))] += 1
    return found


def plan_addresses(table: Table) -> Counter:
    keys = [c.key for c in table.columns]
    node, address = keys.index("node"), keys.index("address")
    return Counter((row[node], row[address]) for row in table.rows)


def typed_csv(tables: list[Table]) -> bytes:
    """The tables as one CSV with a 类型 (type) column, the way a CSV gives nodes and links together."""
    kinds = {"nodes": "node", "links": "link", "sites": "site", "domains": "domain"}
    headers: list[str] = []
    for table in tables:
        headers += [h for h in table.headers if h not in headers]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["类型 (type)", *headers])
    for table in tables:
        for row in table.rows:
            cells = dict(zip(table.headers, row))
            writer.writerow([kinds[table.key], *("" if cells.get(h) is None else cells[h] for h in headers)])
    return out.getvalue().encode()


# the round trip -----------------------------------------------------------------------------------------------------


def test_chuxiong_round_trip_through_a_workbook() -> None:
    net = chuxiong()
    imported = reimport(xlsx_bytes(device_workbook(net)), "设备清单.xlsx")
    assert_same_network(net, imported)
    # the sites and domains sheets keep the hierarchy and the kinds, the loopbacks column the addresses
    assert {s.name: (s.level, s.parent) for s in imported.sites.values()} == \
        {s.name: (s.level, s.parent) for s in net.sites.values()}
    assert {d.name: (d.kind, d.pool) for d in imported.domains.values()} == \
        {d.name: (d.kind, d.pool) for d in net.domains.values()}
    assert {n.name: n.loopback for n in imported.nodes.values()} == {n.name: n.loopback for n in net.nodes.values()}


def test_chuxiong_round_trip_through_one_csv() -> None:
    net = chuxiong()
    assert_same_network(net, reimport(typed_csv(device_workbook(net)), "plan.csv"))


def test_a_nodes_csv_alone_is_a_plan_without_links() -> None:
    net = chuxiong()
    imported = reimport(csv_bytes(devices(net), bom=True), "devices.csv")
    assert [(n.name, n.role, n.domain, n.site) for n in imported.nodes.values()] == \
        [(n.name, n.role, n.domain, n.site) for n in net.nodes.values()]
    assert not imported.links
    # no domains sheet: the kinds come from the names, and each domain's pool from its loopbacks
    assert {d.name: d.kind for d in imported.domains.values()} == {d.name: d.kind for d in net.domains.values()}
    assert {n.name: n.loopback for n in imported.nodes.values()} == {n.name: n.loopback for n in net.nodes.values()}


NAME = st.text(st.sampled_from("甲乙丙丁戊己庚辛abcXYZ019=-_."), min_size=1, max_size=6)
BANDWIDTHS = ("2M", "100M", "155M", "622M", "1G", "2.5G", "10G")


@st.composite
def small_plans(draw) -> str:
    """A small plan: a province, prefectures and counties, nodes of every role but the one-way gateway, links."""
    names = draw(st.lists(NAME, min_size=1, max_size=10, unique=True))
    counties = draw(st.lists(st.integers(0, 2), min_size=1, max_size=3))
    sites = ["省"] + [f"州{p}" for p in range(len(counties))] + \
        [f"县{p}_{c}" for p, n in enumerate(counties) for c in range(n)]
    tree = {"省": {"level": "province", "children": {
        f"州{p}": {"children": {f"县{p}_{c}": {} for c in range(n)}} for p, n in enumerate(counties)}}}
    domains = {"政务外网": {"kind": "extranet", "pool": "10.53.0.0/16"},
               "政务内网": {"kind": "intranet", "pool": "10.153.0.0/16"},
               "互联网": {"kind": "internet", "pool": "198.51.100.0/24"}}
    roles = [r for r in ROLES if r != "one_way_gateway"]
    nodes = {n: {"role": draw(st.sampled_from(roles)), "domain": draw(st.sampled_from(sorted(domains))),
                 "site": draw(st.sampled_from(sites))} for n in names}
    pairs = st.tuples(st.sampled_from(names), st.sampled_from(names)).filter(lambda p: p[0] != p[1])
    links = [{"a": a, "b": b, "bandwidth": draw(st.sampled_from(BANDWIDTHS))}
             for a, b in draw(st.lists(pairs, max_size=12))] if len(names) > 1 else []
    return dump_plan({"name": "gen", "domains": domains, "sites": tree, "nodes": nodes, "links": links})


@settings(max_examples=30)
@given(small_plans())
def test_generated_plans_round_trip(text: str) -> None:
    net = load_text(text)
    tables = device_workbook(net)
    assert_same_network(net, reimport(xlsx_bytes(tables), "gen.xlsx"))
    assert_same_network(net, reimport(typed_csv(tables), "gen.csv"))
    assert plan_addresses(address_plan(net)) == model_addresses(net)


# the address plan ---------------------------------------------------------------------------------------------------


def test_every_address_of_chuxiong_is_in_the_address_plan_once() -> None:
    net = chuxiong()
    table = address_plan(net)
    expected = model_addresses(net)
    assert sum(expected.values()) == len(table.rows)
    assert plan_addresses(table) == expected
    assert all(n == 1 for n in expected.values())


def test_address_plan_rows() -> None:
    net = load_text("""
name: demo
domains: {外网: {kind: extranet, pool: 10.1.0.0/16}, 互联网: {kind: internet, pool: 203.0.113.0/24}}
sites: {州: {level: prefecture}}
phases: {一期: {}, 二期: {}}
nodes:
  a: {role: core_router, domain: 外网, site: 州, lan: 10.1.9.0/24}
  isp: {role: cloud, domain: 互联网, site: 州}
links: [{a: a, b: isp, domain: 互联网, phase: 二期, bandwidth: 100M}]
""")
    rows = [dict(zip([c.key for c in address_plan(net).columns], r)) for r in address_plan(net).rows]
    assert [(r["node"], r["interface"], r["domain"], r["phase"]) for r in rows] == [
        ("a", "loopback", "外网", "一期"), ("a", "LAN", "外网", "一期"), ("a", "e0", "互联网", "二期"),
        ("isp", "loopback", "互联网", "一期"), ("isp", "e0", "互联网", "二期")]
    link_row = rows[2]
    assert (link_row["address"], link_row["prefix"], link_row["link"]) == ("203.0.113.0/31", "203.0.113.0/31", "a--isp")
    assert address_plan(net).headers[0] == "安全域 (domain)"


# the same bytes -----------------------------------------------------------------------------------------------------


def test_exports_are_byte_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    net = chuxiong()
    first = xlsx_bytes(device_workbook(net))
    assert xlsx_bytes(device_workbook(load_plan(SCENARIOS / "chuxiong" / "plan.yaml"))) == first
    assert csv_bytes(address_plan(net)) == csv_bytes(address_plan(chuxiong()))
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2  # created and modified
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    dated = xlsx_bytes([address_plan(net)])
    assert dated == xlsx_bytes([address_plan(net)])
    book = openpyxl.load_workbook(io.BytesIO(dated))
    assert book.properties.created.year == book.properties.modified.year == 2026
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert xlsx_bytes([address_plan(net)]) != dated


def test_a_name_like_a_formula_stays_text() -> None:
    net = load_text("""
name: demo
domains: {外网: {kind: extranet}}
sites: {州: {level: prefecture}}
nodes: {"=1+1": {role: router, domain: 外网, site: 州}}
""")
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(device_workbook(net))))
    assert book["节点"]["A2"].value == "=1+1" and book["节点"]["A2"].data_type == "s"


# bad spreadsheets ---------------------------------------------------------------------------------------------------

NODES = [["名称 (name)", "角色 (role)", "安全域 (domain)", "站点 (site)"],
         ["州核心", "core_router", "政务外网", "楚雄州"],
         ["县核心", "router", "政务外网", "楚雄州"]]
LINKS = [["a", "b", "bandwidth"], ["州核心", "县核心", "100M"]]


def workbook(nodes: list[list], links: list[list], node_sheet: str = "节点", link_sheet: str = "链路") -> bytes:
    book = openpyxl.Workbook()
    book.active.title = node_sheet
    for row in nodes:
        book.active.append(row)
    sheet = book.create_sheet(link_sheet)
    for row in links:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def errors(data: bytes, file: str = "bad.xlsx") -> list[tuple[Mark, str]]:
    with pytest.raises(PlanError) as caught:
        import_bytes(data, file)
    return [(i.mark, i.message) for i in caught.value.issues]


def test_a_good_workbook_imports() -> None:
    plan = import_bytes(workbook(NODES, LINKS, "nodes", "links"), "ok.xlsx")
    assert plan["links"] == [{"a": "州核心", "b": "县核心", "bandwidth": "100M"}]
    net = load_text(dump_plan(plan))
    assert net.domains["政务外网"].kind == "extranet" and net.links["州核心--县核心"].bandwidth == 100e6


def test_a_missing_column_is_named_at_the_header_row() -> None:
    nodes = [[cell for i, cell in enumerate(row) if i != 1] for row in NODES]  # no role column
    assert errors(workbook(nodes, LINKS)) == [(Mark("bad.xlsx[节点]", 1, 4), "no column 角色 (role)")]


def test_every_bad_cell_is_named_by_sheet_row_and_column_at_once() -> None:
    nodes = [*NODES, ["乡镇", "rooter", "政务外网", "楚雄州"]]
    links = [*LINKS, ["州核心", "省核心", "1G"], ["州核心", "乡镇", "fast"]]
    found = errors(workbook(nodes, links))
    assert [m for m, _ in found] == [Mark("bad.xlsx[节点]", 4, 2), Mark("bad.xlsx[链路]", 3, 2),
                                     Mark("bad.xlsx[链路]", 4, 3)]
    messages = [text for _, text in found]
    assert "unknown role 'rooter'" in messages[0]
    assert "'省核心'" in messages[1] and "not in the 节点 (nodes) sheet" in messages[1]
    assert "'fast' is not a bandwidth" in messages[2]
    assert str(found[0][0]) == "bad.xlsx[节点]:4:2"


def test_a_csv_names_row_and_column() -> None:
    data = ("类型 (type),名称 (name),角色 (role),安全域 (domain),站点 (site),a,b,带宽 (bandwidth)\n"
            "node,州核心,core_router,政务外网,楚雄州,,,\n"
            "link,,,,,州核心,县核心,10G\n").encode("gb18030")  # as Excel saves a Chinese CSV on Windows
    assert errors(data, "plan.csv") == [(Mark("plan.csv", 3, 7),
                                         "link end '县核心' is not in the node rows")]


def test_what_the_cells_say_wrongly_together_is_blamed_on_the_cells() -> None:
    nodes = [*NODES, ["网闸", "one_way_gateway", "政务外网", "楚雄州"]]
    found = errors(workbook(nodes, LINKS))
    assert [m for m, _ in found] == [Mark("bad.xlsx[节点]", 4, 1)]
    assert "does not say its direction" in found[0][1]


def test_duplicates_and_empty_cells() -> None:
    nodes = [*NODES, ["州核心", "router", "政务外网", "楚雄州"], ["乡镇", None, "政务外网", "楚雄州"]]
    found = errors(workbook(nodes, LINKS))
    assert [(m.line, m.col) for m, _ in found] == [(4, 1), (5, 2)]
    assert "named twice" in found[0][1] and "role cell is empty" in found[1][1]


def test_a_workbook_without_the_sheets_is_refused() -> None:
    with pytest.raises(ImporterError, match="no sheet named 链路"):
        import_bytes(workbook(NODES, LINKS, link_sheet="Sheet2"), "x.xlsx")
    with pytest.raises(ImporterError, match="cannot read"):
        import_bytes(b"PK\x03\x04 not a zip", "x.xlsx")
    with pytest.raises(ImporterError, match="apply to SNDlib"):
        import_bytes(workbook(NODES, LINKS), "x.xlsx", options=ImportOptions(unit="Mbit/s"))


def test_a_header_below_a_title_row_and_numeric_cells() -> None:
    nodes = [["设备清单"], *NODES]
    links = [["a", "b", "bandwidth", "latency"], ["州核心", "县核心", 155_000_000, 2]]
    plan = import_bytes(workbook(nodes, links), "x.xlsx")
    assert plan["links"] == [{"a": "州核心", "b": "县核心", "bandwidth": "155M", "latency": "2ms"}]
    nodes[3][1] = "switchh"
    assert errors(workbook(nodes, links)) == [(Mark("bad.xlsx[节点]", 4, 2), "unknown role 'switchh'")]
