"""Enterprise Grid: a workspace of an organisation installs the app (Slack names the
organisation in oauth.v2.access and stores the bot under it); its scheduled reminders,
digest and wins run with its own token, and its requests are served."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.emulator.sandbox import Sandbox
from bot.runtime import scheduler
from storage.models import Partner, Win, WinStatus
from storage.tenancy import tenant
from tests.support.workspaces import driver_for, install
from tests.support.world import NOW, import_example

GRID_TEAM, ORG = "T0GRIDHQ", "E0ORG"
DIGEST_DUE = datetime(2026, 11, 13, 21, 0, tzinfo=UTC)  # Friday 15:00 in Chicago


def _install_grid_workspace(multi: Sandbox) -> str:
    multi.emulator.add_team(GRID_TEAM, "Grid Health")
    multi.emulator.join_enterprise(GRID_TEAM, ORG, "Big Org")
    assert install(multi, GRID_TEAM).status == 200
    (exchange,) = multi.emulator.calls_to("oauth.v2.access")
    assert exchange.response["enterprise"] == {"id": ORG, "name": "Big Org"}
    assert exchange.response["is_enterprise_install"] is False
    with tenant(GRID_TEAM):
        import_example(multi.store)
    return str(exchange.response["access_token"])


def test_a_grid_workspace_gets_its_reminders_digest_and_wins_through_the_scheduler(
        multi: Sandbox) -> None:
    token = _install_grid_workspace(multi)
    with tenant(GRID_TEAM), multi.store.session() as session:
        # What a worker that died while posting an approved win leaves behind.
        partner = session.scalars(select(Partner).order_by(Partner.id)).first()
        session.add(Win(source="command", author_id="U0AAA", text="Fifty families enrolled",
                        partner_id=partner.id if partner else None,
                        status=WinStatus.APPROVED, created_at=NOW))

    scheduler.run_due_now(multi.services, only={"reminder-tick", "wins"})
    multi.clock.set(DIGEST_DUE)
    scheduler.run_due_now(multi.services, only={"digest-tick"})

    posts = [c for c in multi.emulator.calls_to("chat.postMessage") if c.status == 200]
    assert {c.token for c in posts} == {token}
    channels = {c.params["channel"] for c in posts}
    assert {"U0AAA", "U0CCC"} <= channels  # reminders to Healthy Starts' members
    texts = " ".join(str(c.params.get("text", "")) + str(c.params.get("blocks", ""))
                     for c in posts)
    assert "Fifty families enrolled" in texts  # the win
    assert "digest" in texts.lower()  # the weekly digest
    assert [c for c in multi.emulator.calls if c.response.get("error") == "not_authed"] == []
    with tenant(GRID_TEAM), multi.store.session() as session:
        assert session.scalars(select(Win.status)).all() == [WinStatus.POSTED]


def test_a_grid_workspaces_requests_are_answered(multi: Sandbox) -> None:
    token = _install_grid_workspace(multi)

    driver_for(multi, GRID_TEAM).command("U0AAA", "report")
    multi.settle()

    (opened,) = multi.emulator.calls_to("views.open")
    assert opened.token == token
