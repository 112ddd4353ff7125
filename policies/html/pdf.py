"""The report as PDF: the HTML page printed by headless Chromium (Debian's ``chromium``).

No PDF engine that installs with pip alone draws this page as the browser
does (WeasyPrint needs Pango from the system, and runs no script, so it
would lose the map); the browser the tests use prints it: ``chromium
--headless --print-to-pdf``, with the network switched off (the page needs
none) and a virtual time budget so the map's script has drawn before the
page is printed. The PDF's dates come from Chromium, not from the plan: the
HTML is the byte-identical record, the PDF its printout.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from topology.errors import GovnetError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT = 300.0  # seconds
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pdf-header-footer", "--virtual-time-budget=10000")


class PdfError(GovnetError):
    """The report cannot be printed to PDF here."""


def browser() -> str:
    """The path of a Chromium to print with; PdfError when there is none."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("printing the report to PDF needs Chromium (apt-get install chromium); "
                   "write the report as .html instead")


def html_to_pdf(html: str) -> bytes:
    """Print ``html`` with headless Chromium and return the PDF's bytes."""
    exe = browser()
    with tempfile.TemporaryDirectory(prefix="govnet-pdf-") as folder:
        page = Path(folder) / "report.html"
        out = Path(folder) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        args = [exe, *FLAGS, f"--user-data-dir={Path(folder) / 'profile'}", f"--print-to-pdf={out}", page.as_uri()]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=PRINT_TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise PdfError(f"Chromium could not print the report: {exc}") from None
        if not out.is_file() or out.stat().st_size == 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise PdfError("Chromium printed no PDF" + (f": {' '.join(tail)}" if tail else ""))
        return out.read_bytes()
