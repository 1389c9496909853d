"""Multi-workspace authorize: the workspace's bot token, from the installation store alone.

Bolt's `InstallationStoreAuthorize` calls Slack's `auth.test` before the first ack of every
workspace in every worker process (and caches it per token) to learn what the install
already stored: the bot's id and user id, the team, the enterprise. After a restart with
many workspaces that is one Web API round trip on the ack path per workspace per worker
(500 of them in a burst of first requests). Here they come from the stored install: one
indexed SELECT per request, as Bolt's, on the store's read engine (`Store.reader`), and no
call to Slack.

A token Slack no longer honours is found out by the first Web API call that uses it, as
with the cache Bolt keeps; an uninstall or a revocation deletes the token
(`bot.tenancy.oauth.revoke`), and then the look-up finds nothing and the request is refused
here, in every worker at once.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk.oauth.installation_store import Bot, InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.web import WebClient

log = logging.getLogger(__name__)


class StoredBotAuthorize(Authorize):
    def __init__(self, *, reads: InstallationStore, writes: InstallationStore, client_id: str,
                 client_secret: str, client: WebClient, rotate_minutes_before: int) -> None:
        self.reads = reads
        self.writes = writes
        self.rotator = TokenRotator(client_id=client_id, client_secret=client_secret,
                                    client=client)
        self.rotate_minutes_before = rotate_minutes_before

    def __call__(self, *, context: Any, enterprise_id: str | None, team_id: str | None,
                 user_id: str | None, **_actor: Any) -> AuthorizeResult | None:
        try:
            bot: Bot | None = self.reads.find_bot(
                enterprise_id=enterprise_id, team_id=team_id,
                is_enterprise_install=context.is_enterprise_install)
        except Exception as exc:  # as Bolt's: the request is refused as not installed
            log.info("could not look up the installation: %s", type(exc).__name__)
            return None
        if bot is None or not bot.bot_token:
            log.debug("no installation for enterprise %s, team %s", enterprise_id, team_id)
            return None
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
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id, team_id=bot.team_id or team_id,
            team=bot.team_name, bot_id=bot.bot_id, bot_user_id=bot.bot_user_id,
            bot_token=bot.bot_token, bot_scopes=bot.bot_scopes)
