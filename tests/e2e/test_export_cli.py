"""``govnet export`` and ``govnet import`` of spreadsheets, run as a user runs them."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import openpyxl

from tests.helpers import SCENARIOS, run_cli
from topology import load_plan

PLAN = SCENARIOS / "chuxiong" / "plan.yaml"


def test_export_devices_imports_back_as_the_same_network(tmp_path: Path) -> None:
    book = tmp_path / "设备清单.xlsx"
    done = run_cli("export", "devices", PLAN, "-o", book)
    assert done.returncode == 0, done.stderr
    assert openpyxl.load_workbook(book).sheetnames == ["节点", "链路", "站点", "安全域"]
    plan = tmp_path / "imported.yaml"
    done = run_cli("import", book, "-o", plan)
    assert done.returncode == 0, done.stderr
    original, imported = load_plan(PLAN), load_plan(plan)
    assert [(n.name, n.role, n.domain, n.site) for n in imported.nodes.values()] == \
        [(n.name, n.role, n.domain, n.site) for n in original.nodes.values()]
    assert [(l.a, l.b, l.bandwidth) for l in imported.links.values()] == \
        [(l.a, l.b, l.bandwidth) for l in original.links.values()]


def test_exports_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    for kind in ("devices", "address-plan"):
        for suffix in ("xlsx", "csv"):
            first, second = tmp_path / f"1-{kind}.{suffix}", tmp_path / f"2-{kind}.{suffix}"
            for out in (first, second):
                done = run_cli("export", kind, "-o", out)
                assert done.returncode == 0, done.stderr
            assert first.read_bytes() == second.read_bytes(), (kind, suffix)


def test_address_plan_to_stdout_is_csv_with_every_address() -> None:
    done = run_cli("export", "address-plan", PLAN)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0][:5] == ["安全域 (domain)", "站点 (site)", "节点 (node)", "接口 (interface)", "地址 (address)"]
    net = load_plan(PLAN)
    count = sum((n.loopback is not None) + (n.lan is not None)
                + sum(i.address is not None for i in n.interfaces.values()) for n in net.nodes.values())
    assert len(rows) - 1 == count


def test_a_bad_spreadsheet_exits_2_naming_sheet_row_and_column(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    nodes = book.active
    nodes.title = "节点"
    for row in (["名称 (name)", "角色 (role)", "安全域 (domain)", "站点 (site)"],
                ["州核心", "core_router", "政务外网", "楚雄州"], ["县核心", "rooter", "政务外网", "楚雄州"]):
        nodes.append(row)
    links = book.create_sheet("链路")
    for row in (["a", "b", "带宽 (bandwidth)"], ["州核心", "县核心", "100X"], ["州核心", "乡核心", "1G"]):
        links.append(row)
    path = tmp_path / "bad.xlsx"
    book.save(path)
    out = tmp_path / "plan.yaml"
    done = run_cli("import", path, "-o", out)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert any(line.startswith(f"{path}[节点]:3:2: error: unknown role 'rooter'") for line in lines), done.stderr
    assert any(line.startswith(f"{path}[链路]:2:3: error: '100X' is not a bandwidth") for line in lines), done.stderr
    assert any(line.startswith(f"{path}[链路]:3:2: error: link end '乡核心'") for line in lines), done.stderr
    assert not out.exists()
    # a missing column
    nodes.delete_cols(2)
    book.save(path)
    done = run_cli("import", path, "-o", out)
    assert done.returncode == 2 and f"{path}[节点]:1:4: error: no column 角色 (role)" in done.stderr
    assert not out.exists()


def test_export_never_writes_over_an_input_nor_guesses_a_format(tmp_path: Path) -> None:
    shutil.copytree(PLAN.parent, tmp_path / "chuxiong")
    plan = tmp_path / "chuxiong" / "plan.yaml"
    link = tmp_path / "plan.xlsx"
    os.symlink(plan, link)
    before = plan.read_bytes()
    done = run_cli("export", "devices", plan, "-o", link)
    assert done.returncode == 2 and "read by this command" in done.stderr
    assert plan.read_bytes() == before
    done = run_cli("export", "address-plan", "-o", tmp_path / "plan.ods")
    assert done.returncode == 2 and ".xlsx nor .csv" in done.stderr
