"""The batch reader: fields, defaults and the FILE:LINE:COL of every problem, worked out by hand."""

from __future__ import annotations

import json

import pytest

from simulator.packet_batch import PACKET_DEFAULTS, batch_format, check_packets, read_packets
from topology import load_plan, scenario_path
from topology.errors import GovnetError, Mark, PlanError


def problems(data: str | bytes, file: str) -> list[tuple[int, int, str]]:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(PlanError) as info:
        read_packets(raw, file)
    return [(i.mark.line, i.mark.col, i.message) for i in info.value.issues]


def test_defaults_are_those_of_a_single_trace():
    assert PACKET_DEFAULTS == {"from": None, "to": None, "proto": "tcp", "sport": 40000, "dport": 443,
                               "icmp-type": 8, "src-ip": None}


def test_csv_fields_quotes_spaces_crlf_bom_and_blank_lines():
    data = ('\ufefffrom, to ,dport,proto\r\n'
            '\r\n'
            'a, "b,c" ,  80,\r\n'
            '"x ""y""",10.0.0.9,,udp\r\n').encode()
    rows = read_packets(data, "b.csv")
    assert [r.row for r in rows] == [1, 2]
    first, second = rows
    assert first.packet == {"src": "a", "dst": "b,c", "proto": "tcp", "sport": 40000, "dport": 80, "icmp_type": 8,
                            "src_ip": None}
    assert first.mark == Mark("b.csv", 3, 1)
    assert first.at("to") == Mark("b.csv", 3, 4)  # the opening quote, after one space
    assert first.at("dport") == Mark("b.csv", 3, 13)  # after two spaces
    assert first.at("proto") == first.mark  # empty: the default
    assert second.packet["src"] == 'x "y"' and second.packet["proto"] == "udp" and second.packet["dport"] == 443
    assert second.at("proto") == Mark("b.csv", 4, 21)


def test_csv_quoted_line_break_moves_the_next_lines():
    rows = read_packets(b'from,to\n"a\nb",c\nd,e\n', "b.csv")
    assert [(r.packet["src"], r.mark.line) for r in rows] == [("a\nb", 2), ("d", 4)]


def test_csv_problems_at_their_places():
    assert problems("from,to,from,port\na,b,c,d\n", "b.csv") == [
        (1, 9, "a second column 'from'"), (1, 14, "unknown column 'port'")]
    assert problems('from,to\na,b,c\n"a,b\n', "b.csv") == [
        (2, 5, "this row has 3 fields, the header names 2"), (3, 1, "this quoted field has no closing quote")]
    assert problems('from,to\n"a"x,b\n', "b.csv") == [(2, 4, "text after a quoted field's closing quote")]
    assert problems("", "b.csv") == [(1, 1, "the file has no header row")]
    assert problems("from,to,sport,icmp-type,src-ip\na,b,-1,256,10.0.0\n", "b.csv") == [
        (2, 5, "sport -1 is out of range 0-65535"), (2, 8, "icmp-type 256 is out of range 0-255"),
        (2, 12, "'10.0.0' is not an IPv4 address")]


def test_jsonl_values_null_and_string_ports():
    rows = read_packets(b'{"from": "a", "to": "b", "dport": "8080", "sport": null}\n'
                        b'  {"to": "c", "from": "d", "proto": "icmp", "icmp-type": 0}  \n', "b.jsonl")
    assert rows[0].packet["dport"] == 8080 and rows[0].packet["sport"] == 40000
    assert rows[0].at("dport") == Mark("b.jsonl", 1, 35)
    assert rows[1].packet["proto"] == "icmp" and rows[1].packet["icmp_type"] == 0
    assert rows[1].at("from") == Mark("b.jsonl", 2, 23)


def test_jsonl_problems_at_their_places():
    text = ('{"from": "a", "to": "b", "dport": true}\n'
            '{"from": "a", "to": "b", "to": "c"}\n'
            '["a", "b"]\n'
            '{"from": "a", "to": ["b"]}\n'
            '{"from": "a", "to": "b",}\n')
    assert problems(text, "b.ndjson") == [
        (1, 35, "dport true is not a whole number"),
        (2, 26, "a second 'to' in this object"),
        (3, 1, "this line is not a JSON object"),
        (4, 21, 'to must be text, not ["b"]'),
        (5, 25, "expected a key in double quotes"),
    ]


def test_not_utf8_points_at_the_byte():
    assert problems(b"from,to\na,\xff\n", "b.csv") == [(2, 3, "the file is not UTF-8 text")]


def test_defaults_fill_left_out_fields_and_are_checked():
    rows = read_packets(b"to\nb\n", "b.csv", defaults={"from": "a", "proto": "udp", "src-ip": "10.0.0.1"})
    assert rows[0].packet["src"] == "a" and rows[0].packet["proto"] == "udp" and rows[0].packet["src_ip"] == "10.0.0.1"
    with pytest.raises(GovnetError, match="--src-ip: 'nope' is not an IPv4 address"):
        read_packets(b"to\nb\n", "b.csv", defaults={"from": "a", "src-ip": "nope"})
    assert problems("to\nb\n", "b.csv") == [(2, 1, "packet 1 has no 'from' (the sending node)")]


def test_batch_format():
    assert batch_format("x.CSV") == "csv" and batch_format("x.jsonl") == "jsonl" and batch_format("y", "jsonl") == "jsonl"
    with pytest.raises(GovnetError, match="--batch-format"):
        batch_format("x.txt")
    with pytest.raises(GovnetError, match="unknown batch format"):
        batch_format("x.csv", "xml")


def test_check_packets_on_chuxiong():
    net = load_plan(scenario_path("chuxiong"))
    good = read_packets("from,to\nnode:双柏县财政局,10.53.4.225\n双柏县财政局,203.0.113.7\n".encode(), "b.csv")
    check_packets(net, good)
    bad = read_packets("from,to\nsite:双柏县,楚雄州行政审批服务器\n双柏县财政局,node:nowhere\n".encode(), "b.csv")
    with pytest.raises(PlanError) as info:
        check_packets(net, bad)
    issues = [(i.mark.line, i.mark.col, i.message) for i in info.value.issues]
    assert issues[0][:2] == (2, 1) and "nodes; a trace starts at one node" in issues[0][2]
    assert issues[1][:2] == (3, 8) and issues[1][2].startswith("no node named 'nowhere'")


def test_a_split_batch_answers_as_one_process(monkeypatch):
    """Split between this process and a forked child, a batch gives the text and verdict of the serial run
    (the oracle: every row traced here, one by one)."""
    from simulator import packet_batch

    chuxiong = load_plan(scenario_path("chuxiong"))
    names = sorted(n for n, node in chuxiong.nodes.items() if node.role in ("host", "server"))[:40]
    text = "from,to\n" + "".join(f"{a},{b}\n" for a in names[:8] for b in names[-5:] if a != b)
    cloud = next(n for n, node in chuxiong.nodes.items() if node.role == "cloud")
    text += f"{cloud},{names[0]}\n"  # from the internet to a department: the firewall drops it
    rows = packet_batch.read_packets(text.encode(), "b.csv")
    serial = [packet_batch.results([r], [next(packet_batch.trace_packets(chuxiong, [r]))], "json") for r in rows]
    delivered = [json.loads(line)["delivered"] for line in serial]
    monkeypatch.setattr(packet_batch, "SPLIT_FROM", 4)
    answer, all_delivered = packet_batch.answer_batch(chuxiong, rows, "json")
    assert answer == "".join(serial)
    assert all_delivered is all(delivered) and not all_delivered
