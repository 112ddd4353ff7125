"""Translations: the texts an officer reads, in Chinese (``zh``) or English (``en``), from a gettext catalogue.

Definitions.

- Messages are written in English in the code and the templates (the
  *msgid*), with ``%(name)s`` placeholders; a language's catalogue maps each
  to its translation. English needs no catalogue: a message is its own
  English text.
- The catalogue of a language is the gettext PO file
  ``policies/locale/<lang>/LC_MESSAGES/govnet.po`` (package data, so it is
  there in an installed wheel too). It is read with Babel and compiled in
  memory once per process: no build step, no compiled file to keep in step.
- A message missing from a catalogue falls back to English (gettext's rule);
  the test suite holds the Chinese catalogue complete: every message the code
  and templates use (found with Babel's extractors) and every rule text of
  the built-in packs has a translation.
- Texts of the rules of the built-in packs (``title``, ``description`` and
  ``fix``) are written in English in the pack; their translation is keyed by
  a *context* (gettext's msgctxt) naming what it translates,
  ``RULE-ID.title``, so a
  changed English text in a pack shows as a missing translation instead of
  being matched to the wrong rule. Clause citations are never translated:
  they stay as sourced.

    >>> translate("zh", "pass")
    '通过'
    >>> translate("en", "%(count)s rule checks", count=3)
    '3 rule checks'
"""

from __future__ import annotations

import functools
import gettext
import io
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from topology.errors import GovnetError

LANGUAGES = ("zh", "en")
SOURCE_LANGUAGE = "en"
DOMAIN = "govnet"
LOCALE_PACKAGE = "policies.locale"
RULE_FIELDS = ("title", "description", "fix")


class UnknownLanguage(GovnetError):
    """A language govnet has no catalogue for."""


def check_language(lang: str) -> str:
    """``lang`` when govnet speaks it, else :class:`UnknownLanguage`."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"no texts in language '{lang}' (languages: {', '.join(LANGUAGES)})")
    return lang


@functools.cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The translations of ``lang`` (English: none needed), compiled from its PO file once."""
    check_language(lang)
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    ref = resources.files(LOCALE_PACKAGE) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with ref.open("rb") as handle:
        po = read_po(handle, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(lang: str, message: str, /, context: str | None = None, **values: Any) -> str:
    """``message`` in ``lang`` (``context``: gettext's msgctxt), with ``%(name)s`` filled from ``values``."""
    table = catalogue(lang)
    text = table.pgettext(context, message) if context is not None else table.gettext(message)
    return text % values if values else text


def rule_text(rule: Any, field: str, lang: str) -> str:
    """A rule's ``title``, ``description`` or ``fix`` in ``lang`` (as written when it has no translation)."""
    english = getattr(rule, field, "") or ""
    if not english:
        return ""
    return translate(lang, english, context=f"{rule.id}.{field}")


__all__ = ["LANGUAGES", "UnknownLanguage", "catalogue", "check_language", "rule_text", "translate"]
