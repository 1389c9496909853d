"""Multi-workspace authorize: the workspace's bot token, and its tenant, in one look-up.

Bolt's `InstallationStoreAuthorize` calls Slack's `auth.test` before the first ack of every
workspace in every worker process (and caches it per token) to learn what the install
already stored: the bot's id and user id, the team, the enterprise. After a restart with
many workspaces that is one Web API round trip on the ack path per workspace per worker
(500 of them in a burst of first requests). Here they come from the stored install, with
no call to Slack, in one indexed SELECT per request (as Bolt's own look-up) on the store's
read engine (`Store.reader`: on SQLite no write lock, on PostgreSQL no BEGIN/ROLLBACK),
which also reads the workspace's tenant from the registry (`TENANT` in the result, used by
`bot.runtime.app`'s tenant middleware instead of a second query).

A token Slack no longer honours is found out by the first Web API call that uses it, as
with the per-token cache Bolt keeps; an uninstall or a revocation deletes the token
(`bot.tenancy.oauth.revoke`), and from then on the look-up finds nothing and every worker
refuses the workspace's requests here.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.web import WebClient
from sqlalchemy import desc, select

from storage.models import Workspace

log = logging.getLogger(__name__)

# The workspace's tenant (None: uninstalled), in the AuthorizeResult when the registry has
# the request's workspace.
TENANT = "impactbot_tenant"


class StoredBotAuthorize(Authorize):
    def __init__(self, *, reads: SQLAlchemyInstallationStore,
                 writes: SQLAlchemyInstallationStore, client_id: str, client_secret: str,
                 client: WebClient, rotate_minutes_before: int) -> None:
        self.reads = reads
        self.writes = writes
        self.rotator = TokenRotator(client_id=client_id, client_secret=client_secret,
                                    client=client)
        self.rotate_minutes_before = rotate_minutes_before

    def __call__(self, *, context: Any, enterprise_id: str | None, team_id: str | None,
                 user_id: str | None, **_actor: Any) -> AuthorizeResult | None:
        try:
            found = self._find(enterprise_id, team_id, context.is_enterprise_install)
        except Exception as exc:  # as Bolt's: the request is refused as not installed
            log.info("could not look up the installation: %s", type(exc).__name__)
            return None
        if found is None:
            log.debug("no installation for enterprise %s, team %s", enterprise_id, team_id)
            return None
        bot, registered, tenant = found
        if bot.bot_refresh_token is not None:
            from slack_sdk.errors import SlackTokenRotationError

            try:
                refreshed = self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=self.rotate_minutes_before)
            except SlackTokenRotationError as exc:
                log.error("could not rotate the bot token of team %s: %s", team_id,
                          type(exc).__name__)
                return None
            if refreshed is not None:
                self.writes.save_bot(refreshed)
                bot = refreshed
        # What Bolt takes from auth.test for a bot token, as the install recorded it.
        result = AuthorizeResult(
            enterprise_id=bot.enterprise_id, team_id=bot.team_id or team_id,
            team=bot.team_name, bot_id=bot.bot_id, bot_user_id=bot.bot_user_id,
            bot_token=bot.bot_token, bot_scopes=bot.bot_scopes)
        if registered:
            result[TENANT] = tenant
        return result

    def _find(self, enterprise_id: str | None, team_id: str | None,
              enterprise_install: bool | None) -> tuple[Bot, bool, str | None] | None:
        """slack_sdk's `find_bot` (the latest install with a bot token), and the registry's
        row for the same team: (bot, whether the registry has it, its tenant if installed)."""
        bots = self.reads.bots
        team = None if enterprise_install or team_id is None else team_id
        registry = Workspace.__table__
        query = (
            select(bots, registry.c.tenant_team_id.label("impactbot_tenant"),
                   registry.c.uninstalled_at.label("impactbot_uninstalled"),
                   registry.c.team_id.label("impactbot_registered"))
            .select_from(bots.outerjoin(registry, registry.c.team_id == bots.c.team_id))
            .where(bots.c.client_id == self.reads.client_id,
                   bots.c.enterprise_id == enterprise_id, bots.c.team_id == team,
                   bots.c.bot_token.is_not(None))
            .order_by(desc(bots.c.installed_at)).limit(1))
        with self.reads.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None or not row["bot_token"]:
            return None
        tenant = None if row["impactbot_uninstalled"] is not None else row["impactbot_tenant"]
        return (self.reads.build_bot_entity(row), row["impactbot_registered"] is not None,
                tenant)
