"""Wins rules without Slack: where consent is needed, and reposted text that never pings."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.wins import flow as wins
from bot.wins import messages as wm


def test_consent_is_needed_for_private_channels_dms_and_group_dms() -> None:
    assert not wins.needs_consent("C1", {"is_private": False})
    assert wins.needs_consent("G1", {"is_private": True})
    assert wins.needs_consent("C2", {"is_mpim": True})
    assert wins.needs_consent("D1", None)
    assert wins.needs_consent("C3", None)  # cannot tell: ask


def test_repost_text_escapes_once_and_keeps_people_channels_and_links() -> None:
    text = "Thanks <@U0AAA> in <#C0GENERAL|general>: a &amp; b &lt;3, <https://x.org|site>"

    assert wm.repost_text(text) == text


def test_repost_text_defuses_broadcasts_and_group_mentions() -> None:
    safe = wm.repost_text("<!channel> <!here> <!everyone> <!subteam^S1|@team> @here")

    assert "<!" not in safe
    assert "@here" not in safe


PIECES = [*"ab <>&!@|;:/#\n", "<!channel>", "&amp;", "<@U0AAA>", "@here", "<https://x.org|x>"]


@given(st.lists(st.sampled_from(PIECES), max_size=150).map("".join),
       st.integers(min_value=60, max_value=300))
def test_reposted_text_never_pings_and_always_fits(text: str, limit: int) -> None:
    link = "https://impact.slack.com/archives/C0GENERAL/p1"
    safe = wm.fit(wm.repost_text(text), limit, link)

    assert len(safe) <= limit
    assert "<!" not in safe
    assert re.search(r"@(here|channel|everyone)\b", safe) is None
    body = safe.replace(f"<{link}|{wm.READ_MORE}>", "")
    # Every < starts a token we kept whole, every & an entity we did not split.
    for position, char in enumerate(body):
        if char == "<":
            assert ">" in body[position:]
        if char == "&":
            assert body[position:].split(";")[0] in ("&amp", "&lt", "&gt")
