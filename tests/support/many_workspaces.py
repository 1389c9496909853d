"""Many installed workspaces, each with a small initiative, written straight into the
database (the tenancy tests and bench/tenants.py: 10,000 workspaces through OAuth and
initiative.yml would take longer than what they measure).

Each workspace: one partner with `members` people (their zones cached, fresh), one monthly
measure it reports, reminders due at 09:00 UTC on the 1st; and its scheduled jobs due now
(`due_at`) or at a given time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Table

from bot.emulator import SlackEmulator
from bot.runtime.caller import INITIATIVE_ID
from bot.runtime.manifest import BOT_SCOPES
from storage import due
from storage.db import Store
from storage.models import (
    DueWork,
    Initiative,
    Measure,
    MeasurePartner,
    Member,
    Partner,
    SlackUser,
    Workspace,
)

CLIENT_ID = "set-by-sandbox"
CHUNK = 500


def team_id(n: int) -> str:
    return f"T0M{n:06d}"


def member_id(n: int, m: int) -> str:
    return f"U{n:06d}M{m:03d}"


def token_of(team: str) -> str:
    return f"xoxb-{team}-bench"


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def provision(store: Store, count: int, members: int, now: datetime, *,
              emulator: SlackEmulator | None = None, start: int = 0,
              due_at: datetime | None = due.ASAP, jobs: tuple[str, ...] = tuple(due.WATCHES),
              ) -> list[str]:
    """`count` workspaces numbered from `start`; installed (token and registry) when an
    `emulator` is given, which then knows their tokens and people. Answers the team ids."""
    teams = [team_id(n) for n in range(start, start + count)]
    rows: dict[Any, list[dict[str, Any]]] = {model: [] for model in (
        Workspace, Initiative, Partner, Measure, MeasurePartner, Member, SlackUser, DueWork)}
    for n, team in zip(range(start, start + count), teams, strict=True):
        partner_id = measure_id = n + 1
        rows[Workspace].append({"team_id": team, "tenant_team_id": team,
                                "team_name": f"Workspace {n}", "installed_at": now})
        rows[Initiative].append({
            "team_id": team, "id": INITIATIVE_ID, "name": f"Initiative {n}", "agenda": "",
            "timezone": "UTC", "admins": [member_id(n, 0)], "backbone_channel": None,
            "wins_channel": None, "reminder_day": 1, "reminder_time": "09:00",
            "nudge_after_days": 3, "max_nudges": 2, "digest_weekday": 4,
            "digest_time": "15:00", "win_emoji": [], "win_threshold": 1, "updated_at": now})
        rows[Partner].append({"team_id": team, "id": partner_id, "key": "clinic",
                              "name": "Clinic", "position": 0, "active": True})
        rows[Measure].append({"team_id": team, "id": measure_id, "key": "visits",
                              "name": "Home visits", "unit": "", "direction": "up",
                              "cadence": "monthly", "aggregate": "sum", "position": 0,
                              "active": True})
        rows[MeasurePartner].append({"team_id": team, "measure_id": measure_id,
                                     "partner_id": partner_id})
        for m in range(members):
            user = member_id(n, m)
            rows[Member].append({"team_id": team, "partner_id": partner_id, "user_id": user})
            rows[SlackUser].append({"team_id": team, "user_id": user, "tz": "UTC",
                                    "real_name": user, "is_bot": False, "fetched_at": now})
        rows[DueWork].extend({"team_id": team, "job": job, "due_at": due_at, "gen": 0}
                             for job in jobs)
    with store.engine.begin() as connection:
        for model, model_rows in rows.items():
            for chunk in _chunks(model_rows):
                connection.execute(_table(model).insert(), chunk)
    if emulator is not None:
        install(store, emulator, teams, members, start)
    return teams


def install(store: Store, emulator: SlackEmulator, teams: list[str], members: int,
            start: int = 0) -> None:
    """What each workspace's OAuth install left: its bot token (slack_sdk's tables), and
    Slack's side (the token, the people)."""
    installations = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=store.engine)
    for n, team in zip(range(start, start + len(teams)), teams, strict=True):
        emulator.add_team(team, f"Workspace {n}")
        with emulator._lock:
            emulator.oauth.tokens[token_of(team)] = team
        for m in range(members):
            emulator.add_user(member_id(n, m), real_name=f"Member {m}", tz="UTC")
        installations.save(Installation(
            app_id=emulator.app_id, team_id=team, team_name=f"Workspace {n}",
            bot_token=token_of(team), bot_id=f"B{n:06d}", bot_user_id=emulator.bot_user_id,
            bot_scopes=list(BOT_SCOPES), user_id=member_id(n, 0)))
