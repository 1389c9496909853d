"""Social proof (SPEC §12): reminders and nudges say how many partners have already reported
the measure for the period."""

from __future__ import annotations

from datetime import timedelta

from bot.emulator.sandbox import Sandbox
from tests.support.reminders import reminder_dms, tick
from tests.support.wins import post_text
from tests.support.world import NOW


def test_a_reminder_and_its_nudge_say_one_of_two_partners_have_reported(
        sandbox: Sandbox) -> None:
    reply = sandbox.driver.command("U0AAA", "report prenatal-visits 72")
    sandbox.settle()
    assert reply.status == 200

    tick(sandbox, NOW)
    tick(sandbox, NOW + timedelta(days=4))

    first, nudge = reminder_dms(sandbox, "U0CCC")
    for dm in (first, nudge):
        shown = post_text(dm)
        assert "1 of 2 partners have reported" in shown
        assert "1 of 2 partners have reported" in str(dm["text"])
    # Home visits: nobody has reported October yet, and the DM says so.
    (health,) = reminder_dms(sandbox, "U0AAA")[:1]
    assert "Families enrolled in home visiting" in post_text(health)
    assert "0 of 2 partners have reported" in post_text(health)


def test_a_measure_only_one_partner_reports_says_nothing_of_others(sandbox: Sandbox) -> None:
    tick(sandbox, NOW)

    (dm,) = reminder_dms(sandbox, "U0EEE")  # United Way alone reports diapers
    assert "partners have reported" not in post_text(dm)
