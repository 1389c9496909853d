"""Keeping opened App Home tabs current, off the threads that answer Slack.

Only people who have opened their Home tab have one to keep current: `home_viewers`,
noted on each `app_home_opened`. A change to what a partner's members see (a report)
marks their Homes out of date in one statement (`mark_partner_stale`) and asks this
process's background worker for a refresh (`request_refresh`, bot/runtime/background.py);
the request returns at once. The refresh takes the out-of-date viewers — a claim that
clears the mark, so two processes never publish one change twice — and publishes each
Home once, however many changes piled up meanwhile. A change made while a Home is being
rebuilt marks it again, so the next refresh shows it. The `home-refresh` scheduled tick
runs the same refresh as a backstop (a process stopped before its refresh ran; Slack was
briefly unavailable).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update

from bot.home.view import home_view
from bot.runtime.services import Services
from bot.runtime.slack_client import is_transient
from bot.tenancy.oauth import bot_token
from storage.db import Store, session_team
from storage.models import HomeViewer, Member, Partner
from storage.tenancy import current_scope
from storage.upserts import upsert

log = logging.getLogger(__name__)

BATCH = 50  # viewers claimed per statement


def publish_home(services: Services, client: WebClient, user_id: str,
                 *, raise_transient: bool = False) -> bool:
    """Build and publish `user_id`'s Home tab. Answers whether Slack accepted it; never
    raises for Slack (with `raise_transient`, a passing failure — 5xx, rate limit — does)."""
    with services.store.session() as session:
        view = home_view(session, user_id, services.clock.now())
    try:
        client.views_publish(user_id=user_id, view=view)
        return True
    except SlackApiError as exc:
        if raise_transient and is_transient(exc):
            raise
        log.warning("views.publish failed: %s", exc.response.get("error"))
        return False


def note_opened(store: Store, user_id: str, workspace_id: str | None, now: datetime) -> None:
    """`user_id` opened their Home tab (in `workspace_id`): from now on it is kept current.
    Up to date as of now (the caller publishes it)."""
    with store.session() as session:
        upsert(session, HomeViewer, {"user_id": user_id, "workspace_id": workspace_id,
                                     "opened_at": now, "stale_since": None},
               update=("workspace_id", "opened_at", "stale_since"))


def mark_partner_stale(store: Store, partner_key: str, also: str, now: datetime) -> None:
    """What `partner_key` owes changed: the Homes of its members (and `also`'s, the
    reporter's) that have been opened are out of date. One statement, whatever the size."""
    with store.session() as session:
        team = session_team(session)
        members = (select(Member.user_id).join(Partner, Partner.id == Member.partner_id)
                   .where(Partner.key == partner_key, Partner.team_id == team,
                          Member.team_id == team))
        session.execute(
            update(HomeViewer)
            .where(HomeViewer.stale_since.is_(None),
                   or_(HomeViewer.user_id.in_(members), HomeViewer.user_id == also))
            .values(stale_since=now)
            .execution_options(synchronize_session=False))


def request_refresh(services: Services) -> None:
    """Ask this process's background worker to refresh the current workspace's stale
    Homes soon (debounced: requests close together make one refresh)."""
    services.background.request(("home-refresh", current_scope()),
                                lambda: refresh_stale(services))


def home_refresh_tick(services: Services) -> None:
    """The scheduled backstop (bot/runtime/scheduler.py)."""
    refresh_stale(services)


def home_refresh_next_due(services: Services, now: datetime) -> datetime | None:
    """Five minutes on while a Home is still out of date (Slack failed it); else None (a
    report marking Homes stale makes the job due at once, storage/due.py)."""
    with services.store.session() as session:
        waiting = session.scalar(select(HomeViewer.user_id).where(
            HomeViewer.stale_since.is_not(None)).limit(1))
    return now + timedelta(minutes=5) if waiting is not None else None


def refresh_stale(services: Services) -> int:
    """Publish every stale Home of the current workspace once; how many were published.
    A Home Slack could not take for a passing reason (5xx, rate limit, network) is marked
    again for the next refresh; one it refused (the person left) is not."""
    published = 0
    again: list[str] = []
    clients: dict[str | None, WebClient | None] = {}
    while batch := _take_stale(services.store):
        for user_id, workspace_id in batch:
            if workspace_id not in clients:
                clients[workspace_id] = _client_for(services, workspace_id)
            client = clients[workspace_id]
            if client is None:
                continue  # the workspace uninstalled the app
            try:
                published += publish_home(services, client, user_id, raise_transient=True)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("views.publish for a Home failed (%s); retried later",
                            type(exc).__name__)
                again.append(user_id)
    if again:
        _mark_again(services.store, again, services.clock.now())
    return published


def _take_stale(store: Store) -> list[tuple[str, str | None]]:
    """Claim up to BATCH stale viewers: their mark is cleared in the same transaction, so
    another refresher (another process) does not take them too."""
    with store.session() as session:
        users = list(session.scalars(
            select(HomeViewer.user_id).where(HomeViewer.stale_since.is_not(None))
            .order_by(HomeViewer.stale_since, HomeViewer.user_id).limit(BATCH)
            .with_for_update(skip_locked=True)))
        if not users:
            return []
        taken = session.execute(
            update(HomeViewer)
            .where(HomeViewer.user_id.in_(users), HomeViewer.stale_since.is_not(None))
            .values(stale_since=None)
            .returning(HomeViewer.user_id, HomeViewer.workspace_id)
            .execution_options(synchronize_session=False))
        return sorted((row.user_id, row.workspace_id) for row in taken)


def _mark_again(store: Store, user_ids: list[str], now: datetime) -> None:
    with store.session() as session:
        session.execute(update(HomeViewer)
                        .where(HomeViewer.user_id.in_(user_ids),
                               HomeViewer.stale_since.is_(None))
                        .values(stale_since=now)
                        .execution_options(synchronize_session=False))


def _client_for(services: Services, workspace_id: str | None) -> WebClient | None:
    """The client whose token publishes in `workspace_id` (the current tenant's token when
    the Home was opened before workspaces were noted, or in single-workspace mode)."""
    if not services.settings.oauth or workspace_id is None:
        return services.client() if services.can_post() else None
    token = bot_token(services.settings, services.store, services.clock, workspace_id)
    return services.client(token) if token else None
