"""What a question to the initiative looks like: the channel post, the DM, the answers."""

from __future__ import annotations

from typing import Any

from bot.rendering import blocks as bk
from bot.rendering.user_text import fit, repost_text

EVENT_TYPE = "impact_question"  # message metadata on the question post


def quoted(text: str, limit: int = 2500) -> str:
    safe = fit(repost_text(text).strip(), limit) or "_(no text)_"
    return "\n".join(f">{line}" for line in safe.split("\n"))


def _asker(asker_id: str, partner_name: str | None) -> str:
    return f"<@{asker_id}>" + (f" ({bk.escape(partner_name)})" if partner_name else "")


def question_post(asker_id: str, partner_name: str | None, text: str,
                  measure_name: str | None) -> dict[str, Any]:
    """The question in the wins (or backbone) channel, with the asker; answers go in its
    thread."""
    about = f" about *{bk.escape(measure_name)}*" if measure_name else ""
    head = f":raising_hand: *{_asker(asker_id, partner_name)} asks the initiative*{about}"
    blocks = [bk.section(head), bk.section(quoted(text)),
              bk.context("Know what works? Reply in this thread: answers are kept, and "
                         "anyone can find them with `/impact learn`.")]
    fallback = (f"{_asker(asker_id, partner_name)} asks the initiative: "
                + fit(repost_text(text).replace("\n", " "), 300))
    return bk.message(fallback, blocks)


def question_dm(asker_id: str, text: str, measure_name: str, channel: str,
                link: str | None) -> dict[str, Any]:
    """The DM to a member of a partner that reports the measure the question is about."""
    where = f"<{link}|its thread>" if link else f"the thread in <#{channel}>"
    intro = (f"<@{asker_id}> asked the initiative about *{bk.escape(measure_name)}*, which "
             f"your partner reports. If you know what works, answer in {where}.")
    return bk.message(f"A question about {bk.escape(measure_name)} from <@{asker_id}>",
                      [bk.section(intro), bk.section(quoted(text))])
