"""A font with Chinese glyphs for matplotlib drawings, so names never render as boxes.

Where the font comes from, first found wins:

1. a Python package that ships one (``pylopdf-fonts-zh-cn``: Noto Sans SC,
   SIL Open Font License), so a fresh machine that installed govnet has it;
2. a font matplotlib already knows (system fonts such as Noto Sans CJK SC or
   WenQuanYi Micro Hei from ``fonts-noto-cjk`` / ``fonts-wqy-microhei``), by
   family name first, then by checking for the glyph 中;
3. none: :func:`cjk_font_families` warns with :class:`CjkFontWarning` that
   Chinese glyphs may be missing, and drawing goes on with the default font.

The font is registered with matplotlib's font manager the first time it is
asked for. Example::

    >>> from topology.cjk_font import cjk_font_families
    >>> families = cjk_font_families()
    >>> families
    ['Noto Sans SC', 'DejaVu Sans']
    >>> # use as rcParams["font.family"] = families
"""

from __future__ import annotations

import functools
import importlib
import warnings
from pathlib import Path

from matplotlib import font_manager

FALLBACK_FAMILY = "DejaVu Sans"  # matplotlib's own font, for anything the CJK font lacks
PACKAGED_FONTS = (  # (module, callable returning the font file)
    ("pylopdf_fonts_zh_cn", "sans_path"),
)
KNOWN_FAMILIES = (
    "Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Sarasa Gothic SC", "Microsoft YaHei",
    "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "Noto Sans CJK JP",
    "Droid Sans Fallback", "AR PL UMing CN",
)
PROBE = "中"


class CjkFontWarning(UserWarning):
    """No font with Chinese glyphs was found; labels may show boxes."""


@functools.cache
def cjk_font_families() -> list[str]:
    """Font families for ``rcParams["font.family"]``: the CJK font first, then the fallback."""
    family = _packaged_family() or _known_family() or _probed_family()
    if family is None:
        warnings.warn("no font with Chinese glyphs was found (install pylopdf-fonts-zh-cn or fonts-noto-cjk);"
                      " Chinese labels may render as boxes", CjkFontWarning, stacklevel=2)
        return [FALLBACK_FAMILY]
    return [family, FALLBACK_FAMILY]


def _packaged_family() -> str | None:
    for module_name, getter in PACKAGED_FONTS:
        try:
            module = importlib.import_module(module_name)
            path = Path(getattr(module, getter)())
        except (ImportError, AttributeError, TypeError):
            continue
        if path.is_file():
            return _register(path)
    return None


def _register(path: Path) -> str:
    """Add a font file to matplotlib's font manager (once) and return its family name."""
    name = font_manager.FontProperties(fname=str(path)).get_name()
    known = {Path(f.fname) for f in font_manager.fontManager.ttflist}
    if path not in known:
        font_manager.fontManager.addfont(str(path))
    return name


def _known_family() -> str | None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in KNOWN_FAMILIES if name in available), None)


def _probed_family() -> str | None:
    """The first font matplotlib knows that has the probe glyph (sorted by file, for determinism)."""
    for entry in sorted(font_manager.fontManager.ttflist, key=lambda f: f.fname):
        if _has_glyph(entry.fname):
            return entry.name
    return None


def _has_glyph(path: str) -> bool:
    try:
        return font_manager.get_font(path).get_char_index(ord(PROBE)) != 0
    except (OSError, RuntimeError, ValueError):
        return False
