"""Finding 12: in a channel shared with another organisation (Slack Connect), a message by
one of their people is not reposted without asking: the author consents first, as for a
private channel."""

from __future__ import annotations

from bot.emulator.sandbox import Sandbox
from tests.support.wins import click, consent_dms, post_text, react, say, win_rows, wins_posts
from tests.support.world import GENERAL

OTHER_ORG = "T0PARTNERORG"


def test_an_external_authors_message_waits_for_their_consent(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user("U0EXTERNAL", real_name="Xena External")
    ts = say(sandbox, "U0EXTERNAL", "Our county signed the data agreement", team=OTHER_ORG)

    react(sandbox, "U0BBB", ts, channel=GENERAL)
    sandbox.settle()

    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox)[0].status == "pending"
    (dm,) = consent_dms(sandbox, "U0EXTERNAL")

    click(sandbox, "U0EXTERNAL", "win_approve", dm)

    (post,) = wins_posts(sandbox.emulator)
    assert "Our county signed the data agreement" in post_text(post)


def test_a_colleagues_message_in_the_same_channel_is_shared_without_asking(
        sandbox: Sandbox) -> None:
    ts = say(sandbox, "U0AAA", "Forty families enrolled")

    react(sandbox, "U0BBB", ts, channel=GENERAL)
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1
    assert consent_dms(sandbox, "U0AAA") == []
