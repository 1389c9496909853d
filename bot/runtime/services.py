"""What the handlers and jobs share: settings, the store, the clock, a Slack client factory,
the per-workspace send pacing."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.runtime.background import Background
from bot.runtime.clock import Clock
from bot.runtime.pacing import Pacers
from bot.runtime.settings import Settings
from bot.runtime.slack_client import make_client
from bot.tenancy.oauth import bot_token
from storage.db import Store
from storage.kinds import Surface
from storage.tenancy import current_team


@dataclass
class Services:
    settings: Settings
    store: Store
    clock: Clock
    # Where requests come from: "slack", or "console" for the offline console (reports
    # made there are recorded with source "console").
    surface: Surface = "slack"
    # This process's worker for work that follows a request off its threads (the App
    # Home refresh after a report): bot/runtime/background.py.
    background: Background = field(default_factory=Background)
    # Send slots at Slack's chat.postMessage pace, one budget per workspace, shared by every
    # thread of this process (bot/runtime/pacing.py).
    pacers: Pacers = field(default_factory=Pacers)

    def can_post(self) -> bool:
        """Whether there is a bot token to post with outside a Slack request."""
        if not self.settings.oauth:
            return bool(self.settings.bot_token)
        return current_team.get() is not None

    def client(self, token: str | None = None) -> WebClient:
        """A Web API client outside a Slack request (scheduled work, the CLI).

        Multi-workspace: the bot token of the current tenant's workspace, rotated when due.
        """
        if token is None and self.settings.oauth:
            team_id = current_team.get()
            if team_id is not None:
                token = bot_token(self.settings, self.store, self.clock, team_id)
        return make_client(self.settings, token)
