"""A network as the spreadsheets planners keep: the IP address plan (IP地址规划表) and the device list (设备清单).

Definition. A :class:`Table` is one sheet: a name, its columns (a Chinese
header with the English key in parentheses, ``安全域 (domain)``) and its rows
in plan order. :func:`address_plan` has one row per address of the network:
each node's loopback (interface ``loopback``), its LAN (interface ``LAN``),
then every addressed interface, with the domain whose pool holds the address,
the prefix it lies in, the link it is on and the phase it exists from.
:func:`devices` has one row per node; :func:`links`, :func:`sites` and
:func:`domains` one per link, site and domain. :func:`device_workbook` is the
device list as ``govnet export devices`` writes it to a workbook: the nodes,
links, sites and domains sheets that ``govnet import`` reads back
(:mod:`topology.importers.spreadsheet`).

:func:`csv_bytes` and :func:`xlsx_bytes` write tables; both give the same
bytes for the same network. An XLSX file is a zip of XML parts, and openpyxl
stamps the workbook's created and modified dates and every zip entry with the
time of writing; here they are all :func:`stamp`, ``SOURCE_DATE_EPOCH`` when
set, else 2000-01-01 00:00:00 UTC.

    >>> from topology.loader import load_text
    >>> demo = load_text('''
    ... name: demo
    ... domains: {外网: {kind: extranet, pool: 10.1.0.0/16}}
    ... sites: {州: {level: prefecture}}
    ... nodes: {a: {role: core_router, domain: 外网, site: 州}, b: {role: router, domain: 外网, site: 州}}
    ... links: [{a: a, b: b, bandwidth: 100M}]
    ... ''')
    >>> print(csv_bytes(address_plan(demo)).decode(), end="")
    安全域 (domain),站点 (site),节点 (node),接口 (interface),地址 (address),网段 (prefix),链路 (link),期次 (phase)
    外网,州,a,loopback,10.1.0.2/32,10.1.0.2/32,,all
    外网,州,a,e0,10.1.0.0/31,10.1.0.0/31,a--b,all
    外网,州,b,loopback,10.1.0.3/32,10.1.0.3/32,,all
    外网,州,b,e0,10.1.0.1/31,10.1.0.0/31,a--b,all
    >>> [row[:4] for row in devices(demo).rows]
    [('a', 'core_router', '外网', '州'), ('b', 'router', '外网', '州')]
    >>> xlsx_bytes(device_workbook(demo)) == xlsx_bytes(device_workbook(demo))
    True
"""

from __future__ import annotations

import csv
import datetime
import io
import ipaddress
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import GovnetError
from .model import Network
from .vocabulary import CLASSIFICATIONS

Value = str | int | None


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its English ``key`` (what the plan format calls it) and its Chinese name."""

    key: str
    zh: str

    @property
    def header(self) -> str:
        return f"{self.zh} ({self.key})"


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet: ``name`` (the sheet's title), ``key`` (its English name), columns and rows."""

    name: str
    key: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(key, zh) for key, zh in pairs)


ADDRESS_COLUMNS = _columns(("domain", "安全域"), ("site", "站点"), ("node", "节点"), ("interface", "接口"),
                           ("address", "地址"), ("prefix", "网段"), ("link", "链路"), ("phase", "期次"))
NODE_COLUMNS = _columns(("name", "名称"), ("role", "角色"), ("domain", "安全域"), ("site", "站点"), ("level", "级别"),
                        ("phase", "期次"), ("loopback", "环回地址"), ("title", "全称"), ("classification", "密级"),
                        ("interfaces", "接口数"))
LINK_COLUMNS = _columns(("name", "名称"), ("a", "端点A"), ("b", "端点B"), ("bandwidth", "带宽"), ("latency", "时延"),
                        ("medium", "介质"), ("phase", "期次"))
SITE_COLUMNS = _columns(("name", "名称"), ("level", "级别"), ("parent", "上级站点"), ("title", "全称"))
DOMAIN_COLUMNS = _columns(("name", "名称"), ("kind", "网络类型"), ("clearance", "密级"), ("pool", "地址池"),
                          ("title", "全称"))
# the sheets, by English key: (Chinese sheet name, columns)
SHEETS = {"addresses": ("IP地址规划表", ADDRESS_COLUMNS), "nodes": ("节点", NODE_COLUMNS),
          "links": ("链路", LINK_COLUMNS), "sites": ("站点", SITE_COLUMNS), "domains": ("安全域", DOMAIN_COLUMNS)}
LOOPBACK, LAN = "loopback", "LAN"
DEFAULT_STAMP = datetime.datetime(2000, 1, 1)
ZIP_EPOCH = datetime.datetime(1980, 1, 1)  # the earliest time a zip entry can carry


def _table(key: str, rows: list[tuple[Value, ...]]) -> Table:
    name, columns = SHEETS[key]
    return Table(name, key, columns, tuple(rows))


def _phase(net: Network, index: int) -> str:
    return net.phases[index].name if 0 <= index < len(net.phases) else ""


def address_plan(net: Network) -> Table:
    """The IP地址规划表: one row per address, nodes in plan order (loopback, LAN, then interfaces)."""
    pools = [(d.pool, d.name) for d in net.domains.values() if d.pool is not None]

    def domain_of(block: ipaddress.IPv4Network, default: str) -> str:
        return next((name for pool, name in pools if block.subnet_of(pool)), default)

    rows: list[tuple[Value, ...]] = []
    for node in net.nodes.values():
        phase = _phase(net, node.phase)
        if node.loopback is not None:
            rows.append((domain_of(node.loopback.network, node.domain), node.site, node.name, LOOPBACK,
                         str(node.loopback), str(node.loopback.network), None, phase))
        if node.lan is not None:
            rows.append((domain_of(node.lan, node.domain), node.site, node.name, LAN, str(node.lan), str(node.lan),
                         None, phase))
        for iface in node.interfaces.values():
            if iface.address is None:
                continue
            link = net.links.get(iface.link) if iface.link else None
            rows.append((domain_of(iface.address.network, node.domain), node.site, node.name, iface.name,
                         str(iface.address), str(iface.address.network), iface.link,
                         _phase(net, link.phase) if link is not None else phase))
    return _table("addresses", rows)


def devices(net: Network) -> Table:
    """The 设备清单: one row per node in plan order."""
    return _table("nodes", [(n.name, n.role, n.domain, n.site, net.sites[n.site].level, _phase(net, n.phase),
                             str(n.loopback) if n.loopback else None, n.title, CLASSIFICATIONS[n.classification],
                             len(n.interfaces)) for n in net.nodes.values()])


def links(net: Network) -> Table:
    """One row per link in plan order; ends are node names, bandwidths and delays as a plan writes them."""
    from .importers.builder import bandwidth_text

    return _table("links", [(l.name, l.a, l.b, str(bandwidth_text(l.bandwidth)) if l.sized else "unknown",
                             delay_text(l.latency), l.medium, _phase(net, l.phase)) for l in net.links.values()])


def sites(net: Network) -> Table:
    """One row per site, parents before children (plan order)."""
    return _table("sites", [(s.name, s.level, s.parent, s.title) for s in net.sites.values()])


def domains(net: Network) -> Table:
    """One row per security domain."""
    return _table("domains", [(d.name, d.kind, d.clearance_label, str(d.pool) if d.pool else None, d.title)
                              for d in net.domains.values()])


def device_workbook(net: Network) -> list[Table]:
    """The device list as a workbook: nodes, links, sites and domains (what ``govnet import`` reads back)."""
    return [devices(net), links(net), sites(net), domains(net)]


def delay_text(seconds: float) -> str:
    """A delay as a plan writes it, exactly: ``'3ms'``, ``'0.25ms'``.

    >>> delay_text(0.003), delay_text(2.5e-4)
    ('3ms', '0.25ms')
    """
    return f"{seconds * 1e3:.12g}ms"


def csv_bytes(table: Table, bom: bool = False) -> bytes:
    """``table`` as UTF-8 CSV (header row first, LF line ends); ``bom`` for Excel, which reads Chinese right only
    with one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.headers)
    writer.writerows(["" if v is None else v for v in row] for row in table.rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def stamp() -> datetime.datetime:
    """The time written into a workbook: ``SOURCE_DATE_EPOCH`` (UTC) when set, else 2000-01-01 00:00:00.

    >>> stamp()
    datetime.datetime(2000, 1, 1, 0, 0)
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return DEFAULT_STAMP
    try:
        when = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        raise GovnetError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970") from None
    return max(when, ZIP_EPOCH)


class _StampedZip(zipfile.ZipFile):
    """A zip whose entries all carry one time (openpyxl adds entries by name, or from a temporary file, which
    stamps them with the time of writing)."""

    when: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.when)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as handle:
            self.writestr(str(arcname if arcname is not None else filename), handle.read(), compress_type,
                          compresslevel)


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """``tables`` as one XLSX workbook, a sheet each (bold header row, frozen), the same bytes for the same tables."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    when = stamp()
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.name)
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(list(row))
        for row_cells in sheet.iter_rows(min_row=2):
            for cell in row_cells:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns):
            longest = max([len(column.header), *(len(str(r[index])) for r in table.rows if r[index] is not None)])
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(60, 2 + 1.6 * longest)
    book.properties.creator = "govnet"
    book.properties.created = book.properties.modified = when
    buffer = io.BytesIO()
    archive = _StampedZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    archive.when = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    ExcelWriter(book, archive).save()  # not save_workbook(), which sets the modified date to now
    return buffer.getvalue()


__all__ = ["ADDRESS_COLUMNS", "DOMAIN_COLUMNS", "LINK_COLUMNS", "NODE_COLUMNS", "SHEETS", "SITE_COLUMNS", "Column",
           "Table", "address_plan", "csv_bytes", "delay_text", "device_workbook", "devices", "domains", "links",
           "sites", "stamp", "xlsx_bytes"]
