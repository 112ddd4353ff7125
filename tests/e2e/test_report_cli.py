"""``govnet report`` as an officer sees it: the page opened in a real headless Chromium, looked at, used.

The browser is Debian's ``chromium`` (``.ci/run`` installs it where missing),
driven over its DevTools protocol with a small websocket client: no
Playwright. Outside CI a machine without Chromium skips these tests (and
says so); in CI (``CI`` set) a missing browser is a failure.

What is asserted, as a person would check it: the page loads with no
script error and no request leaving it; every section is there; Chinese
text is drawn with the embedded CJK font (the font the browser actually
used for the heading's glyphs, not a fallback that would draw boxes); the
offending path of a planted fault is drawn as a map of its nodes; the
network map pans and zooms with the mouse. Screenshots are written to
``$TMPDIR/govnet-screenshots`` (or ``$GOVNET_SCREENSHOTS``) for a person to
look at.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO

websocket = pytest.importorskip("websocket", reason="websocket-client is a test dependency (pip install -e '.[test]')")

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1400,1000"]
SECTIONS = ("signoff", "crossings", "waivers", "failures", "network", "capacity")
SHOTS = Path(os.environ.get("GOVNET_SCREENSHOTS", Path(tempfile.gettempdir()) / "govnet-screenshots"))
EPOCH = "1767225600"  # 2026-01-01


def _need_browser() -> str:
    if BROWSER is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run installs Debian's chromium")
        pytest.skip("no chromium on this machine (apt-get install chromium); the report's browser tests need it")
    return BROWSER


class Page:
    """One page of a headless Chromium over the DevTools protocol: commands, and the events they cause."""

    def __init__(self, browser: str, folder: Path):
        self.proc = subprocess.Popen([browser, *FLAGS, f"--user-data-dir={folder / 'profile'}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        endpoint = self._endpoint()
        port = re.search(r"ws://127\.0\.0\.1:(\d+)/", endpoint).group(1)  # type: ignore[union-attr]
        browser_ws = websocket.create_connection(endpoint, timeout=60, suppress_origin=True)
        target = self._call(browser_ws, "Target.createTarget", {"url": "about:blank"})["targetId"]
        browser_ws.close()
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/devtools/page/{target}", timeout=60,
                                              suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log", "Network", "DOM", "CSS"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 1000, "deviceScaleFactor": 1,
                                                          "mobile": False})

    def _endpoint(self) -> str:
        deadline = time.monotonic() + 60
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            found = re.search(r"(ws://127\.0\.0\.1:\d+/devtools/browser/\S+)", line)
            if found:
                return found.group(1)
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError("Chromium did not open its DevTools endpoint")

    _ids = iter(range(1, 1 << 30))

    @classmethod
    def _call(cls, ws: Any, method: str, params: dict | None = None) -> dict:
        """A command to the browser's own endpoint (before the page's connection exists)."""
        ident = next(cls._ids)
        ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        while True:
            message = json.loads(ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def send(self, method: str, params: dict | None = None) -> dict:
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event["method"] == method:
                return event
        self.ws.settimeout(timeout)
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)
                if message["method"] == method:
                    return message
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))", wait=True)

    def eval(self, expression: str, wait: bool = False) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": wait})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Script errors, console errors and failed loads seen so far."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text", "") + " " + str(p["exceptionDetails"].get("exception", "")))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", ""))
        return out

    def requests(self) -> list[str]:
        """Every URL the page asked for over the network (data: URLs and the page itself aside)."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"
                and not e["params"]["request"]["url"].startswith(("data:", "file:"))]

    def fonts_of(self, selector: str) -> list[dict]:
        """The fonts the browser drew the text of the first element matching ``selector`` with."""
        root = self.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        return self.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]

    def screenshot(self, path: Path, selector: str | None = None) -> None:
        self.eval("document.querySelector('header.top').style.position = 'static'")  # not over the shot
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if selector is not None:
            box = self.eval(f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                            " return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; })()")
            params["clip"] = {"x": box[0], "y": box[1], "width": box[2], "height": min(box[3], 4000), "scale": 1}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", params)["data"]))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def write_report(plan: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run([str(REPO / ".venv" / "bin" / "govnet"), "report", str(plan), "-o", str(out), *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for name, plan in (("dual-homed", REPO / "scenarios/chuxiong/faults/dual-homed.yaml"),
                       ("firewall-hole", REPO / "scenarios/chuxiong/faults/firewall-hole.yaml")):
        target = folder / f"{name}.html"
        done = write_report(plan, target)
        assert done.returncode == 1, done.stderr  # a planted fault: the conclusion is fail, exit 1
        out[name] = target
    return out


@pytest.fixture(scope="module")
def page() -> Any:
    browser = _need_browser()
    folder = Path(tempfile.mkdtemp(prefix="govnet-chromium-"))
    p = Page(browser, folder)
    try:
        yield p
    finally:
        p.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_page_loads_without_script_errors_or_requests_and_has_every_section(page: Page, reports) -> None:
    page.open(reports["dual-homed"].as_uri())
    assert page.errors() == []
    assert page.requests() == []
    present = page.eval(f"{list(SECTIONS)!r}.filter(id => document.getElementById(id) !== null)")
    assert present == list(SECTIONS)
    assert page.eval("document.documentElement.lang") == "zh-CN"
    assert page.eval("document.querySelector('#signoff h1').textContent") == "审核结论"
    page.screenshot(SHOTS / "report-signoff.png", "#signoff")


def test_chinese_is_drawn_with_the_embedded_cjk_font(page: Page, reports) -> None:
    page.open(reports["dual-homed"].as_uri())
    assert page.eval("document.fonts.check('16px GovnetSans', '审核结论')") is True
    assert page.eval("document.fonts.status", wait=False) == "loaded"
    fonts = page.fonts_of("#signoff h1")
    assert fonts and fonts[0]["isCustomFont"] is True, fonts
    assert sum(f["glyphCount"] for f in fonts if f["isCustomFont"]) == len("审核结论"), fonts
    # boxes would all be as wide as one another; real glyphs of a proportional font are not, and a CJK
    # glyph is about one em wide, far wider than a Latin letter
    widths = page.eval("""(() => { const s = document.createElement('span'); s.style.fontSize = '40px';
        document.body.appendChild(s); const w = t => { s.textContent = t; return s.getBoundingClientRect().width; };
        const out = [w('审'), w('i'), w('W')]; s.remove(); return out; })()""")
    assert widths[0] > 30 and widths[1] < widths[2] < widths[0], widths


def test_the_offending_path_of_a_planted_fault_is_drawn(page: Page, reports) -> None:
    page.open(reports["dual-homed"].as_uri())
    drawn = page.eval("""[...document.querySelectorAll('#failures article')].map(a => ({
        id: a.querySelector('h2').textContent,
        nodes: [...a.querySelectorAll('svg.pathmap g.pnode')].map(g => g.dataset.node),
        cross: a.querySelectorAll('svg.pathmap line.cross').length}))""")
    pi2 = next(f for f in drawn if "EGOV-PI-2" in f["id"])
    assert "州政府办公室一机两用计算机" in pi2["nodes"] and "楚雄州外网核心" in pi2["nodes"]
    assert pi2["cross"] >= 1  # the link where the networks meet is drawn as the crossing
    box = page.eval("(() => { const r = document.querySelector('#failures svg.pathmap').getBoundingClientRect();"
                    " return [r.width, r.height]; })()")
    assert box[0] > 100 and box[1] > 50
    page.screenshot(SHOTS / "report-failures.png", "#failures")


def test_a_firewall_hole_shows_packet_hops_rule_and_pcap(page: Page, reports) -> None:
    page.open(reports["firewall-hole"].as_uri())
    article = "[...document.querySelectorAll('#failures article')].find(a => a.textContent.includes('EGOV-LI-1'))"
    hops = page.eval(f"[...{article}.querySelectorAll('table.hops tbody tr')].map(r => r.cells[4].textContent.trim())")
    assert any("防火墙-互联网侧入" in h and "permit" in h for h in hops), hops
    pcap = page.eval(f"{article}.querySelector('a.pcap').getAttribute('href')")
    raw = base64.b64decode(pcap.split(",", 1)[1])
    assert raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")  # a pcap file
    text = page.eval(f"{article}.textContent")
    assert "firewall-hole.yaml:33:7" in text and "dport: 3389" in text  # the planted rule, quoted from its line
    page.screenshot(SHOTS / "report-firewall-hole.png", "#failures article")


def test_the_map_pans_and_zooms_with_the_mouse_and_opens_a_site(page: Page, reports) -> None:
    page.open(reports["dual-homed"].as_uri())
    page.eval("document.getElementById('map').scrollIntoView()")
    rect = page.eval("(() => { const r = document.getElementById('map').getBoundingClientRect();"
                     " return [r.left, r.top, r.width, r.height]; })()")
    x, y = rect[0] + rect[2] / 2, rect[1] + rect[3] / 2
    before = page.eval("govnetMap.viewBox()")
    page.send("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": -300})
    zoomed = page.eval("govnetMap.viewBox()")
    assert zoomed["w"] < before["w"] * 0.7  # zoomed in around the pointer
    page.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left", "clickCount": 1})
    page.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + 200, "y": y + 80, "button": "left"})
    page.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x + 200, "y": y + 80, "button": "left"})
    panned = page.eval("govnetMap.viewBox()")
    assert panned["x"] < zoomed["x"] and panned["y"] < zoomed["y"] and panned["w"] == pytest.approx(zoomed["w"])
    page.screenshot(SHOTS / "report-map.png", "#network")
    shown = page.eval("govnetMap.shown()")
    bubble = page.eval("document.querySelector('#map circle.bubble').getAttribute('data-site')")
    page.eval(f"document.querySelector('#map circle.bubble[data-site=\"{bubble}\"]')"
              ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert page.eval("govnetMap.shown()")["nodes"] > shown["nodes"]  # the site opened into its nodes
    assert page.errors() == []


def test_english_on_request_and_byte_identical(tmp_path: Path) -> None:
    plan = REPO / "scenarios/civil-affairs/plan.yaml"
    one, two = tmp_path / "a.html", tmp_path / "b.html"
    assert write_report(plan, one, "--lang", "en").returncode == 0
    assert write_report(plan, two, "--lang", "en").returncode == 0
    assert one.read_bytes() == two.read_bytes()
    text = one.read_text(encoding="utf-8")
    assert '<html lang="en">' in text and "Review conclusion" in text and "2026-01-01" in text
    assert "内专网安全物理隔离设备" in text and "市政府应急办" in text  # the approved crossing and who approved it


def test_pdf_is_printed_by_chromium(tmp_path: Path) -> None:
    _need_browser()
    out = tmp_path / "report.pdf"
    done = write_report(REPO / "scenarios/weihai/plan.yaml", out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:5] == b"%PDF-"


def test_a_bad_output_suffix_is_refused_before_any_work(tmp_path: Path) -> None:
    done = write_report(REPO / "scenarios/weihai/plan.yaml", tmp_path / "report.txt")
    assert done.returncode == 2 and "use a .html or .pdf file" in done.stderr
    assert not (tmp_path / "report.txt").exists()
