"""``govnet trace`` and ``govnet reach`` as a user runs them: exit codes, JSON, pcap."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from scapy.layers.inet import IP, TCP
from scapy.layers.ipsec import ESP
from scapy.utils import rdpcap

from govnet.cli import cli
from tests.helpers import SCENARIOS, run_cli, skip_outside_ci, write_plan
from tests.simulator import sim_plans


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result


@pytest.fixture()
def tunnel_plan(tmp_path):
    return write_plan(tmp_path, sim_plans.tunnel_plan("ipsec", "AES-GCM"))


@pytest.fixture()
def firewall_plan(tmp_path):
    text = sim_plans.FIREWALL.replace("dst: WEB", "dst: 10.0.0.0/24")
    return write_plan(tmp_path, text)


def test_trace_delivered_text_json_and_pcap(tunnel_plan, tmp_path):
    text = run("trace", tunnel_plan, "--from", "ha", "--to", "hb")
    assert text.exit_code == 0, text.output
    assert "DELIVERED" in text.output and "encapsulated" in text.output

    pcap = tmp_path / "out.pcap"
    result = run("trace", tunnel_plan, "--from", "ha", "--to", "hb", "--format", "json", "--pcap", pcap)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["delivered"] is True
    assert [h["decision"] for h in data["hops"]] == ["forwarded", "encapsulated", "forwarded", "decapsulated",
                                                     "forwarded", "delivered"]
    assert set(data["hops"][0]) >= {"node", "in", "out", "decision", "rule"}
    packets = rdpcap(str(pcap))
    assert len(packets) == len(data["hops"])
    assert ESP in packets[2] and TCP not in packets[2]  # on the internet: ESP, nothing readable
    assert TCP in packets[3] and packets[3][IP].dst == packets[0][IP].dst


def test_trace_denied_exits_1_with_the_rule(firewall_plan):
    result = run("trace", firewall_plan, "--from", "out", "--to", "web", "--dport", "80", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["delivered"] is False
    last = data["hops"][-1]
    assert last["decision"] == "denied"
    assert last["rule"]["acl"] == "from-outside" and last["rule"]["index"] == 2 and last["rule"]["direction"] == "in"


def test_trace_reply_through_nat(firewall_plan):
    result = run("trace", firewall_plan, "--from", "pc", "--to", "out", "--reply", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["reply"]["delivered"] is True


@pytest.mark.parametrize("args", [
    ["--from", "nobody", "--to", "web"],
    ["--from", "pc", "--to", "10.0.0.300"],
    ["--from", "pc", "--to", "web", "--src-ip", "not-an-ip"],
])
def test_trace_input_errors_exit_2(firewall_plan, args):
    result = run("trace", firewall_plan, *args)
    assert result.exit_code == 2
    assert "error" in result.output.lower()


def test_reach_json_and_selectors(firewall_plan):
    result = run("reach", firewall_plan, "--from", "domain:inet", "--to", "role:server", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["reachable"] is True
    assert {c["to"] for c in data["classes"]} == {"web", "db"}
    for c in data["classes"]:
        assert c["representative"]["proto"] in ("tcp", "icmp")
        assert c["trace"]["delivered"] is True
    closed = write_plan(firewall_plan.parent / "closed", sim_plans.FIREWALL.replace("dst: WEB", "dst: 10.0.0.250"))
    text = run("reach", closed, "--from", "out", "--to", "pc")
    assert text.exit_code == 0 and "no packet gets through" in text.output
    bad = run("reach", firewall_plan, "--from", "rank:x", "--to", "pc")
    assert bad.exit_code == 2 and "unknown selector key" in bad.output


def test_cli_subprocess_exit_codes(firewall_plan):
    ok = run_cli("trace", firewall_plan, "--from", "out", "--to", "web", "--dport", "443")
    assert ok.returncode == 0, ok.stderr
    dropped = run_cli("trace", firewall_plan, "--from", "out", "--to", "web", "--dport", "22")
    assert dropped.returncode == 1 and "DROPPED" in dropped.stdout
    bad = run_cli("trace", firewall_plan, "--from", "out", "--to", "nowhere")
    assert bad.returncode == 2 and "no node named 'nowhere'" in bad.stderr


@pytest.mark.skipif(not (SCENARIOS / "chuxiong" / "faults" / "firewall-hole.yaml").is_file(), reason="scenario not shipped")
def test_reach_finds_the_chuxiong_firewall_hole():
    plan = SCENARIOS / "chuxiong" / "faults" / "firewall-hole.yaml"
    result = run("reach", plan, "--from", "domain:internet", "--to", "domain:extranet", "--format", "json", "--no-traces")
    data = json.loads(result.output)
    holes = [c for c in data["classes"] if c["representative"]["dport"] == 3389]
    assert holes and all(c["representative"]["proto"] == "tcp" for c in holes)


def test_pcap_opens_in_wireshark_with_esp_on_the_internet_hops(tmp_path):
    if shutil.which("tshark") is None:
        skip_outside_ci("tshark (Wireshark's dissector) is not installed: apt-get install tshark")
    pcap = tmp_path / "vpn.pcap"
    result = run_cli("trace", "--from", "楚雄州驻昆明办事处办公终端", "--to", "楚雄州公众信息网", "--pcap", pcap)
    assert result.returncode == 0, result.stderr
    shown = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "_ws.col.Protocol"],
                           check=False, capture_output=True, text=True, timeout=120)
    protocols = shown.stdout.split()
    assert shown.returncode == 0 and len(protocols) == 9
    assert protocols[1:3] == ["ESP", "ESP"]  # the gateway's egress and the internet hop
    assert set(protocols) - {"ESP"} == {"TCP"}
