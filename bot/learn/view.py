"""The `/impact learn` answer: each hit with who, when, what and a link."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk import WebClient

from bot.learn.search import Hit, search, words_of
from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.rendering.user_text import fit, repost_text
from bot.runtime.errors import UserError
from bot.runtime.services import Services
from bot.wins.slack_reads import permalink


def _snippet(text: str, limit: int = 300) -> str:
    return fit(repost_text(" ".join(text.split())), limit) or "_(no text)_"


def hit_line(hit: Hit, link: str | None, today: date | None = None) -> str:
    when = dates.day(hit.at.date(), today)
    about = f" · _{bk.escape(hit.measure_name)}_" if hit.measure_name else ""
    more = f" <{link}|link>" if link else ""
    who = f"<@{hit.author_id}>" + (f" ({bk.escape(hit.partner_name)})"
                                   if hit.partner_name else "")
    if hit.kind == "win":
        return f"🎉 *Win* · {when}{about}\n{who}: {_snippet(hit.text)}{more}"
    if hit.kind == "story":
        return (f"📖 *Story behind the curve* · {when}{about}\n{who}, period {hit.period}: "
                f"{_snippet(hit.text)}")
    asked = f"<@{hit.asker_id}> asked “{_snippet(hit.question or '', 150)}”"
    return (f"💬 *Answer* · {when}{about}\n{asked}\n<@{hit.author_id}>: "
            f"{_snippet(hit.text)}{more}")


def learn_message(query: str, hits: Sequence[tuple[Hit, str | None]],
                  today: date | None = None) -> dict[str, Any]:
    shown = bk.escape(" ".join(query.split())[:100])
    if not hits:
        text = (f"Nothing shared matches “{shown}” yet. Try other words, or ask the "
                "initiative with `/impact ask …`.")
        return bk.message(text, [bk.section(text)])
    head = f"*What works: “{shown}”* · {len(hits)} found, newest first"
    blocks = [bk.section(head)] + [bk.section(hit_line(hit, link, today)) for hit, link in hits]
    return bk.message(f"{len(hits)} shared wins, stories and answers match “{shown}”",
                      blocks[: bk.MESSAGE_BLOCK_LIMIT])


def learn(services: Services, client: WebClient, query: str) -> dict[str, Any]:
    """The `/impact learn WORDS` answer, with a link to each post (everyone can open it)."""
    if not words_of(query):
        raise UserError("What would you like to learn about? `/impact learn home visits "
                        "phone`")
    with services.store.session() as session:
        hits = search(session, query)
    return learn_message(query, [(hit, permalink(client, hit.channel, hit.ts)
                                  if hit.channel and hit.ts else None) for hit in hits],
                         today=services.clock.now().date())
