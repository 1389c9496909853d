"""The public pages in tests: the example initiative with `initiative.public` set, and a
plain HTTP client (no Slack signature: these pages are for anyone)."""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Base
from tests.support.world import EXAMPLE, import_example

PUBLIC_ROUTES = ("/scorecard", "/scorecard/prenatal-visits", "/scorecard/prenatal-visits/embed",
                 "/scorecard.csv", "/scorecard.json", "/voice")


def every_row(sandbox: Sandbox) -> set[str]:
    """Every row of every table, as text, to compare before and after."""
    rows: set[str] = set()
    with sandbox.store.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                rows.add(f"{table.name}: {tuple(row)!r}")
    return rows


def public_initiative(tmp_path: Path, *, scorecard: bool = True, voice: bool = True,
                      languages: tuple[str, ...] = ("en", "es"),
                      source: Path = EXAMPLE) -> Path:
    """A copy of an initiative file with `initiative.public` set as asked."""
    text = source.read_text(encoding="utf-8")
    line = (f"  public: {{scorecard: {str(scorecard).lower()}, voice: {str(voice).lower()}, "
            f"languages: [{', '.join(languages)}]}}\n")
    lines = [row for row in text.splitlines(keepends=True)
             if not row.startswith("  public:")]
    at = next(i for i, row in enumerate(lines) if row.startswith("  timezone:"))
    lines.insert(at + 1, line)
    path = tmp_path / f"public-{scorecard}-{voice}-{source.name}"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def go_public(sandbox: Sandbox, tmp_path: Path, **options: object) -> None:
    import_example(sandbox.store, path=public_initiative(tmp_path, **options))  # type: ignore[arg-type]


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(sandbox: Sandbox, path: str, *, method: str = "GET",
          headers: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Page:
    split = urlsplit(sandbox.base_url)
    connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port,
                                            timeout=10)
    body = urlencode(form).encode() if form is not None else None
    sent = dict(headers or {})
    if body is not None:
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        return Page(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                    [v for k, v in response.getheaders() if k.lower() == "set-cookie"])
    finally:
        connection.close()
