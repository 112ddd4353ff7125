"""The page's Chinese font, embedded: Noto Sans SC cut down to the characters the page uses, as a WOFF data URL.

The report is opened on machines without internet and perhaps without any
Chinese font, so it carries its own: the font :mod:`topology.cjk_font` finds
(the package ``pylopdf-fonts-zh-cn`` ships Noto Sans SC, SIL Open Font
License), subset with fontTools to the characters of the page (a province's
page needs a few hundred glyphs, some 100 kB, of the 8 MB font) and given
to CSS as ``@font-face`` in a ``data:`` URL. The bytes depend only on the
characters: no timestamp is written (``recalcTimestamp=False``).

    >>> url = font_data_url("审核结论 OK")
    >>> url.startswith("data:font/woff;base64,"), len(url) < 20_000      # six characters' glyphs, not the font
    (True, True)
"""

from __future__ import annotations

import base64
import functools
import importlib
import io
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from topology.cjk_font import PACKAGED_FONTS
from topology.errors import GovnetError

FAMILY = "GovnetSans"
ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "—–…·×→←↑↓●○■□▲△▶%‰°±≤≥≠"


class FontMissing(GovnetError):
    """No font with Chinese glyphs ships with this installation."""


@functools.cache
def font_path() -> Path:
    """The file of the packaged CJK font (``pylopdf-fonts-zh-cn``)."""
    for module_name, getter in PACKAGED_FONTS:
        try:
            path = Path(getattr(importlib.import_module(module_name), getter)())
        except (ImportError, AttributeError, TypeError):
            continue
        if path.is_file():
            return path
    raise FontMissing("no Chinese font to embed in the report: install the package pylopdf-fonts-zh-cn")


def font_data_url(text: str) -> str:
    """A ``data:font/woff`` URL of the font cut down to the characters of ``text`` (and ASCII)."""
    return _subset("".join(sorted(set(text) | set(ALWAYS))))


@functools.lru_cache(maxsize=8)
def _subset(chars: str) -> str:
    # recalcBBoxes=False: the font's own bounding boxes are kept (they cover the glyphs kept); recomputing them
    # is 40 % of the subsetting time and changes no glyph
    font = TTFont(str(font_path()), recalcTimestamp=False, recalcBBoxes=False, lazy=True)
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = []  # horizontal Chinese and Latin need no OpenType feature; keeping them costs glyphs
    options.name_IDs = [1, 2]
    options.notdef_outline = True
    options.hinting = False  # a screen page and its printout; hints only add to the size
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff"
    font.save(buffer)
    return "data:font/woff;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
