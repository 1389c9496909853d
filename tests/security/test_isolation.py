"""Workspace isolation in multi-workspace mode: a signed request naming a workspace that
never installed the app touches nothing, and one tenant's data never reaches another."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.emulator.sandbox import Sandbox
from storage.calendar_models import Action
from storage.models import GroupReport, HomeViewer, Report, Story, Voice, Win, Workspace
from storage.tenancy import tenant
from tests.support.tenants import tenant_models
from tests.support.workspaces import TEAM_A, TEAM_B, driver_for, setup_both

EVIL = "T0EVIL"


def _count(sandbox: Sandbox, team: str, model: Any) -> int:
    with tenant(team), sandbox.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _tenant_exists(sandbox: Sandbox, team: str) -> bool:
    """Whether anything of `team` was stored: a registry row, or a row in any shared table."""
    with sandbox.store.global_session() as session:
        if session.get(Workspace, team) is not None:
            return True
        return any(session.connection().execute(
            select(func.count()).select_from(model.__table__)
            .where(model.__table__.c.team_id == team)).scalar()
                   for model in tenant_models())


def test_signed_requests_from_a_workspace_that_never_installed_the_app_touch_nothing(
        multi: Sandbox) -> None:
    setup_both(multi)
    evil = driver_for(multi, EVIL)
    calls_before = len(multi.emulator.calls)

    replies = [
        evil.command("U0AAA", "report prenatal-visits 72"),
        evil.command("U0BACKBONE1", "export"),
        evil.command("U0AAA", "voice hello from nowhere"),
        evil.reaction("U0BBB", "C0GENERAL", multi.emulator.add_message(
            "C0GENERAL", user="U0AAA", text="a win")),
        evil.block_action("U0AAA", "report_open"),
        evil.block_action("U0AAA", "win_approve", value="1"),
        evil.view_submission("U0AAA", {"id": "V0", "type": "modal",
                                       "callback_id": "report_submit", "blocks": []},
                             {"measure": {"measure": {"type": "static_select",
                                                      "selected_option": {"value":
                                                                          "prenatal-visits"}}},
                              "value": {"value": {"type": "plain_text_input", "value": "9"}}}),
    ]
    multi.settle()

    assert all(r.status < 500 for r in replies), [r.status for r in replies]
    for team in (TEAM_A, TEAM_B):
        assert _count(multi, team, Report) == _count(multi, team, GroupReport) == 0
        assert _count(multi, team, Voice) == 0
        assert _count(multi, team, Win) == 0
    assert not _tenant_exists(multi, EVIL)
    web_api = [c.method for c in multi.emulator.calls[calls_before:]]
    assert not any(m.startswith(("views.", "chat.", "files.", "conversations."))
                   for m in web_api), web_api
    assert multi.emulator.uploaded_files == []


def test_one_workspaces_wins_voices_and_numbers_never_reach_the_other(multi: Sandbox) -> None:
    health, school = setup_both(multi)
    health.command("U0AAA", "report prenatal-visits 73.25 secret-note-a")
    health.command("U0AAA", "win Health win secret-win-a")
    health.command("U0DDD", "voice secret-voice-a")
    health.command("U0AAA", "action add secret-action-a due 2026-12-01")
    multi.settle()
    with tenant(TEAM_A), multi.store.session() as session:
        action_id = session.scalar(select(Action.id))
    with tenant(TEAM_A), multi.store.session() as session:
        win_id = session.scalar(select(Win.id))
    before = len(multi.emulator.response_posts)

    school.command("U0BLIB", "wins")
    school.command("U0BLIB", "measures")
    school.command("U0BLIB", "status")
    school.command("U0BLIB", "agenda")
    school.command("U0BADMIN", "digest")
    school.command("U0BLIB", "actions all")
    school.command("U0BADMIN", f"action done {action_id}")
    school.block_action("U0AAA", "win_approve", value=str(win_id))  # A's win id, from B
    school.app_home_opened("U0BLIB")
    multi.settle()

    seen = " ".join(str(p.payload) for p in multi.emulator.response_posts[before:])
    seen += str(multi.emulator.home_views.get("U0BLIB"))
    assert "U0BLIB" in multi.emulator.home_views
    for secret in ("secret-note-a", "secret-win-a", "secret-voice-a", "73.25", "Lake County",
                   "secret-action-a"):
        assert secret not in seen, secret
    # A's posts went to A's channels with A's token only.
    tokens = {c.response["team"]["id"]: c.response["access_token"]
              for c in multi.emulator.calls_to("oauth.v2.access")}
    for call in multi.emulator.calls_to("chat.postMessage"):
        if "secret" in str(call.params):
            assert call.token == tokens[TEAM_A]
            assert call.params["channel"] in ("C0WINS", "C0BACKBONE")
    with tenant(TEAM_A), multi.store.session() as session:
        assert session.get(Win, win_id) is not None
        assert session.scalar(select(Win.status)) == "posted"
    for model in (Report, GroupReport, Story, Voice, Win, Action):
        assert _count(multi, TEAM_B, model) == 0
    with tenant(TEAM_A), multi.store.session() as session:
        assert session.scalar(select(Action.status)) == "open"  # B's admin could not close it


def test_a_report_refreshes_only_its_own_workspaces_opened_homes_with_its_own_token(
        multi: Sandbox) -> None:
    health, school = setup_both(multi)
    health.app_home_opened("U0AAA")
    school.app_home_opened("U0BLIB")
    multi.settle()
    tokens = {c.response["team"]["id"]: c.response["access_token"]
              for c in multi.emulator.calls_to("oauth.v2.access")}
    multi.emulator.clear_calls()

    school.command("U0BLIB", "report storytime 55")
    multi.settle()

    publishes = multi.emulator.calls_to("views.publish")
    assert [(c.params["user_id"], c.token) for c in publishes] == [("U0BLIB", tokens[TEAM_B])]
    assert "Lake County" not in str(multi.emulator.home_views["U0BLIB"])
    for team, viewer in ((TEAM_A, "U0AAA"), (TEAM_B, "U0BLIB")):
        with tenant(team), multi.store.session() as session:
            assert session.scalars(select(HomeViewer.user_id)).all() == [viewer]
