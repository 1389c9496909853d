"""The public pages' languages: every string in the templates has a Spanish translation
(the catalogue is compared with what the templates ask for), and a language is picked from
`?lang=` or Accept-Language among those the initiative offers."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.initiative.public_section import LANGUAGES
from bot.public.i18n import LOCALES, pick_language, translations

TEMPLATES = Path(__file__).resolve().parents[2] / "bot" / "public" / "templates"
METHOD_MAP = [("**.html", "jinja2")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                       "lstrip_blocks": "True"}}


def template_messages() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            TEMPLATES, METHOD_MAP, options_map=OPTIONS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_the_templates_are_worth_comparing() -> None:
    messages = template_messages()
    assert len(messages) > 50
    assert "Share your voice" in messages and "fewer than %(n)s" in messages


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_template_string_is_translated(language: str) -> None:
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else tuple(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy or not all(s.strip() for s in strings):
            continue
        translated[key] = strings
    wanted = template_messages()
    missing = sorted(str(m) for m in wanted if m not in translated)
    assert missing == [], f"untranslated in {language}: {missing}"
    stale = sorted(str(m) for m in translated if m not in wanted)
    assert stale == [], f"no longer in the templates: {stale}"
    # Placeholders survive translation.
    for key, strings in translated.items():
        for source, target in zip(key if isinstance(key, tuple) else (key,), strings,
                                  strict=False):
            for name in ("%(name)s", "%(n)s", "%(count)s", "%(total)s", "%(max)s",
                         "%(value)s", "%(period)s", "%(num)s", "%(length)s", "%(date)s",
                         "%(change)s"):
                assert (name in source) == (name in target), (key, name)
    assert translations(language).gettext("Share your voice") != "Share your voice"


@pytest.mark.parametrize(("query", "header", "offered", "expected"), [
    ("es", None, ("en", "es"), "es"),
    ("ES-mx", None, ("en", "es"), "es"),
    ("fr", None, ("en", "es"), "en"),
    ("es", None, ("en",), "en"),
    (None, "es-MX,es;q=0.9,en;q=0.8", ("en", "es"), "es"),
    (None, "en;q=0.2, es;q=0.7", ("en", "es"), "es"),
    (None, "es;q=0", ("en", "es"), "en"),
    (None, "de, fr;q=0.5", ("es", "en"), "es"),
    (None, "garbage;q=x,,;", ("en", "es"), "en"),
    (None, None, (), "en"),
])
def test_language_choice(query: str | None, header: str | None, offered: tuple[str, ...],
                         expected: str) -> None:
    assert pick_language(query, header, offered) == expected
