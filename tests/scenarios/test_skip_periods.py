"""The skip form carries its period in private_metadata: a forged form naming a period that
has not ended, or one long past, is refused in the form and records nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.emulator.sandbox import Sandbox
from storage.models import Skip
from tests.support.reminders import reminder_dms, tick
from tests.support.world import NOW


def _forged_skip(sandbox: Sandbox, period: str) -> dict[str, object]:
    tick(sandbox, NOW)
    dm = reminder_dms(sandbox, "U0AAA")[-1]
    sandbox.driver.block_action("U0AAA", "reminder_skip:home-visits", message=dm,
                                channel=sandbox.emulator.dm_channel_for("U0AAA"))
    sandbox.settle()
    view = dict(sandbox.driver.last_view())
    meta = json.loads(view["private_metadata"])
    view["private_metadata"] = json.dumps({**meta, "period": period})
    reply = sandbox.driver.view_submission(
        "U0AAA", view, {"skip_reason": {"reason": {"type": "plain_text_input",
                                                   "value": "Our data system is down"}}})
    sandbox.settle()
    return json.loads(reply.body) if reply.body else {}


@pytest.mark.parametrize(("period", "why"), [
    ("2099-01", "2099-01 has not ended yet"),
    ("2026-11", "2026-11 has not ended yet"),  # still running at NOW
    ("1900-01", "1900-01 is too far back: skips reach back to 2025-10"),
])
def test_a_forged_period_is_refused(sandbox: Sandbox, period: str, why: str) -> None:
    answer = _forged_skip(sandbox, period)

    assert answer["response_action"] == "errors"
    assert str(answer["errors"]["skip_reason"]).startswith(why)  # type: ignore[index]
    with sandbox.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Skip)) == 0


def test_an_owed_earlier_period_can_still_be_skipped(sandbox: Sandbox) -> None:
    assert _forged_skip(sandbox, "2026-09") == {}
    with sandbox.store.session() as session:
        assert session.scalars(select(Skip.period)).all() == ["2026-09"]
