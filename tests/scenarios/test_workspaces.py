"""Multi-workspace mode: OAuth installs, each workspace's data in its own tenant, token
rotation, uninstalls — through Bolt's install pages and signed requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.main import main
from bot.emulator.sandbox import Sandbox
from bot.runtime.errors import UserError
from storage.db import Store
from storage.models import Partner, Report, Workspace
from storage.tenancy import tenant
from tests.support.workspaces import TEAM_A, TEAM_B, driver_for, install, setup_both
from tests.support.world import EXAMPLE, import_example


def test_install_round_trip_then_requests_use_that_workspaces_token(multi: Sandbox) -> None:
    result = install(multi, TEAM_A)

    assert result.status == 200
    (exchange,) = multi.emulator.calls_to("oauth.v2.access")
    token = exchange.response["access_token"]
    with multi.store.global_session() as session:
        workspace = session.get(Workspace, TEAM_A)
        assert workspace is not None and workspace.uninstalled_at is None
    with tenant(TEAM_A):
        import_example(multi.store)

    driver_for(multi, TEAM_A).command("U0AAA", "report")  # opens the report modal
    multi.settle()

    (opened,) = multi.emulator.calls_to("views.open")
    assert opened.token == token
    assert opened.params["view"]["callback_id"] == "report_submit"


def test_a_workspace_cannot_read_or_change_another_workspaces_data(multi: Sandbox) -> None:
    health, school = setup_both(multi)

    # One at a time: answers are posted after the ack, so they could overtake each other.
    for driver, user, text in ((health, "U0AAA", "report prenatal-visits 72"),
                               (school, "U0BLIB", "report prenatal-visits 50"),  # A's measure
                               (school, "U0AAA", "report prenatal-visits 10"),  # A's member
                               (school, "U0BLIB", "measures"),
                               (school, "U0BADMIN", "export")):
        driver.command(user, text)
        multi.settle()

    posts = [p.payload["text"] for p in multi.emulator.response_posts]
    assert "72%" in posts[0]
    assert "prenatal-visits" in posts[1] and "72" not in posts[1]  # B: no such measure
    assert "72" not in posts[2]
    assert "Children at story time" in posts[3]
    assert "prenatal" not in posts[3].lower() and "72" not in posts[3]
    (upload,) = multi.emulator.uploaded_files
    assert b"prenatal" not in upload.bytes and b"72" not in upload.bytes
    with tenant(TEAM_A), multi.store.session() as session:
        assert session.scalars(select(Report.value)).all() == [72.0]
    with tenant(TEAM_B), multi.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_a_rotating_token_is_refreshed_before_use(multi: Sandbox) -> None:
    multi.emulator.oauth.expires_in = 60 * 60  # inside Bolt's 2-hour refresh window
    install(multi, TEAM_A, rotating=True)
    first = multi.emulator.calls_to("oauth.v2.access")[0].response["access_token"]
    with tenant(TEAM_A):
        import_example(multi.store)

    driver_for(multi, TEAM_A).command("U0AAA", "report")
    multi.settle()

    refresh = multi.emulator.calls_to("oauth.v2.access")[1]
    assert refresh.params["grant_type"] == "refresh_token"
    (opened,) = multi.emulator.calls_to("views.open")
    assert opened.token == refresh.response["access_token"] != first


def test_uninstall_forgets_the_token_and_stops_answering(multi: Sandbox) -> None:
    health, _ = setup_both(multi)
    health.event({"type": "app_uninstalled"}, event_id="EvUNINSTALL")
    multi.settle()
    multi.emulator.revoke_team_tokens(TEAM_A)

    reply = health.command("U0AAA", "report prenatal-visits 72")
    multi.settle()

    with multi.store.global_session() as session:
        workspace = session.get(Workspace, TEAM_A)
        assert workspace is not None and workspace.uninstalled_at is not None
    assert reply.status == 200
    (answer,) = multi.emulator.response_posts  # Bolt's, not ours: nothing was recorded
    assert "install this app" in answer.payload["text"]
    assert multi.emulator.calls_to("views.open") == []
    with tenant(TEAM_A), multi.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_scheduled_reminders_run_in_every_workspace_with_its_own_token(
        multi: Sandbox) -> None:
    from bot.runtime import scheduler

    setup_both(multi)
    tokens = {call.response["team"]["id"]: call.response["access_token"]
              for call in multi.emulator.calls_to("oauth.v2.access")}

    scheduler.run_due_now(multi.services, only={"reminder-tick"})

    sent = {call.params["channel"]: call.token
            for call in multi.emulator.calls_to("chat.postMessage") if call.status == 200}
    assert sent["U0AAA"] == sent["U0CCC"] == tokens[TEAM_A]  # Healthy Starts members
    assert sent["U0BLIB"] == tokens[TEAM_B]  # Riverside's librarian, from Riverside's bot
    assert "U0BADMIN" not in sent  # an admin, not a partner member


def test_a_slack_connect_partner_workspace_shares_the_home_initiative(
        multi: Sandbox, tmp_path: Path) -> None:
    team_c = "T0CLINIC"
    multi.emulator.add_team(team_c, "North Clinic")
    shared = tmp_path / "initiative.yml"
    shared.write_text(EXAMPLE.read_text().replace(
        "  admins: [U0BACKBONE1]", f"  admins: [U0BACKBONE1]\n  workspaces: [{team_c}]"))
    install(multi, TEAM_A)
    with tenant(TEAM_A):
        result = import_example(multi.store, path=shared)
    install(multi, team_c)  # the clinic's own workspace installs the app too

    driver_for(multi, team_c).command("U0CCC", "report prenatal-visits 64")
    multi.settle()

    assert f"workspace {team_c} shares this initiative" in result.changes
    assert "64%" in multi.emulator.response_posts[0].payload["text"]
    with tenant(TEAM_A), multi.store.session() as session:
        assert session.scalars(select(Report.value)).all() == [64.0]
    with multi.store.global_session() as session:
        workspace = session.get(Workspace, team_c)
        assert workspace is not None and workspace.tenant_team_id == TEAM_A


def test_listing_workspaces_outside_multi_workspace_mode_is_refused(store: Store,
                                                                   tmp_path: Path) -> None:
    shared = tmp_path / "initiative.yml"
    shared.write_text(EXAMPLE.read_text().replace(
        "  admins: [U0BACKBONE1]", "  admins: [U0BACKBONE1]\n  workspaces: [T0CLINIC]"))

    with pytest.raises(UserError, match="--team HOME_TEAM_ID"):
        import_example(store, path=shared)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Partner)) == 0


def test_the_command_line_works_in_the_workspace_named_by_team(
        multi: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    health, school = setup_both(multi)
    for driver, user, text in ((health, "U0AAA", "report prenatal-visits 72"),
                               (school, "U0BLIB", "report storytime 31")):
        driver.command(user, text)
        multi.settle()
    monkeypatch.setenv("DATABASE_URL", multi.store.url)
    monkeypatch.setenv("SLACK_CLIENT_ID", multi.settings.client_id or "")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", multi.settings.client_secret or "")
    monkeypatch.setenv("SLACK_API_URL", multi.emulator.api_url)
    for name in ("SLACK_BOT_TOKEN", "INITIATIVE_FILE"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()

    assert main(["export", "--team", TEAM_A]) == 0
    health_rows = capsys.readouterr().out
    assert main(["export", "--team", TEAM_B]) == 0
    school_rows = capsys.readouterr().out
    assert "prenatal-visits,county-health" in health_rows and "storytime" not in health_rows
    assert "storytime,library" in school_rows and "prenatal" not in school_rows

    # Without --team the export would be the default tenant's, empty: it asks which one,
    # naming the installed workspaces, and prints no export. A bad id is named too.
    assert main(["export"]) == 2
    assert main(["digest"]) == 2
    assert main(["export", "--team", "not-a-team"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count(f"say whose initiative with --team TEAM_ID (installed: {TEAM_A}, "
                     f"{TEAM_B})") == 2
    assert "--team: 'not-a-team' is not a Slack team id" in err
