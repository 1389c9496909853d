"""Slack delivers events more than once, concurrently, out of order, and sometimes before
the message they are about can be read. Each still has its effect once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Report, SlackEvent
from tests.reliability.conftest import survived
from tests.support.records import set_threshold
from tests.support.wins import consent_dms, win_rows, wins_posts


def _together(*sends: Any) -> list[int]:
    """Send requests at the same moment, as Slack's retries and double clicks arrive."""
    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        return [reply.status for reply in pool.map(lambda send: send(), sends)]


def test_a_reaction_delivered_four_times_at_once_posts_one_win(sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    ts = emu.add_message("C0GENERAL", user="U0CCC", text="Saturday clinic is open")

    statuses = _together(*[
        (lambda n=n: driver.reaction("U0DDD", "C0GENERAL", ts, event_id="Ev0DUP",
                                     retry_num=n or None)) for n in range(4)])
    sandbox.settle()

    assert statuses == [200, 200, 200, 200]
    assert len(wins_posts(sandbox.emulator)) == 1
    with sandbox.store.session() as session:
        assert session.scalars(select(SlackEvent.event_id)).all() == ["Ev0DUP"]
    survived({"duplicate event deliveries": 3})


def test_reactions_removed_and_added_again_count_each_person_once(sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    set_threshold(sandbox.store, 2)
    ts = emu.add_message("C0GENERAL", user="U0CCC", text="Forty families enrolled")
    removal = {"type": "reaction_removed", "user": "U0DDD", "reaction": "tada",
               "item": {"type": "message", "channel": "C0GENERAL", "ts": ts}}

    driver.reaction("U0DDD", "C0GENERAL", ts)
    driver.event(removal)
    driver.reaction("U0DDD", "C0GENERAL", ts)  # the same person again, a new event
    driver.reaction("U0DDD", "C0GENERAL", ts, emoji="trophy")
    sandbox.settle()
    assert wins_posts(sandbox.emulator) == []
    assert win_rows(sandbox)[0].reactors == ["U0DDD"]

    driver.reaction("U0EEE", "C0GENERAL", ts)
    sandbox.settle()
    driver.event({**removal, "user": "U0EEE"})
    driver.reaction("U0EEE", "C0GENERAL", ts)
    driver.reaction("U0AAA", "C0GENERAL", ts)
    sandbox.settle()

    assert len(wins_posts(sandbox.emulator)) == 1
    assert win_rows(sandbox)[0].status == "posted"
    survived({"removed and re-added reactions": 3})


def test_a_reaction_that_arrives_before_its_message_is_readable_is_not_a_win_yet(
        sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    ts = emu.new_ts()  # the message exists in Slack, but reads do not see it yet

    early = driver.reaction("U0DDD", "C0GENERAL", ts)
    sandbox.settle()
    assert early.status == 200 and wins_posts(sandbox.emulator) == [] and win_rows(sandbox) == []

    emu.add_message("C0GENERAL", user="U0CCC", text="We hired two nurses!", ts=ts)
    driver.reaction("U0EEE", "C0GENERAL", ts)
    driver.reaction("U0DDD", "C0GENERAL", ts)  # the early reactor, delivered again
    sandbox.settle()

    (post,) = wins_posts(sandbox.emulator)
    assert "We hired two nurses!" in post["text"]
    survived({"event before its message": 1})


def test_double_clicked_consent_and_double_submitted_forms_take_effect_once(
        sandbox: Sandbox) -> None:
    emu, driver = sandbox.emulator, sandbox.driver
    ts = emu.add_message("G0PRIVATE", user="U0AAA", text="Private milestone")
    driver.reaction("U0BBB", "G0PRIVATE", ts)
    sandbox.settle()
    (dm,) = consent_dms(sandbox, "U0AAA")
    channel = emu.dm_channel_for("U0AAA")
    driver.command("U0CCC", "report")
    sandbox.settle()
    form = driver.last_view()
    values = {"measure": {"measure": {"type": "static_select",
                                      "selected_option": {"value": "prenatal-visits"}}},
              "value": {"value": {"type": "plain_text_input", "value": "66"}}}

    statuses = _together(
        lambda: driver.block_action("U0AAA", "win_approve", message=dm, channel=channel),
        lambda: driver.block_action("U0AAA", "win_approve", message=dm, channel=channel),
        lambda: driver.block_action("U0AAA", "win_approve", message=dm, channel=channel),
        lambda: driver.view_submission("U0CCC", form, values),
        lambda: driver.view_submission("U0CCC", form, values))
    sandbox.settle()

    assert statuses == [200] * 5
    assert len(wins_posts(sandbox.emulator)) == 1
    with sandbox.store.session() as session:
        current = session.scalars(select(Report.value).where(Report.is_current.is_(True)))
        assert current.all() == [66.0]  # the second submission is a correction, not a twin
    survived({"double clicks and double submits": 3})
