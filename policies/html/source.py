"""Plan lines: where a mark points (``file:line``) and the text written there, as the report quotes them.

    >>> from topology.errors import Mark
    >>> SourceLines().quote(Mark("no-such-file.yaml", 3, 1))
    {'where': 'no-such-file.yaml:3:1', 'file': 'no-such-file.yaml', 'line': 3, 'text': ''}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from topology.errors import Mark
from topology.files import shown

MAX_QUOTE = 240  # characters of a quoted line at most


class SourceLines:
    """Reads each plan file once and quotes its lines."""

    def __init__(self) -> None:
        self._files: dict[str, list[str]] = {}

    def text(self, mark: Mark) -> str:
        """The line ``mark`` points at, stripped (empty when the file cannot be read)."""
        lines = self._files.get(mark.file)
        if lines is None:
            try:
                lines = Path(mark.file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self._files[mark.file] = lines
        if not 1 <= mark.line <= len(lines):
            return ""
        line = lines[mark.line - 1].strip()
        return line if len(line) <= MAX_QUOTE else line[:MAX_QUOTE - 1] + "…"

    def quote(self, mark: Mark) -> dict[str, Any]:
        """``{"where", "file", "line", "text"}`` of ``mark``."""
        return {"where": f"{shown(mark.file)}:{mark.line}:{mark.col}", "file": shown(mark.file), "line": mark.line,
                "text": self.text(mark)}
