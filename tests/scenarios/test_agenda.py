"""The common agenda and commitments, through slash commands, the modal and the emulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.agenda.commitments import (
    FIELD_LIMIT,
    CommitmentInput,
    announce,
    commitment_history,
    record_commitment,
)
from bot.emulator.sandbox import Sandbox
from storage.models import Commitment, Partner
from tests.support.forms import commit_form
from tests.support.world import ADMIN, BACKBONE, NOW


def open_commit_modal(sandbox: Sandbox, user: str = "U0AAA") -> dict[str, Any]:
    sandbox.driver.command(user, "commit")
    sandbox.settle()
    return sandbox.driver.last_view("views.open")


def commitments_of(sandbox: Sandbox, partner_key: str) -> list[Commitment]:
    with sandbox.store.session() as session:
        partner_id = session.scalar(select(Partner.id).where(Partner.key == partner_key))
        assert partner_id is not None
        return commitment_history(session, partner_id)


def test_agenda_shows_the_agenda_text_and_who_has_committed(sandbox: Sandbox) -> None:
    view = open_commit_modal(sandbox, "U0CCC")
    sandbox.driver.view_submission("U0CCC", view, commit_form(
        resources="Two nurses on Saturday mornings", activities="Walk-in prenatal clinic"))
    sandbox.settle()

    sandbox.driver.command("U0OUTSIDER", "agenda")
    sandbox.settle()

    post = sandbox.emulator.response_posts[-1].payload
    assert post["response_type"] == "ephemeral"
    shown = str(post["blocks"])
    assert "Every child in Lake County is born healthy" in shown
    assert "First-trimester prenatal visits" in shown
    assert "✅ *North Clinic* committed on 10 Nov 2026 (signed by <@U0CCC>)" in shown
    assert "Two nurses on Saturday mornings" in shown
    assert "Walk-in prenatal clinic" in shown
    assert "⬜ *Lake County Health Dept* has not committed yet" in shown
    assert "1 of 4 partners have committed" in post["text"]


def test_agenda_without_an_initiative_explains_how_to_set_one_up(bare_sandbox: Sandbox) -> None:
    bare_sandbox.driver.command("U0AAA", "agenda")
    bare_sandbox.settle()

    (post,) = bare_sandbox.emulator.response_posts
    assert "impactbot import" in post.payload["text"]


def test_commit_modal_records_announces_and_refreshes_home(sandbox: Sandbox) -> None:
    view = open_commit_modal(sandbox)
    assert view["callback_id"] == "commit_submit"
    assert "Lake County Health Dept" in str(view["blocks"])

    reply = sandbox.driver.view_submission("U0AAA", view, commit_form(
        resources="A care coordinator, 0.5 FTE", data="prenatal-visits monthly",
        activities="Text reminders for first visits"))
    sandbox.settle()

    assert reply.status == 200
    assert reply.json is not None and reply.json["response_action"] == "update"
    (row,) = commitments_of(sandbox, "county-health")
    assert (row.resources, row.data, row.activities) == (
        "A care coordinator, 0.5 FTE", "prenatal-visits monthly",
        "Text reminders for first visits")
    assert row.signed_agenda and row.is_current
    assert row.signed_by == "U0AAA"
    assert row.signed_at == NOW
    assert row.announced_at == NOW

    (announcement,) = sandbox.emulator.bot_messages(BACKBONE)
    assert "Lake County Health Dept committed to the common agenda" in announcement["text"]
    assert "A care coordinator, 0.5 FTE" in str(announcement["blocks"])

    for member in ("U0AAA", "U0BBB"):  # the signer and the rest of the partner
        home = sandbox.emulator.home_views[member]
        assert "commit_open" not in str(home["blocks"])
        assert "Lake County Health Dept committed on 10 Nov 2026" in str(home["blocks"])
    assert "U0CCC" not in sandbox.emulator.home_views


def test_commit_without_signing_shows_an_inline_error_and_writes_nothing(
        sandbox: Sandbox) -> None:
    view = open_commit_modal(sandbox)

    reply = sandbox.driver.view_submission("U0AAA", view, commit_form(
        resources="Staff time", signed=False))
    sandbox.settle()

    assert reply.json == {"response_action": "errors", "errors": {
        "sign": "Tick the box to sign the common agenda; a commitment needs it."}}
    assert commitments_of(sandbox, "county-health") == []
    assert sandbox.emulator.bot_messages(BACKBONE) == []


def test_commit_with_nothing_committed_and_overlong_text_shows_inline_errors(
        sandbox: Sandbox) -> None:
    view = open_commit_modal(sandbox)

    empty = sandbox.driver.view_submission("U0AAA", view, commit_form())
    long = sandbox.driver.view_submission("U0AAA", view, commit_form(
        activities="x" * (FIELD_LIMIT + 1)))
    sandbox.settle()

    assert empty.json is not None and set(empty.json["errors"]) == {"resources"}
    assert "at least one" in empty.json["errors"]["resources"]
    assert long.json is not None and set(long.json["errors"]) == {"activities"}
    assert commitments_of(sandbox, "county-health") == []


def test_recommitting_updates_the_commitment_and_keeps_the_history(sandbox: Sandbox) -> None:
    first = open_commit_modal(sandbox, "U0AAA")
    sandbox.driver.view_submission("U0AAA", first, commit_form(resources="One nurse"))
    sandbox.settle()
    sandbox.clock.advance(timedelta(days=2))

    second = open_commit_modal(sandbox, "U0BBB")
    # The modal is pre-filled with what the partner committed last time.
    assert "One nurse" in str(second["blocks"])
    sandbox.driver.view_submission("U0BBB", second, commit_form(
        resources="Two nurses", data="Monthly prenatal visits"))
    sandbox.settle()

    old, new = commitments_of(sandbox, "county-health")
    assert (old.resources, old.is_current, old.signed_by) == ("One nurse", False, "U0AAA")
    assert (new.resources, new.is_current, new.signed_by) == ("Two nurses", True, "U0BBB")
    assert new.signed_at == NOW + timedelta(days=2)
    first_post, second_post = sandbox.emulator.bot_messages(BACKBONE)
    assert "committed to the common agenda" in first_post["text"]
    assert "updated its commitment" in second_post["text"]

    sandbox.driver.command("U0EEE", "agenda")
    sandbox.settle()
    shown = str(sandbox.emulator.response_posts[-1].payload["blocks"])
    assert "Two nurses" in shown and "One nurse" not in shown


def test_non_member_cannot_commit_and_is_told_why(sandbox: Sandbox) -> None:
    sandbox.driver.command("U0OUTSIDER", "commit")
    sandbox.driver.command(ADMIN, "commit")
    sandbox.settle()

    assert sandbox.emulator.calls_to("views.open") == []
    for post in sandbox.emulator.response_posts:
        assert "not on a partner" in post.payload["text"]


def test_commit_button_on_home_opens_the_prefilled_modal(sandbox: Sandbox) -> None:
    sandbox.driver.app_home_opened("U0DDD")
    sandbox.settle()
    home = sandbox.emulator.home_views["U0DDD"]

    sandbox.driver.block_action("U0DDD", "commit_open", view=home)
    sandbox.settle()

    modal = sandbox.driver.last_view("views.open")
    assert modal["callback_id"] == "commit_submit"
    assert "Family Connects Home Visiting" in str(modal["blocks"])


def test_commit_button_pressed_by_non_member_explains_instead(sandbox: Sandbox) -> None:
    sandbox.driver.block_action("U0OUTSIDER", "commit_open", value="1")
    sandbox.settle()

    modal = sandbox.driver.last_view("views.open")
    assert "callback_id" not in modal or modal["callback_id"] != "commit_submit"
    assert "not on a partner" in str(modal["blocks"])


def test_person_removed_from_partner_cannot_submit_an_open_modal(sandbox: Sandbox) -> None:
    from storage.models import Member

    view = open_commit_modal(sandbox, "U0EEE")
    with sandbox.store.session() as session:
        session.delete(session.scalars(select(Member).where(Member.user_id == "U0EEE")).one())

    reply = sandbox.driver.view_submission("U0EEE", view, commit_form(resources="Money"))
    sandbox.settle()

    assert reply.json is not None and "not on a partner" in reply.json["errors"]["sign"]
    assert commitments_of(sandbox, "united-way") == []


def test_form_opened_for_another_partner_is_refused(sandbox: Sandbox) -> None:
    from storage.models import Member

    view = open_commit_modal(sandbox, "U0EEE")
    with sandbox.store.session() as session:
        member = session.scalars(select(Member).where(Member.user_id == "U0EEE")).one()
        member.partner_id = session.scalars(
            select(Partner.id).where(Partner.key == "clinic-north")).one()

    reply = sandbox.driver.view_submission("U0EEE", view, commit_form(resources="Money"))
    sandbox.settle()

    assert reply.json is not None and "another partner" in reply.json["errors"]["sign"]
    assert commitments_of(sandbox, "united-way") == []
    assert commitments_of(sandbox, "clinic-north") == []


def test_agenda_of_a_large_initiative_fits_in_one_message(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        for n in range(120):
            partner = Partner(key=f"extra-{n}", name=f"Extra partner {n}", position=100 + n)
            session.add(partner)
            session.flush()
            record_commitment(session, partner.id, CommitmentInput(
                "r" * FIELD_LIMIT, "d" * FIELD_LIMIT, "a" * FIELD_LIMIT, True), "U0AAA", NOW)

    sandbox.driver.command("U0AAA", "agenda")
    sandbox.settle()

    (post,) = sandbox.emulator.response_posts
    assert 10 < len(post.payload["blocks"]) <= 50
    assert "does not fit in one Slack message" in str(post.payload["blocks"][-2])
    assert "120 of 124 partners have committed" in post.payload["text"]


def test_two_members_committing_at_once_leave_one_current_commitment(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    views = [open_commit_modal(sandbox, user) for user in ("U0AAA", "U0BBB")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(
            lambda pair: sandbox.driver.view_submission(
                pair[0], pair[1], commit_form(resources=f"from {pair[0]}")),
            zip(("U0AAA", "U0BBB"), views, strict=True)))
    sandbox.settle()

    # Both are accepted, one after the other: the later is current, both are history.
    assert [r.json and r.json["response_action"] for r in replies] == ["update", "update"]
    rows = commitments_of(sandbox, "county-health")
    assert len(rows) == 2
    assert [r.is_current for r in rows].count(True) == 1
    assert len(sandbox.emulator.bot_messages(BACKBONE)) == 2


# --- the database, directly -----------------------------------------------------------------


def test_index_refuses_two_current_commitments_for_one_partner(sandbox: Sandbox) -> None:
    with pytest.raises(IntegrityError), sandbox.store.session() as session:
        for _ in range(2):
            session.add(Commitment(partner_id=1, resources="r", signed_agenda=True,
                                   signed_by="U0AAA", signed_at=NOW, is_current=True))
            session.flush()
    with sandbox.store.session() as session:
        record_commitment(session, 1, CommitmentInput("r", "", "", True), "U0AAA", NOW)
        _, replaced = record_commitment(session, 1, CommitmentInput("s", "", "", True),
                                        "U0AAA", NOW)
        assert replaced
        assert len(commitment_history(session, 1)) == 2


def test_a_commitment_is_announced_once_however_often_it_is_asked(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        row, _ = record_commitment(session, 1, CommitmentInput("r", "", "", True), "U0AAA",
                                   NOW)
    client = sandbox.services.client()

    results = [announce(sandbox.store, client, BACKBONE, row.id, "Health", False, NOW)
               for _ in range(3)]

    assert results == [True, False, False]
    assert len(sandbox.emulator.bot_messages(BACKBONE)) == 1


def test_a_failed_announcement_can_be_claimed_again(sandbox: Sandbox) -> None:
    with sandbox.store.session() as session:
        row, _ = record_commitment(session, 1, CommitmentInput("r", "", "", True), "U0AAA",
                                   NOW)
    client = sandbox.services.client()
    # A refusal that may pass later (not_in_channel parks: tests/scenarios/test_parked_posts.py)
    sandbox.emulator.fail_next("chat.postMessage", status=200, error="rate_limited")

    assert not announce(sandbox.store, client, BACKBONE, row.id, "Health", False, NOW)
    assert announce(sandbox.store, client, BACKBONE, row.id, "Health", False, NOW)
    assert len(sandbox.emulator.bot_messages(BACKBONE)) == 1
