"""``govnet import``: Topology Zoo GraphML and SNDlib native files become valid plans.

Every file of the shared real-network data (``../shared/data`` beside the
repository, or ``$GOVNET_SHARED_DATA``; see :func:`tests.helpers.shared_data`)
is imported, written, loaded with :func:`load_plan` and compared with the
source: node and link counts, link bandwidths, demands. On every Topology Zoo
file the GraphML reader reads the same graph as networkx (nodes, attributes,
edges in file order). Small inline files pin down names, defaults and errors.

The import options (:mod:`topology.importers.options`): ``--unit`` (a file
without a META unit is refused without it), every ``--size`` choice on a
hand-written SNDlib file whose capacities are worked out by hand below,
``--cost hop`` against networkx's shortest paths on a real Topology Zoo file,
``--cost file``, and the plan's ``routing:`` setting changing routes.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner

import policies.kinds  # noqa: F401  (registers the rule kinds)
from govnet.cli import cli
from policies.model import PolicyRule
from policies.registry import RULE_KINDS, Context
from simulator.load import base_assignment
from simulator.routing import build_routing
from simulator.sizing import plan_loads
from tests.helpers import shared_data, shared_files
from topology import PlanError, importers, load_plan
from topology.expand.links import REFERENCE_BANDWIDTH
from topology.importers import ImporterError, detect_format, dump_plan
from topology.importers.builder import bandwidth_text
from topology.importers.graphml import read_graphml
from topology.importers.naming import clean_name, unique_names
from topology.loader import load_text
from topology.schema import RoutingSpec
from topology.units import STANDARD_RATES, parse_bandwidth


def ImportOptions(**given: Any) -> importers.ImportOptions:
    """The importer's options with the simulator's load model, as ``govnet import`` gives them."""
    return importers.ImportOptions(**given, load_model=plan_loads)


def import_file(path: Path, name: str | None = None, options: importers.ImportOptions | None = None) -> dict:
    return importers.import_file(path, name, options or ImportOptions())


def import_bytes(data: bytes, file: str, name: str | None = None, fmt: str | None = None,
                 options: importers.ImportOptions | None = None) -> dict:
    return importers.import_bytes(data, file, name, fmt, options=options or ImportOptions())

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


def _has_meta_unit(text: str) -> bool:
    return re.search(r"(?m)^\s*unit\s*=", text) is not None


@pytest.mark.parametrize("shared_file", shared_files("sndlib", "*.txt"), indirect=True)
def test_every_sndlib_file_imports_to_a_valid_plan(shared_file: Path, tmp_path: Path) -> None:
    path = shared_file
    text = path.read_text(encoding="utf-8")
    nodes, links, demands = (_section_entries(text, s) for s in ("NODES", "LINKS", "DEMANDS"))
    unit = 1e9 if "GBITPERSEC" in text else 1e6
    if not _has_meta_unit(text):  # refused without --unit, and the hint says so
        with pytest.raises(PlanError) as info:
            import_file(path)
        assert "--unit" in info.value.issues[0].hint and "META unit" in info.value.issues[0].message
    options = ImportOptions(unit=None if _has_meta_unit(text) else "Mbit/s", size="largest")
    net = _load(import_file(path, options=options), tmp_path)
    assert len(net.nodes) == len(nodes)
    assert len(net.links) == len([e for e in links if e[1] != e[2]])
    assert len(net.flows) == len(demands)
    assert sorted(f.rate for f in net.flows) == pytest.approx(sorted(float(e[4]) * unit for e in demands))
    for entry in links:
        pre, modules = float(entry[3]), [float(v) for v in entry[7::2]]
        entry_bps = (pre if pre > 0 else max(modules)) * unit
        assert entry_bps in {link.bandwidth for link in net.links.values()}


@pytest.mark.parametrize("shared_file", shared_files("sndlib", "*.txt"), indirect=True)
def test_every_sndlib_file_sized_for_its_demands_carries_them(shared_file: Path, tmp_path: Path) -> None:
    """--size demand with hop costs: every sized link carries its busier direction at most 70 % full, and its
    next smaller module (or standard rate) would not; the loads are recomputed on the written plan."""
    text = shared_file.read_text(encoding="utf-8")
    unit = 1e9 if "GBITPERSEC" in text else 1e6
    options = ImportOptions(unit=None if _has_meta_unit(text) else "Mbit/s", cost="hop")
    plan = import_file(shared_file, options=options)
    net = _load(plan, tmp_path)
    assert all(link.cost == 1 for link in net.links.values())
    loads = base_assignment(net).load
    entries = [e for e in _section_entries(text, "LINKS") if e[1] != e[2]]
    assert len(entries) == len(net.links)
    for entry, link in zip(entries, net.links.values()):  # links are written in file order
        if float(entry[3]) > 0:
            assert link.bandwidth == float(entry[3]) * unit
            continue
        busier = max(loads.get((link.name, 0), 0.0), loads.get((link.name, 1), 0.0))
        options_bps = sorted({float(v) * unit for v in entry[7::2] if float(v) > 0}) or [*STANDARD_RATES]
        assert busier <= 0.7 * link.bandwidth * (1 + 1e-9), link.name
        if link.bandwidth in options_bps:  # one module: the smallest that fits
            smaller = [c for c in options_bps if c < link.bandwidth]
            assert not smaller or busier > 0.7 * smaller[-1] * (1 - 1e-9), link.name
        else:  # copies of the largest: the fewest that fit
            largest = options_bps[-1]
            assert link.bandwidth % largest == 0 and busier > 0.7 * (link.bandwidth - largest), link.name


def test_the_abilene_plan_carries_pre_installed_capacity_and_latency(tmp_path: Path) -> None:
    net = _load(import_file(shared_data("sndlib", "abilene.txt")), tmp_path)
    link = net.links["IPLSng--ATLAng"]
    assert link.bandwidth == 2480e6  # 2480.00 MBITPERSEC pre-installed
    assert 2.5e-3 < link.latency < 3.5e-3  # Indianapolis - Atlanta, ~700 km at 2e8 m/s
    assert net.nodes["ATLAng"].tags == ("lat=34.5", "lon=-85.5")


def test_the_same_file_gives_the_same_bytes_from_any_folder(tmp_path: Path) -> None:
    for source, options in ((shared_data("topologyzoo", "Garr201201.graphml"), None),
                            (shared_data("sndlib", "nobel-eu.txt"), ImportOptions(unit="Mbit/s"))):
        copy = tmp_path / source.name
        shutil.copyfile(source, copy)
        assert dump_plan(import_file(source, options=options)) == dump_plan(import_file(copy, options=options))


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
    assert ("1 of 2 links give no LinkSpeedRaw; they take the default bandwidth 1G (--size none would leave them "
            "unsized).") in plan["assumptions"]
    assert net.links["B--C"].sized and net.links["A--B"].cost == 643 and net.links["B--C"].cost == 100


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
    # nothing pre-installed: sized for the demands (the default). Both demands take A--B (cost 100G/2.5G = 40)
    # rather than A-C-B (C--A starts at 2M: cost 50,000), so B--C and C--A carry nothing and take their
    # smallest: B--C its 1G module, C--A (no module) the smallest standard rate, 2M
    assert net.links["B--C"].bandwidth == 1e9
    assert net.links["C--A"].bandwidth == 2e6
    assert len(net.links) == 3  # the self-loop L4 is dropped
    assert [(f.src, f.dst, f.rate) for f in net.flows] == [("A", "B", 0.5e9), ("B", "A", 0.25e9)]
    assert net.services["demand"].kind == "data"
    assert net.links["A--B"].latency == pytest.approx(424e3 / 2e8, rel=0.01)  # Frankfurt - Berlin ~ 424 km
    notes = " ".join(plan["assumptions"])
    assert "Gbit/s (GBITPERSEC) as the META section says" in notes
    assert "--size demand, the default" in notes and "Why this default" in notes and "self-loop" in notes
    assert "default bandwidth" not in notes  # no link silently takes the 1G default


def test_sndlib_planar_coordinates_give_no_latency(tmp_path: Path) -> None:
    text = "NODES (\n  1 ( 359.00 375.00 )\n  2 ( 223.00 255.00 )\n)\nLINKS (\n  L1 ( 1 2 ) 0 0 0 0 ( 4.00 1.00 )\n)\n"
    with pytest.raises(PlanError, match="no META unit"):  # no unit is guessed
        import_bytes(text.encode(), "grid.txt")
    plan = import_bytes(text.encode(), "grid.txt", options=ImportOptions(unit="Mbit/s"))
    net = _load(plan, tmp_path)
    assert net.links["1--2"].latency == 1e-3 and net.links["1--2"].bandwidth == 4e6  # its only module, in Mbit/s
    assert net.nodes["1"].tags == ("x=359", "y=375")
    assert "Capacities and demand values are in Mbit/s (MBITPERSEC) as --unit says (the file has no META unit)." \
        in plan["assumptions"]


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


# -- import options: --unit, --size, --headroom, --cost, and the plan's routing: ---------------

# A line A - B onto a triangle B - C - D, in Mbit/s; grid coordinates (no latency). L4 has no module.
# Routes by hops are unique: A->C and C->A over A-B-C, B->D and C->D direct, A->D over A-B-D, so the
# busier directions carry: L1 A->B 60 + 10 = 70, L2 B->C 60, L3 C->D 100, L4 B->D 200 + 10 = 210.
SIZES = """?SNDlib native format; type: network; version: 1.0
# network sizes
META (
  unit = MBITPERSEC
)
NODES (
  A ( 0 0 )
  B ( 1 0 )
  C ( 2 0 )
  D ( 3 0 )
)
LINKS (
  L1 ( A B ) 100.00 0.00 1.50 0.00 ( 155.00 1.00 622.00 2.00 )
  L2 ( B C ) 0.00 0.00 2.25 0.00 ( 155.00 1.00 622.00 2.00 2488.00 3.00 )
  L3 ( C D ) 0.00 0.00 4.00 0.00 ( 40.00 1.00 )
  L4 ( B D ) 0.00 0.00 1.00 0.00 ( )
)
DEMANDS (
  D1 ( A C ) 1 60.00 UNLIMITED
  D2 ( C A ) 1 20.00 UNLIMITED
  D3 ( B D ) 1 200.00 UNLIMITED
  D4 ( A D ) 1 10.00 UNLIMITED
  D5 ( C D ) 1 100.00 UNLIMITED
)
"""
SIZES_WITHOUT_L4 = SIZES.replace("  L4 ( B D ) 0.00 0.00 1.00 0.00 ( )\n", "")
M = 1e6


def sized(text: str, tmp_path: Path, **options):
    plan = import_bytes(text.encode(), "sizes.txt", options=ImportOptions(**options))
    net = _load(plan, tmp_path)
    return plan, net, {name: link.bandwidth for name, link in net.links.items() if link.sized}


@pytest.mark.parametrize("headroom, expected", [
    # L2 needs 60/(1-h), L3 100/(1-h) in 40M modules, L4 210/(1-h) in standard rates (no module)
    (None, {"B--C": 155 * M, "C--D": 4 * 40 * M, "B--D": 622 * M}),   # 85.7 -> 155; 142.9 -> 4 x 40; 300 -> 622
    (0.0, {"B--C": 155 * M, "C--D": 3 * 40 * M, "B--D": 622 * M}),    # 60 -> 155; 100 -> 3 x 40; 210 -> 622
    (0.7, {"B--C": 622 * M, "C--D": 9 * 40 * M, "B--D": 1000 * M}),   # 200 -> 622; 333.3 -> 9 x 40; 700 -> 1G
])
def test_size_demand_takes_the_smallest_module_that_carries_the_load(headroom, expected, tmp_path: Path) -> None:
    plan, _, bps = sized(SIZES, tmp_path, cost="hop", headroom=headroom)
    assert bps == {"A--B": 100 * M, **expected}  # A--B keeps its pre-installed 100M
    notes = " ".join(plan["assumptions"])
    assert f"headroom {0.3 if headroom is None else headroom:g}" in notes
    assert "C--D 3 × 40M" in notes or "C--D 4 × 40M" in notes or "C--D 9 × 40M" in notes


def test_size_demand_under_bandwidth_costs_repeats_until_the_routes_fit(tmp_path: Path) -> None:
    # Round 1 starts from the smallest: B--C 155M (cost 645), C--D 40M (2500), B--D 2M (50,000), A--B 100M
    # (1000). B->D and A->D go B-C-D (3145 < 50,000): B->C carries 60 + 200 + 10 = 270, C->D 200 + 10 + 100
    # = 310, B--D nothing. So B--C 270/0.7 = 386 -> 622M, C--D 443 -> 12 x 40M, B--D stays 2M. Round 2
    # (costs 160, 208, 50,000) routes the same: nothing changes.
    plan, net, bps = sized(SIZES, tmp_path)
    assert bps == {"A--B": 100 * M, "B--C": 622 * M, "C--D": 480 * M, "B--D": 2 * M}
    assert plan["routing"] == {"cost": "bandwidth", "reference_bandwidth": "100G"}
    assert any("sizing took 2 rounds" in a for a in plan["assumptions"])
    loads = base_assignment(net).load
    assert loads[("B--C", 0)] == pytest.approx(270 * M) and loads.get(("B--D", 0), 0.0) == 0.0


def test_size_largest_and_smallest_take_one_module(tmp_path: Path) -> None:
    _, _, largest = sized(SIZES_WITHOUT_L4, tmp_path, size="largest")
    assert largest == {"A--B": 100 * M, "B--C": 2488 * M, "C--D": 40 * M}
    plan, _, smallest = sized(SIZES_WITHOUT_L4, tmp_path, size="smallest")
    assert smallest == {"A--B": 100 * M, "B--C": 155 * M, "C--D": 40 * M}
    assert any("each takes its smallest module (--size smallest)" in a for a in plan["assumptions"])
    with pytest.raises(PlanError) as info:  # L4 has no module: never a silent 1G
        import_bytes(SIZES.encode(), "sizes.txt", options=ImportOptions(size="largest"))
    issue = info.value.issues[0]
    assert issue.mark.line == 16 and "'L4' has neither pre-installed capacity nor modules" in issue.message
    assert "--size demand" in issue.hint


def test_size_none_leaves_links_unsized_and_the_capacity_rule_refuses_to_judge(tmp_path: Path) -> None:
    plan, net, bps = sized(SIZES, tmp_path, size="none")
    assert bps == {"A--B": 100 * M}
    assert [l["bandwidth"] for l in plan["links"]] == ["100M", "unknown", "unknown", "unknown"]
    assert plan["routing"] == {"cost": "hop"}  # unsized links have no bandwidth to price
    assert all(link.cost == 1 for link in net.links.values())
    result = RULE_KINDS["capacity"](net, PolicyRule("T-CAP", "capacity", "high", {}), Context())
    assert result.status == "not_applicable"
    assert result.message.startswith("3 links have no capacity (bandwidth: unknown)") and "B--C, C--D, B--D" in result.message
    notes = " ".join(plan["assumptions"])
    assert "left unsized (--size none)" in notes and "hop (the default, since links left unsized" in notes
    with pytest.raises(ImporterError, match="--cost bandwidth cannot price the 3 links"):
        import_bytes(SIZES.encode(), "sizes.txt", options=ImportOptions(size="none", cost="bandwidth"))


def test_cost_file_takes_the_sndlib_routing_costs(tmp_path: Path) -> None:
    # costs 1.5, 2.25, 4, 1 have two decimals: x 100 -> 150, 225, 400, 100. C->D then goes C-B-D (325 < 400):
    # B--C carries C->B 20 + 100 = 120 -> 171 -> 622M, C--D nothing -> 40M, B--D 200 + 10 + 100 = 310 -> 443 -> 622M
    plan, _, bps = sized(SIZES, tmp_path, cost="file")
    assert [l["cost"] for l in plan["links"]] == [150, 225, 400, 100]
    assert "routing" not in plan  # every link has its own cost
    assert bps == {"A--B": 100 * M, "B--C": 622 * M, "C--D": 40 * M, "B--D": 622 * M}
    assert any("--cost file" in a and "times 100" in a for a in plan["assumptions"])
    with pytest.raises(PlanError, match="gives no routing costs"):
        import_bytes(SND.encode(), "tiny.txt", options=ImportOptions(cost="file"))


def test_cost_file_keeps_the_ratios_of_cost266(tmp_path: Path) -> None:
    path = shared_data("sndlib", "cost266.txt")
    entries = [e for e in _section_entries(path.read_text(encoding="utf-8"), "LINKS") if e[1] != e[2]]
    plan = import_file(path, options=ImportOptions(unit="Mbit/s", cost="file", size="smallest"))
    assert [l["cost"] for l in plan["links"]] == [round(float(e[5]) * 100) for e in entries]
    net = _load(plan, tmp_path)
    assert [l.cost for l in net.links.values()] == [round(float(e[5]) * 100) for e in entries]


@pytest.mark.parametrize("options, words", [
    ({}, ["as the META section says", "--size demand, the default", "Why this default", "headroom 0.3",
          "Link cost model: bandwidth (the default"]),
    ({"size": "demand", "headroom": 0.2, "cost": "hop"}, ["--size demand, headroom 0.2", "Link cost model: hop (--cost hop"]),
    ({"size": "none"}, ["--size none", "Link cost model: hop (the default"]),
    ({"size": "largest", "cost": "bandwidth"}, ["--size largest", "Link cost model: bandwidth (--cost bandwidth"]),
    ({"size": "smallest", "cost": "file"}, ["--size smallest", "--cost file"]),
])
def test_the_assumptions_name_every_choice(options: dict, words: list[str]) -> None:
    text = SIZES if options.get("size") not in ("largest", "smallest") else SIZES_WITHOUT_L4
    notes = " ".join(import_bytes(text.encode(), "sizes.txt", options=ImportOptions(**options))["assumptions"])
    for word in words:
        assert word in notes, word
    assert "Mbit/s (MBITPERSEC)" in notes and "1 of " in notes and "pre-installed capacity: their bandwidth" in notes


# ta2 (SNDlib) has no META unit and modules up to 11.1 million: 11.1 Tbit/s in Mbit/s, above the plan's 10T
NO_UNIT = """?SNDlib native format; type: network; version: 1.0
# network bigmodules
NODES (
  a ( 1 1 )
  b ( 2 2 )
)
LINKS (
  L1 ( a b ) 0.00 0.00 0.00 0.00 ( 622.00 1.00 11100000.00 2.00 )
)
DEMANDS (
  D1 ( a b ) 1 300.00 UNLIMITED
)
"""


def test_a_file_without_a_unit_needs_the_unit_option(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        import_bytes(NO_UNIT.encode(), "big.txt")
    issue = info.value.issues[0]
    assert "no META unit" in issue.message and "--unit" in issue.hint and "check the META unit" not in issue.hint
    plan, _, bps = sized(NO_UNIT, tmp_path, unit="Mbit/s")  # 300 / 0.7 = 429M: the 622 module
    assert bps == {"a--b": 622 * M}
    assert "1 links have modules above the 10T a plan allows per link; those modules are not used." \
        in plan["assumptions"]
    _, _, gbit = sized(NO_UNIT.replace("11100000.00", "11100.00"), tmp_path, unit="Gbit/s", size="smallest")
    assert gbit == {"a--b": 622e9}
    with pytest.raises(PlanError) as info:  # the largest module is above 10T: the hint names --unit, not META
        import_bytes(NO_UNIT.encode(), "big.txt", options=ImportOptions(unit="Mbit/s", size="largest"))
    assert "check --unit (the file has no META unit)" in info.value.issues[0].hint
    with pytest.raises(PlanError) as info:  # a file with a unit and another --unit
        import_bytes(SIZES.encode(), "sizes.txt", options=ImportOptions(unit="Gbit/s"))
    assert info.value.issues[0].mark.line == 4 and "--unit says Gbit/s" in info.value.issues[0].message


@pytest.mark.parametrize("shared_file", shared_files("sndlib", "*.txt"), indirect=True)
def test_a_real_file_without_a_unit_imports_with_the_unit_option_and_not_without(shared_file: Path,
                                                                                 tmp_path: Path) -> None:
    """Every shared SNDlib file that has no META unit (ta2 is such a file, see NO_UNIT above)."""
    path = shared_file
    if "META" in path.read_text(encoding="utf-8"):
        pytest.skip(f"{path.name} states its unit (META)")
    with pytest.raises(PlanError) as info:
        import_file(path)
    assert "--unit" in info.value.issues[0].hint and "check the META unit" not in info.value.issues[0].hint
    plan = import_file(path, options=ImportOptions(unit="Mbit/s"))
    net = _load(plan, tmp_path)
    entries = [e for e in _section_entries(path.read_text(encoding="utf-8"), "LINKS") if e[1] != e[2]]
    assert len(net.links) == len(entries) and all(link.sized for link in net.links.values())
    assert any("as --unit says (the file has no META unit)" in a for a in plan["assumptions"])


def test_cost_hop_routes_on_the_fewest_hops_as_networkx_finds_them(tmp_path: Path) -> None:
    """On Geant2009 every next hop towards every router is a neighbour one hop nearer by networkx's BFS,
    and every such neighbour is a next hop (ECMP kept); bandwidth costs route some pairs otherwise."""
    path = shared_data("topologyzoo", "Geant2009.graphml")
    hop = _load(import_file(path, options=ImportOptions(cost="hop")), tmp_path)
    graph = nx.MultiGraph()
    graph.add_nodes_from(hop.nodes)
    graph.add_edges_from((l.a, l.b) for l in hop.links.values())
    distance = dict(nx.all_pairs_shortest_path_length(graph))
    state = build_routing(hop)
    for target in hop.nodes:
        address = str(hop.nodes[target].loopback.ip)
        for node in hop.nodes:
            if node == target:
                continue
            got = {h.neighbor for h in state.next_hops(node, address)}
            if target not in distance[node]:
                assert not got
                continue
            assert got == {v for v in graph.neighbors(node) if distance[v].get(target) == distance[node][target] - 1}
    bandwidth = _load(import_file(path), tmp_path, "bandwidth.yaml")
    other = build_routing(bandwidth)
    assert any({h.neighbor for h in other.next_hops(n, str(bandwidth.nodes[t].loopback.ip))}
               != {h.neighbor for h in state.next_hops(n, str(hop.nodes[t].loopback.ip))}
               for t in hop.nodes for n in hop.nodes if n != t)


ROUTING_PLAN = """\
name: cost models
ROUTING
domains: {外网: {kind: extranet, pool: 10.1.0.0/16}}
sites: {州: {level: prefecture}}
defaults: {node: {domain: 外网, site: 州, role: core_router}}
nodes: {a: {}, b: {}, c: {}, d: {}}
links:
  - {a: a, b: d, bandwidth: 100M}
  - {a: a, b: b, bandwidth: 10G}
  - {a: b, b: c, bandwidth: 10G}
  - {a: c, b: d, bandwidth: 10G}
"""


@pytest.mark.parametrize("routing, costs, via", [
    ("", [1000, 10, 10, 10], "b"),                                   # the default: 100G / bandwidth
    ("routing: {cost: bandwidth, reference_bandwidth: 1T}", [10000, 100, 100, 100], "b"),
    ("routing: {cost: hop}", [1, 1, 1, 1], "d"),                     # one hop beats three
])
def test_the_plan_routing_setting_changes_routes(routing: str, costs: list[int], via: str) -> None:
    net = load_text(ROUTING_PLAN.replace("ROUTING", routing))
    assert [l.cost for l in net.links.values()] == costs
    assert [h.neighbor for h in build_routing(net).next_hops("a", str(net.nodes["d"].loopback.ip))] == [via]


def test_a_link_cost_wins_over_the_cost_model_and_the_default_is_todays() -> None:
    net = load_text(ROUTING_PLAN.replace("ROUTING", "routing: {cost: hop}").replace("bandwidth: 100M", "cost: 5"))
    assert [l.cost for l in net.links.values()] == [5, 1, 1, 1]
    assert [h.neighbor for h in build_routing(net).next_hops("a", str(net.nodes["d"].loopback.ip))] == ["b"]
    assert RoutingSpec().cost == "bandwidth" and RoutingSpec().reference_bandwidth == REFERENCE_BANDWIDTH
    with pytest.raises(PlanError, match="bandwidth unknown, so the bandwidth cost model cannot price it"):
        load_text(ROUTING_PLAN.replace("ROUTING", "").replace("bandwidth: 100M", "bandwidth: unknown"))


def test_topology_zoo_options(tmp_path: Path) -> None:
    body = "\n".join([node("a", "A"), node("b", "B"), node("c", "C"), edge("a", "b", "1e10"), edge("b", "c")])
    plan, net = zoo(body, tmp_path, options=ImportOptions(size="none"))
    assert not net.links["B--C"].sized and net.links["A--B"].sized and plan["routing"] == {"cost": "hop"}
    assert any("they are left unsized (--size none)" in a for a in plan["assumptions"])
    plan, net = zoo(body, tmp_path, options=ImportOptions(cost="hop"))
    assert plan["routing"] == {"cost": "hop"} and net.links["A--B"].cost == 1
    for options, message in ((ImportOptions(unit="Mbit/s"), "--unit is for SNDlib"),
                             (ImportOptions(size="demand"), "--size demand needs the modules and demands"),
                             (ImportOptions(headroom=0.2), "--headroom needs the modules and demands"),
                             (ImportOptions(cost="file"), "--cost file takes the routing costs of an SNDlib file")):
        with pytest.raises(ImporterError, match=message):
            import_bytes(graphml(body), "tiny.graphml", options=options)


def test_the_import_command_takes_the_options(tmp_path: Path) -> None:
    source = tmp_path / "big.txt"
    source.write_text(NO_UNIT, encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "plan.yaml"
    result = runner.invoke(cli, ["import", str(source), "-o", str(out)])
    assert result.exit_code == 2 and "--unit" in result.output and "check the META unit" not in result.output
    assert not out.exists()
    result = runner.invoke(cli, ["import", str(source), "-o", str(out), "--unit", "mbit/s", "--size", "demand",
                                 "--headroom", "0.5", "--cost", "hop"])
    assert result.exit_code == 0, result.output
    net = load_plan(out)
    assert net.links["a--b"].bandwidth == 622 * M and net.links["a--b"].cost == 1  # 300 / 0.5 = 600M
    assert any("headroom 0.5" in a for a in net.assumptions)
    result = runner.invoke(cli, ["import", str(source), "--unit", "Mbit/s", "--size", "largest", "--headroom", "0.2"])
    assert result.exit_code == 2 and "--headroom applies to --size demand only" in result.output
    result = runner.invoke(cli, ["import", str(source), "--unit", "furlongs"])
    assert result.exit_code == 2 and "furlongs" in result.output
