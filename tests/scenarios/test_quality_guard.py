"""SPEC §9 "Data-quality guard": a value 10× (or 1/10) the partner's previous one, or a
fraction on a % measure, is not recorded at once; the answer asks, with buttons for the value
as typed and the likely intended one; nothing is stored until one is pressed, and the answer
is recorded exactly once however often (or however simultaneously) it is pressed."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.emulator.sandbox import Sandbox
from bot.measures.confirmation import confirm_held
from bot.measures.pending import EXPIRED, EXPIRES, SUPERSEDED
from bot.runtime.scheduler import run_due_now
from storage.models import PendingReport, Report
from tests.support.forms import report_form
from tests.support.world import NOW


def _ask(sandbox: Sandbox, user: str, text: str) -> dict[str, Any]:
    before = len(sandbox.emulator.response_posts)
    sandbox.driver.command(user, text)
    sandbox.settle()
    (post,) = sandbox.emulator.response_posts[before:]
    payload: dict[str, Any] = post.payload
    return payload


def _buttons(message: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """choice -> (button text, token)"""
    out = {}
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("type") == "button":
                out[element["action_id"].split(":")[1]] = (element["text"]["text"],
                                                           element["value"])
    return out


def _press(sandbox: Sandbox, user: str, choice: str, token: str) -> list[dict[str, Any]]:
    before = len(sandbox.emulator.response_posts)
    reply = sandbox.driver.block_action(user, f"quality_confirm:{choice}", value=token,
                                        channel="C0GENERAL")
    sandbox.settle()
    assert reply.status == 200
    return [p.payload for p in sandbox.emulator.response_posts[before:]]


def _current(sandbox: Sandbox) -> list[tuple[str, float, str]]:
    with sandbox.store.session() as session:
        rows = session.execute(select(Report.period, Report.value, Report.note)
                               .where(Report.is_current.is_(True)).order_by(Report.period))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _count(sandbox: Sandbox) -> int:
    with sandbox.store.session() as session:
        return int(session.scalar(select(func.count(Report.id))) or 0)


def test_ten_times_the_previous_value_is_asked_and_nothing_is_stored(sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    question = _ask(sandbox, "U0DDD", "report home-visits 1300 spring drive")

    assert "I have not recorded *1300*" in str(question["blocks"])
    assert "1,300 families is 10× the previous value, 130 families (2026-09)" in question["text"]
    buttons = _buttons(question)
    assert {c: t for c, (t, _) in buttons.items()} == {
        "typed": "Record 1300", "suggested": "Record 130 families", "cancel": "Cancel"}
    assert _current(sandbox) == [("2026-09", 130.0, "")]

    answer = _press(sandbox, "U0DDD", "suggested", buttons["suggested"][1])

    assert _current(sandbox) == [("2026-09", 130.0, ""), ("2026-10", 130.0, "spring drive")]
    (shown,) = answer
    assert shown["replace_original"] is True
    assert "Recorded 130 families" in shown["text"]


def test_a_double_click_records_once_and_says_the_second_changed_nothing(
        sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    token = _buttons(_ask(sandbox, "U0DDD", "report home-visits 1300"))["typed"][1]

    _press(sandbox, "U0DDD", "typed", token)
    second = _press(sandbox, "U0DDD", "typed", token)
    third = _press(sandbox, "U0DDD", "suggested", token)

    assert _current(sandbox) == [("2026-09", 130.0, ""), ("2026-10", 1300.0, "")]
    assert _count(sandbox) == 2
    assert "no longer open" in second[0]["text"] and "no longer open" in third[0]["text"]


def test_presses_at_the_same_instant_record_once(sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    token = _buttons(_ask(sandbox, "U0DDD", "report home-visits 1300"))["typed"][1]
    outcomes: list[str] = []
    gate = threading.Barrier(4)

    def press(choice: str) -> None:
        gate.wait()
        outcomes.append(confirm_held(sandbox.store, token, choice, "U0DDD", NOW)[0])

    threads = [threading.Thread(target=press, args=(c,))
               for c in ("typed", "typed", "suggested", "cancel")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes).count("already") == 3
    assert _count(sandbox) in (1, 2)  # the September value, and at most one more
    with sandbox.store.session() as session:
        (row,) = session.scalars(select(PendingReport)).all()
    assert row.resolved_at is not None and row.choice in ("typed", "suggested", "cancel")
    assert (row.report_id is None) == (row.choice == "cancel")


def test_cancel_stores_nothing_and_only_the_reporter_can_answer(sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    token = _buttons(_ask(sandbox, "U0DDD", "report home-visits 13"))["typed"][1]

    other = _press(sandbox, "U0AAA", "typed", token)
    assert "Only the person who reported" in other[0]["text"]
    cancelled = _press(sandbox, "U0DDD", "cancel", token)
    assert cancelled[0]["text"] == "Cancelled: nothing was recorded."
    assert _current(sandbox) == [("2026-09", 130.0, "")]


@pytest.mark.parametrize(("line", "suggested", "stored"), [
    ("prenatal-visits 0.7", "Record 70%", 70.0),  # baseline 61: a fraction, 0.7 → 70%
    ("home-visits 1.250", "Record 1,250 families", 1250.0),  # after 1,200: dot thousands
])
def test_the_likely_intended_value_is_offered(sandbox: Sandbox, line: str, suggested: str,
                                              stored: float) -> None:
    _ask(sandbox, "U0AAA", "report home-visits 1200 for sept")
    question = _ask(sandbox, "U0AAA", f"report {line}")
    buttons = _buttons(question)
    assert buttons["suggested"][0] == suggested

    _press(sandbox, "U0AAA", "suggested", buttons["suggested"][1])

    assert ("2026-10", stored, "") in _current(sandbox)


def test_a_value_as_typed_can_be_confirmed(sandbox: Sandbox) -> None:
    token = _buttons(_ask(sandbox, "U0AAA", "report prenatal-visits 0.7"))["typed"][1]
    _press(sandbox, "U0AAA", "typed", token)
    assert _current(sandbox) == [("2026-10", 0.7, "")]


def test_a_held_modal_report_closes_the_modal_and_asks_in_a_dm(sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    sandbox.driver.command("U0DDD", "report")
    sandbox.settle()
    view = sandbox.driver.last_view()

    reply = sandbox.driver.view_submission("U0DDD", view, report_form("home-visits", "13000"))
    sandbox.settle()

    assert reply.json is None or "errors" not in reply.json
    dm = sandbox.emulator.messages_to_user("U0DDD")[-1]
    assert "is 100× the previous value" in dm["text"]
    assert _buttons(dm)["suggested"][0] == "Record 130 families"
    assert _current(sandbox) == [("2026-09", 130.0, "")]


def _pending_rows(sandbox: Sandbox) -> int:
    with sandbox.store.session() as session:
        return int(session.scalar(select(func.count(PendingReport.id))) or 0)


def test_a_question_expires_after_a_day_and_a_press_then_stores_nothing(
        sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    token = _buttons(_ask(sandbox, "U0DDD", "report home-visits 1300"))["typed"][1]

    sandbox.clock.advance(EXPIRES)
    (answer,) = _press(sandbox, "U0DDD", "typed", token)

    assert answer["text"] == EXPIRED
    assert "report it again with `/impact report`" in answer["text"]
    assert _current(sandbox) == [("2026-09", 130.0, "")]
    with sandbox.store.session() as session:
        (row,) = session.scalars(select(PendingReport)).all()
    assert row.resolved_at is None and row.report_id is None


def test_housekeeping_deletes_day_old_questions_and_a_press_on_one_is_told_it_expired(
        sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    old = _buttons(_ask(sandbox, "U0DDD", "report home-visits 1300"))["typed"][1]
    answered = _buttons(_ask(sandbox, "U0DDD", "report home-visits 12"))["cancel"][1]
    _press(sandbox, "U0DDD", "cancel", answered)
    sandbox.clock.advance(timedelta(hours=23))
    assert "1500" in _ask(sandbox, "U0DDD", "report home-visits 1500")["text"]  # kept: 1 h old
    sandbox.clock.advance(timedelta(hours=1))

    run_due_now(sandbox.services, only={"forget-old-events"})

    assert _pending_rows(sandbox) == 1  # the day-old ones went, answered or not
    (answer,) = _press(sandbox, "U0DDD", "typed", old)
    assert answer["text"] == EXPIRED
    assert _current(sandbox) == [("2026-09", 130.0, "")]


def test_a_value_reported_directly_after_the_question_is_never_overwritten_by_it(
        sandbox: Sandbox) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    token = _buttons(_ask(sandbox, "U0DDD", "report home-visits 1300"))["typed"][1]
    sandbox.clock.advance(timedelta(minutes=5))
    _ask(sandbox, "U0DDD", "report home-visits 140")  # October, directly
    sandbox.clock.advance(timedelta(minutes=5))

    (answer,) = _press(sandbox, "U0DDD", "typed", token)

    assert answer["text"] == SUPERSEDED
    assert _current(sandbox) == [("2026-09", 130.0, ""), ("2026-10", 140.0, "")]
    assert _count(sandbox) == 2


@pytest.mark.parametrize(("line", "reason"), [
    # ≤ 1/10 of the partner's previous value (SPEC §9): zero is, and may still be true.
    ("home-visits 0", "0 families would be a drop to zero: the previous value was "
                      "130 families (2026-09)."),
    # ≤ 1 on a % measure whose history (here the baseline, 61%) is above 1.
    ("prenatal-visits 0", "0% would be a drop to zero: the baseline is 61%."),
])
def test_a_drop_to_zero_is_asked_with_the_value_as_typed_only(
        sandbox: Sandbox, line: str, reason: str) -> None:
    _ask(sandbox, "U0DDD", "report home-visits 130 for sept")
    question = _ask(sandbox, "U0AAA" if line.startswith("prenatal") else "U0DDD",
                    f"report {line}")

    assert reason in question["text"]
    buttons = _buttons(question)
    assert {c: t for c, (t, _) in buttons.items()} == {"typed": "Record 0", "cancel": "Cancel"}
    assert _count(sandbox) == 1  # only September's 130
    _press(sandbox, "U0AAA" if line.startswith("prenatal") else "U0DDD", "typed",
           buttons["typed"][1])
    assert ("2026-10", 0.0, "") in _current(sandbox)


def test_zero_with_no_history_is_recorded_at_once(sandbox: Sandbox) -> None:
    answer = _ask(sandbox, "U0DDD", "report home-visits 0")
    assert answer["text"].startswith("Recorded 0 families")
    assert _current(sandbox) == [("2026-10", 0.0, "")]
