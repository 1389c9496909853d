"""What works (SPEC §12): `/impact learn WORDS` finds shared wins and answered questions,
newest first with links, on SQLite and PostgreSQL; what was not shared never appears."""

from __future__ import annotations

from datetime import timedelta

from bot.emulator.message_events import write
from bot.emulator.render import render_blocks
from bot.emulator.sandbox import Sandbox
from tests.support.wins import click, consent_dms, react, say, win_rows
from tests.support.world import NOW, PRIVATE, WINS


def _learn(sandbox: Sandbox, user: str, words: str) -> str:
    reply = sandbox.driver.command(user, f"learn {words}")
    sandbox.settle()
    assert reply.status == 200 and reply.elapsed < 3.0
    post = sandbox.emulator.response_posts[-1].payload
    assert post["response_type"] == "ephemeral"
    # What a person reads, and the raw mrkdwn (mentions as <@U…>).
    return (render_blocks(post.get("blocks") or [], post.get("text") or "") + "\n"
            + str(post.get("blocks")))


def test_an_answer_in_a_questions_thread_is_found_with_its_question_and_link(
        sandbox: Sandbox) -> None:
    sandbox.driver.command("U0CCC", "ask How do you reach families without a phone? "
                                    "for home-visits")
    sandbox.settle()
    (question,) = sandbox.emulator.bot_messages(WINS)
    ts, _ = write(sandbox.driver, "U0DDD", WINS, "We leave a door hanger with a QR code",
                  question["ts"])
    sandbox.settle()

    shown = _learn(sandbox, "U0EEE", "door hanger")

    assert "We leave a door hanger with a QR code" in shown
    assert "<@U0CCC> asked" in shown and "reach families without a phone" in shown
    assert f"archives/{WINS}/p{ts.replace('.', '')}" in shown
    assert "Families enrolled in home visiting" in shown


def _command(sandbox: Sandbox, user: str, text: str, *, hours_later: int = 0) -> None:
    """`/impact TEXT` from `user`, `hours_later` hours after NOW, answered before the next."""
    if hours_later:
        sandbox.clock.set(NOW + timedelta(hours=hours_later))
    sandbox.driver.command(user, text)
    sandbox.settle()


def test_wins_are_found_newest_first_and_nothing_found_says_so(sandbox: Sandbox) -> None:
    _command(sandbox, "U0AAA", "win home-visits: Home visits doubled in Waukegan")
    _command(sandbox, "U0DDD", "win Waukegan home visits now include dads", hours_later=2)

    shown = _learn(sandbox, "U0CCC", "waukegan visits")

    assert shown.index("include dads") < shown.index("doubled in Waukegan")
    assert "2 found, newest first" in shown
    assert "Nothing shared matches" in _learn(sandbox, "U0CCC", "submarine")
    assert "What would you like to learn about" in _learn(sandbox, "U0CCC", "?")


def test_private_wins_waiting_or_declined_and_voice_never_appear(sandbox: Sandbox) -> None:
    pending = say(sandbox, "U0AAA", "Zebra grant still private", channel=PRIVATE)
    declined = say(sandbox, "U0BBB", "Zebra partnership kept quiet", channel=PRIVATE)
    react(sandbox, "U0CCC", pending, channel=PRIVATE)
    react(sandbox, "U0CCC", declined, channel=PRIVATE)
    sandbox.settle()
    (dm,) = consent_dms(sandbox, "U0BBB")
    click(sandbox, "U0BBB", "win_decline", dm)
    sandbox.driver.command("U0DDD", "voice zebra crossings near the clinic are unsafe")
    sandbox.settle()
    assert sorted(w.status for w in win_rows(sandbox)) == ["declined", "pending"]

    shown = _learn(sandbox, "U0EEE", "zebra")

    assert "Nothing shared matches" in shown
    assert "Zebra" not in shown and "crossings" not in shown

    (ask,) = consent_dms(sandbox, "U0AAA")
    click(sandbox, "U0AAA", "win_approve", ask)  # shared once its author agrees
    assert "Zebra grant still private" in _learn(sandbox, "U0EEE", "zebra")


def test_postgresql_full_text_finds_other_forms_of_a_word(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0AAA", "win We enrolled 12 families in one week")
    sandbox.settle()

    shown = _learn(sandbox, "U0CCC", "family enrolment" if sandbox.store.engine.dialect.name
                   == "postgresql" else "families enrolled")

    assert "We enrolled 12 families" in shown


def test_stories_behind_the_curve_are_found_as_they_stand(sandbox: Sandbox) -> None:
    # SPEC §12: wins, stories behind the curve and answered questions.
    _command(sandbox, "U0CCC", "story prenatal-visits Evening clinics with childcare "
                               "brought first-time mothers in")
    _command(sandbox, "U0AAA", "story prenatal-visits Transport vouchers helped")
    _command(sandbox, "U0AAA", "story prenatal-visits Childcare during visits helped most",
             hours_later=1)

    shown = _learn(sandbox, "U0EEE", "childcare")

    assert "Story behind the curve" in shown and "First-trimester prenatal visits" in shown
    assert "<@U0AAA> (Lake County Health Dept), period 2026-10" in shown
    # Newest first; the county's first story was replaced (history), so it is not found.
    assert shown.index("Childcare during visits") < shown.index("Evening clinics")
    assert "Nothing shared matches" in _learn(sandbox, "U0EEE", "transport vouchers")
    assert "2 found, newest first" in shown
