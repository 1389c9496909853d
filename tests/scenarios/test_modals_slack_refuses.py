"""Modals Slack would refuse: too-long option text (finding 1) and stale triggers (finding 10).

Everything goes through signed requests into the sandbox; the emulator refuses what real
Slack refuses (option descriptions over 75 characters, triggers older than 3 seconds or
already used), and the person must hear back privately instead of silence.
"""

from __future__ import annotations

import pytest

from bot.emulator.sandbox import Sandbox
from bot.runtime.modals import TOO_SLOW
from tests.support.reminders import reminder_dms, tick
from tests.support.world import NOW

PARTNER_MEMBERS = {"U0AAA": "Lake County Health Dept", "U0CCC": "North Clinic",
                   "U0DDD": "Family Connects Home Visiting",
                   "U0EEE": "United Way of Lake County"}


@pytest.mark.parametrize("user", sorted(PARTNER_MEMBERS))
def test_commit_form_opens_for_every_example_partner(sandbox: Sandbox, user: str) -> None:
    sandbox.driver.command(user, "commit")
    sandbox.settle()

    (call,) = sandbox.emulator.calls_to("views.open")
    assert call.response["ok"], call.response
    view = sandbox.driver.last_view("views.open")
    assert view["callback_id"] == "commit_submit"
    assert PARTNER_MEMBERS[user] in str(view["blocks"])
    assert sandbox.emulator.response_posts == []  # no "Sorry, something went wrong"


@pytest.mark.parametrize("user", sorted(PARTNER_MEMBERS))
def test_home_commit_button_opens_the_form_for_every_example_partner(
        sandbox: Sandbox, user: str) -> None:
    sandbox.driver.app_home_opened(user)
    sandbox.settle()
    sandbox.driver.block_action(user, "commit_open", view=sandbox.emulator.home_views[user])
    sandbox.settle()

    assert [c.response["ok"] for c in sandbox.emulator.calls_to("views.open")] == [True]


def _stale_trigger(sandbox: Sandbox) -> str:
    trigger = sandbox.emulator.new_trigger_id()
    sandbox.emulator.advance(3.5)  # Slack's trigger_ids live 3 seconds
    return trigger


def _private_notes(sandbox: Sandbox, user: str) -> list[str]:
    said = [p.payload.get("text", "") for p in sandbox.emulator.response_posts
            if p.payload.get("response_type") == "ephemeral"]
    said += [m.get("text", "") for m in sandbox.emulator.messages_to_user(user)]
    return said


@pytest.mark.parametrize("words", ["commit", "report"])
def test_command_with_an_expired_trigger_says_try_again(sandbox: Sandbox, words: str) -> None:
    sandbox.driver.command("U0AAA", words, trigger_id=_stale_trigger(sandbox))
    sandbox.settle()

    (call,) = sandbox.emulator.calls_to("views.open")
    assert call.response["error"] == "expired_trigger_id"
    assert _private_notes(sandbox, "U0AAA") == [TOO_SLOW]


def test_home_commit_button_with_an_expired_trigger_says_try_again(sandbox: Sandbox) -> None:
    sandbox.driver.app_home_opened("U0DDD")
    sandbox.settle()
    sandbox.driver.block_action("U0DDD", "commit_open", view=sandbox.emulator.home_views["U0DDD"],
                                trigger_id=_stale_trigger(sandbox))
    sandbox.settle()

    assert sandbox.emulator.calls_to("views.open")[0].response["error"] == "expired_trigger_id"
    assert _private_notes(sandbox, "U0DDD") == [TOO_SLOW]


def test_home_report_button_with_a_used_trigger_says_try_again(sandbox: Sandbox) -> None:
    sandbox.driver.app_home_opened("U0AAA")
    sandbox.settle()
    home = sandbox.emulator.home_views["U0AAA"]
    trigger = sandbox.emulator.new_trigger_id()
    sandbox.driver.block_action("U0AAA", "report_open:prenatal-visits", view=home,
                                trigger_id=trigger)
    sandbox.settle()
    sandbox.driver.block_action("U0AAA", "report_open:prenatal-visits", view=home,
                                trigger_id=trigger)  # the same trigger again
    sandbox.settle()

    answers = [c.response.get("error") for c in sandbox.emulator.calls_to("views.open")]
    assert answers == [None, "exchanged_trigger_id"]
    assert _private_notes(sandbox, "U0AAA") == [TOO_SLOW]


def test_reminder_skip_button_with_an_expired_trigger_says_try_again(sandbox: Sandbox) -> None:
    tick(sandbox, NOW)
    dm = reminder_dms(sandbox, "U0AAA")[-1]
    sandbox.driver.block_action("U0AAA", "reminder_skip:home-visits", message=dm,
                                channel=sandbox.emulator.dm_channel_for("U0AAA"),
                                trigger_id=_stale_trigger(sandbox))
    sandbox.settle()

    assert sandbox.emulator.calls_to("views.open")[0].response["error"] == "expired_trigger_id"
    notes = [p.payload["text"] for p in sandbox.emulator.response_posts]
    assert notes == [TOO_SLOW]
