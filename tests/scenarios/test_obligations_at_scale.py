"""What 200 partners × 100 measures owe (20,000 assignments), on SQLite and PostgreSQL.

On PostgreSQL a row-value `IN` list of every assignment's key grew into an expression the
server could not plan ("stack depth limit exceeded" from 8,000 assignments), so the
reminder tick and `/impact status` failed at this size. These tests need no timing: they
fail if the query fails or answers wrongly.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.measures.obligations import obligations, owing_partners
from bot.reminders.messages import EVENT_TYPE
from bot.runtime import scheduler
from bot.runtime.caller import load_initiative
from storage.db import Store
from storage.models import Member, Partner, ReminderDelivery
from tests.support.scale import LargeInitiative, partner_key, seed
from tests.support.world import ADMIN, MEMBERS, NOW


def _by_key(items: list[Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(o.partner_key, o.measure_key): (o.period.key, o.status) for o in items}


def test_obligations_of_20000_assignments_are_each_right(store: Store) -> None:
    large = seed(store, NOW)
    with store.session() as session:
        initiative = load_initiative(session)
        assert initiative is not None
        everyone = obligations(session, initiative, NOW)
        one = obligations(session, initiative, NOW, [8])
        owing = set(session.scalars(owing_partners(session, initiative, NOW)))

    expected = large.expected()
    assert len(everyone) == len(expected) == 196 * 98  # inactive partners and measures out
    assert _by_key(everyone) == expected
    assert set(Counter(status for _, status in expected.values())) == {
        "owed", "reported", "skipped"}
    assert _by_key(one) == large.expected([8])
    assert owing == {int(pk.rpartition("-")[2]) + 1 for (pk, _), (_, status)
                     in expected.items() if status == "owed"}
    # Ordered by partner, then measure, as the status answer and the reminder DMs list them.
    assert [o.partner_key for o in everyone] == sorted(o.partner_key for o in everyone)


def _owed(large: LargeInitiative, partner: int) -> int:
    return sum(1 for (pk, _), (_, status) in large.expected().items()
               if pk == partner_key(partner) and status == "owed")


def test_status_and_the_reminder_tick_answer_at_20000_assignments(
        bare_sandbox: Sandbox) -> None:
    sandbox = bare_sandbox
    # The example world's five members belong to the first five partners.
    large = seed(sandbox.store, NOW, members={p: [user] for p, user in enumerate(MEMBERS)},
                 admins=[ADMIN])

    admin = _status(sandbox, ADMIN)
    member = _status(sandbox, MEMBERS[0])
    scheduler.run_due_now(sandbox.services, only={"reminder-tick"})

    assert admin.startswith("You are a backbone admin")
    assert f"`partner-000` owes {_owed(large, 0)} of 98" in admin
    assert f"`partner-198` owes {_owed(large, 198)} of 98" in admin  # every partner listed
    assert f"Partner 0 still owes {_owed(large, 0)} reports" in member
    for partner, user in enumerate(MEMBERS):
        dms = [m for m in sandbox.emulator.messages_to_user(user)
               if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE]
        assert len(dms) == 1, (user, dms)
        assert f"Partner {partner} has {_owed(large, partner)} updates to report" in dms[0][
            "text"]
    with sandbox.store.session() as session:
        sent = session.execute(
            select(ReminderDelivery.user_id, Partner.key)
            .join(Member, Member.user_id == ReminderDelivery.user_id)
            .join(Partner, Partner.id == Member.partner_id)
            .where(ReminderDelivery.sent_at.is_not(None))).all()
    assert sorted(sent) == sorted((user, partner_key(p)) for p, user in enumerate(MEMBERS))


def _status(sandbox: Sandbox, user: str) -> str:
    before = len(sandbox.emulator.response_posts)
    sandbox.driver.command(user, "status")
    sandbox.settle()
    (post,) = sandbox.emulator.response_posts[before:]
    # What the person reads: every block's text (the fallback text may be cut short).
    return "\n".join(b["text"]["text"] for b in post.payload["blocks"] if "text" in b)
