"""Workspace tenancy: every row of an initiative's data carries its workspace's team id.

All workspaces share one set of tables; every tenant-scoped table (the models mixing in
`Tenant`) has a non-null `team_id` column, and every unique key starts with it. Which
workspace a session reads and writes is chosen by `current_team`, set once per Slack
request (from the verified team id) and per scheduled tick; `storage.db.Store` turns it
into SQL: every ORM SELECT, UPDATE and DELETE gets `team_id = :team` added (SQLAlchemy's
`with_loader_criteria`), every INSERT is stamped with the session's team, and a new object
flushed by the session is stamped too. A request from workspace A therefore cannot name,
read or change a row of workspace B.

Single-workspace mode (a bot token in the environment) keeps everything in the default
tenant, team id `DEFAULT_TEAM` (the empty string: never a Slack team id, so it cannot
collide with an installed workspace).

Several workspaces of one Slack Connect network can share one initiative: the `workspaces`
registry maps each member workspace to the tenant of the initiative's home workspace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,30}$")
# The tenant of single-workspace mode (and of `Store.global_session()`).
DEFAULT_TEAM = ""

# A tenant session's `info` key holding its team id (storage/db.py).
TEAM_KEY = "impactbot_team_id"

# The tenant (home team id) this unit of work belongs to; None = the default tenant.
current_team: ContextVar[str | None] = ContextVar("impactbot_current_team", default=None)


def check_team_id(team_id: str) -> str:
    if not TEAM_ID.match(team_id or ""):
        raise ValueError(f"{team_id!r} is not a Slack team id (like T0123ABCD)")
    return team_id


def current_scope() -> str:
    """The team id rows of the current unit of work carry (`DEFAULT_TEAM` when none)."""
    team_id = current_team.get()
    return DEFAULT_TEAM if team_id is None else team_id


def schema_name(team_id: str) -> str:
    """The PostgreSQL schema (or SQLite file suffix) that held a workspace's data before
    migration 0005 moved every workspace into the shared tables."""
    return "ws_" + check_team_id(team_id).lower()


@contextmanager
def tenant(team_id: str | None) -> Iterator[None]:
    """Run the block's database work in `team_id`'s tenant (None: the default tenant)."""
    token = current_team.set(check_team_id(team_id) if team_id is not None else None)
    try:
        yield
    finally:
        current_team.reset(token)


class Tenant:
    """Mixin of every tenant-scoped model: the workspace (home team id) a row belongs to.

    Set by the session (see `storage.db`), never by callers; '' in single-workspace mode.
    """

    team_id: Mapped[str] = mapped_column(String(32), default=current_scope,
                                         sort_order=-1)
