"""The public pages' languages: gettext catalogues (bot/public/locales/LANG/LC_MESSAGES/
messages.po), compiled in memory by Babel when first used, so a fresh install needs no
build step and a .po edit needs no compiled file kept in step. Adding a language is one
catalogue file and its code in `bot/initiative/public_section.LANGUAGES`.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.initiative.public_section import LANGUAGES

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "messages"
DEFAULT = "en"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue for `language` (English, the source language, translates to itself)."""
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def pick_language(query_lang: str | None, accept_language: str | None,
                  offered: tuple[str, ...] | list[str]) -> str:
    """`?lang=` first, then the browser's Accept-Language by quality, then the initiative's
    first language. Only languages the initiative offers (and we have catalogues for)."""
    allowed = [lang for lang in offered if lang in LANGUAGES] or [DEFAULT]
    if query_lang:
        wanted = query_lang.strip().lower()[:2]
        if wanted in allowed:
            return wanted
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = tag.strip().lower()[:2]
        if code in allowed and quality > 0:
            ranked.append((-quality, index, code))
    if ranked:
        return min(ranked)[2]
    return allowed[0]
