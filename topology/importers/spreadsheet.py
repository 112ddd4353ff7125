"""Plans from spreadsheets: a workbook (.xlsx) of node and link sheets, or one CSV table.

A workbook needs a sheet named ``节点`` (or ``nodes``) and one named ``链路``
(or ``links``); sheets ``站点`` (``sites``) and ``安全域`` (``domains``) are
read when present. ``govnet export devices -o FILE.xlsx`` writes all four
(:mod:`topology.spreadsheets`), so its workbook imports back as it is. A CSV
holds one table: a list of nodes, or, with a ``类型 (type)`` column, every
kind of row at once (``node``/``节点``, ``link``/``链路``, ``site``/``站点``,
``domain``/``安全域``), each reading the columns it knows.

Columns are found by their header (the first of a sheet's first rows that
names them), in Chinese, in English or both (``角色 (role)``); other columns
(the phase, the interface count the device list writes) are ignored:

- nodes: ``name``, ``role``, ``domain``, ``site``; optional ``level``,
  ``title``, ``classification``, ``loopback`` (its /32, kept through the
  plan's ``allocations:``);
- links: ``a``, ``b`` (node names, or ``node:interface``); optional ``name``,
  ``bandwidth`` (``100M``, ``unknown``, or a number of bit/s), ``latency``
  (``2ms``, or a number of milliseconds), ``medium``;
- sites: ``name``; optional ``level``, ``parent``, ``title``. Without this
  sheet every site the nodes name is a top-level site of the level their
  ``level`` column gives;
- domains: ``name``, ``kind``; optional ``clearance``, ``pool``, ``title``.
  Without this sheet a domain's kind is taken from its name (政务外网:
  extranet, 政务内网: intranet, 互联网: internet, DMZ: dmz, 党委专网:
  party_private, else extranet) and its pool from its nodes' loopbacks;
  the plan's ``assumptions:`` say so.

Every error names the sheet, the row and the column as ``FILE[SHEET]:ROW:COL``
(``FILE:ROW:COL`` for a CSV; columns counted from 1 = A), all of them at
once, and the plan is loaded before it is returned, so what the cells say
wrongly together (a one-way gateway without a direction, a site below one of
its own level) is reported at the cells too.

    >>> data = "名称 (name),角色 (role),安全域 (domain),站点 (site)\\n核心,core_router,政务外网,楚雄州\\n县,rooter,政务外网,楚雄州\\n"
    >>> try:
    ...     import_spreadsheet(data.encode(), "devices.csv")
    ... except PlanError as exc:
    ...     print(exc)
    devices.csv:3:2: error: unknown role 'rooter' (did you mean 'router'?)
"""

from __future__ import annotations

import csv
import datetime
import io
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Mark, PlanError, PlanIssue
from ..spreadsheets import DOMAIN_COLUMNS, LINK_COLUMNS, NODE_COLUMNS, SHEETS, SITE_COLUMNS, delay_text
from ..units import parse_bandwidth, parse_delay
from ..validation import suggest
from ..vocabulary import CLASSIFICATIONS, DOMAIN_KINDS, LEVEL_NAMES_CN, LEVELS, MEDIA, ROLES
from .builder import bandwidth_text
from .naming import clean_name
from .options import ImporterError, ImportOptions

MAX_ROWS = 500_000  # rows a sheet may have
MAX_COLUMNS = 200  # columns read of a row
HEADER_ROWS = 10  # the header is looked for in a sheet's first rows
MAX_NAME = 200
UNKNOWN = "unknown"
XLSX_SUFFIXES = (".xlsx", ".xlsm")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
TYPE = "type"

# what each table reads: key -> required
FIELDS: dict[str, dict[str, bool]] = {
    "nodes": {"name": True, "role": True, "domain": True, "site": True, "level": False, "title": False,
              "classification": False, "loopback": False},
    "links": {"a": True, "b": True, "name": False, "bandwidth": False, "latency": False, "medium": False},
    "sites": {"name": True, "level": False, "parent": False, "title": False},
    "domains": {"name": True, "kind": True, "clearance": False, "pool": False, "title": False},
}
_COLUMNS = {"nodes": NODE_COLUMNS, "links": LINK_COLUMNS, "sites": SITE_COLUMNS, "domains": DOMAIN_COLUMNS}
# header spellings besides the key and the Chinese name a column is exported with
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "nodes": {"name": ("设备名称", "节点", "节点名称", "设备", "node"), "loopback": ("地址", "address", "环回", "ip"),
              "title": ("说明", "描述", "description"), "classification": ("涉密等级",)},
    "links": {"a": ("a端", "端点a", "起点", "from"), "b": ("b端", "端点b", "终点", "to"),
              "latency": ("延迟", "时延", "delay"), "name": ("链路", "链路名称", "link")},
    "sites": {"parent": ("上级", "parent site")},
    "domains": {"kind": ("类别",), "pool": ("地址段", "prefix")},
}
_TYPE_HEADERS = ("type", "类型", "种类")
_ROW_TYPES = {"node": "nodes", "节点": "nodes", "设备": "nodes", "link": "links", "链路": "links", "site": "sites",
              "站点": "sites", "domain": "domains", "安全域": "domains"}
_KIND_WORDS = (("dmz", "dmz"), ("党委", "party_private"), ("党政专网", "party_private"), ("内网", "intranet"),
               ("外网", "extranet"), ("互联网", "internet"), ("internet", "internet"), ("公网", "internet"))
_LEVEL_WORDS = {**{zh: level for level, names in LEVEL_NAMES_CN.items() for zh in names.split("/")},
                **{names: level for level, names in LEVEL_NAMES_CN.items()}, "州市": "prefecture", "地市": "prefecture",
                "区县": "county", "县市": "county", "乡": "township", "镇": "township", "国家": "central"}
_BAD_NAME = re.compile(r"[:{}]")
_PARENS = re.compile(r"^(.*?)\s*[(（]\s*(.*?)\s*[)）]\s*$")


@dataclass(frozen=True)
class Cell:
    text: str
    mark: Mark


@dataclass
class Record:
    """One row of a table: its cells by column key, and the mark of the row's first cell."""

    mark: Mark
    cells: dict[str, Cell] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)  # the table's columns: key -> column number

    def get(self, key: str) -> str | None:
        cell = self.cells.get(key)
        return cell.text if cell is not None else None

    def at(self, key: str) -> Mark:
        """Where the cell of column ``key`` is (the row's first cell when the table has no such column)."""
        cell = self.cells.get(key)
        if cell is not None:
            return cell.mark
        if key in self.columns:
            return Mark(self.mark.file, self.mark.line, self.columns[key])
        return self.mark


@dataclass
class _Sheet:
    label: str  # how marks name it: FILE[SHEET], or FILE for a CSV
    rows: list[tuple[int, list[str | None]]]  # (row number, cell texts)


class _Issues:
    def __init__(self) -> None:
        self.issues: list[PlanIssue] = []

    def add(self, mark: Mark, message: str, hint: str = "") -> None:
        self.issues.append(PlanIssue(mark, message, hint))


def is_spreadsheet(data: bytes, file: str) -> bool:
    """Whether ``file`` is a workbook or CSV file by its suffix (or a workbook by its content)."""
    suffix = Path(file).suffix.lower()
    return suffix in (*XLSX_SUFFIXES, ".csv", ".xls") or data.startswith(ZIP_MAGIC)


def import_spreadsheet(data: bytes, file: str, name: str | None = None,
                       options: ImportOptions | None = None) -> dict[str, Any]:
    """The plan the workbook or CSV ``data`` (read from ``file``) describes; raises PlanError or ImporterError."""
    cost = _cost(options)
    issues = _Issues()
    tables = _tables(data, file, issues)
    builder = _Builder(file, issues, csv=Path(file).suffix.lower() == ".csv" and not data.startswith(ZIP_MAGIC))
    plan = builder.build(tables, name or clean_name(Path(file).stem) or "imported", cost)
    if issues.issues:
        raise PlanError(issues.issues)
    _check_loads(plan, builder.prov, file)
    return plan


def _cost(options: ImportOptions | None) -> str | None:
    if options is None:
        return None
    given = [flag for flag, value in (("--unit", options.unit), ("--size", options.size),
                                      ("--headroom", options.headroom)) if value is not None]
    if given:
        raise ImporterError(f"{', '.join(given)} apply to SNDlib and Topology Zoo files, not to spreadsheets (a "
                            "spreadsheet gives its bandwidths with their units, and leaves none unsized but as 'unknown')")
    if options.cost == "file":
        raise ImporterError("--cost file takes the links' costs from the file, and a spreadsheet gives none; "
                            "use --cost hop or --cost bandwidth")
    return options.cost


# reading ------------------------------------------------------------------------------------------------------------


def _tables(data: bytes, file: str, issues: _Issues) -> dict[str, list[Record]]:
    """The records of every table the file holds, by table key (nodes, links, sites, domains)."""
    suffix = Path(file).suffix.lower()
    if suffix == ".xls" or data.startswith(OLE_MAGIC):
        raise ImporterError(f"{file} is an old binary Excel workbook (.xls); save it as .xlsx (Excel Workbook) and "
                            "import that")
    if suffix == ".csv" and not data.startswith(ZIP_MAGIC):
        return _csv_tables(_read_csv(data, file), issues)
    sheets = _read_xlsx(data, file)
    found: dict[str, _Sheet] = {}
    for title, sheet in sheets.items():
        key = _sheet_key(title)
        if key is not None and key not in found:
            found[key] = sheet
    missing = [k for k in ("nodes", "links") if k not in found]
    if missing:
        wanted = " and ".join(f"{SHEETS[k][0]} (or {k})" for k in missing)
        raise ImporterError(f"{file} has no sheet named {wanted}; its sheets: {', '.join(sheets) or 'none'} (a "
                            f"workbook for govnet import has sheets 节点 and 链路, and optionally 站点 and 安全域)")
    return {key: _records(sheet, key, issues) for key, sheet in found.items()}


def _sheet_key(title: str) -> str | None:
    words = {_norm(title)}
    if match := _PARENS.match(title):
        words |= {_norm(match.group(1)), _norm(match.group(2))}
    for key, (zh, _columns) in SHEETS.items():
        if key != "addresses" and words & {key, zh}:
            return key
    if words & {"设备清单", "devices"}:
        return "nodes"
    return None


def _read_xlsx(data: bytes, file: str) -> dict[str, _Sheet]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise ImporterError(f"cannot read {file} as an Excel workbook (.xlsx): {exc}") from None
    sheets: dict[str, _Sheet] = {}
    try:
        for sheet in book.worksheets:
            rows: list[tuple[int, list[str | None]]] = []
            for cells in sheet.iter_rows(max_col=MAX_COLUMNS):
                number = next((c.row for c in cells if getattr(c, "row", None)), None)
                values = [_text(getattr(c, "value", None)) for c in cells]
                if number is None or not any(values):
                    continue
                while values[-1] is None:  # read-only sheets pad rows to the widest
                    values.pop()
                if len(rows) >= MAX_ROWS:
                    raise ImporterError(f"{file}[{sheet.title}] has more than {MAX_ROWS:,} rows")
                rows.append((number, values))
            sheets[sheet.title] = _Sheet(f"{file}[{sheet.title}]", rows)
    finally:
        book.close()
    return sheets


def _read_csv(data: bytes, file: str) -> _Sheet:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Excel saves a Chinese CSV as on Windows
        except UnicodeDecodeError:
            raise ImporterError(f"{file} is neither UTF-8 nor GB18030 text; save it as CSV UTF-8") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    rows: list[tuple[int, list[str | None]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1):
            values = [_text(c) for c in cells[:MAX_COLUMNS]]
            if not any(values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImporterError(f"{file} has more than {MAX_ROWS:,} rows")
            rows.append((number, values))
    except csv.Error as exc:
        raise ImporterError(f"cannot read {file} as CSV: {exc}") from None
    return _Sheet(file, rows)


def _text(value: Any) -> str | None:
    """A cell's value as text (None when empty): whole numbers without '.0', dates as ISO dates."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime.datetime):
        text = value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    elif isinstance(value, datetime.date):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip()
    return text or None


def _norm(header: str) -> str:
    return re.sub(r"\s+", " ", header).strip().lower()


def _column_key(header: str | None, table: str) -> str | None:
    """The key of the column ``header`` names in ``table``, if any: ``角色 (role)``, ``角色`` or ``role``."""
    if not header:
        return None
    spellings = {key: {key, column.zh, *_ALIASES.get(table, {}).get(key, ())}
                 for column in _COLUMNS[table] if (key := column.key) in FIELDS[table]}
    spellings = {key: {_norm(s) for s in words} for key, words in spellings.items()}
    names = [header]
    if match := _PARENS.match(header):  # 角色 (role): the English name decides (密级 is a node's classification
        english = match.group(2)        # and a domain's clearance), a Chinese one in parentheses is a synonym
        names = [english] if english.isascii() else [english, match.group(1)]
    return next((k for name in names for k, words in spellings.items() if _norm(name) in words), None)


def _is_type_header(header: str | None) -> bool:
    if not header:
        return False
    if match := _PARENS.match(header):
        english = match.group(2)
        return _norm(english) in _TYPE_HEADERS or (not english.isascii() and _norm(match.group(1)) in _TYPE_HEADERS)
    return _norm(header) in _TYPE_HEADERS


def _header(sheet: _Sheet, tables: Iterable[str]) -> int | None:
    """Index in ``sheet.rows`` of the header row: of the first rows, the first naming the most columns."""
    best, best_count = None, 0
    for index, (_number, values) in enumerate(sheet.rows[:HEADER_ROWS]):
        count = len({(t, k) for v in values for t in tables if (k := _column_key(v, t)) is not None})
        count += sum(1 for v in values if _is_type_header(v))
        if count > best_count:
            best, best_count = index, count
    return best


def _records(sheet: _Sheet, table: str, issues: _Issues) -> list[Record]:
    index = _header(sheet, [table])
    return _rows_of(sheet, index, {table: None}, issues)[table]


def _csv_tables(sheet: _Sheet, issues: _Issues) -> dict[str, list[Record]]:
    index = _header(sheet, FIELDS)
    type_col = None
    if index is not None:
        type_col = next((i for i, v in enumerate(sheet.rows[index][1]) if _is_type_header(v)), None)
    if type_col is None:
        return {"nodes": _rows_of(sheet, index, {"nodes": None}, issues)["nodes"], "links": []}
    tables = _rows_of(sheet, index, dict.fromkeys(FIELDS, type_col), issues)
    return {key: rows for key, rows in tables.items() if rows or key in ("nodes", "links")}  # sites, domains: if any


def _rows_of(sheet: _Sheet, index: int | None, tables: dict[str, int | None],
             issues: _Issues) -> dict[str, list[Record]]:
    """The records of each of ``tables`` below the header row ``index``; a table's value is the column index of
    the row type (a CSV of every kind of row) or None (every row is of that table)."""
    out: dict[str, list[Record]] = {t: [] for t in tables}
    if index is None:
        row = sheet.rows[0][0] if sheet.rows else 1
        for table in tables:
            needed = ", ".join(c.header for c in _COLUMNS[table] if FIELDS[table].get(c.key))
            issues.add(Mark(sheet.label, row, 1), f"no header row naming the columns {needed}",
                       "put the column headers in the first row")
        return out
    number, headers = sheet.rows[index]
    columns: dict[str, dict[str, int]] = {}
    for table in tables:
        columns[table] = {}
        for col, header in enumerate(headers):
            key = _column_key(header, table)
            if key is None:
                continue
            if key in columns[table]:
                issues.add(Mark(sheet.label, number, col + 1), f"a second column for {_header_of(table, key)}",
                           f"column {_letter(columns[table][key] + 1)} is one already; keep one of them")
                continue
            columns[table][key] = col
    typed = any(t is not None for t in tables.values())
    present: set[str] = set()
    for row_number, values in sheet.rows[index + 1:]:
        if typed:
            type_col = next(iter(tables.values()))
            assert type_col is not None
            kind = values[type_col] if type_col < len(values) else None
            found = _ROW_TYPES.get(_norm(kind)) if kind else None
            if found is None:
                issues.add(Mark(sheet.label, row_number, type_col + 1),
                           f"row type {kind!r} is none of node, link, site, domain" if kind else "the row has no type",
                           "write node (节点), link (链路), site (站点) or domain (安全域)")
                continue
            table = found
        else:
            table = next(iter(tables))
        present.add(table)
        record = Record(Mark(sheet.label, row_number, 1), columns={k: c + 1 for k, c in columns[table].items()})
        for key, col in columns[table].items():
            text = values[col] if col < len(values) else None
            if text is not None:
                record.cells[key] = Cell(text, Mark(sheet.label, row_number, col + 1))
        out[table].append(record)
    for table in tables:
        if typed and table not in present:
            continue
        for key, required in FIELDS[table].items():
            if required and key not in columns[table]:
                issues.add(Mark(sheet.label, number, len(headers) + 1), f"no column {_header_of(table, key)}",
                           f"add a column headed {_header_of(table, key)}"
                           + (f" for the {table[:-1]} rows" if typed else ""))
    return out


def _header_of(table: str, key: str) -> str:
    return next(c.header for c in _COLUMNS[table] if c.key == key)


def _letter(col: int) -> str:
    text = ""
    while col:
        col, rest = divmod(col - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


# building -----------------------------------------------------------------------------------------------------------


class _Builder:
    """Turns the records into a plan dict, keeping for each piece of it the cell it came from (``prov``)."""

    def __init__(self, file: str, issues: _Issues, csv: bool = False) -> None:
        self.file = file
        self.csv = csv
        self.issues = issues
        self.prov: dict[tuple[Any, ...], Mark] = {}
        self.assumptions: list[str] = []
        self.node_domains: dict[str, str] = {}  # node -> its (known) domain
        self.named: set[str] = set()  # every node name of the nodes sheet, also of rows with errors

    def error(self, mark: Mark, message: str, hint: str = "") -> None:
        self.issues.add(mark, message, hint)

    def where(self, table: str) -> str:
        """Where the rows of ``table`` are: ``the 站点 (sites) sheet``, or ``the site rows`` of a CSV."""
        return f"the {table[:-1]} rows" if self.csv else f"the {SHEETS[table][0]} ({table}) sheet"

    def unknown(self, name: str, known: Iterable[str], table: str) -> str:
        """The hint for ``name``, which none of the rows of ``table`` defines."""
        from ..validation import close_match

        close = close_match(name, known)
        return f"did you mean '{close}'?" if close is not None else f"add a row for it to {self.where(table)}"

    def build(self, tables: dict[str, list[Record]], name: str, cost: str | None) -> dict[str, Any]:
        nodes = tables.get("nodes", [])
        self.assumptions.append(
            f"Imported from the spreadsheet {Path(self.file).name}: the nodes, links, sites and domains its cells "
            "give; what no column gives (interfaces, ACLs, tunnels, phases, services, traffic, policies) the plan "
            "does not have yet.")
        domains = self._domains(tables.get("domains"), nodes)
        sites, site_paths = self._sites(tables.get("sites"), nodes)
        plan_nodes, loopbacks = self._nodes(nodes, domains, site_paths)
        plan_links = self._links(tables.get("links", []), plan_nodes)
        if "domains" not in tables:
            self._infer_pools(domains, loopbacks)
        self._check_loopbacks(domains, loopbacks)
        plan: dict[str, Any] = {"name": name, "assumptions": self.assumptions,
                                "domains": {d: spec for d, (spec, _mark) in domains.items()}, "sites": sites}
        if cost is not None:
            plan["routing"] = {"cost": cost}
            self.assumptions.append(f"Link cost model: {cost} (--cost {cost}).")
        plan["nodes"] = plan_nodes
        plan["links"] = plan_links
        if loopbacks:
            plan["allocations"] = {"loopbacks": {n: str(a) for n, (a, _m) in loopbacks.items()}}
            for n, (_a, mark) in loopbacks.items():
                self.prov[("allocations", "loopbacks", n)] = mark
        return plan

    # domains

    def _domains(self, records: list[Record] | None, nodes: list[Record]) -> dict[str, tuple[dict[str, Any], Mark]]:
        out: dict[str, tuple[dict[str, Any], Mark]] = {}
        if records is None:
            guessed = []
            for rec in nodes:
                domain = rec.get("domain")
                if domain and domain not in out:
                    kind = guess_kind(domain)
                    out[domain] = ({"kind": kind}, rec.at("domain"))
                    self.prov[("domains", domain)] = rec.at("domain")
                    guessed.append(f"{domain}: {kind}")
            if guessed:
                self.assumptions.append("No 安全域 (domains) sheet or domain rows give the domains' kinds; taken from their names: "
                                        + ", ".join(guessed) + ".")
            return out
        for rec in records:
            domain = self._name(rec, "name", "domain")
            if domain is None:
                continue
            if domain in out:
                self.error(rec.at("name"), f"domain {domain} is named twice",
                           f"row {out[domain][1].line} has it already")
                continue
            spec: dict[str, Any] = {}
            self.prov[("domains", domain)] = rec.at("name")
            given = rec.get("kind")
            if given is None:
                self._empty(rec, "kind")
            elif given in DOMAIN_KINDS:
                spec["kind"] = given
            else:
                self.error(rec.at("kind"), f"unknown domain kind {given!r}", suggest(given, DOMAIN_KINDS, "kinds")
                           if _close(given, DOMAIN_KINDS) else "use one of " + ", ".join(DOMAIN_KINDS))
            clearance = rec.get("clearance")
            if clearance is not None:
                if clearance in CLASSIFICATIONS[1:]:  # 非涉密, the default, is not written
                    spec["clearance"] = clearance
                elif clearance == CLASSIFICATIONS[0]:
                    pass
                else:
                    self.error(rec.at("clearance"), f"unknown clearance {clearance!r}",
                               "use one of " + ", ".join(CLASSIFICATIONS))
            pool = rec.get("pool")
            if pool is not None:
                try:
                    spec["pool"] = str(ipaddress.IPv4Network(pool))
                except ValueError as exc:
                    self.error(rec.at("pool"), f"pool {pool!r} is not an IPv4 prefix: {exc}",
                               "write it like 10.53.0.0/16")
            if rec.get("title"):
                spec["title"] = rec.get("title")
            for key in spec:
                self.prov[("domains", domain, key)] = rec.at(key)
            out[domain] = (spec, rec.at("name"))
        return out

    # sites

    def _sites(self, records: list[Record] | None,
               nodes: list[Record]) -> tuple[dict[str, Any], dict[str, tuple[tuple[Any, ...], dict[str, Any]]]]:
        """The ``sites:`` section and, per site, its path in it and its spec."""
        tree: dict[str, Any] = {}
        paths: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        if records is None:
            for rec in nodes:
                site = rec.get("site")
                if not site or _BAD_NAME.search(site) or site in paths:
                    continue
                spec: dict[str, Any] = {}
                tree[site] = spec
                paths[site] = (("sites", site), spec)
                self.prov[("sites", site)] = rec.at("site")
            if paths:
                self.assumptions.append("No 站点 (sites) sheet or site rows give the sites' parents: every site is a top-level "
                                        "site, of the level its nodes' 级别 (level) column gives (else province).")
            return tree, paths
        rows: dict[str, Record] = {}
        for rec in records:
            site = self._name(rec, "name", "site")
            if site is None:
                continue
            if site in rows:
                self.error(rec.at("name"), f"site {site} is named twice",
                           f"row {rows[site].mark.line} has it already")
                continue
            rows[site] = rec
        parents: dict[str, str | None] = {}
        for site, rec in rows.items():
            parent = rec.get("parent")
            if parent is not None and parent not in rows:
                self.error(rec.at("parent"), f"parent site {parent!r} is not in {self.where('sites')}",
                           self.unknown(parent, rows, "sites"))
                parent = None
            parents[site] = parent
        for site in rows:
            seen, at = [site], parents[site]
            while at is not None and at not in seen:
                seen.append(at)
                at = parents[at]
            if at is not None:
                self.error(rows[site].at("parent"), f"site {site} is its own ancestor ({' → '.join([*seen, at])})",
                           "give it a parent above it")
                parents[site] = None

        def place(site: str) -> None:
            if site in paths:
                return
            parent = parents[site]
            rec = rows[site]
            spec: dict[str, Any] = {}
            level = rec.get("level")
            if level is not None:
                parsed = self._level(rec, "level")
                if parsed is not None:
                    spec["level"] = parsed
            if rec.get("title"):
                spec["title"] = rec.get("title")
            if parent is None:
                tree[site] = spec
                path: tuple[Any, ...] = ("sites", site)
            else:
                place(parent)
                parent_path, parent_spec = paths[parent]
                parent_spec.setdefault("children", {})[site] = spec
                path = (*parent_path, "children", site)
            paths[site] = (path, spec)
            self.prov[path] = rec.at("name")
            for key in ("level", "title"):
                self.prov[(*path, key)] = rec.at(key)

        for site in rows:
            place(site)
        return tree, paths

    def _level(self, rec: Record, key: str) -> str | None:
        text = rec.get(key)
        if text is None:
            return None
        level = text.lower() if text.lower() in LEVELS else _LEVEL_WORDS.get(text)
        if level is None:
            chinese = ", ".join(LEVEL_NAMES_CN[lv] for lv in LEVELS)
            self.error(rec.at(key), f"unknown level {text!r}", suggest(text.lower(), LEVELS, "levels")
                       if _close(text.lower(), LEVELS) else "use one of " + ", ".join(LEVELS) + f" (or {chinese})")
        return level

    # nodes

    def _nodes(self, records: list[Record], domains: dict[str, Any],
               sites: dict[str, tuple[tuple[Any, ...], dict[str, Any]]]
               ) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[ipaddress.IPv4Interface, Mark]]]:
        out: dict[str, dict[str, Any]] = {}
        rows: dict[str, int] = {}
        loopbacks: dict[str, tuple[ipaddress.IPv4Interface, Mark]] = {}
        taken: dict[ipaddress.IPv4Interface, Mark] = {}
        level_of: dict[str, tuple[str, Mark]] = {}
        for rec in records:
            name = self._name(rec, "name", "node")
            if name is None:
                continue
            if name in out:
                self.error(rec.at("name"), f"node {name} is named twice",
                           f"row {rows[name]} has it already; node names are unique")
                continue
            rows[name] = rec.mark.line
            node: dict[str, Any] = {}
            role = rec.get("role")
            if role is None:
                self._empty(rec, "role")
            elif role not in ROLES:
                self.error(rec.at("role"), f"unknown role {role!r}", suggest(role, ROLES, "roles")
                           if _close(role, ROLES) else "use one of " + ", ".join(ROLES))
            else:
                node["role"] = role
            domain = rec.get("domain")
            if domain is None:
                self._empty(rec, "domain")
            elif domain not in domains:
                self.error(rec.at("domain"), f"domain {domain!r} is not in {self.where('domains')}",
                           self.unknown(domain, domains, "domains"))
            else:
                node["domain"] = domain
                self.node_domains[name] = domain
            site = rec.get("site")
            if site is None:
                self._empty(rec, "site")
            elif _BAD_NAME.search(site):
                self.error(rec.at("site"), f"site name {site!r} contains ':', '{{' or '}}'", "rename the site")
            elif site not in sites:
                self.error(rec.at("site"), f"site {site!r} is not in {self.where('sites')}",
                           self.unknown(site, sites, "sites"))
            else:
                node["site"] = site
                level = self._level(rec, "level")
                if level is not None:
                    self._node_level(site, level, rec, sites[site][1], level_of)
            for key in ("title", "classification"):
                value = rec.get(key)
                if value is None:
                    continue
                if key == "classification" and value not in CLASSIFICATIONS:
                    self.error(rec.at(key), f"unknown classification {value!r}", "use one of " + ", ".join(CLASSIFICATIONS))
                    continue
                if key != "classification" or value != CLASSIFICATIONS[0]:  # 非涉密 is the default: not written
                    node[key] = value
            loopback = self._loopback(rec, taken)
            if loopback is not None:
                loopbacks[name] = (loopback, rec.at("loopback"))
            out[name] = node
            self.prov[("nodes", name)] = rec.at("name")
            for key in node:
                self.prov[("nodes", name, key)] = rec.at(key)
        return out, loopbacks

    def _node_level(self, site: str, level: str, rec: Record, spec: dict[str, Any],
                    seen: dict[str, tuple[str, Mark]]) -> None:
        if site in seen and seen[site][0] != level:
            first, mark = seen[site]
            self.error(rec.at("level"), f"site {site} is {level} here but {first} in row {mark.line}",
                       "give every node of a site the same level")
            return
        if "level" in spec and spec["level"] != level:
            self.error(rec.at("level"), f"site {site} is {spec['level']} in {self.where('sites')}, not {level}",
                       "give the node its site's level, or leave the cell empty")
            return
        seen[site] = (level, rec.at("level"))
        spec["level"] = level

    def _loopback(self, rec: Record, taken: dict[ipaddress.IPv4Interface, Mark]) -> ipaddress.IPv4Interface | None:
        text = rec.get("loopback")
        if text is None:
            return None
        try:
            address = ipaddress.IPv4Interface(text)
        except ValueError:
            self.error(rec.at("loopback"), f"loopback {text!r} is not an IPv4 address", "write it like 10.53.4.1/32")
            return None
        if address.network.prefixlen != 32:
            self.error(rec.at("loopback"), f"loopback {text} is not a /32", f"write {address.ip}/32")
            return None
        if address in taken:
            self.error(rec.at("loopback"), f"loopback {address} is given twice", f"row {taken[address].line} has it")
            return None
        taken[address] = rec.at("loopback")
        return address

    def _infer_pools(self, domains: dict[str, tuple[dict[str, Any], Mark]],
                     loopbacks: dict[str, tuple[ipaddress.IPv4Interface, Mark]]) -> None:
        """A domain's pool from its nodes' loopbacks: the /16 holding them all (or the block that does), when no
        other domain's loopbacks are in it."""
        by_domain: dict[str, list[ipaddress.IPv4Network]] = {}
        domain_of = self.node_domains
        for node, (address, _mark) in loopbacks.items():
            domain = domain_of.get(node)
            if domain in domains:
                by_domain.setdefault(domain, []).append(address.network)
        spans = {d: _covering(blocks) for d, blocks in by_domain.items()}
        for domain, span in spans.items():
            wide = span.supernet(new_prefix=16) if span.prefixlen > 16 else span
            if any(wide.overlaps(other) for d, other in spans.items() if d != domain):
                wide = span
            if any(wide.overlaps(other) for d, other in spans.items() if d != domain):
                mark = loopbacks[next(n for n in loopbacks if domain_of.get(n) == domain)][1]
                self.error(mark, f"the loopbacks of domain {domain} lie among another domain's",
                           "give each domain its pool in a 安全域 (domains) sheet")
                continue
            domains[domain][0]["pool"] = str(wide)
        if spans:
            self.assumptions.append("No 安全域 (domains) sheet or domain rows give the address pools; each domain's is the block "
                                    "holding its nodes' loopbacks: " + ", ".join(
                                        f"{d}: {domains[d][0]['pool']}" for d in spans if "pool" in domains[d][0]) + ".")

    def _check_loopbacks(self, domains: dict[str, tuple[dict[str, Any], Mark]],
                         loopbacks: dict[str, tuple[ipaddress.IPv4Interface, Mark]]) -> None:
        for node, (address, mark) in loopbacks.items():
            domain = self.node_domains.get(node)
            if domain not in domains:
                continue
            pool = domains[domain][0].get("pool")
            if pool is None:
                self.error(mark, f"domain {domain} has no pool for the loopback {address}",
                           "give the domain's pool in the 安全域 (domains) sheet")
            elif not address.network.subnet_of(ipaddress.IPv4Network(pool)):
                self.error(mark, f"loopback {address} is not in the pool {pool} of domain {domain}",
                           "give an address of the pool, or widen the pool in the 安全域 (domains) sheet")

    # links

    def _links(self, records: list[Record], nodes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        names: dict[str, int] = {}
        defaulted = 0
        for rec in records:
            link: dict[str, Any] = {}
            for end in ("a", "b"):
                text = rec.get(end)
                if text is None:
                    self._empty(rec, end)
                    continue
                node, _, iface = text.partition(":")
                node = node.strip()
                if node not in nodes and node not in self.named:
                    self.error(rec.at(end), f"link end {node!r} is not in {self.where('nodes')}",
                               self.unknown(node, nodes, "nodes"))
                    continue
                link[end] = f"{node}:{iface.strip()}" if iface.strip() else node
            name = rec.get("name")
            if name is not None:
                if name in names:
                    self.error(rec.at("name"), f"link {name} is named twice",
                               f"row {names[name]} has it already; link names are unique")
                else:
                    names[name] = rec.mark.line
                    link["name"] = name
            bandwidth = rec.get("bandwidth")
            if bandwidth is None:
                defaulted += 1
            elif bandwidth.lower() == UNKNOWN:
                link["bandwidth"] = UNKNOWN
            else:
                try:
                    link["bandwidth"] = bandwidth_text(parse_bandwidth(_number(bandwidth)))
                except ValueError as exc:
                    self.error(rec.at("bandwidth"), str(exc), "a plain number is bit/s; unknown leaves the link "
                               "unsized")
            latency = rec.get("latency")
            if latency is not None:
                try:
                    link["latency"] = delay_text(parse_delay(_number(latency)))
                except ValueError as exc:
                    self.error(rec.at("latency"), str(exc), "a plain number is milliseconds")
            medium = rec.get("medium")
            if medium is not None:
                if medium in MEDIA:
                    link["medium"] = medium
                else:
                    self.error(rec.at("medium"), f"unknown medium {medium!r}", suggest(medium, MEDIA, "media")
                               if _close(medium, MEDIA) else "use one of " + ", ".join(MEDIA))
            index = len(out)
            out.append(link)
            self.prov[("links", index)] = rec.at("a")
            for key in link:
                self.prov[("links", index, key)] = rec.at(key)
        if defaulted:
            self.assumptions.append(f"{defaulted} link(s) give no bandwidth and take the plan format's default (1G).")
        return out

    def _name(self, rec: Record, key: str, what: str) -> str | None:
        name = rec.get(key)
        if name is None:
            self._empty(rec, key)
            return None
        if what == "node":
            self.named.add(name)
        if len(name) > MAX_NAME:
            self.error(rec.at(key), f"{what} name is {len(name)} characters long", f"use at most {MAX_NAME}")
            return None
        if _BAD_NAME.search(name):
            self.error(rec.at(key), f"{what} name {name!r} contains ':', '{{' or '}}'",
                       "rename it (':' joins a node to an interface, braces are template placeholders)")
            return None
        return name

    def _empty(self, rec: Record, key: str) -> None:
        if key not in rec.columns:
            return  # the missing column is the error
        self.error(rec.at(key), f"the {key} cell is empty", "every row needs one")


def _number(text: str) -> str | float:
    """A cell of digits as a number (a spreadsheet's numeric cell), other text as it is."""
    try:
        return float(text)
    except ValueError:
        return text


def _close(name: str, known: Iterable[str]) -> bool:
    from ..validation import close_match

    return close_match(name, known) is not None


def _covering(blocks: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    low = min(int(b.network_address) for b in blocks)
    high = max(int(b.broadcast_address) for b in blocks)
    span = ipaddress.IPv4Network((low, 32))
    while int(span.broadcast_address) < high or int(span.network_address) > low:
        span = span.supernet()
    return span


def guess_kind(domain: str) -> str:
    """The built-in kind a domain's name says: 政务外网 extranet, 政务内网 intranet, 互联网 internet ...

    >>> guess_kind("政务外网"), guess_kind("门户DMZ"), guess_kind("internet"), guess_kind("财政专网")
    ('extranet', 'dmz', 'internet', 'extranet')
    """
    text = domain.lower()
    if text in DOMAIN_KINDS:
        return text
    return next((kind for word, kind in _KIND_WORDS if word in text), "extranet")


# checking -----------------------------------------------------------------------------------------------------------


def _check_loads(plan: dict[str, Any], prov: dict[tuple[Any, ...], Mark], file: str) -> None:
    """Load the plan; raise its errors as PlanError at the cells its pieces came from."""
    from ..loader import load_text
    from ..yaml_source import parse_yaml_text
    from .plan_yaml import dump_plan

    text = dump_plan(plan)
    label = f"<plan imported from {file}>"
    try:
        load_text(text, label)
    except PlanError as exc:
        marks = parse_yaml_text(text, label).marks
        at = {(m.line, m.col): path for path, m in marks.items()}
        by_line: dict[int, tuple[Any, ...]] = {}  # the shortest path written on each line
        for path, m in marks.items():
            if m.line not in by_line or len(path) < len(by_line[m.line]):
                by_line[m.line] = path
        fallback = next(iter(prov.values()), Mark(file, 1, 1))
        issues = []
        for issue in exc.issues:
            path = at.get((issue.mark.line, issue.mark.col), by_line.get(issue.mark.line, ()))
            mark = next((prov[path[:n]] for n in range(len(path), 0, -1) if path[:n] in prov), fallback)
            issues.append(PlanIssue(mark, issue.message, issue.hint))
        raise PlanError(issues) from None
