"""Packet batches: many packets to trace, read from a CSV or JSON-lines file, every field with its place in the file.

Definition. A batch file holds one packet per row. Its fields are the
packet options of ``govnet trace`` without their dashes (:data:`COLUMNS`):
``from`` (the sending node), ``to`` (a node or an IPv4 address), ``proto``
(tcp, udp or icmp), ``sport`` and ``dport`` (0-65535), ``icmp-type``
(0-255) and ``src-ip`` (an IPv4 address), parsed and checked as the options
are. A field a row leaves out (or leaves empty, or ``null`` in JSON) takes
the batch's default, which is the command's option value.

- **CSV** (``csv``): a header row naming the columns, then one row per
  packet; fields separated by commas, quoted with ``"`` when they hold a comma,
  a quote (doubled) or a line break; blank lines are skipped.
- **JSON lines** (``jsonl``): one JSON object per line with the same keys;
  blank lines are skipped.

Every problem is a :class:`~topology.errors.PlanIssue` at ``FILE:LINE:COL``,
the line and column (1-based, in characters) of the field's first character:
an unknown column or key, a bad value, a packet with no sender or
destination, and (:func:`check_packets`) a node or address the network does
not have, with the closest name as a hint. All problems of a file are raised
together as one :class:`~topology.errors.PlanError`, before any packet is
traced. :func:`trace_packets` then gives each row's
:class:`~simulator.trace.RoundTrip`, in file order, exactly as
:func:`simulator.trace.round_trip` gives it for one packet.

Example::

    >>> rows = read_packets("from,to,dport\\n双柏县财政局,楚雄州行政审批服务器,443\\n".encode(), "batch.csv")
    >>> rows[0].packet["src"], rows[0].packet["dport"], rows[0].packet["proto"]
    ('双柏县财政局', 443, 'tcp')
    >>> [t.delivered for t in trace_packets(net, rows)]     # the Chuxiong plan
    [True]
    >>> try:
    ...     read_packets(b'{"from": "a", "to": "b", "dport": 70000}\\n', "batch.jsonl")
    ... except PlanError as exc:
    ...     print(exc)
    batch.jsonl:1:35: error: dport 70000 is out of range 0-65535 (a port is a whole number from 0 to 65535)
"""

from __future__ import annotations

import inspect
import ipaddress
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from topology.collector import no_gc
from topology.errors import GovnetError, Mark, PlanError, PlanIssue, SelectorError
from topology.model import Network
from topology.selectors import select_nodes
from topology.validation import close_match

from .background import Background
from .forwarding import build_forwarding
from .trace import Hop, RoundTrip, resolve_destination, round_trip, trace

__all__ = ["COLUMNS", "FORMATS", "PACKET_DEFAULTS", "PROTOCOLS", "PacketRow", "answer_batch", "batch_format", "check_packets",
           "ended", "read_packets", "result_json", "result_text", "results", "trace_packets"]

#: column of a batch file (an option of ``govnet trace`` without its dashes) -> keyword of :func:`round_trip`
COLUMNS: dict[str, str] = {
    "from": "src",
    "to": "dst",
    "proto": "proto",
    "sport": "sport",
    "dport": "dport",
    "icmp-type": "icmp_type",
    "src-ip": "src_ip",
}
PROTOCOLS = ("tcp", "udp", "icmp")
#: what a packet's fields default to: those of :func:`simulator.trace.trace` (``from`` and ``to`` have none)
PACKET_DEFAULTS: dict[str, Any] = {
    column: (None if keyword in ("src", "dst") else inspect.signature(trace).parameters[keyword].default)
    for column, keyword in COLUMNS.items()
}
#: batch format -> the file name endings that mean it
FORMATS: dict[str, tuple[str, ...]] = {"csv": (".csv",), "jsonl": (".jsonl", ".ndjson")}


@dataclass(frozen=True, slots=True)
class PacketRow:
    """One packet of a batch: ``row`` counts packets from 1; ``packet`` holds :func:`round_trip`'s keywords.

    ``mark`` is where the row starts; ``marks`` where each field the row gives
    is (by column), for messages about it.
    """

    row: int
    mark: Mark
    packet: dict[str, Any]
    marks: dict[str, Mark] = field(default_factory=dict)

    def at(self, column: str) -> Mark:
        """Where ``column``'s value is (the row's start when the row does not give it)."""
        return self.marks.get(column, self.mark)


def batch_format(file: str | Path, given: str | None = None) -> str:
    """The format of batch file ``file``: ``given`` when set, else by its name's ending (GovnetError when unknown).

    >>> batch_format("packets.ndjson"), batch_format("-", "csv")
    ('jsonl', 'csv')
    """
    if given is not None:
        if given not in FORMATS:
            raise GovnetError(f"unknown batch format '{given}' (one of {', '.join(FORMATS)})")
        return given
    suffix = Path(str(file)).suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    endings = ", ".join(s for suffixes in FORMATS.values() for s in suffixes)
    what = "standard input" if str(file) == "-" else f"{file}"
    raise GovnetError(f"cannot tell the format of {what} from its name: name it {endings} or give --batch-format")


def read_packets(data: bytes, file: str, fmt: str | None = None,
                 defaults: Mapping[str, Any] | None = None) -> list[PacketRow]:
    """Every packet of batch ``data`` (read from ``file``, named so in messages), in file order.

    ``fmt`` is ``csv`` or ``jsonl`` (default: by ``file``'s name,
    :func:`batch_format`); ``defaults`` (column -> value) fills the fields a
    row leaves out, over :data:`PACKET_DEFAULTS`. Raises
    :class:`~topology.errors.PlanError` with every problem of the file.

    >>> rows = read_packets(b'{"from": "a", "to": "10.0.0.9", "proto": "icmp"}\\n\\n{"from": "b", "to": "a"}\\n',
    ...                     "batch.jsonl", defaults={"dport": 80})
    >>> [(r.row, r.mark.line, r.packet["dst"], r.packet["proto"], r.packet["dport"]) for r in rows]
    [(1, 1, '10.0.0.9', 'icmp', 80), (2, 3, 'a', 'tcp', 80)]
    """
    fmt = batch_format(file, fmt)
    base = dict(PACKET_DEFAULTS)
    for column, value in (defaults or {}).items():
        if column not in COLUMNS:
            raise GovnetError(f"no packet field '{column}' (the fields are {', '.join(COLUMNS)})")
        try:
            base[column] = _PARSERS[column](column, value) if value is not None else None
        except ValueError as exc:
            raise GovnetError(f"--{column}: {exc.args[0]} ({exc.args[1]})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        col = len(data[:exc.start].rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
        raise PlanError(PlanIssue(Mark(file, line, col), "the file is not UTF-8 text", "save it as UTF-8")) from None
    with no_gc():  # millions of small objects and no cycles: a full collection would scan a loaded plan for nothing
        return _rows(text, file, fmt, base)


def _rows(text: str, file: str, fmt: str, base: Mapping[str, Any]) -> list[PacketRow]:
    issues: list[PlanIssue] = []
    records = _csv_records(text, file, issues) if fmt == "csv" else _jsonl_records(text, file, issues)
    rows = []
    for number, (mark, cells) in enumerate(records, 1):
        packet: dict[str, Any] = {}
        marks: dict[str, Mark] = {}
        for column, keyword in COLUMNS.items():
            if column in cells and cells[column][1] not in (None, ""):
                where, raw = cells[column]
                marks[column] = where
                try:
                    packet[keyword] = _PARSERS[column](column, raw)
                except ValueError as exc:
                    message, hint = exc.args
                    issues.append(PlanIssue(where, message, hint))
                    packet[keyword] = None
            else:
                packet[keyword] = base[column]
        for column, what in (("from", "the sending node"), ("to", "the destination node or address")):
            if packet[COLUMNS[column]] is None and column not in marks:
                issues.append(PlanIssue(mark, f"packet {number} has no '{column}' ({what})",
                                        f"give it a {column} field, or give --{column} for every packet"))
        rows.append(PacketRow(number, mark, packet, marks))
    if issues:
        raise PlanError(issues)
    return rows


def check_packets(net: Network, rows: Sequence[PacketRow]) -> None:
    """Raise :class:`~topology.errors.PlanError` at the field of every sender or destination ``net`` does not have.

    The checks of :func:`simulator.trace.trace`, made for every row before any
    is traced: one sending node (``from``, a name or ``node:NAME``) with an
    address to send from unless ``src-ip`` is given; a destination (``to``)
    that is a node with an address or an IPv4 address. The messages are
    those of a single trace, the closest node name as a hint.

    >>> check_packets(net, read_packets("from,to\\n双柏县财政局,楚雄州行政审批服务器\\n".encode(), "b.csv"))
    >>> try:
    ...     check_packets(net, read_packets("from,to\\n双柏县财政局,楚雄州行政审批服务\\n".encode(), "b.csv"))
    ... except PlanError as exc:
    ...     print(exc)
    b.csv:2:8: error: no node named '楚雄州行政审批服务' (did you mean '楚雄州行政审批服务器'?) (use site:, domain:, role:,
    level: or service: for groups)
    """
    fw = build_forwarding(net)
    issues: list[PlanIssue] = []
    senders: dict[str, str | SelectorError] = {}
    for r in rows:
        src = r.packet["src"]
        if src not in senders:
            senders[src] = _sender(net, src)
        sender = senders[src]
        if isinstance(sender, SelectorError):
            issues.append(PlanIssue(r.at("from"), str(sender)))
        elif r.packet["src_ip"] is None and fw.primary_address(sender) is None:
            issues.append(PlanIssue(r.at("from"), f"node '{sender}' has no address to send from",
                                    "give the packet a src-ip field"))
        try:
            resolve_destination(net, fw, r.packet["dst"])
        except SelectorError as exc:
            issues.append(PlanIssue(r.at("to"), str(exc)))
    if issues:
        raise PlanError(issues)


def trace_packets(net: Network, rows: Sequence[PacketRow], answer: bool = False) -> Iterator[RoundTrip]:
    """Each row's round trip (:func:`simulator.trace.round_trip`; its answer traced too with ``answer``), in order.

    Check the rows first (:func:`check_packets`): a row the network cannot
    send raises :class:`~topology.errors.PlanError` at its field.
    """
    with no_gc():  # a batch allocates millions of small objects and no cycles
        for r in rows:
            try:
                yield round_trip(net, **r.packet, answer=answer)
            except SelectorError as exc:
                raise PlanError(PlanIssue(r.mark, str(exc))) from None


def ended(trip: RoundTrip) -> Hop:
    """The hop where a round trip ended: the last of the trace that did not arrive, else of the answer, else of the packet.

    >>> ended(round_trip(net, "双柏县财政局", "楚雄州行政审批服务器", answer=False)).node
    '楚雄州行政审批服务器'
    """
    return (trip.failed or trip.back or trip.forward).last


def result_json(row: PacketRow, trip: RoundTrip, hops: bool = False) -> dict[str, Any]:
    """One row's result: the single trace's JSON (:meth:`RoundTrip.to_json`), its hops only with ``hops``, and
    ``row``, ``line`` (where the row is in its file), ``packet`` (as sent), ``decision`` and ``node`` (of the hop
    where it ended, :func:`ended`) and ``hop_count`` (every hop, there and back).

    >>> rows = read_packets("from,to\\n双柏县财政局,楚雄州行政审批服务器\\n".encode(), "b.csv")
    >>> data = result_json(rows[0], next(trace_packets(net, rows)))
    >>> data["row"], data["line"], data["delivered"], data["decision"], data["hop_count"], "hops" in data
    (1, 2, True, 'delivered', 5, False)
    """
    last = ended(trip)
    first = trip.forward.hops[0].header
    out: dict[str, Any] = {"row": row.row, "line": row.mark.line, "src": trip.forward.src, "dst": trip.forward.dst,
                           "packet": first.to_json() if first is not None else None, "delivered": trip.delivered,
                           "decision": last.decision, "node": last.node, "hop_count": len(trip.hops),
                           "reason": (trip.failed or trip.forward).reason}
    if hops:
        data = trip.to_json()
        out["hops"] = data["hops"]
        if "reply" in data:
            out["reply"] = data["reply"]
    elif trip.back is not None:
        back = trip.back
        out["reply"] = {"src": back.src, "dst": back.dst, "delivered": back.delivered, "reason": back.reason}
    return out


def result_text(row: PacketRow, trip: RoundTrip, hops: bool = False) -> str:
    """One row's result as text: a line with the packet and its fate; with ``hops``, then the single trace's text.

    >>> rows = read_packets("from,to\\n双柏县财政局,楚雄州行政审批服务器\\n".encode(), "b.csv")
    >>> print(result_text(rows[0], next(trace_packets(net, rows))), end="")
    row 1 (b.csv:2): tcp 10.53.5.155:40000 -> 10.53.4.225:443 ttl 64 from 双柏县财政局 to 楚雄州行政审批服务器:
    DELIVERED: delivered to 楚雄州行政审批服务器 (5 hops)
    """
    first = trip.forward.hops[0].header
    verdict = ("DELIVERED: " if trip.delivered else "DROPPED: ") + (trip.failed or trip.forward).reason
    line = (f"row {row.row} ({row.mark.file}:{row.mark.line}): {first} from {trip.forward.src} to {trip.forward.dst}: "
            f"{verdict} ({len(trip.hops)} hops)\n")
    return line + trip.text() if hops else line


def results(rows: Sequence[PacketRow], trips: Sequence[RoundTrip], fmt: str = "text", hops: bool = False) -> str:
    """Every row's result as ``govnet trace --batch`` writes it: :func:`result_text` of each, or with ``fmt``
    ``json`` JSON lines of :func:`result_json` (one object per line), in row order.

    >>> rows = read_packets("from,to\\n双柏县财政局,楚雄州行政审批服务器\\n".encode(), "b.csv")
    >>> text = results(rows, list(trace_packets(net, rows)), "json")
    >>> text.count("\\n"), json.loads(text)["row"], json.loads(text)["node"]
    (1, 1, '楚雄州行政审批服务器')
    """
    with no_gc():
        if fmt == "json":
            return "".join(json.dumps(result_json(r, t, hops), ensure_ascii=False, default=str) + "\n"
                           for r, t in zip(rows, trips))
        return "".join(result_text(r, t, hops) for r, t in zip(rows, trips))


SPLIT_FROM = 2000  # rows from which a batch is split between this process and a forked child


def answer_batch(net: Network, rows: Sequence[PacketRow], fmt: str = "text", hops: bool = False,
                 answer: bool = False) -> tuple[str, bool]:
    """:func:`results` of every row's :func:`trace_packets` and whether every packet was delivered.

    From :data:`SPLIT_FROM` rows on, the second half is traced and written in a forked child
    (:class:`simulator.background.Background`) while this process does the first: the text is the same
    as from one process, in row order.

    >>> rows = read_packets("from,to\\n双柏县财政局,楚雄州行政审批服务器\\n".encode(), "b.csv")
    >>> answer_batch(net, rows * 3, "json")[0] == results(rows * 3, list(trace_packets(net, rows * 3)), "json")
    True
    """
    half = len(rows) // 2 if len(rows) >= SPLIT_FROM else 0
    if not half:
        return _answer(net, rows, fmt, hops, answer)
    build_forwarding(net)  # built once, here: the child inherits it
    child = Background(_answer, net, rows[half:], fmt, hops, answer)
    try:
        text, delivered = _answer(net, rows[:half], fmt, hops, answer)
        rest, rest_delivered = child.result()
    finally:
        child.close()
    return text + rest, delivered and rest_delivered


def _answer(net: Network, rows: Sequence[PacketRow], fmt: str, hops: bool, answer: bool) -> tuple[str, bool]:
    trips = list(trace_packets(net, rows, answer=answer))
    return results(rows, trips, fmt, hops), all(t.delivered for t in trips)


def _sender(net: Network, src: str) -> str | SelectorError:
    """The one node ``src`` names, or the error a trace from it raises (a node's name, or ``node:NAME``, is that node
    without a search of the plan, as in :func:`simulator.trace.trace`)."""
    name = src[5:] if src.startswith("node:") else src
    if name in net.nodes:
        return name
    try:
        nodes = select_nodes(net, src)
    except SelectorError as exc:
        return exc
    if len(nodes) != 1:
        return SelectorError(f"'{src}' names {len(nodes)} nodes; a trace starts at one node")
    return nodes[0]


# -- fields -------------------------------------------------------------------------------------------
def _quoted(text: str) -> str:
    """``text`` in quotes for a one-line message: line breaks and tabs written as escapes."""
    return "'" + text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "'"


def _text(column: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"{column} must be text, not {json.dumps(raw, ensure_ascii=False)}",
                         "write it in quotes" if not isinstance(raw, (dict, list)) else f"give one {column}")
    return raw


def _proto(column: str, raw: Any) -> str:
    value = _text(column, raw)
    if value not in PROTOCOLS:
        close = close_match(value.lower(), PROTOCOLS, cutoff=0.5)
        raise ValueError(f"protocol {_quoted(value)} is not one of {', '.join(PROTOCOLS)}",
                         f"did you mean '{close}'?" if close else f"write one of {', '.join(PROTOCOLS)}")
    return value


def _whole(column: str, raw: Any, top: int, what: str) -> int:
    hint = f"{what} is a whole number from 0 to {top}"
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValueError(f"{column} {json.dumps(raw, ensure_ascii=False)} is not a whole number", hint)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{column} {_quoted(str(raw))} is not a whole number", hint) from None
    if not 0 <= value <= top:
        raise ValueError(f"{column} {value} is out of range 0-{top}", hint)
    return value


def _port(column: str, raw: Any) -> int:
    return _whole(column, raw, 65535, "a port")


def _icmp_type(column: str, raw: Any) -> int:
    return _whole(column, raw, 255, "an ICMP type")


def _address(column: str, raw: Any) -> str:
    value = _text(column, raw)
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{_quoted(value)} is not an IPv4 address", "write it as four numbers, 10.53.5.155") from None
    return value


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "from": _text, "to": _text, "proto": _proto, "sport": _port, "dport": _port, "icmp-type": _icmp_type,
    "src-ip": _address,
}

Record = tuple[Mark, dict[str, tuple[Mark, Any]]]  # where the row starts; column -> (where its value is, the value)


def _unknown(column: str, mark: Mark, what: str) -> PlanIssue:
    close = close_match(column, COLUMNS, cutoff=0.5)
    return PlanIssue(mark, f"unknown {what} '{column}'",
                     (f"did you mean '{close}'? " if close else "") + f"the {what}s are {', '.join(COLUMNS)}, "
                     "the options of govnet trace without their dashes")


# -- CSV ----------------------------------------------------------------------------------------------
def _csv_fields(text: str, file: str, issues: list[PlanIssue]) -> Iterator[list[tuple[Mark, str]]]:
    """The records of CSV ``text``: each a list of (where the field starts, its text); blank lines left out."""
    i, n, line, start = 0, len(text), 1, 0  # start: offset of the current line
    while i < n:
        fields: list[tuple[Mark, str]] = []
        end = text.find("\n", i)
        end = n if end < 0 else end
        if text.find('"', i, end) < 0:  # no quote on the line: its fields are what the commas part
            col = 1
            for raw in text[i:end].rstrip("\r").split(","):
                value = raw.strip(" \t")
                fields.append((Mark(file, line, col + len(raw) - len(raw.lstrip(" \t"))), value))
                col += len(raw) + 1
            i = end + 1
            line, start = line + 1, i
            if any(value for _, value in fields) or len(fields) > 1:
                yield fields
            continue
        while True:
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == '"':
                i = j  # spaces before an opening quote are not part of the field
            mark = Mark(file, line, i - start + 1)
            if i < n and text[i] == '"':
                opened = mark
                i += 1
                parts = []
                while True:
                    if i >= n:
                        issues.append(PlanIssue(opened, "this quoted field has no closing quote",
                                                'end it with " (a quote inside a field is written "")'))
                        return
                    c = text[i]
                    if c == '"':
                        if i + 1 < n and text[i + 1] == '"':
                            parts.append('"')
                            i += 2
                            continue
                        i += 1
                        break
                    if c == "\n":
                        line, start = line + 1, i + 1
                    parts.append(c)
                    i += 1
                value = "".join(parts)
                j = i
                while j < n and text[j] in " \t":
                    j += 1
                if j < n and text[j] not in ",\r\n":
                    issues.append(PlanIssue(Mark(file, line, j - start + 1), "text after a quoted field's closing quote",
                                            'quote the whole field, writing a quote inside it as ""'))
                    while j < n and text[j] not in ",\r\n":
                        j += 1
                i = j
            else:
                j = i
                while j < n and text[j] not in ",\r\n":
                    j += 1
                raw = text[i:j]
                value = raw.strip(" \t")
                mark = Mark(file, line, i - start + 1 + (len(raw) - len(raw.lstrip(" \t"))))
                i = j
            fields.append((mark, value))
            if i < n and text[i] == ",":
                i += 1
                continue
            break
        if i < n and text[i] == "\r":
            i += 1
        if i < n and text[i] == "\n":
            i += 1
        line, start = line + 1, i
        if any(value for _, value in fields) or len(fields) > 1:
            yield fields


def _csv_records(text: str, file: str, issues: list[PlanIssue]) -> list[Record]:
    records = _csv_fields(text, file, issues)
    header = next(records, None)
    if header is None:
        issues.append(PlanIssue(Mark(file), "the file has no header row",
                                f"start it with a row naming the columns, e.g. {','.join(COLUMNS)}"))
        return []
    columns: list[str | None] = []
    seen: dict[str, Mark] = {}
    for mark, name in header:
        if name not in COLUMNS:
            issues.append(_unknown(name, mark, "column"))
            columns.append(None)
        elif name in seen:
            issues.append(PlanIssue(mark, f"a second column '{name}'", f"the first is at {seen[name]}; keep one"))
            columns.append(None)
        else:
            seen[name] = mark
            columns.append(name)
    out: list[Record] = []
    for fields in records:
        if len(fields) > len(columns):
            mark = fields[len(columns)][0]
            issues.append(PlanIssue(mark, f"this row has {len(fields)} fields, the header names {len(columns)}",
                                    "remove the extra fields, or quote a field holding a comma"))
        cells = {name: (mark, value) for name, (mark, value) in zip(columns, fields) if name is not None}
        first = fields[0][0]
        out.append((Mark(first.file, first.line, 1), cells))
    return out


# -- JSON lines ---------------------------------------------------------------------------------------
_DECODER = json.JSONDecoder()
_SPACE = " \t\r"


def _jsonl_records(text: str, file: str, issues: list[PlanIssue]) -> list[Record]:
    out: list[Record] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip(_SPACE):
            continue
        try:
            cells, keys = _json_object(line, file, number)
        except _JsonProblem as exc:
            issues.append(exc.issue)
            continue
        row_mark = Mark(file, number, 1)
        for key in list(cells):
            if key not in COLUMNS:
                issues.append(_unknown(key, keys[key], "key"))
                del cells[key]
        out.append((row_mark, cells))
    return out


class _JsonProblem(Exception):
    def __init__(self, issue: PlanIssue):
        self.issue = issue


def _json_object(line: str, file: str, number: int) -> tuple[dict[str, tuple[Mark, Any]], dict[str, Mark]]:
    """The keys of the JSON object on ``line``, each with where its value starts and the value; where each key is."""
    def at(i: int) -> Mark:
        return Mark(file, number, i + 1)

    def skip(i: int) -> int:
        while i < len(line) and line[i] in _SPACE:
            i += 1
        return i

    def fail(i: int, message: str, hint: str = "") -> _JsonProblem:
        return _JsonProblem(PlanIssue(at(i), message, hint or 'each line is one object: {"from": "A", "to": "B"}'))

    i = skip(0)
    if line[i] != "{":
        raise fail(i, "this line is not a JSON object")
    cells: dict[str, tuple[Mark, Any]] = {}
    keys: dict[str, Mark] = {}
    i = skip(i + 1)
    if i < len(line) and line[i] == "}":
        i += 1
    else:
        while True:
            if i >= len(line) or line[i] != '"':
                raise fail(i, "expected a key in double quotes")
            try:
                key, end = json.decoder.scanstring(line, i + 1)  # type: ignore[attr-defined]
            except json.JSONDecodeError as exc:
                raise fail(exc.pos, f"bad key: {exc.msg}") from None
            key_at = i
            i = skip(end)
            if i >= len(line) or line[i] != ":":
                raise fail(i, "expected ':' after the key")
            i = skip(i + 1)
            try:
                value, end = _DECODER.raw_decode(line, i)
            except json.JSONDecodeError as exc:
                raise fail(exc.pos, f"bad value: {exc.msg}") from None
            if key in cells:
                raise fail(key_at, f"a second '{key}' in this object", f"the first is at {cells[key][0]}; keep one")
            cells[key] = (at(i), value)
            keys[key] = at(key_at)
            i = skip(end)
            if i < len(line) and line[i] == ",":
                i = skip(i + 1)
                continue
            if i < len(line) and line[i] == "}":
                i += 1
                break
            raise fail(i, "expected ',' or '}'")
    i = skip(i)
    if i < len(line):
        raise fail(i, "text after the object", "put one object on each line")
    return cells, keys
