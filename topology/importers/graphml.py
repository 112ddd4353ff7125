"""A small GraphML reader that remembers the line of every node and edge.

GraphML (http://graphml.graphdrawing.org/) declares typed attributes with
``<key id attr.name attr.type for>`` and attaches them with
``<data key="...">``. This reader keeps what an importer needs (the graph's
attributes, nodes and edges in file order, each with its attributes by
``attr.name``, typed, key defaults applied) plus the :class:`Mark` of every
element.

Why not ``networkx.read_graphml``: on the data it gets, networkx reads the
same graph — on all 272 Topology Zoo files it keeps every node and graph
attribute and the file order of edges, parallel ones included (the importer
tests check this on every file). What it cannot give is positions, and it
is lenient where a plan importer must not be:

- every error is reported as ``FILE:LINE:COL`` (networkx's ElementTree keeps
  no positions: a bad ``double`` is a bare ``ValueError``), and the import
  notes name the lines of the edges they are about (self-loops, edges
  without a speed);
- an edge naming an undeclared node is an error (networkx adds the node), so
  is a node id used twice (networkx merges them); such errors of a file are
  all reported together;
- a DOCTYPE, and with it every entity declaration, is refused.

It is built on the standard library's expat parser.

Safety: refusing the DOCTYPE means entity-expansion bombs never expand;
nested graphs, hyperedges and ports are not GraphML that the Topology Zoo
uses and are refused with their position.

    >>> g = read_graphml(b'<graphml><key id="d0" for="node" attr.name="label" attr.type="string"/>'
    ...                  b'<graph edgedefault="undirected"><node id="a"><data key="d0">A</data></node>'
    ...                  b'<node id="b"/><edge source="a" target="b"/></graph></graphml>', "x.graphml")
    >>> [(n.id, n.data) for n in g.nodes], [(e.source, e.target) for e in g.edges]
    ([('a', {'label': 'A'}), ('b', {})], [('a', 'b')])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn
from xml.parsers import expat

from ..errors import IssueCollector, Mark, PlanError, PlanIssue

_TYPES = {"string": str, "int": int, "integer": int, "long": int, "float": float, "double": float, "boolean": bool}
_UNSUPPORTED = {"hyperedge": "hyperedges", "port": "ports", "endpoint": "hyperedge endpoints"}


@dataclass(frozen=True)
class GraphmlNode:
    id: str
    data: dict[str, Any]
    mark: Mark


@dataclass(frozen=True)
class GraphmlEdge:
    source: str
    target: str
    data: dict[str, Any]
    mark: Mark


@dataclass(frozen=True)
class GraphmlGraph:
    """One GraphML graph: its attributes, nodes and edges in file order."""

    data: dict[str, Any]
    nodes: list[GraphmlNode]
    edges: list[GraphmlEdge]
    directed: bool


@dataclass
class _Key:
    name: str
    type: str
    domain: str
    default: str | None = None


@dataclass
class _Element:
    kind: str  # graph | node | edge
    attrs: dict[str, str]
    mark: Mark
    raw: list[tuple[str, str, Mark]] = field(default_factory=list)  # (key id, text, mark)


class _Stop(Exception):
    def __init__(self, issue: PlanIssue):
        self.issue = issue


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.keys: dict[str, _Key] = {}
        self.graph: _Element | None = None
        self.elements: list[_Element] = []
        self.owner: _Element | None = None
        self.path: list[str] = []
        self.data_key: tuple[str, Mark] | None = None
        self.data_depth = 0
        self.key_id: str | None = None
        self.text: list[str] = []
        self.saw_graphml = False
        p = self.parser
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.chars
        p.StartDoctypeDeclHandler = self.doctype
        self.handlers = {"graphml": self._start_graphml, "key": self._start_key, "default": self._start_default,
                         "graph": self._start_graph, "node": self._start_node, "edge": self._start_edge,
                         "data": self._start_data}

    def mark(self) -> Mark:
        return Mark(self.file, self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1)

    def fail(self, message: str, hint: str = "") -> NoReturn:
        raise _Stop(PlanIssue(self.mark(), message, hint))

    def doctype(self, *_: Any) -> None:
        self.fail("GraphML with a DOCTYPE is refused", "remove the <!DOCTYPE ...> declaration; GraphML needs none")

    def start(self, qname: str, attrs: dict[str, str]) -> None:
        name = qname.rsplit(" ", 1)[-1]
        parent = self.path[-1] if self.path else None
        self.path.append(name)
        if self.data_key is not None or (parent == "key" and name != "default"):
            return  # markup inside a value (yEd's shapes) or a key's description: ignored
        handler = self.handlers.get(name)
        if name in _UNSUPPORTED:
            self.fail(f"GraphML {_UNSUPPORTED[name]} are not supported", "use plain <node> and <edge> elements")
        if handler is not None:
            handler(attrs, parent)

    def _start_graphml(self, attrs: dict[str, str], parent: str | None) -> None:
        self.saw_graphml = True

    def _start_key(self, attrs: dict[str, str], parent: str | None) -> None:
        key_id = attrs.get("id")
        if not key_id:
            self.fail("<key> without an id")
        self.keys[key_id] = _Key(attrs.get("attr.name") or key_id, attrs.get("attr.type", "string"), attrs.get("for", "all"))
        self.key_id = key_id

    def _start_default(self, attrs: dict[str, str], parent: str | None) -> None:
        if parent == "key":
            self.text = []

    def _start_graph(self, attrs: dict[str, str], parent: str | None) -> None:
        if self.graph is not None:
            self.fail("nested or second graphs are not supported", "keep one <graph> per file")
        self.graph = self.owner = _Element("graph", attrs, self.mark())

    def _start_node(self, attrs: dict[str, str], parent: str | None) -> None:
        self._child("node", attrs, ("id",))

    def _start_edge(self, attrs: dict[str, str], parent: str | None) -> None:
        self._child("edge", attrs, ("source", "target"))

    def _child(self, kind: str, attrs: dict[str, str], required: tuple[str, ...]) -> None:
        if self.graph is None or self.owner is not self.graph:
            self.fail(f"<{kind}> outside a <graph>", f"put every <{kind}> directly inside the <graph>")
        for attr in required:
            if not attrs.get(attr):
                self.fail(f"<{kind}> without a {attr}", f'add {attr}="..."')
        self.owner = _Element(kind, attrs, self.mark())
        self.elements.append(self.owner)

    def _start_data(self, attrs: dict[str, str], parent: str | None) -> None:
        if self.owner is None:
            return  # data of the <graphml> element itself
        key = attrs.get("key")
        if not key:
            self.fail("<data> without a key", 'add key="..." naming a <key> id')
        self.data_key = (key, self.mark())
        self.data_depth = len(self.path)
        self.text = []

    def chars(self, text: str) -> None:
        self.text.append(text)

    def end(self, qname: str) -> None:
        depth = len(self.path)
        name = self.path.pop()
        if self.data_key is not None:
            if depth == self.data_depth:  # the <data> element itself closes
                key, mark = self.data_key
                assert self.owner is not None
                self.owner.raw.append((key, "".join(self.text), mark))
                self.data_key = None
        elif name == "default" and self.key_id is not None:
            self.keys[self.key_id].default = "".join(self.text)
        elif name == "key":
            self.key_id = None
        elif name in ("node", "edge"):
            self.owner = self.graph

    def parse(self, data: bytes) -> None:
        try:
            self.parser.Parse(data, True)
        except _Stop as stop:
            raise PlanError(stop.issue) from None
        except expat.ExpatError as exc:
            where = Mark(self.file, exc.lineno, exc.offset + 1)
            message = expat.ErrorString(exc.code)
            raise PlanError(PlanIssue(where, f"not well-formed GraphML: {message}", "fix the XML syntax")) from None
        if not self.saw_graphml or self.graph is None:
            raise PlanError(PlanIssue(Mark(self.file), "no <graphml> element with a <graph> in it",
                                      "a GraphML file holds <graphml><graph>...</graph></graphml>"))


def read_graphml(data: bytes, file: str) -> GraphmlGraph:
    """Parse GraphML ``data`` (``file`` names it in errors); raises PlanError."""
    reader = _Reader(file)
    reader.parse(data)
    assert reader.graph is not None
    issues = IssueCollector()
    graph_data = _typed(reader.graph, reader.keys, issues)
    nodes: list[GraphmlNode] = []
    edges: list[GraphmlEdge] = []
    seen: dict[str, Mark] = {}
    for element in reader.elements:
        values = _typed(element, reader.keys, issues)
        if element.kind == "node":
            ident = element.attrs["id"]
            if ident in seen:
                issues.add(element.mark, f"node id '{ident}' is used twice (first at {seen[ident]})", "give every node its own id")
                continue
            seen[ident] = element.mark
            nodes.append(GraphmlNode(ident, values, element.mark))
        else:
            edges.append(GraphmlEdge(element.attrs["source"], element.attrs["target"], values, element.mark))
    for edge in edges:
        for end in (edge.source, edge.target):
            if end not in seen:
                issues.add(edge.mark, f"edge names unknown node '{end}'", "every edge end must be the id of a <node>")
    issues.raise_if_any()
    directed = reader.graph.attrs.get("edgedefault", "directed") == "directed"
    return GraphmlGraph(graph_data, nodes, edges, directed)


def _typed(element: _Element, keys: dict[str, _Key], issues: IssueCollector) -> dict[str, Any]:
    """The element's attributes by name, converted to their declared types, defaults filled in."""
    out: dict[str, Any] = {}
    for key_id, text, mark in element.raw:
        key = keys.get(key_id)
        if key is None:
            issues.add(mark, f"<data> names undeclared key '{key_id}'", "declare it with <key id=... attr.name=...>")
            continue
        value = _convert(text, key, mark, issues)
        if value is not None:
            out[key.name] = value
    for key in keys.values():
        if key.default is not None and key.name not in out and key.domain in (element.kind, "all"):
            value = _convert(key.default, key, element.mark, issues)
            if value is not None:
                out[key.name] = value
    return out


def _convert(text: str, key: _Key, mark: Mark, issues: IssueCollector) -> Any:
    kind = _TYPES.get(key.type)
    if kind is None:
        issues.add(mark, f"key '{key.name}' has unknown attr.type '{key.type}'", f"use one of {', '.join(_TYPES)}")
        return None
    if kind is str:
        return text
    stripped = text.strip()
    if kind is bool:
        if stripped.lower() in ("true", "1"):
            return True
        if stripped.lower() in ("false", "0"):
            return False
    else:
        try:
            return kind(stripped)
        except ValueError:
            pass
    issues.add(mark, f"'{key.name}' should be {key.type}, found {stripped!r}", f"write a {key.type} value")
    return None
