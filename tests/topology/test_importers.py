"""``govnet import``: Topology Zoo GraphML and SNDlib native files become valid plans.

Every file of the shared real-network data (``../shared/data`` beside the
repository, or ``$GOVNET_SHARED_DATA``; see :func:`tests.helpers.shared_data`)
is imported, written, loaded with :func:`load_plan` and compared with the
source: node and link counts, link bandwidths, demands. On every Topology Zoo
file the GraphML reader reads the same graph as networkx (nodes, attributes,
edges in file order). Small inline files pin down names, defaults and errors.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from govnet.cli import cli
from tests.helpers import shared_data, shared_files
from topology import PlanError, load_plan
from topology.importers import (
    ImporterError,
    detect_format,
    dump_plan,
    import_bytes,
    import_file,
)
from topology.importers.builder import bandwidth_text
from topology.importers.graphml import read_graphml
from topology.importers.naming import clean_name, unique_names
from topology.units import parse_bandwidth

DEFAULT_BPS = 1e9


def _load(plan: dict, tmp_path: Path, name: str = "plan.yaml"):
    path = tmp_path / name
    path.write_text(dump_plan(plan), encoding="utf-8")
    return load_plan(path)


def _degrees(net) -> list[int]:
    counts: Counter[str] = Counter()
    for link in net.links.values():
        counts[link.a] += 1
        counts[link.b] += 1
    return sorted(counts[n] for n in net.nodes)


# -- every shared file ---------------------------------------------------------------

@pytest.mark.parametrize("shared_file", shared_files("topologyzoo", "*.graphml"), indirect=True)
def test_every_topology_zoo_file_imports_to_a_valid_plan(shared_file: Path, tmp_path: Path) -> None:
    path = shared_file
    graph = nx.read_graphml(path)  # an independent reader gives the expected counts
    _same_graph_as_networkx(path, graph)
    edges = [(u, v, d) for u, v, d in graph.edges(data=True) if u != v]
    net = _load(import_file(path), tmp_path)
    assert len(net.nodes) == graph.number_of_nodes()
    assert len(net.links) == len(edges)
    expected = sorted(float(d.get("LinkSpeedRaw", DEFAULT_BPS)) for _, _, d in edges)
    assert sorted(link.bandwidth for link in net.links.values()) == expected
    simple = nx.MultiGraph(graph)
    simple.remove_edges_from(list(nx.selfloop_edges(simple)))
    assert _degrees(net) == sorted(d for _, d in simple.degree())


def _same_graph_as_networkx(path: Path, graph: nx.Graph) -> None:
    """The hand-written reader (kept for positions in errors) reads what networkx reads, edges in file order."""
    mine = read_graphml(path.read_bytes(), path.name)
    assert [(n.id, n.data) for n in mine.nodes] == list(graph.nodes(data=True))
    assert [(e.source, e.target, e.data) for e in mine.edges] == list(graph.edges(data=True))
    assert mine.data == {k: v for k, v in graph.graph.items() if k not in ("node_default", "edge_default")}
    assert mine.directed == graph.is_directed()


def _section_entries(text: str, section: str) -> list[list[str]]:
    """Entries of an SNDlib section, one per line, split into words (independent of the importer)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s*{section}\s*\(", line))
    out: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.strip() == ")":
            return out
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line.replace("(", " ").replace(")", " ").split())
    raise AssertionError(f"section {section} not closed")


@pytest.mark.parametrize("shared_file", shared_files("sndlib", "*.txt"), indirect=True)
def test_every_sndlib_file_imports_to_a_valid_plan(shared_file: Path, tmp_path: Path) -> None:
    path = shared_file
    text = path.read_text(encoding="utf-8")
    nodes, links, demands = (_section_entries(text, s) for s in ("NODES", "LINKS", "DEMANDS"))
    unit = 1e9 if "GBITPERSEC" in text else 1e6
    net = _load(import_file(path), tmp_path)
    assert len(net.nodes) == len(nodes)
    assert len(net.links) == len([e for e in links if e[1] != e[2]])
    assert len(net.flows) == len(demands)
    assert sorted(f.rate for f in net.flows) == pytest.approx(sorted(float(e[4]) * unit for e in demands))
    for entry in links:
        pre, modules = float(entry[3]), [float(v) for v in entry[7::2]]
        entry_bps = (pre if pre > 0 else max(modules, default=0)) * unit or DEFAULT_BPS
        assert entry_bps in {link.bandwidth for link in net.links.values()}


def test_the_abilene_plan_carries_pre_installed_capacity_and_latency(tmp_path: Path) -> None:
    net = _load(import_file(shared_data("sndlib", "abilene.txt")), tmp_path)
    link = net.links["IPLSng--ATLAng"]
    assert link.bandwidth == 2480e6  # 2480.00 MBITPERSEC pre-installed
    assert 2.5e-3 < link.latency < 3.5e-3  # Indianapolis - Atlanta, ~700 km at 2e8 m/s
    assert net.nodes["ATLAng"].tags == ("lat=34.5", "lon=-85.5")


def test_the_same_file_gives_the_same_bytes_from_any_folder(tmp_path: Path) -> None:
    for source in (shared_data("topologyzoo", "Garr201201.graphml"), shared_data("sndlib", "nobel-eu.txt")):
        copy = tmp_path / source.name
        shutil.copyfile(source, copy)
        assert dump_plan(import_file(source)) == dump_plan(import_file(copy))


# -- Topology Zoo snippets -----------------------------------------------------------

KEYS = """<key id="l" for="node" attr.name="label" attr.type="string"/>
<key id="c" for="node" attr.name="Country" attr.type="string"/>
<key id="la" for="node" attr.name="Latitude" attr.type="double"/>
<key id="lo" for="node" attr.name="Longitude" attr.type="double"/>
<key id="in" for="node" attr.name="Internal" attr.type="int"/>
<key id="s" for="edge" attr.name="LinkSpeedRaw" attr.type="double"/>
<key id="g" for="graph" attr.name="label" attr.type="string"/>"""


def graphml(body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
            f'{KEYS}\n<graph edgedefault="undirected">\n<data key="g">Tiny</data>\n{body}\n</graph>\n</graphml>\n'
            ).encode()


def node(ident: str, label: str | None = None, lat: float | None = None, lon: float | None = None,
         country: str | None = None, internal: int | None = None) -> str:
    data = ""
    if label is not None:
        data += f'<data key="l">{label}</data>'
    if country is not None:
        data += f'<data key="c">{country}</data>'
    if lat is not None:
        data += f'<data key="la">{lat}</data><data key="lo">{lon}</data>'
    if internal is not None:
        data += f'<data key="in">{internal}</data>'
    return f'<node id="{ident}">{data}</node>'


def edge(a: str, b: str, speed: str | None = None) -> str:
    data = f'<data key="s">{speed}</data>' if speed is not None else ""
    return f'<edge source="{a}" target="{b}">{data}</edge>'


def zoo(body: str, tmp_path: Path, **kw):
    plan = import_bytes(graphml(body), "tiny.graphml", **kw)
    return plan, _load(plan, tmp_path)


def test_repeated_and_empty_labels_get_unique_names_and_keep_the_label(tmp_path: Path) -> None:
    body = "\n".join([node("0", "London"), node("1", "Paris"), node("2", "London"), node("3", ""), node("4", "a: {b}"),
                      edge("0", "1"), edge("2", "1"), edge("3", "4")])
    plan, net = zoo(body, tmp_path)
    assert list(net.nodes) == ["London (0)", "Paris", "London (2)", "node 3", "a - (b)"]
    assert net.nodes["London (2)"].title == "London"
    assert net.nodes["Paris"].title is None
    assert any("label (GraphML id)" in a for a in plan["assumptions"])


def test_missing_speeds_take_the_default_and_say_so(tmp_path: Path) -> None:
    body = "\n".join([node("a", "A"), node("b", "B"), node("c", "C"), edge("a", "b", "155520000"), edge("b", "c")])
    plan, net = zoo(body, tmp_path)
    assert net.links["A--B"].bandwidth == 155520000
    assert net.links["B--C"].bandwidth == DEFAULT_BPS
    assert "1 of 2 links give no LinkSpeedRaw; they take the default bandwidth 1G." in plan["assumptions"]


def test_parallel_edges_are_kept_and_self_loops_dropped(tmp_path: Path) -> None:
    body = "\n".join([node("a", "A"), node("b", "B"), edge("a", "b", "1e9"), edge("a", "b", "1e10"), edge("a", "a")])
    plan, net = zoo(body, tmp_path)
    assert sorted(net.links) == ["A--B", "A--B #2"]
    assert net.links["A--B #2"].bandwidth == 10e9
    assert any("1 self-loop edges" in a and "dropped" in a for a in plan["assumptions"])


def test_coordinates_give_latency_tags_and_country_sites(tmp_path: Path) -> None:
    body = "\n".join([node("b", "Berlin", 52.52, 13.405, "Germany"), node("p", "Paris", 48.8566, 2.3522, "France"),
                      node("x", "Peer", internal=0), edge("b", "p"), edge("p", "x")])
    _plan, net = zoo(body, tmp_path)
    assert net.links["Berlin--Paris"].latency == pytest.approx(877.5e3 / 2e8, rel=1e-3)
    assert net.links["Paris--Peer"].latency == 1e-3  # no coordinates at Peer: the default
    assert net.nodes["Berlin"].tags == ("lat=52.52", "lon=13.405")
    assert net.nodes["Peer"].tags == ("external",)
    assert net.nodes["Berlin"].site == "Germany" and net.sites["Germany"].parent == "Tiny"
    assert net.nodes["Peer"].site == "Tiny" and net.sites["Tiny"].level == "province"


def test_the_name_option_names_the_plan(tmp_path: Path) -> None:
    _plan, net = zoo(node("a", "A"), tmp_path, name="楚雄州骨干网")
    assert net.name == "楚雄州骨干网" and "楚雄州骨干网" in net.sites


@pytest.mark.parametrize("body, line, message", [
    (node("a", "A") + "\n<edge source='a' target='zz'/>", 13, "edge names unknown node 'zz'"),
    (node("a", "A") + "\n<node id='a'/>", 13, "node id 'a' is used twice"),
    ('<node id="a"><data key="la">north</data></node>', 12, "'Latitude' should be double, found 'north'"),
    ('<node id="a"><data key="zz">x</data></node>', 12, "undeclared key 'zz'"),
    ("<node id='a'>\n<graph/></node>", 13, "nested or second graphs"),
    ("<node/>", 12, "<node> without a id"),
    ("<node id='a'></nod>", 12, "not well-formed GraphML: mismatched tag"),
])
def test_bad_graphml_is_reported_with_its_line(body: str, line: int, message: str) -> None:
    with pytest.raises(PlanError) as info:
        import_bytes(graphml(body), "bad.graphml")
    issue = info.value.issues[0]
    assert issue.mark.file == "bad.graphml" and issue.mark.line == line and issue.mark.col >= 1
    assert message in issue.message


def test_a_doctype_is_refused_before_any_entity_expands() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE g [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><graphml/>'
    with pytest.raises(PlanError, match="DOCTYPE"):
        import_bytes(bomb, "bomb.graphml")


# -- SNDlib snippets -------------------------------------------------------------------

SND = """?SNDlib native format; type: network; version: 1.0
# network tiny
META (
  unit = GBITPERSEC
  origin = a test
)
NODES (
  A ( 8.68 50.11 )
  B ( 13.40 52.52 )
  C ( 11.58 48.14 )
)
LINKS (
  L1 ( A B ) 2.50 0.00 0.00 0.00 ( 10.00 5.00 )
  L2 ( B C ) 0.00 0.00 0.00 0.00 ( 1.00 1.00 40.00 9.00 )
  L3 ( C A ) 0.00 0.00 0.00 0.00 ( )
  L4 ( C C ) 1.00 0.00 0.00 0.00 ( )
)
DEMANDS (
  D1 ( A B ) 1 0.50 UNLIMITED
  D2 ( B A ) 1 0.25 UNLIMITED
)
ADMISSIBLE_PATHS (
  D1 ( P1 ( L1 ) )
)
"""


def test_sndlib_capacities_demands_and_units(tmp_path: Path) -> None:
    plan = import_bytes(SND.encode(), "tiny.txt")
    net = _load(plan, tmp_path)
    assert net.name == "tiny"
    assert net.links["A--B"].bandwidth == 2.5e9  # pre-installed x GBITPERSEC
    assert net.links["B--C"].bandwidth == 40e9  # nothing pre-installed: the largest module
    assert net.links["C--A"].bandwidth == DEFAULT_BPS  # neither: the default
    assert len(net.links) == 3  # the self-loop L4 is dropped
    assert [(f.src, f.dst, f.rate) for f in net.flows] == [("A", "B", 0.5e9), ("B", "A", 0.25e9)]
    assert net.services["demand"].kind == "data"
    assert net.links["A--B"].latency == pytest.approx(424e3 / 2e8, rel=0.01)  # Frankfurt - Berlin ~ 424 km
    notes = " ".join(plan["assumptions"])
    assert "GBITPERSEC as the META section says" in notes
    assert "largest module capacity" in notes and "default bandwidth 1G" in notes and "self-loop" in notes


def test_sndlib_planar_coordinates_give_no_latency(tmp_path: Path) -> None:
    text = "NODES (\n  1 ( 359.00 375.00 )\n  2 ( 223.00 255.00 )\n)\nLINKS (\n  L1 ( 1 2 ) 0 0 0 0 ( 4.00 1.00 )\n)\n"
    plan = import_bytes(text.encode(), "grid.txt")
    net = _load(plan, tmp_path)
    assert net.links["1--2"].latency == 1e-3 and net.links["1--2"].bandwidth == 4e6  # Mbit/s when no META
    assert net.nodes["1"].tags == ("x=359", "y=375")
    assert any("no META unit; Mbit/s assumed" in a for a in plan["assumptions"])


@pytest.mark.parametrize("replace, line, col, message", [
    (("2.50 0.00", "2.5x 0.00"), 13, 14, "pre_installed_capacity should be a number"),
    (("L2 ( B C )", "L2 ( B Z )"), 14, 3, "link 'L2' names unknown node 'Z'"),
    (("D2 ( B A )", "D2 ( B A"), 20, 12, "expected ')' after the demand's two end nodes, found '1'"),
    (("unit = GBITPERSEC", "unit = PIGEONS"), 4, 3, "unknown META unit 'PIGEONS'"),
    (("  B ( 13.40", "  A ( 13.40"), 9, 3, "node 'A' is listed twice"),
    (("( 10.00 5.00 )", "( 10.00 )"), 13, 42, "odd number of values"),
    (("UNLIMITED\n  D2", "forever\n  D2"), 19, 21, "max_path_length should be UNLIMITED"),
])
def test_bad_sndlib_is_reported_with_line_and_column(replace: tuple[str, str], line: int, col: int, message: str) -> None:
    assert replace[0] in SND
    with pytest.raises(PlanError) as info:
        import_bytes(SND.replace(*replace, 1).encode(), "bad.txt")
    issue = info.value.issues[0]
    assert (issue.mark.file, issue.mark.line, issue.mark.col) == ("bad.txt", line, col), issue.render()
    assert message in issue.message


def test_a_cut_off_sndlib_file_points_at_its_end() -> None:
    text = SND[:SND.index("DEMANDS")] + "DEMANDS (\n  D1 ( A B ) 1 0.50 UNLIMITED\n"
    with pytest.raises(PlanError, match="file ends where") as info:
        import_bytes(text.encode(), "cut.txt", fmt="sndlib")
    assert info.value.issues[0].mark.line == text.count("\n")


def test_an_sndlib_file_without_nodes_is_refused() -> None:
    with pytest.raises(PlanError, match="no NODES section"):
        import_bytes(b"LINKS (\n)\n", "x.txt")


# -- format detection, names, numbers --------------------------------------------------

def test_unknown_formats_are_refused_clearly() -> None:
    with pytest.raises(ImporterError, match="cannot tell the format"):
        detect_format(b"hello world\n", "notes.txt")
    with pytest.raises(ImporterError, match="SNDlib XML"):
        detect_format(b'<?xml version="1.0"?><network xmlns="http://sndlib.zib.de/network">', "x.xml")
    assert detect_format(b"?SNDlib native format; type: network\n", "x") == "sndlib"
    assert detect_format(b"<graphml/>", "x.xml") == "topologyzoo"


def test_names_are_unique_valid_and_deterministic() -> None:
    assert unique_names([("1", "X"), ("2", "X (1)"), ("3", "X")]) == ["X (1)", "X (1) #2", "X (3)"]
    assert clean_name("  New\tYork:\n  JFK ") == "New York - JFK"
    assert len(unique_names([("9", "x" * 500)])[0]) <= 200


@pytest.mark.parametrize("bps", [1, 64000, 1544000, 44736000, 155520000, 2488320000, 9.92e9, 1e10, 123456789, 2.5])
def test_bandwidths_are_written_so_that_they_read_back_exactly(bps: float) -> None:
    assert parse_bandwidth(bandwidth_text(bps)) == bps


# -- the command -----------------------------------------------------------------------

def test_the_import_command_writes_a_plan_and_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    source = tmp_path / "tiny.graphml"
    source.write_bytes(graphml("\n".join([node("a", "A"), node("b", "B"), edge("a", "b", "1e9")])))
    runner = CliRunner()
    out = tmp_path / "plan.yaml"
    result = runner.invoke(cli, ["import", str(source), "-o", str(out), "--name", "demo"])
    assert result.exit_code == 0, result.output
    assert "1 links" in result.output
    assert load_plan(out).name == "demo"

    before = source.read_bytes()
    result = runner.invoke(cli, ["import", str(source), "-o", str(source)])
    assert result.exit_code == 2 and "is the input file" in result.output
    assert source.read_bytes() == before

    result = runner.invoke(cli, ["import", str(tmp_path / "missing.graphml"), "-o", str(out)])
    assert result.exit_code == 2 and "does not exist" in result.output

    (tmp_path / "bad.txt").write_text("NODES (\n  A ( 1 2 )\n  B ( 1 x )\n)\n", encoding="utf-8")
    result = runner.invoke(cli, ["import", str(tmp_path / "bad.txt"), "-o", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'bad.txt'}:3:9: error:" in result.output
    assert not (tmp_path / "bad.yaml").exists()

    result = runner.invoke(cli, ["import", str(source)])
    assert result.exit_code == 0 and result.output.startswith("name: Tiny\n")
