"""``govnet check --watch`` as a planner uses it: saves in an editor, a broken save, Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.helpers import REPO

SCENARIO = REPO / "scenarios" / "chuxiong"
WAIT = 120  # seconds for one round, on a loaded machine


class Watching:
    """A running ``govnet check --watch``: its stderr lines read as they come."""

    def __init__(self, *args: str, cwd: Path):
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([sys.executable, "-m", "govnet", "check", *args, "--watch"], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.out: list[str] = []  # stdout, read as it comes so that a long report never fills the pipe
        threading.Thread(target=self._read, daemon=True).start()
        self.reader = threading.Thread(target=self._read_out, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for chunk in self.proc.stdout:
            self.out.append(chunk)

    def round(self) -> list[str]:
        """The stderr lines up to the next ``watching ...`` (one round done)."""
        out = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=WAIT)
            out.append(line)
            self.seen.append(line)
            if line.startswith("watching "):
                return out
        raise AssertionError(f"no round finished: {out}")

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)
        time.sleep(0.1)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.out)


def _reports(stdout: str) -> list[dict]:
    decoder, out, at = json.JSONDecoder(), [], 0
    while at < len(stdout):
        if stdout[at].isspace():
            at += 1
            continue
        doc, at = decoder.raw_decode(stdout, at)
        out.append(doc)
    return out


def _failed(report: dict) -> list[str]:
    return [r["rule"] for r in report["results"] if r["status"] == "fail"]


def test_watch_rechecks_each_save_tells_a_broken_one_and_stops_on_ctrl_c(tmp_path: Path):
    folder = tmp_path / "chuxiong"
    shutil.copytree(SCENARIO, folder, ignore=shutil.ignore_patterns("faults"))
    before = sorted(p.name for p in folder.rglob("*"))
    watching = Watching("chuxiong", "--format", "json", cwd=tmp_path)
    first = watching.round()
    assert " loaded in " in first[-2] and ", checked in " in first[-2] and "17 rule(s) judged" in first[-2]
    assert first[-1].startswith("watching 16 file(s)")

    acl = folder / "parts" / "acl-internet.yaml"
    good = acl.read_text(encoding="utf-8")
    time.sleep(0.05)  # a new modification time on coarse clocks
    acl.write_text(good.replace("dst: 楚雄州公众信息网, dport: 80,", "dst: 10.53.0.0/16, dport: 3389,", 1), encoding="utf-8")
    second = watching.round()
    assert "kept" in second[-2] and "forwarding kept, 1 node(s) changed (楚雄州互联网接入防火墙)" in second[-2], second

    time.sleep(0.05)
    acl.write_text(good + "  外网侧入: [\n", encoding="utf-8")
    third = watching.round()
    assert any(line.startswith(f"chuxiong{os.sep}parts{os.sep}acl-internet.yaml:") and ": error: " in line
               for line in third), third
    assert "nothing was written" in third[-2]

    code, stdout = watching.stop()
    reports = _reports(stdout)
    assert len(reports) == 2  # the broken save wrote no report
    assert "EGOV-LI-1" not in _failed(reports[0]) and "EGOV-LI-1" in _failed(reports[1])
    assert code == 1  # the last check that ran has a failing rule
    assert "stopped watching" in watching.seen[-1]
    assert not any("Traceback" in line for line in watching.seen)
    assert sorted(p.name for p in folder.rglob("*")) == before  # nothing written next to the plan


def test_watch_refuses_pcaps(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "govnet", "check", str(SCENARIO), "--watch", "--pcap-dir",
                           str(tmp_path / "p")], capture_output=True, text=True, cwd=REPO, timeout=WAIT)
    assert proc.returncode == 2 and "--watch writes no pcaps" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "p").exists()
