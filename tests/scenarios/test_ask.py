"""Ask the initiative (SPEC §12): the question is posted with its asker, each member of the
partners that report the measure is DMed once, and thread replies are kept as answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.emulator.message_events import message_event, write
from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import Answer, Question, QuestionDM
from tests.support.wins import post_text
from tests.support.world import GENERAL, WINS

QUESTION = "How do you reach families without a phone? for home-visits"


def _question_dms(sandbox: Sandbox, user: str) -> list[dict[str, object]]:
    return [m for m in sandbox.emulator.messages_to_user(user)
            if "asked the initiative" in post_text(m)]


def test_ask_for_a_measure_posts_once_and_dms_each_reporting_member_once(
        sandbox: Sandbox) -> None:
    reply = sandbox.driver.command("U0CCC", f"ask {QUESTION}")
    sandbox.settle()
    scheduler.run_due_now(sandbox.services, only={"asks"})  # nothing left for the job

    assert reply.status == 200 and reply.elapsed < 3.0
    (post,) = sandbox.emulator.bot_messages(WINS)
    shown = post_text(post)
    assert "<@U0CCC> (North Clinic) asks the initiative" in shown
    assert "Families enrolled in home visiting" in shown
    assert "How do you reach families without a phone?" in shown and "for home-visits" not in shown
    # County Health (U0AAA, U0BBB) and Family Connects (U0DDD) report home visits.
    for user in ("U0AAA", "U0BBB", "U0DDD"):
        assert len(_question_dms(sandbox, user)) == 1, user
    for user in ("U0CCC", "U0EEE"):
        assert _question_dms(sandbox, user) == [], user
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(QuestionDM)
                              .where(QuestionDM.sent_at.is_not(None))) == 3
    answer = sandbox.emulator.response_posts[-1].payload["text"]
    assert "I let 3 members of the partners that report it know" in answer


def test_thread_replies_are_kept_as_answers_once(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0CCC", f"ask {QUESTION}")
    sandbox.settle()
    (post,) = sandbox.emulator.bot_messages(WINS)

    event = message_event(sandbox.emulator, "U0DDD", WINS,
                          "We text a neighbour and leave a door hanger", post["ts"])
    for retry in (None, 1):  # Slack retries a delivery it thinks failed
        sandbox.driver.event(event, event_id="EvANSWER1", retry_num=retry)
    write(sandbox.driver, "U0AAA", GENERAL, "an unrelated thread reply",
          sandbox.emulator.add_message(GENERAL, user="U0BBB", text="a thread"))
    write(sandbox.driver, "U0AAA", WINS, "a message in the channel, not in a thread")
    sandbox.settle()

    with sandbox.store.session() as session:
        answers = session.scalars(select(Answer)).all()
        question = session.scalars(select(Question)).one()
    assert [(a.user_id, a.text, a.question_id) for a in answers] == [
        ("U0DDD", "We text a neighbour and leave a door hanger", question.id)]
    # The app answers nobody in the channel (the Messages tab is for DMs).
    assert len(sandbox.emulator.bot_messages(WINS)) == 1
    assert sandbox.emulator.bot_messages(GENERAL) == []


def test_ask_without_a_measure_dms_nobody_and_empty_asks_explain(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "ask Who has a good Spanish-language flyer for winter?")
    sandbox.driver.command("U0AAA", "ask")
    sandbox.settle()

    (post,) = sandbox.emulator.bot_messages(WINS)
    assert "good Spanish-language flyer for winter?" in post_text(post)
    assert sandbox.emulator.calls_to("conversations.open") == []
    assert all(not _question_dms(sandbox, u) for u in ("U0BBB", "U0CCC", "U0DDD", "U0EEE"))
    assert any("Ask something" in p.payload["text"] for p in sandbox.emulator.response_posts)


def test_a_dm_slack_refused_is_sent_once_by_the_job_when_it_works_again(
        sandbox: Sandbox) -> None:
    sandbox.emulator.set_user("U0BBB", deleted=True)  # Slack refuses to DM them for now
    sandbox.driver.command("U0CCC", f"ask {QUESTION}")
    sandbox.settle()
    assert _question_dms(sandbox, "U0BBB") == []
    assert len(_question_dms(sandbox, "U0AAA")) == 1

    scheduler.run_due_now(sandbox.services, only={"asks"})  # not yet: retried a day later
    sandbox.emulator.set_user("U0BBB", deleted=False)
    sandbox.clock.set(sandbox.clock.now() + timedelta(days=1, minutes=1))
    scheduler.run_due_now(sandbox.services, only={"asks"})
    scheduler.run_due_now(sandbox.services, only={"asks"})

    for user in ("U0AAA", "U0BBB", "U0DDD"):
        assert len(_question_dms(sandbox, user)) == 1, user
