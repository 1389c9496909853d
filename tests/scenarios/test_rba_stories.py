"""Issue 16 (SPEC §10), the story behind the curve: `/impact story KEY TEXT`, the modal,
the offer after a report; one per partner, measure and period, a second replaces the first
and keeps it in the history; shown in the digest and on `/impact measures KEY`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from storage.models import Story
from tests.support.rba import reply, text_of
from tests.support.world import ADMIN


def _stories(sandbox: Sandbox) -> list[tuple[Any, ...]]:
    with sandbox.store.session() as session:
        return [tuple(r) for r in session.execute(
            select(Story.period, Story.helping, Story.hurting, Story.written_by,
                   Story.is_current).order_by(Story.id))]


def test_a_second_story_replaces_the_first_and_keeps_it_in_the_history(
        sandbox: Sandbox) -> None:
    first = reply(sandbox, "U0AAA", "story prenatal-visits Evening clinic hours helped")
    second = reply(sandbox, "U0BBB", "story prenatal-visits Transport vouchers & evening hours")

    assert "Kept the story behind the curve" in first["text"]
    assert "replaces the earlier one, which stays in the history" in second["text"]
    assert _stories(sandbox) == [
        ("2026-10", "Evening clinic hours helped", "", "U0AAA", False),
        ("2026-10", "Transport vouchers & evening hours", "", "U0BBB", True)]
    # Another partner's story for the same measure and period is its own.
    reply(sandbox, "U0CCC", "story prenatal-visits Walk-in Saturdays")
    assert [s[-1] for s in _stories(sandbox)] == [False, True, True]

    page = text_of(reply(sandbox, "U0OUTSIDER", "measures prenatal-visits"))
    digest = text_of(reply(sandbox, ADMIN, "digest"))
    for shown in (page, digest):
        assert "Story behind the curve" in shown
        assert "Walk-in Saturdays" in shown  # the latest story of the measure
    assert "Stories behind the curve" in digest


def test_the_modal_from_the_offer_after_a_report_keeps_each_part(sandbox: Sandbox) -> None:
    confirmation = reply(sandbox, "U0AAA", "report prenatal-visits 72")
    (button,) = [e for b in confirmation["blocks"] if b["type"] == "actions"
                 for e in b["elements"]]
    assert button["action_id"] == "story_open:prenatal-visits"

    sandbox.driver.block_action("U0AAA", button["action_id"], value=button["value"])
    sandbox.settle()
    view = sandbox.driver.last_view()
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        "helping", "hurting", "partners_role", "what_works", "proposal"]
    values = {name: {name: {"type": "plain_text_input", "value": text}} for name, text in (
        ("helping", "Evening hours"), ("hurting", "Bus route 12 cut"),
        ("proposal", "Ask the county for a shuttle"))}
    answer = sandbox.driver.view_submission("U0AAA", view, values)
    sandbox.settle()

    assert not (answer.json or {}).get("response_action")
    assert _stories(sandbox) == [("2026-10", "Evening hours", "Bus route 12 cut", "U0AAA", True)]
    page = text_of(reply(sandbox, "U0OUTSIDER", "measures prenatal-visits"))
    assert "What's hurting:_ Bus route 12 cut" in page
    assert "What we propose:_ Ask the county for a shuttle" in page


def test_bad_story_requests_change_nothing(sandbox: Sandbox) -> None:
    assert "not a member" in reply(sandbox, "U0OUTSIDER", "story prenatal-visits Hi")["text"]
    assert "no measure" in reply(sandbox, "U0AAA", "story nope Hi")["text"]
    assert "development agenda" in reply(sandbox, "U0AAA",
                                         "story maternal-depression Hi")["text"]
    assert _stories(sandbox) == []


def test_story_with_a_key_alone_opens_the_modal_for_that_measure(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0CCC", "story prenatal-visits")
    sandbox.settle()
    view = sandbox.driver.last_view("views.open")
    assert "First-trimester prenatal visits" in str(view["blocks"])
    values = {"what_works": {"what_works": {"type": "plain_text_input",
                                            "value": "Saturday walk-ins"}}}
    answer = sandbox.driver.view_submission("U0CCC", view, values)
    sandbox.settle()

    assert not (answer.json or {}).get("response_action")
    with sandbox.store.session() as session:
        (story,) = session.scalars(select(Story))
    assert (story.period, story.what_works, story.written_by) == (
        "2026-10", "Saturday walk-ins", "U0CCC")
