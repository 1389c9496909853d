"""Rendering the public pages: Jinja2 templates (HTML escaping always on), one environment
per language with its gettext catalogue installed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.measures.periods import Period
from bot.public import formats
from bot.public.i18n import translations

HERE = Path(__file__).parent
STYLESHEET = (HERE / "static" / "public.css").read_text(encoding="utf-8")
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


@dataclass(frozen=True)
class Links:
    """Where each page is, under the workspace's prefix ('' or '/w/TEAM_ID')."""

    prefix: str
    lang: str
    scorecard: str | None
    voice: str | None
    origin: str = ""

    def _q(self, path: str) -> str:
        return f"{self.prefix}{path}?lang={self.lang}"

    @property
    def csv(self) -> str:
        return f"{self.prefix}/scorecard.csv"

    @property
    def json(self) -> str:
        return f"{self.prefix}/scorecard.json"

    def measure(self, key: str) -> str:
        return self._q(f"/scorecard/{key}")

    def embed_absolute(self, key: str) -> str:
        return f"{self.origin}{self._q(f'/scorecard/{key}/embed')}"


@functools.cache
def environment(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    helpers: dict[str, Callable[..., str]] = {
        "num": lambda value, unit="": formats.number(value, unit, lang),
        "chg": lambda value, unit="": formats.change(value, unit, lang),
        "period": lambda p: formats.period(p, lang) if isinstance(p, Period) else str(p),
        "day": lambda d: formats.day(d.date() if isinstance(d, datetime) else d, lang)
        if isinstance(d, date | str) else "",
    }
    env.globals.update(helpers)
    return env


def render(template: str, lang: str, offered: tuple[str, ...], path: str,
           **context: Any) -> bytes:
    languages = [(code, LANGUAGE_NAMES.get(code, code), f"{path}?lang={code}")
                 for code in offered] if len(offered) > 1 else []
    html = environment(lang).get_template(template).render(
        lang=lang, languages=languages, stylesheet=Markup(STYLESHEET), **context)
    return html.encode("utf-8")
