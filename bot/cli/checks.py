"""Checks the CLI's reading commands make before they read."""

from __future__ import annotations

from pathlib import Path

from bot.runtime.errors import UserError
from bot.runtime.services import Services


def require_initiative(services: Services, *, one_workspace: bool = False) -> None:
    """`export`, `remind` and `digest` against a database holding no initiative (most often
    a relative SQLite path run from another directory) stop with exit 2 and the database
    named, rather than print an empty export or "0 DMs" as if all were well.

    `one_workspace` (export, digest, import-values): in multi-workspace mode without
    `--team`, the command would read the default tenant; when that holds no initiative it
    stops and asks for `--team`, naming the installed workspaces."""
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from storage.global_models import Workspace
    from storage.models import Initiative
    from storage.tenancy import current_team

    store = services.store
    if services.settings.oauth and current_team.get() is None and one_workspace:
        with store.session() as session:
            if session.scalar(select(func.count(Initiative.id))):
                return  # this deployment's rows from before multi-workspace mode
        with store.global_session() as session:
            teams = list(session.scalars(
                select(Workspace.team_id).where(Workspace.uninstalled_at.is_(None))
                .order_by(Workspace.team_id).limit(11)))
        named = ", ".join(teams[:10]) + (", …" if len(teams) > 10 else "")
        raise UserError("Multi-workspace mode: say whose initiative with --team TEAM_ID"
                        + (f" (installed: {named})." if teams else
                           " (no workspace has installed the app yet)."))
    if services.settings.oauth and current_team.get() is None:
        # Multi-workspace mode without --team: any workspace's initiative counts.
        with store.engine.connect() as connection:
            found = connection.execute(select(func.count()).select_from(
                Initiative.__table__)).scalar_one()
    else:
        with store.session() as session:
            found = session.scalar(select(func.count(Initiative.id))) or 0
    if found:
        return
    url = make_url(services.settings.database_url)
    where = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database:
        where += f" (the file {Path(url.database).resolve()})"
    raise UserError(f"There is no initiative in the database {where}. Is DATABASE_URL the "
                    "right database (a relative SQLite path depends on the directory you "
                    "run from)? Otherwise run `impactbot import FILE` first.")
