"""Multi-workspace mode: OAuth installs, per-workspace tokens (with rotation), uninstalls.

Enabled by SLACK_CLIENT_ID and SLACK_CLIENT_SECRET. Installations and OAuth state live in
slack_sdk's SQLAlchemy stores on our database; installing registers the workspace, whose
rows then carry its team id in the shared tables (see storage/tenancy.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import select

from bot.runtime.clock import Clock
from bot.runtime.manifest import BOT_SCOPES
from bot.runtime.settings import Settings
from bot.runtime.slack_client import make_client
from bot.tenancy.authorize import StoredBotAuthorize
from storage.db import Store
from storage.models import Workspace

log = logging.getLogger(__name__)

STATE_EXPIRATION_SECONDS = 600
# Refresh a rotating token when it has less than this left.
ROTATE_MINUTES_BEFORE_EXPIRY = 120
# How long a worker trusts what it read about a workspace's tenant (see TenantCache).
TENANT_TTL_SECONDS = 60.0


class WorkspaceInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store, which also registers the workspace."""

    def __init__(self, settings: Settings, store: Store, clock: Clock) -> None:
        assert settings.client_id is not None
        super().__init__(client_id=settings.client_id, engine=store.engine,
                         logger=logging.getLogger("bot.tenancy.oauth.store"))
        self.store = store
        self.clock = clock

    def save(self, installation: Installation) -> None:
        super().save(installation)
        if installation.team_id:
            register_workspace(self.store, installation.team_id, installation.team_name,
                               self.clock.now())


def register_workspace(store: Store, team_id: str, team_name: str | None, now: datetime,
                       tenant_team_id: str | None = None) -> str:
    """Record an installed workspace (its tenant needs nothing more: the tables are shared).
    Returns the tenant."""
    with store.global_session() as session:
        workspace = session.get(Workspace, team_id)
        if workspace is None:
            workspace = Workspace(team_id=team_id, tenant_team_id=tenant_team_id or team_id,
                                  team_name=team_name, installed_at=now)
            session.add(workspace)
        else:
            workspace.uninstalled_at = None
            workspace.team_name = team_name or workspace.team_name
            if tenant_team_id:
                workspace.tenant_team_id = tenant_team_id
        return workspace.tenant_team_id


def tenant_of(store: Store, team_id: str | None) -> str | None:
    """The tenant a request from `team_id` works in; None if the workspace is unknown."""
    if not team_id:
        return None
    # One SELECT on the read engine: on SQLite, no write lock for it (Store.reader).
    with store.reader.connect() as connection:
        row = connection.execute(
            select(Workspace.tenant_team_id, Workspace.uninstalled_at)
            .where(Workspace.team_id == team_id)).first()
    if row is None or row.uninstalled_at is not None:
        return None
    return str(row.tenant_team_id)


class TenantCache:
    """`tenant_of` without a registry query on every request.

    Only found tenants are remembered, so a workspace that has just installed is served at
    once. A remembered tenant outlives its uninstall by at most `ttl` seconds in the other
    workers, which is harmless: an uninstall deletes the workspace's tokens, so Bolt's
    authorize refuses its requests before they get here. Re-mapping an installed workspace
    to another tenant reaches every worker within `ttl`.
    """

    def __init__(self, store: Store, ttl: float = TENANT_TTL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl = ttl
        self.monotonic = monotonic
        self._known: dict[str, tuple[str, float]] = {}

    def get(self, team_id: str | None) -> str | None:
        if not team_id:
            return None
        hit = self._known.get(team_id)
        now = self.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        tenant = tenant_of(self.store, team_id)
        if tenant is None:
            self._known.pop(team_id, None)
        else:
            self._known[team_id] = (tenant, now + self.ttl)
        return tenant

    def forget(self, team_id: str | None) -> None:
        if team_id:
            self._known.pop(team_id, None)


def active_tenants(store: Store) -> list[str]:
    """Every tenant with at least one installed workspace (what the scheduler visits)."""
    with store.global_session() as session:
        return sorted(set(session.scalars(
            select(Workspace.tenant_team_id).where(Workspace.uninstalled_at.is_(None)))))


def is_active_tenant(store: Store, team_id: str) -> bool:
    """Whether some installed workspace uses `team_id`'s tenant."""
    with store.global_session() as session:
        return session.scalar(select(Workspace.team_id).where(
            Workspace.tenant_team_id == team_id, Workspace.uninstalled_at.is_(None)
        ).limit(1)) is not None


def mark_uninstalled(store: Store, team_id: str, now: datetime) -> None:
    """The workspace removed the app: forget its tokens; keep its data (a reinstall finds
    it again), and stop scheduling work for it."""
    with store.global_session() as session:
        workspace = session.get(Workspace, team_id)
        if workspace is not None:
            workspace.uninstalled_at = now


def oauth_settings(settings: Settings, store: Store, clock: Clock) -> OAuthSettings:
    assert settings.client_id is not None and settings.client_secret is not None
    installation_store = WorkspaceInstallationStore(settings, store, clock)
    oauth = OAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installation_store,
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_SECONDS,
                                              engine=store.engine),
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
    )
    # Bolt's default authorize asks Slack (auth.test) what the install stored, before the
    # first ack of each workspace in each worker, and rotates tokens with a client aimed at
    # slack.com: ours reads the stored install alone (bot/tenancy/authorize.py) and rotates
    # with our client (SLACK_API_URL: proxies, the emulator; the retry handlers).
    oauth.authorize = StoredBotAuthorize(
        reads=SQLAlchemyInstallationStore(client_id=settings.client_id, engine=store.reader,
                                          logger=logging.getLogger("bot.tenancy.oauth.store")),
        writes=installation_store, client_id=settings.client_id,
        client_secret=settings.client_secret, client=make_client(settings, token=None),
        rotate_minutes_before=ROTATE_MINUTES_BEFORE_EXPIRY)
    return oauth


def bot_token(settings: Settings, store: Store, clock: Clock, team_id: str) -> str | None:
    """The bot token for a workspace outside a Slack request (scheduled work), rotated
    first when it is about to expire."""
    installation_store = WorkspaceInstallationStore(settings, store, clock)
    # A workspace of an Enterprise Grid organisation is installed under its enterprise id:
    # the look-up must name it, or it finds nothing.
    bot: Bot | None = installation_store.find_bot(
        enterprise_id=enterprise_of(installation_store, team_id), team_id=team_id)
    if bot is None:
        return None
    if bot.bot_refresh_token:
        assert settings.client_id is not None and settings.client_secret is not None
        rotator = TokenRotator(client_id=settings.client_id,
                               client_secret=settings.client_secret,
                               client=make_client(settings, token=None))
        refreshed = rotator.perform_bot_token_rotation(
            bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY)
        if refreshed is not None:
            installation_store.save_bot(refreshed)
            bot = refreshed
    return bot.bot_token


def enterprise_of(installation_store: SQLAlchemyInstallationStore, team_id: str) -> str | None:
    """The enterprise id the workspace's latest bot install was saved under (None outside
    Enterprise Grid)."""
    bots = installation_store.bots
    with installation_store.engine.connect() as connection:
        return connection.execute(
            select(bots.c.enterprise_id)
            .where(bots.c.client_id == installation_store.client_id, bots.c.team_id == team_id)
            .order_by(bots.c.installed_at.desc(), bots.c.id.desc()).limit(1)).scalar()


def revoke(store: Store, settings: Settings, clock: Clock, event: dict[str, Any],
           team_id: str | None, enterprise_id: str | None) -> None:
    """app_uninstalled / tokens_revoked: delete the tokens, mark the workspace."""
    installation_store = WorkspaceInstallationStore(settings, store, clock)
    if event.get("type") == "app_uninstalled":
        installation_store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
    else:
        tokens = event.get("tokens") or {}
        if tokens.get("bot"):
            installation_store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        for user_id in tokens.get("oauth") or []:
            installation_store.delete_installation(enterprise_id=enterprise_id,
                                                   team_id=team_id, user_id=user_id)
        if not tokens.get("bot"):
            return
    if team_id:
        mark_uninstalled(store, team_id, clock.now())
        log.info("workspace %s uninstalled the app; its tokens are deleted", team_id)
