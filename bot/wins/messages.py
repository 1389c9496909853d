"""What wins look like in Slack: the wins-channel post, the consent DM, the recent-wins list.

Text people wrote is reposted by the bot, so it goes through `repost_text` first: it can
never ping a channel, Slack's control characters are escaped once (not twice), and the
people and channels it mentions stay mentions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.rendering import blocks as bk
from bot.rendering import dates
from bot.rendering.user_text import READ_MORE as READ_MORE  # tests read it here
from bot.rendering.user_text import fit, repost_text

APPROVE_ACTION = "win_approve"
DECLINE_ACTION = "win_decline"
LINK_ACTION = "win_link_measure"  # the wins post's "link to a measure" select
LINK_BLOCK = "win_link"  # its block id: `win_link:<win id>`

# A message's own text gets one section; leave room for the quote marks we add.
BODY_LIMIT = bk.SECTION_LIMIT
FALLBACK_LIMIT = 300
def quote(text: str) -> str:
    return "\n".join(f">{line}" for line in text.split("\n"))


def body(text: str, permalink: str | None) -> str:
    """The message itself, quoted, cut to fit one section."""
    safe = repost_text(text).strip() or "_(a message with no text)_"
    lines = safe.count("\n") + 1
    return quote(fit(safe, BODY_LIMIT - lines - 1, permalink))


def people(user_ids: Sequence[str]) -> str:
    return ", ".join(f"<@{u}>" for u in user_ids)


def credit(author_id: str, partner_name: str | None) -> str:
    who = f"<@{author_id}>"
    return f"{who} ({bk.escape(partner_name)})" if partner_name else who


@dataclass(frozen=True)
class WinView:
    """Everything a win post shows, gathered from the database."""

    author_id: str
    partner_name: str | None
    text: str
    reactors: tuple[str, ...]
    permalink: str | None
    source: str
    win_id: int = 0
    measure_key: str | None = None  # the measure it is linked to (SPEC §12)
    measure_name: str | None = None
    measures: tuple[tuple[str, str], ...] = ()  # (key, name) offered by the select


def link_select(win: WinView) -> bk.Block:
    """The "link to a measure" select its author (or an admin) may change."""
    options = [bk.option(name, key) for key, name in win.measures[:100]]
    initial = next((o for o in options if o["value"] == win.measure_key), None)
    placeholder = "Change the measure" if initial else "Link to a measure"
    return bk.actions(bk.static_select(LINK_ACTION, placeholder, options=options,
                                       initial=initial),
                      block_id=f"{LINK_BLOCK}:{win.win_id}")


def win_post(win: WinView) -> dict[str, Any]:
    """The wins-channel post: the text, the author and partner, who celebrated, the link,
    the measure it is linked to and the select that links it."""
    headline = f":tada: *A win from {credit(win.author_id, win.partner_name)}*"
    blocks = [bk.section(headline), bk.section(body(win.text, win.permalink))]
    notes = []
    if win.measure_name:
        notes.append(f":bar_chart: {bk.escape(win.measure_name)}")
    if win.reactors:
        notes.append(f"Celebrated by {people(win.reactors)}")
    if win.permalink:
        notes.append(f"<{win.permalink}|See the original message>")
    if notes:
        blocks.append(bk.context(" · ".join(notes)))
    if win.measures and win.win_id:
        blocks.append(link_select(win))
    fallback = (f"A win from {credit(win.author_id, win.partner_name)}: "
                + fit(repost_text(win.text).replace("\n", " "), FALLBACK_LIMIT))
    return bk.message(fallback, blocks)


def consent_request(win_id: int, text: str, channel_id: str | None, reactors: Sequence[str],
                    wins_channel: str, permalink: str | None) -> dict[str, Any]:
    """The DM asking an author whether a message from a private place may be shared."""
    where = "a direct message" if not channel_id or channel_id.startswith("D") \
        else f"<#{channel_id}>"
    who = people(reactors) if reactors else "Someone"
    ask = (f"{who} would like to share your message in {where} as a win in <#{wins_channel}>. "
           "It comes from a private conversation, so nothing is posted unless you agree.")
    value = str(win_id)
    buttons = bk.actions(
        bk.button("Approve", APPROVE_ACTION, value, style="primary"),
        bk.button("Decline", DECLINE_ACTION, value, style="danger"),
        block_id=f"win_consent:{win_id}",
    )
    return bk.message(f"May we share your message as a win in <#{wins_channel}>?",
                      [bk.section(ask), bk.section(body(text, permalink)), buttons])


def consent_answered(approved: bool, wins_channel: str | None,
                     posted: bool = True) -> dict[str, Any]:
    if approved:
        where = f"<#{wins_channel}>" if wins_channel else "the wins channel"
        text = (f":tada: Thanks! Your win is shared in {where}." if posted
                else f":tada: Thanks! Your win will appear in {where} shortly.")
    else:
        text = "Understood: this message will not be shared, and nobody will ask again."
    return bk.message(text, [bk.section(text)])


@dataclass(frozen=True)
class WinLine:
    author_id: str
    partner_name: str | None
    text: str
    link: str | None
    posted_at: datetime
    posted_channel: str | None = None
    posted_ts: str | None = None
    measure_name: str | None = None


def recent_wins(lines: Sequence[WinLine], wins_channel: str | None,
                measure_name: str | None = None, today: date | None = None
                ) -> dict[str, Any]:
    about = f" for *{bk.escape(measure_name)}*" if measure_name else ""
    if not lines:
        text = (f"No wins linked{about} yet. Share one with `/impact win KEY: TEXT`."
                if measure_name else
                "No wins shared yet. React with a win emoji, or use `/impact win TEXT`.")
        return bk.message(text, [bk.section(text)])
    where = f" in <#{wins_channel}>" if wins_channel else ""
    blocks = [bk.section(f"*Recent wins*{about}{where}")]
    for line in lines:
        snippet = fit(repost_text(line.text).replace("\n", " ").strip(), 200)
        posted = dates.day(line.posted_at.date(), today)
        link = f" <{line.link}|link>" if line.link else ""
        measure = (f" _({bk.escape(line.measure_name)})_"
                   if line.measure_name and not measure_name else "")
        blocks.append(bk.section(f"*{posted}* · {credit(line.author_id, line.partner_name)}: "
                                 f"{snippet}{link}{measure}"))
    return bk.message(f"The {len(lines)} most recent wins", blocks[: bk.MESSAGE_BLOCK_LIMIT])
