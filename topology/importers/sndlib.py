"""Import an SNDlib network (native text format) as a govnet plan.

SNDlib (http://sndlib.zib.de/) publishes survivable-network-design instances
in a small text format: a ``META`` section (``unit = MBITPERSEC`` ...), then
``NODES``, ``LINKS`` and ``DEMANDS`` sections of parenthesised entries::

    NODES (
      ATLAng ( -85.50 34.50 )
    )
    LINKS (
      L1 ( ATLAng HSTNng ) 9920.00 0.00 0.00 0.00 ( 40000.00 1081.00 )
    )
    DEMANDS (
      D1 ( ATLAng HSTNng ) 1 3580.00 UNLIMITED
    )

A node is ``id ( longitude latitude )``; a link ``id ( a b )``, its
pre-installed capacity, that capacity's cost, routing cost, setup cost and
``( module_capacity module_cost ... )``; a demand ``id ( from to )``, its
routing unit, value and maximum path length.

SNDlib itself ships Java tools, and no maintained Python package parses the
native format (``pysndlib`` on PyPI is an unrelated sound library), so it is
read here by hand: a tokenizer that keeps each
token's line and column and a small recursive-descent reader per section, so
every error names ``FILE:LINE:COL``.

The mapping: nodes become routers in one ``extranet`` domain at one province
site; links become leased-fibre links whose bandwidth is the pre-installed
capacity times the unit; demands become traffic of one ``data`` service at
their own rate. Geographic coordinates give link latencies (great circle at
2e8 m/s) and are kept as tags ``lat=`` ``lon=``; planar ones (some instances
use a drawing grid) are kept as ``x=`` ``y=``. Routing units, path-length
limits and admissible paths are not used; what the file leaves open is
decided by :class:`~topology.importers.options.ImportOptions`, each choice
written to the plan's assumptions:

- the unit: the META section's, else ``--unit``; a file that needs one and
  has none is refused (SNDlib instances without a META unit exist in
  several units, so no guess is safe);
- links with zero pre-installed capacity (in SNDlib a design variable: which
  modules to install is the question the instance asks) are sized for the
  file's own demands by default (``--size demand``): the smallest module, or
  standard line rate without modules, that carries the link's peak load at
  most ``1 - headroom`` full. The largest module makes a network look empty
  and the smallest overloaded, both verdicts artefacts of the choice; sized
  for its demands the network passes the intact capacity rule by
  construction, which the assumptions say, and what is left to judge is
  what SNDlib instances are about: surviving failures. ``largest``,
  ``smallest`` and ``none`` (unsized: the capacity rules then refuse to
  judge) are the alternatives; no link silently takes the 1G default;
- the cost model: ``bandwidth`` (the plan format's default), ``hop``, or
  ``file``, the links' SNDlib routing costs as their ``cost:``.

    >>> plan = import_sndlib(b"NODES (\\n a ( 8.0 50.1 )\\n b ( 13.4 52.5 )\\n)\\n"
    ...                      b"LINKS (\\n L1 ( a b ) 2.5 0 0 0 ( )\\n)\\n", "x.txt", options=ImportOptions(unit="Mbit/s"))
    >>> plan["links"]
    [{'a': 'a', 'b': 'b', 'bandwidth': '2.5M', 'latency': '2.302ms'}]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from ..errors import IssueCollector, Mark, PlanError, PlanIssue
from ..expand.links import UNKNOWN_BANDWIDTH
from ..units import MAX_BANDWIDTH, STANDARD_RATES, format_bandwidth
from .builder import DEFAULT_LATENCY, PlanBuilder, number_text
from .geo import fibre_delay, great_circle_m, is_lat_lon
from .naming import clean_name, unique_names
from .options import DEFAULT_SIZE, ImportOptions
from .options import UNITS as OPTION_UNITS
from .sizing import size_for_load

UNITS = {"BITPERSEC": 1.0, "KBITPERSEC": 1e3, "MBITPERSEC": 1e6, "GBITPERSEC": 1e9, "TBITPERSEC": 1e12}
UNIT_WORDS = {meta: words for words, meta in OPTION_UNITS.items()} | {"TBITPERSEC": "Tbit/s"}
MAX_COST = 65535  # the plan format's largest link cost
CITATION = ('Cite S. Orlowski, R. Wessäly, M. Pióro, A. Tomaszewski, "SNDlib 1.0 - Survivable Network Design '
            'Library", Networks 55(3), 2010.')
_TOKEN = re.compile(r"#.*|[()]|[^\s()]+")
_META_START = re.compile(r"^\s*META\s*\(\s*$")
_META_ANY = re.compile(r"^\s*META\b")
_NETWORK_COMMENT = re.compile(r"^\s*#\s*network\s+(\S+)")


@dataclass(frozen=True)
class Token:
    text: str
    mark: Mark


@dataclass(frozen=True)
class SndNode:
    id: str
    coords: tuple[float, float] | None  # as written: (longitude, latitude) or planar (x, y)
    mark: Mark


@dataclass(frozen=True)
class SndLink:
    id: str
    source: str
    target: str
    pre_installed: float
    modules: tuple[float, ...]  # module capacities
    mark: Mark
    routing_cost: float = 0.0


@dataclass(frozen=True)
class SndDemand:
    id: str
    source: str
    target: str
    value: float
    mark: Mark


@dataclass
class SndNetwork:
    """What an SNDlib native file says, in file order."""

    name: str | None
    meta: dict[str, tuple[str, Mark]]
    nodes: list[SndNode]
    links: list[SndLink]
    demands: list[SndDemand]
    ignored: list[str]


def import_sndlib(data: bytes, file: str, name: str | None = None, options: ImportOptions | None = None) -> dict[str, Any]:
    """The plan (a dict in the plan format) for SNDlib native ``data``; raises PlanError."""
    options = options or ImportOptions()
    net = parse_sndlib(_decode(data, file), file)
    filename = PurePath(file).name
    unit, factor = _unit(net, options, file)
    plan_name = name or clean_name(net.name or "") or clean_name(PurePath(file).stem) or "sndlib network"
    title = net.name if net.name and net.name != plan_name else None
    builder = PlanBuilder(plan_name, title, _description(net, filename))
    names, geographic = _add_nodes(builder, net, filename)
    if unit is not None:
        source = "as the META section says" if "unit" in net.meta else "as --unit says (the file has no META unit)"
        builder.note(f"Capacities and demand values are in {UNIT_WORDS[unit]} ({unit}) {source}.")
    links = _add_links(builder, net, names, geographic, factor, options, file)
    _add_demands(builder, net, names, factor)
    _size(builder, net, links, factor, options)
    if net.ignored:
        builder.note(f"Sections not used: {', '.join(net.ignored)}.")
    return builder.to_dict()


# -- reading ------------------------------------------------------------------

def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PlanError(PlanIssue(Mark(file, line, col), "the file is not UTF-8 text", "save it as UTF-8")) from None


def parse_sndlib(text: str, file: str) -> SndNetwork:
    """Read SNDlib native ``text`` (``file`` names it in errors); raises PlanError."""
    tokens, meta, name = _tokenize(text, file)
    lines = text.splitlines() or [""]
    eof = Mark(file, len(lines), len(lines[-1]) + 1)
    net = _Parser(tokens, eof).network(meta, name)
    _check_references(net)
    return net


def _tokenize(text: str, file: str) -> tuple[list[Token], dict[str, tuple[str, Mark]], str | None]:
    """Tokens outside the META section, META's ``key = value`` lines, and the ``# network`` name."""
    tokens: list[Token] = []
    meta: dict[str, tuple[str, Mark]] = {}
    name = None
    in_meta: Mark | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if name is None and (found := _NETWORK_COMMENT.match(line)):
            name = found.group(1)
        stripped = line.strip()
        if in_meta is not None:
            if stripped == ")":
                in_meta = None
            elif stripped and not stripped.startswith("#"):
                _meta_line(line, Mark(file, number, len(line) - len(line.lstrip()) + 1), meta)
            continue
        if _META_ANY.match(line):
            in_meta = Mark(file, number, line.index("META") + 1)
            if not _META_START.match(line):
                raise PlanError(PlanIssue(in_meta, "META ( must stand on a line of its own",
                                          "write META (, then one 'attribute = value' per line, then )"))
            continue
        if stripped.startswith("?"):
            continue
        for match in _TOKEN.finditer(line):
            if not match.group().startswith("#"):
                tokens.append(Token(match.group(), Mark(file, number, match.start() + 1)))
    if in_meta is not None:
        raise PlanError(PlanIssue(in_meta, "the META section is never closed", "end it with a line holding ')'"))
    return tokens, meta, name


def _meta_line(line: str, mark: Mark, meta: dict[str, tuple[str, Mark]]) -> None:
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise PlanError(PlanIssue(mark, f"META line {line.strip()!r} is not 'attribute = value'", "write e.g. unit = MBITPERSEC"))
    meta[key.strip()] = (value.strip(), mark)


class _Parser:
    """Recursive descent over the tokens: ``SECTION ( entry* )`` until the end."""

    def __init__(self, tokens: list[Token], eof: Mark):
        self.tokens = tokens
        self.pos = 0
        self.eof = eof

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, what: str) -> Token:
        token = self.peek()
        if token is None:
            raise PlanError(PlanIssue(self.eof, f"the file ends where {what} was expected",
                                      "the file looks cut off; check that every '(' is closed"))
        self.pos += 1
        return token

    def expect(self, text: str, what: str) -> Token:
        token = self.take(f"'{text}' {what}")
        if token.text != text:
            raise PlanError(PlanIssue(token.mark, f"expected '{text}' {what}, found '{token.text}'",
                                      "see the entry format in the section's header comment"))
        return token

    def word(self, what: str) -> Token:
        token = self.take(what)
        if token.text in "()":
            raise PlanError(PlanIssue(token.mark, f"expected {what}, found '{token.text}'",
                                      "see the entry format in the section's header comment"))
        return token

    def number(self, what: str) -> float:
        token = self.word(what)
        try:
            value = float(token.text.rstrip(","))
        except ValueError:
            value = float("nan")
        if not (math.isfinite(value) and value >= 0):
            raise PlanError(PlanIssue(token.mark, f"{what} should be a number of at least 0, found '{token.text}'",
                                      "write a plain decimal number like 2480.00"))
        return value

    def signed(self, what: str) -> float:
        token = self.word(what)
        try:
            value = float(token.text.rstrip(","))
        except ValueError:
            value = float("nan")
        if not math.isfinite(value):
            raise PlanError(PlanIssue(token.mark, f"{what} should be a number, found '{token.text}'",
                                      "write a plain decimal number like -84.38"))
        return value

    def entries(self, parse_entry: Callable[[], Any]) -> list[Any]:
        out = []
        while (token := self.peek()) is not None and token.text != ")":
            out.append(parse_entry())
        self.expect(")", "closing the section")
        return out

    def skip_balanced(self, opened: Token) -> None:
        depth = 1
        while depth:
            token = self.take(f"')' closing the '(' at line {opened.mark.line}")
            depth += {"(": 1, ")": -1}.get(token.text, 0)

    def network(self, meta: dict[str, tuple[str, Mark]], name: str | None) -> SndNetwork:
        net = SndNetwork(name, meta, [], [], [], [])
        seen: dict[str, Mark] = {}
        readers: dict[str, tuple[Callable[[], Any], list[Any]]] = {
            "NODES": (self.node, net.nodes), "LINKS": (self.link, net.links), "DEMANDS": (self.demand, net.demands)}
        while self.peek() is not None:
            section = self.word("a section name such as NODES")
            if section.text in seen:
                raise PlanError(PlanIssue(section.mark, f"section {section.text} appears twice (first at {seen[section.text]})",
                                          "merge the two sections"))
            if not re.fullmatch(r"[A-Z][A-Z_]*", section.text):
                raise PlanError(PlanIssue(section.mark, f"expected a section such as NODES (, found '{section.text}'",
                                          "entries belong inside NODES ( ... ), LINKS ( ... ) or DEMANDS ( ... )"))
            seen[section.text] = section.mark
            opened = self.expect("(", f"after {section.text}")
            if section.text in readers:
                parse_entry, target = readers[section.text]
                target.extend(self.entries(parse_entry))
            else:
                self.skip_balanced(opened)
                net.ignored.append(section.text)
        if "NODES" not in seen:
            raise PlanError(PlanIssue(Mark(self.eof.file), "no NODES section", "an SNDlib network lists its nodes in NODES ( ... )"))
        return net

    def node(self) -> SndNode:
        ident = self.word("a node id")
        coords = None
        if (token := self.peek()) is not None and token.text == "(":
            self.pos += 1
            coords = (self.signed("the node's longitude (x)"), self.signed("the node's latitude (y)"))
            self.expect(")", "after the node's coordinates")
        return SndNode(ident.text, coords, ident.mark)

    def ends(self, what: str) -> tuple[str, str]:
        self.expect("(", f"before the {what}'s end nodes")
        source, target = self.word(f"the {what}'s first node").text, self.word(f"the {what}'s second node").text
        self.expect(")", f"after the {what}'s two end nodes")
        return source, target

    def link(self) -> SndLink:
        ident = self.word("a link id")
        source, target = self.ends("link")
        pre_installed = self.number("pre_installed_capacity")
        self.number("pre_installed_capacity_cost")
        routing_cost = self.number("routing_cost")
        self.number("setup_cost")
        self.expect("(", "opening the module list")
        values = []
        while (token := self.peek()) is not None and token.text != ")":
            values.append(self.number("a module capacity or cost"))
        close = self.expect(")", "closing the module list")
        if len(values) % 2:
            raise PlanError(PlanIssue(close.mark, f"link {ident.text}: the module list has an odd number of values",
                                      "list modules as pairs: capacity cost"))
        return SndLink(ident.text, source, target, pre_installed, tuple(values[0::2]), ident.mark, routing_cost)

    def demand(self) -> SndDemand:
        ident = self.word("a demand id")
        source, target = self.ends("demand")
        self.number("routing_unit")
        value = self.number("demand_value")
        limit = self.word("max_path_length")
        if limit.text != "UNLIMITED" and not limit.text.isdigit():
            raise PlanError(PlanIssue(limit.mark, f"max_path_length should be UNLIMITED or a whole number, found '{limit.text}'",
                                      "write UNLIMITED"))
        return SndDemand(ident.text, source, target, value, ident.mark)


def _check_references(net: SndNetwork) -> None:
    issues = IssueCollector()
    nodes: dict[str, Mark] = {}
    for node in net.nodes:
        if node.id in nodes:
            issues.add(node.mark, f"node '{node.id}' is listed twice (first at {nodes[node.id]})", "give every node its own id")
        nodes.setdefault(node.id, node.mark)
    for kind, items in (("link", net.links), ("demand", net.demands)):
        for item in items:
            for end in (item.source, item.target):
                if end not in nodes:
                    issues.add(item.mark, f"{kind} '{item.id}' names unknown node '{end}'", "list the node in NODES ( ... )")
    issues.raise_if_any()


# -- mapping --------------------------------------------------------------------

def _unit(net: SndNetwork, options: ImportOptions, file: str) -> tuple[str | None, float]:
    """The unit (META spelling) and its bits/s; None where the file has no value that needs one."""
    given = options.sndlib_unit
    if "unit" not in net.meta:
        if given is not None:
            return given, UNITS[given]
        if _needs_unit(net):
            raise PlanError(PlanIssue(Mark(file), "the file has no META unit, so its capacities and demand values "
                                      "could be bit/s, Mbit/s or Gbit/s alike",
                                      "say which with --unit (bit/s, kbit/s, Mbit/s or Gbit/s); the instance's "
                                      "page on sndlib.zib.de may tell"))
        return None, 1.0
    value, mark = net.meta["unit"]
    if value.upper() not in UNITS:
        raise PlanError(PlanIssue(mark, f"unknown META unit '{value}'", f"use one of {', '.join(UNITS)}"))
    if given is not None and given != value.upper():
        raise PlanError(PlanIssue(mark, f"the META section says unit = {value} ({UNIT_WORDS[value.upper()]}) but "
                                  f"--unit says {options.unit}",
                                  "leave --unit out: it is for files without a META unit"))
    return value.upper(), UNITS[value.upper()]


def _needs_unit(net: SndNetwork) -> bool:
    """Whether some capacity, module or demand value must be read in a unit."""
    return bool(net.demands) or any(link.pre_installed > 0 or link.modules for link in net.links)


def _description(net: SndNetwork, filename: str) -> str:
    parts = [f"Imported from the SNDlib file {filename}."]
    if "origin" in net.meta:
        parts.append(f"Origin: {net.meta['origin'][0]}.")
    parts.append(CITATION)
    return " ".join(parts)


def _is_geographic(nodes: list[SndNode]) -> bool:
    """Longitude/latitude if every node has in-range coordinates and they are not all whole numbers (a grid)."""
    coords = [n.coords for n in nodes]
    if not coords or any(c is None or not is_lat_lon(c[1], c[0]) for c in coords):
        return False
    return any(not float(v).is_integer() for c in coords if c for v in c)


def _add_nodes(builder: PlanBuilder, net: SndNetwork, filename: str) -> tuple[dict[str, str], bool]:
    geographic = _is_geographic(net.nodes)
    names: dict[str, str] = {}
    for node, name in zip(net.nodes, unique_names([(n.id, n.id) for n in net.nodes])):
        names[node.id] = name
        tags: list[str] = []
        if node.coords is not None:
            x, y = (number_text(v) for v in node.coords)
            tags = [f"lat={y}", f"lon={x}"] if geographic else [f"x={x}", f"y={y}"]
        builder.add_node(name, title=node.id if node.id != name else None, tags=tags)
    builder.note(f"Imported from the SNDlib file {filename}: {len(net.nodes)} nodes, {len(net.links)} links and "
                 f"{len(net.demands)} demands; every node is a router in one extranet domain, every link leased fibre.")
    if geographic:
        builder.note("Coordinates are kept as node tags lat=... and lon=... (the plan format has no coordinate "
                     "field); link latency is the great-circle distance between them at 2e8 m/s (light in fibre).")
    elif any(n.coords for n in net.nodes):
        builder.note("The node coordinates are not geographic (planar or grid values); they are kept as node tags "
                     f"x=... and y=..., and every link takes the default latency {DEFAULT_LATENCY}.")
    else:
        builder.note(f"The file gives no node coordinates; every link takes the default latency {DEFAULT_LATENCY}.")
    return names, geographic


@dataclass(frozen=True)
class _Placed:
    """A link of the file as added to the plan, under its plan name."""

    link: SndLink
    name: str


def _unit_hint(net: SndNetwork) -> str:
    return "check the META unit" if "unit" in net.meta else "check --unit (the file has no META unit)"


def _checked(link: SndLink, bps: float, net: SndNetwork, also: str = "") -> float:
    if bps > MAX_BANDWIDTH:
        raise PlanError(PlanIssue(link.mark, f"link '{link.id}' would have {format_bandwidth(bps)}bit/s, above the "
                                  "10T a plan allows per link", f"{_unit_hint(net)}{also}"))
    return bps


def _add_links(builder: PlanBuilder, net: SndNetwork, names: dict[str, str], geographic: bool,
               factor: float, options: ImportOptions, file: str) -> list[_Placed]:
    """Add every link but self-loops, with its pre-installed capacity (the others are sized by :func:`_size`)."""
    by_id = {n.id: n for n in net.nodes}
    links = [link for link in net.links if link.source != link.target]
    loops = [link.mark.line for link in net.links if link.source == link.target]
    costs = _file_costs(builder, links, file) if options.cost == "file" else {}
    placed = []
    for link in links:
        bps = _checked(link, link.pre_installed * factor, net) if link.pre_installed > 0 else None
        latency = None
        if geographic:
            (lon1, lat1), (lon2, lat2) = by_id[link.source].coords, by_id[link.target].coords  # type: ignore[misc]
            latency = fibre_delay(great_circle_m(lat1, lon1, lat2, lon2))
        name = builder.add_link(names[link.source], names[link.target], bandwidth=bps, latency=latency,
                                cost=costs.get(link.id))
        placed.append(_Placed(link, name))
    if loops:
        builder.note(f"{len(loops)} self-loop links were dropped: lines {', '.join(map(str, loops))}.")
    builder.note("Routing units, path-length limits and admissible paths of the SNDlib instance are not used.")
    return placed


def _file_costs(builder: PlanBuilder, links: list[SndLink], file: str) -> dict[str, int]:
    """``--cost file``: every link's SNDlib routing cost as a whole-number plan cost, ratios kept."""
    if all(link.routing_cost == 0 for link in links):
        raise PlanError(PlanIssue(Mark(file), "--cost file: the file gives no routing costs (every link's "
                                  "routing_cost is 0)", "use --cost hop or --cost bandwidth"))
    zero = [link for link in links if link.routing_cost == 0]
    if zero:
        raise PlanError(PlanIssue(zero[0].mark, f"--cost file: link '{zero[0].id}' has routing cost 0 and others have "
                                  "one; a link cost is at least 1", "use --cost hop or --cost bandwidth"))
    values = [link.routing_cost for link in links]
    scale = next((10 ** k for k in range(7) if max(values) * 10 ** k <= MAX_COST
                  and all(abs(v * 10 ** k - round(v * 10 ** k)) <= 1e-6 * v * 10 ** k for v in values)), None)
    exact = scale is not None
    factor = float(scale) if scale is not None else MAX_COST / max(values)
    costs = {link.id: max(1, round(link.routing_cost * factor)) for link in links}
    builder.cost_model = None
    text = ("Link cost model: the file's own routing costs (--cost file), written as each link's cost:"
            + ("" if factor == 1 else f", times {factor:g} to make them whole numbers (plan costs are integers of "
               f"at most {MAX_COST})"))
    if not exact:
        error = max(abs(costs[link.id] - link.routing_cost * factor) / (link.routing_cost * factor) for link in links)
        text += f"; rounding changes a cost by at most {error:.2%}, which may break or make ties between paths"
    builder.note(text + ". There is no routing: section: every link has its own cost (a link added later without "
                 "one takes the plan format's default, 100G ÷ bandwidth).")
    return costs


def _size(builder: PlanBuilder, net: SndNetwork, placed: list[_Placed], factor: float, options: ImportOptions) -> None:
    """Decide the bandwidth of the links with no pre-installed capacity (``--size``) and the cost model."""
    size = options.size or DEFAULT_SIZE
    open_links = [p for p in placed if p.link.pre_installed <= 0]
    total = len(placed)
    if total > len(open_links):
        builder.note(f"{total - len(open_links)} of {total} links have pre-installed capacity: their bandwidth is that "
                     "capacity.")
    builder.choose_cost_model(options.cost, len(open_links) if size == "none" else 0, size)
    if not open_links:
        return
    count = f"{len(open_links)} of {total} links have no pre-installed capacity"
    if size in ("largest", "smallest"):
        pick = max if size == "largest" else min
        for p in open_links:
            modules = [m for m in p.link.modules if m > 0]
            if not modules:
                raise PlanError(PlanIssue(p.link.mark, f"link '{p.link.id}' has neither pre-installed capacity nor "
                                          f"modules, so --size {size} has no module to take",
                                          "use --size demand (a standard line rate for its load) or --size none"))
            other = "smallest" if size == "largest" else "largest"
            builder.set_bandwidth(p.name, _checked(p.link, pick(modules) * factor, net, f", or use --size {other} "
                                                   "or demand"))
        verdict = ("the most generous design they allow, so utilisation is as low as these modules make it"
                   if size == "largest" else "the least generous design they allow, so utilisation is as high as "
                   "these modules make it")
        builder.note(f"{count}; each takes its {size} module (--size {size}), one module per link: {verdict} (SNDlib "
                     "leaves the design open; the capacity verdict follows from this choice).")
    elif size == "none":
        for p in open_links:
            builder.set_bandwidth(p.name, UNKNOWN_BANDWIDTH)
        builder.note(f"{count}; they are left unsized (--size none) and marked bandwidth: unknown, so the capacity "
                     "rules are not applicable to the plan (never passed) until every link is given a bandwidth.")
    else:
        _size_for_demand(builder, net, open_links, factor, options, count)


def _size_for_demand(builder: PlanBuilder, net: SndNetwork, open_links: list[_Placed], factor: float,
                     options: ImportOptions, count: str) -> None:
    headroom = options.headroom_or_default
    candidates: dict[str, tuple[float, ...]] = {}
    with_modules = 0
    too_large = 0
    for p in open_links:
        modules = sorted({m * factor for m in p.link.modules if m > 0})
        if modules:
            with_modules += 1
            fitting = tuple(m for m in modules if m <= MAX_BANDWIDTH)
            if not fitting:
                _checked(p.link, modules[0], net, ", or use --size none")
            too_large += len(fitting) < len(modules)
            candidates[p.name] = fitting
        else:
            candidates[p.name] = STANDARD_RATES
    sized = size_for_load(builder, candidates, headroom, options.load_model)
    how = "--size demand" if options.size else "--size demand, the default"
    kinds = []
    if with_modules:
        kinds.append(f"the smallest of its modules ({with_modules} links)")
    if with_modules < len(open_links):
        kinds.append(f"without modules, the smallest standard line rate ({len(open_links) - with_modules} links; "
                     f"{', '.join(format_bandwidth(r) for r in STANDARD_RATES)})")
    rounds = (f" Under bandwidth costs sizes change routes: sizing took {sized.rounds} rounds, raising links only, "
              "until the routes of the final sizes needed nothing more." if sized.rounds > 1 else "")
    text = (f"{count}; they are sized for the file's demands ({how}, headroom {headroom:g}): each takes "
            f"{' or, '.join(kinds)} whose capacity carries the busier direction of its peak load at most "
            f"{1 - headroom:.0%} full, the demands routed by govnet's own load model over the plan's routes.{rounds}")
    if not options.size:
        text += (" Why this default: SNDlib leaves these capacities to be designed; the largest module would make the "
                 "network look empty and the smallest overloaded, verdicts that are artefacts of the choice. Sized for "
                 "its own demands, no sized link fails the capacity rule without failures, by construction (that is "
                 "no finding; pre-installed capacities are judged as the file gives them); what remains to judge is "
                 "whether the network survives failures (N-1).")
    builder.note(text)
    if too_large:
        builder.note(f"{too_large} links have modules above the 10T a plan allows per link; those modules are not "
                     "used.")
    if not net.demands:
        builder.note("The file has no demands, so every link sized for them takes its smallest capacity.")
    if sized.undelivered:
        builder.note(f"{sized.undelivered} demands are not delivered by the plan's routing and load no link.")
    if sized.copies:
        names = sorted(sized.copies, key=list(candidates).index)
        builder.note(f"{len(names)} links need more than their largest module (or 400G, the largest standard rate) and "
                     "take the fewest copies of it that carry their load, as SNDlib installs modules in whole numbers: "
                     + ", ".join(f"{n} {sized.copies[n]} × {format_bandwidth(candidates[n][-1])}" for n in names[:20])
                     + (f" and {len(names) - 20} more" if len(names) > 20 else "") + ".")
    if sized.short:
        builder.note(f"{len(sized.short)} links would need more than the 10T a plan allows and take the most copies "
                     f"within it, so the capacity rule will report them: {', '.join(sized.short)}.")


def _add_demands(builder: PlanBuilder, net: SndNetwork, names: dict[str, str], factor: float) -> None:
    dropped = []
    for demand in net.demands:
        if demand.source == demand.target or demand.value <= 0:
            dropped.append(demand.mark.line)
            continue
        rate = demand.value * factor
        if rate > MAX_BANDWIDTH:
            raise PlanError(PlanIssue(demand.mark, f"demand '{demand.id}' is above 10T bits/s",
                                      f"{_unit_hint(net)}; the plan format allows at most 10T per flow"))
        builder.add_traffic(names[demand.source], names[demand.target], rate)
    if net.demands:
        builder.set_service_title("SNDlib traffic demand")
        builder.note("Each demand becomes one traffic entry of the service 'demand' (kind data) at its own rate; "
                     "the service's rate is the smallest demand.")
    if dropped:
        builder.note(f"{len(dropped)} demands from a node to itself or of value 0 were dropped: lines "
                     f"{', '.join(map(str, dropped))}.")
