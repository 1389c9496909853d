"""Nothing a person types can make the bot ping a whole channel: broadcast mentions in
text the bot reposts (wins, community voice, commitments, the digest, the agenda, report
notes) are defused wherever they end up, fallback text included."""

from __future__ import annotations

import json
import re

import pytest

from bot.digest.posting import post_digest
from bot.emulator.sandbox import Sandbox
from tests.support.adversary import flatten
from tests.support.forms import commit_form

HOSTILE = ("Big news <!channel> <!here|here> <!everyone> @here @channel @everyone "
           "<!subteam^S0TEAM|@partners> &lt;!channel&gt; <!date^1|x>")
# What would notify people if Slack received it in a message the bot posts.
PING = re.compile(r"<!(channel|here|everyone|subteam)|(?<!\u200b)@(channel|here|everyone)\b",
                  re.IGNORECASE)


def _pings(text: str) -> list[str]:
    return [m.group(0) for m in PING.finditer(text)]


def _posted(sandbox: Sandbox, channel: str) -> list[str]:
    return [flatten({"text": c.params.get("text"), "blocks": c.params.get("blocks")})
            for c in sandbox.emulator.calls_to("chat.postMessage")
            if c.params.get("channel") == channel and c.status == 200]


def test_the_hostile_text_would_ping_if_posted_as_typed() -> None:
    # The detector itself: it sees every broadcast form we feed in.
    assert {p.lower().lstrip("<!@") for p in _pings(HOSTILE)} >= {
        "channel", "here", "everyone", "subteam"}


@pytest.mark.usefixtures("sandbox")
def test_broadcast_mentions_are_defused_everywhere_user_text_is_reposted(
        sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    # Wins: typed, and a message celebrated with reactions.
    driver.command("U0AAA", f"win {HOSTILE}")
    ts = emu.add_message("C0GENERAL", user="U0CCC", text=HOSTILE)
    driver.reaction("U0BBB", "C0GENERAL", ts)
    # Community voice, a commitment, a report note, a skip reason.
    driver.command("U0DDD", f"voice {HOSTILE}")
    driver.command("U0AAA", "commit")
    sandbox.settle()
    driver.view_submission("U0AAA", driver.last_view(), commit_form(resources=HOSTILE))
    driver.command("U0CCC", f"report prenatal-visits 70 {HOSTILE}")
    driver.view_submission(
        "U0EEE", {"id": "V0SKIP", "type": "modal", "callback_id": "reminder_skip",
                  "private_metadata": json.dumps({"measure": "diaper-bank",
                                                  "period": "2026-W45"}), "blocks": []},
        {"skip_reason": {"reason": {"type": "plain_text_input", "value": HOSTILE}}})
    sandbox.settle()
    # Everything above is reposted again by the digest, the wins list and the agenda.
    outcome = post_digest(sandbox.services, sandbox.clock.now())
    driver.command("U0OUTSIDER", "wins")
    driver.command("U0OUTSIDER", "agenda")
    driver.app_home_opened("U0AAA")
    sandbox.settle()

    assert outcome.posted
    wins_posts = _posted(sandbox, "C0WINS")
    backbone_posts = _posted(sandbox, "C0BACKBONE")
    assert len(wins_posts) == 2  # the typed win and the celebrated message
    assert len(backbone_posts) >= 3  # voice, commitment announcement, digest
    assert any("Community voice" in p for p in backbone_posts)
    assert any("committed to" in p for p in backbone_posts)
    assert any("skipped" in p.lower() for p in backbone_posts)
    replies = [flatten(p.payload) for p in emu.response_posts]
    assert any("Recorded 70%" in r and "Big news" in r for r in replies)
    homes = [flatten(v) for v in emu.home_views.values()]
    everything = wins_posts + backbone_posts + replies + homes + [
        flatten(c.params) for c in emu.calls_to("chat.postMessage")]
    leaks = {text[:80]: _pings(text) for text in everything if _pings(text)}
    assert leaks == {}
    assert sum(text.count("Big news") for text in everything) >= 8
