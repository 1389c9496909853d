"""Issue 15: one wording for dates. The same due date reads the same in the reminder DM,
`/impact status` and the digest, each reached the way Slack reaches the app; status
explains how due dates are set; the help shows `as PARTNER-KEY` to backbone admins only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.emulator.sandbox import Sandbox
from tests.support.rba import reply
from tests.support.reminders import reminder_dms, tick
from tests.support.world import ADMIN, NOW, import_without_start

# Any other way of writing 17 November 2026 that the old screens used.
OLD_WORDINGS = re.compile(r"Nov 17|17 November|November 17|2026-11-17|Tuesday 17")


@pytest.fixture
def started_today(bare_sandbox: Sandbox, tmp_path: Path) -> Sandbox:
    """The example initiative, first imported today (Tuesday 10 November 2026) with no
    explicit start: October is owed, due a week after the start rather than on 8 Nov."""
    import_without_start(bare_sandbox.store, tmp_path)
    return bare_sandbox


def _everything(message: dict[str, Any]) -> str:
    return f"{message.get('text', '')}\n{message.get('blocks', '')}"


def test_a_due_date_reads_the_same_in_the_reminder_the_status_and_the_digest(
        started_today: Sandbox) -> None:
    tick(started_today, NOW)
    (dm,) = reminder_dms(started_today, "U0AAA")
    status = reply(started_today, "U0AAA", "status")
    digest = reply(started_today, ADMIN, "digest")

    assert "Period *2026-10* · due Tue 17 Nov" in str(dm["blocks"])
    assert "prenatal-visits for 2026-10, due Tue 17 Nov" in status["text"]
    assert "First-trimester prenatal visits (Oct 2026, due Tue 17 Nov)" in str(digest["blocks"])
    for shown in (dm, status, digest):
        assert not OLD_WORDINGS.search(_everything(shown))


RULE = ("Due dates: a report is due 7 calendar days after its reminder, which comes on day 1 "
        "of the period after the one reported — so on day 8 of it, or on its last day if "
        "that is sooner (days off do not move it)")


def test_status_says_how_due_dates_are_set(sandbox: Sandbox) -> None:
    member = reply(sandbox, "U0AAA", "status")
    admin = reply(sandbox, ADMIN, "status")

    assert f"{RULE}." in str(member["blocks"])
    assert f"{RULE}." in str(admin["blocks"])


def test_status_names_the_start_when_it_set_a_due_date(started_today: Sandbox) -> None:
    shown = str(reply(started_today, "U0AAA", "status")["blocks"])

    assert f"{RULE}; as the initiative started on 10 Nov 2026, nothing is due before " \
           "Tue 17 Nov." in shown


def test_the_help_shows_reporting_on_a_partners_behalf_to_admins_only(
        sandbox: Sandbox) -> None:
    admin = reply(sandbox, ADMIN, "help")
    member = reply(sandbox, "U0AAA", "help")
    outsider = reply(sandbox, "U0OUTSIDER", "help")

    assert "as PARTNER-KEY` — report on a partner's behalf" in admin["text"]
    assert "as PARTNER-KEY" in str(admin["blocks"])
    for answer in (member, outsider):
        assert "PARTNER-KEY" not in _everything(answer)
        assert "`/impact report KEY VALUE [note…]`" in answer["text"]
