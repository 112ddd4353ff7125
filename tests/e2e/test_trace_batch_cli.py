"""``govnet trace --batch`` as a user runs it, each row checked against ``govnet trace`` run alone for its packet."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from click.testing import CliRunner

from govnet.cli import cli
from tests.helpers import REPO, SCENARIOS

PLAN = SCENARIOS / "chuxiong" / "plan.yaml"
OPTIONS = ("from", "to", "proto", "sport", "dport", "icmp-type", "src-ip")

# (from, to, proto, sport, dport, icmp-type, src-ip); "" = left out (the option's default)
FIXED: list[tuple[str, ...]] = [
    ("双柏县财政局", "楚雄州行政审批服务器", "tcp", "", "443", "", ""),
    ("楚雄州驻昆明办事处办公终端", "楚雄州公众信息网", "", "", "", "", ""),  # through the IPsec tunnel
    ("互联网", "楚雄州行政审批服务器", "tcp", "", "3389", "", ""),
    ("互联网", "楚雄州公众信息网", "tcp", "", "443", "", ""),
    ("node:双柏县财政局", "10.53.4.225", "icmp", "", "", "0", ""),
    ("双柏县财政局", "楚雄州行政审批服务器", "udp", "5000", "53", "", ""),
    ("双柏县财政局", "州委政务内网终端", "tcp", "", "443", "", ""),
    ("双柏县财政局", "楚雄州行政审批服务器", "tcp", "", "443", "", "10.53.5.200"),
]


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def packets() -> list[tuple[str, ...]]:
    """The fixed packets and five between random nodes of the plan (fixed seed)."""
    from topology import load_plan

    names = sorted(load_plan(PLAN).nodes)
    rng = random.Random(14)
    drawn = [(rng.choice(names), rng.choice(names), rng.choice(["tcp", "udp", "icmp"]), "", str(rng.choice([22, 80, 443])),
              "", "") for _ in range(5)]
    return FIXED + drawn


def single_args(row: tuple[str, ...]) -> list[str]:
    """The options of ``govnet trace`` for one packet (fields left out are not given)."""
    args = []
    for option, value in zip(OPTIONS, row):
        if value:
            args += [f"--{option}", value]
    return args


@pytest.fixture(scope="module")
def oracle() -> list[dict]:
    """Each packet traced on its own: ``govnet trace`` once per packet, JSON and text, and its exit code."""
    out = []
    for row in packets():
        as_json = run("trace", PLAN, *single_args(row), "--format", "json")
        as_text = run("trace", PLAN, *single_args(row))
        assert as_json.exit_code in (0, 1), as_json.output
        out.append({"json": json.loads(as_json.output), "text": as_text.output, "code": as_json.exit_code})
    return out


def csv_text(rows) -> str:
    return ",".join(OPTIONS) + "\n" + "".join(",".join(r) + "\n" for r in rows)


def jsonl_text(rows) -> str:
    return "".join(json.dumps({k: (int(v) if k in ("sport", "dport", "icmp-type") else v)
                               for k, v in zip(OPTIONS, r) if v}, ensure_ascii=False) + "\n" for r in rows)


def test_oracle_has_both_verdicts(oracle):
    codes = {o["code"] for o in oracle}
    assert codes == {0, 1}, "the packets should include delivered and dropped ones"


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_every_row_is_what_the_single_trace_gives(tmp_path, oracle, kind):
    rows = packets()
    batch = tmp_path / f"batch.{kind}"
    batch.write_text(csv_text(rows) if kind == "csv" else jsonl_text(rows), encoding="utf-8")
    result = run("trace", PLAN, "--batch", batch, "--format", "json", "--hops")
    assert result.exit_code == (1 if any(o["code"] for o in oracle) else 0), result.output
    lines = result.output.splitlines()
    assert len(lines) == len(rows)
    for number, (line, single) in enumerate(zip(lines, oracle), 1):
        got, want = json.loads(line), single["json"]
        assert got["row"] == number
        assert got["line"] == number + (1 if kind == "csv" else 0)  # the CSV header is line 1
        for key in ("src", "dst", "delivered", "reason", "hops"):
            assert got[key] == want[key], (number, key)
        assert "reply" not in got
        assert got["decision"] == want["hops"][-1]["decision"]
        assert got["node"] == want["hops"][-1]["node"]
        assert got["hop_count"] == len(want["hops"])
        assert got["packet"] == want["hops"][0]["packet"]
        assert got["delivered"] == (single["code"] == 0)


def test_text_with_hops_is_the_single_trace_text(tmp_path, oracle):
    rows = packets()
    batch = tmp_path / "batch.ndjson"
    batch.write_text(jsonl_text(rows), encoding="utf-8")
    result = run("trace", PLAN, "--batch", batch, "--hops")
    blocks: list[list[str]] = []
    for line in result.output.splitlines(keepends=True):
        if line.startswith("row "):
            blocks.append([line])
        else:
            blocks[-1].append(line)
    assert len(blocks) == len(rows)
    for number, (block, single) in enumerate(zip(blocks, oracle), 1):
        assert block[0].startswith(f"row {number} (") and f"{batch.name}:{number}): " in block[0]
        assert "".join(block[1:]) == single["text"]


def test_one_line_per_packet_without_hops(tmp_path, oracle):
    rows = packets()
    batch = tmp_path / "batch.csv"
    batch.write_text(csv_text(rows), encoding="utf-8")
    result = run("trace", PLAN, "--batch", batch)
    lines = result.output.splitlines()
    assert len(lines) == len(rows)
    for number, (line, single) in enumerate(zip(lines, oracle), 1):
        verdict = single["text"].splitlines()[-1]  # DELIVERED: ... or DROPPED: ...
        assert line.startswith(f"row {number} (")
        assert line.endswith(f": {verdict} ({len(single['json']['hops'])} hops)")


def test_reply_matches_the_single_trace(tmp_path):
    rows = FIXED[:2] + FIXED[3:4]
    batch = tmp_path / "batch.csv"
    batch.write_text(csv_text(rows), encoding="utf-8")
    result = run("trace", PLAN, "--batch", batch, "--reply", "--format", "json", "--hops")
    for line, row in zip(result.output.splitlines(), rows):
        single = json.loads(run("trace", PLAN, *single_args(row), "--reply", "--format", "json").output)
        got = json.loads(line)
        assert got["hops"] == single["hops"]
        assert got.get("reply") == single.get("reply")


def test_options_are_the_defaults_of_missing_fields(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text("to\n楚雄州行政审批服务器\n楚雄州公众信息网\n", encoding="utf-8")
    result = run("trace", PLAN, "--batch", batch, "--from", "双柏县财政局", "--proto", "udp", "--dport", "53",
                 "--format", "json", "--hops")
    for line, dst in zip(result.output.splitlines(), ["楚雄州行政审批服务器", "楚雄州公众信息网"]):
        single = run("trace", PLAN, "--from", "双柏县财政局", "--to", dst, "--proto", "udp", "--dport", "53",
                     "--format", "json")
        assert json.loads(line)["hops"] == json.loads(single.output)["hops"]


CSV_BAD = (
    "from,to,proto,dport\n"
    "双柏县财政局,楚雄州行政审批服务器,tcp,443\n"
    "双柏县财政局,楚雄州行政审批服务器,TCP,443\n"  # line 3: proto at col 19
    '双柏县财政局,"楚雄州行政审批服务器",tcp,99999\n'  # line 4: dport at col 25
    ",楚雄州行政审批服务器,tcp,80\n"  # line 5: no sender
)


def test_bad_csv_rows_exit_2_at_file_line_col(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(CSV_BAD, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("trace", PLAN, "--batch", batch, "-o", out)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert [e.split(": error: ")[0].rsplit(":", 2)[1:] for e in errors] == [["3", "19"], ["4", "25"], ["5", "1"]]
    assert errors[0].startswith(f"{batch}:3:19: error: protocol 'TCP' is not one of tcp, udp, icmp")
    assert "did you mean 'tcp'?" in errors[0]
    assert "dport 99999 is out of range 0-65535" in errors[1]
    assert "has no 'from'" in errors[2] and "--from" in errors[2]
    assert "nothing was written" in result.output
    assert not out.exists()


def test_unknown_nodes_exit_2_with_a_suggestion_and_nothing_traced(tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"from": "双柏县财政局", "to": "楚雄州行政审批服务器"}\n'
                     '{"from": "双柏县财政", "to": "楚雄州行政审批服务器"}\n'
                     '\n'
                     '{"to": "楚雄州行政审批服务", "from": "双柏县财政局"}\n', encoding="utf-8")
    out = tmp_path / "out.txt"
    result = run("trace", PLAN, "--batch", batch, "-o", out)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 2
    assert errors[0].startswith(f"{batch}:2:10: error: no node named '双柏县财政' (did you mean '双柏县财政局'?)")
    assert errors[1].startswith(f"{batch}:4:8: error: no node named '楚雄州行政审批服务' (did you mean '楚雄州行政审批服务器'?)")
    assert not out.exists()


def test_bad_json_lines_exit_2_at_file_line_col(tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"from": "a", "to": "b", "dport": "x"}\n'  # dport value at col 35
                     '{"from": "a", "too": "b"}\n'  # unknown key at col 15, and no "to" (col 1)
                     '{"from": "a" "to": "b"}\n', encoding="utf-8")  # col 14: no comma
    result = run("trace", PLAN, "--batch", batch)
    assert result.exit_code == 2
    marks = [line.split(": error: ")[0] for line in result.output.splitlines() if ": error: " in line]
    assert marks == [f"{batch}:1:35", f"{batch}:2:1", f"{batch}:2:15", f"{batch}:3:14"]
    assert "did you mean 'to'?" in result.output


def test_output_over_the_batch_file_is_refused(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(csv_text(FIXED[:1]), encoding="utf-8")
    before = batch.read_bytes()
    result = run("trace", PLAN, "--batch", batch, "-o", batch)
    assert result.exit_code == 2
    assert "is read by this command" in result.output
    assert batch.read_bytes() == before


def test_stdin_and_output_file(tmp_path, oracle):
    rows = packets()
    result = run("trace", PLAN, "--batch", "-", "--batch-format", "csv", "--format", "json", input=csv_text(rows))
    from_file = tmp_path / "batch.csv"
    from_file.write_text(csv_text(rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    written = run("trace", PLAN, "--batch", from_file, "--format", "json", "-o", out)
    assert written.output == ""
    assert result.output == out.read_text(encoding="utf-8")
    assert [json.loads(line)["delivered"] for line in result.output.splitlines()] == [o["code"] == 0 for o in oracle]
    no_format = run("trace", PLAN, "--batch", "-", input=csv_text(rows))
    assert no_format.exit_code == 2 and "--batch-format" in no_format.output


def test_subprocess_is_deterministic_with_exit_codes(tmp_path):
    rows = packets()
    batch = tmp_path / "batch.csv"
    batch.write_text(csv_text(rows), encoding="utf-8")
    runs = [subprocess.run([sys.executable, "-m", "govnet", "trace", str(PLAN), "--batch", "-", "--batch-format", "csv",
                            "--format", "json", "--hops"], input=batch.read_bytes(), capture_output=True, cwd=REPO,
                           check=False, timeout=600) for _ in range(2)]
    assert runs[0].returncode == 1 and runs[0].stdout == runs[1].stdout and runs[0].stdout
    delivered = tmp_path / "ok.csv"
    delivered.write_text(csv_text(FIXED[:2]), encoding="utf-8")
    ok = subprocess.run([sys.executable, "-m", "govnet", "trace", str(PLAN), "--batch", str(delivered)],
                        capture_output=True, cwd=REPO, check=False, timeout=600)
    assert ok.returncode == 0, ok.stderr
