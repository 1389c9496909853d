"""Workspace tenancy: every row of an initiative's data lives in its workspace's own space.

Single-workspace mode (a bot token in the environment) keeps everything in the database's
default schema. Multi-workspace mode (OAuth installs) gives each installed workspace
(Slack team) its own tenant: a PostgreSQL schema `ws_<team id>`, or on SQLite a database
file beside the main one. The same models and queries run in every tenant; which tenant a
session reads and writes is chosen by `current_team`, set once per Slack request (from the
verified team id) and per scheduled tick. A request from workspace A therefore cannot
name, read or change a row of workspace B: B's tables are not in A's search space at all.

Several workspaces of one Slack Connect network can share one initiative: the `workspaces`
registry maps each member workspace to the tenant of the initiative's home workspace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,30}$")

# The tenant (home team id) this unit of work belongs to; None = the default schema.
current_team: ContextVar[str | None] = ContextVar("impactbot_current_team", default=None)


def check_team_id(team_id: str) -> str:
    if not TEAM_ID.match(team_id or ""):
        raise ValueError(f"{team_id!r} is not a Slack team id (like T0123ABCD)")
    return team_id


def schema_name(team_id: str) -> str:
    """The PostgreSQL schema (or SQLite file suffix) that holds a workspace's data."""
    return "ws_" + check_team_id(team_id).lower()


@contextmanager
def tenant(team_id: str | None) -> Iterator[None]:
    """Run the block's database work in `team_id`'s tenant (None: the default schema)."""
    token = current_team.set(check_team_id(team_id) if team_id is not None else None)
    try:
        yield
    finally:
        current_team.reset(token)
