"""Many installed workspaces, and a burst of first requests from all of them at once.

Used by tests/reliability/test_first_requests.py (the in-process Sandbox) and by
bench/first_requests.py (also against a real `impactbot serve` process)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from slack_sdk.oauth.installation_store import Installation

from bot.emulator import SlackDriver, SlackEmulator
from bot.emulator.driver import Reply
from bot.emulator.sandbox import Sandbox
from bot.runtime.clock import Clock
from bot.runtime.manifest import BOT_SCOPES
from bot.runtime.settings import Settings
from bot.tenancy.oauth import WorkspaceInstallationStore
from storage.db import Store

# Half the workspaces ask for the help, half read their measures (no initiative yet).
FIRST_COMMANDS = ("help", "measures")


def install_many(sandbox: Sandbox, count: int) -> list[str]:
    """`count` workspaces installed (what each OAuth install stores), none seen by the app."""
    services = sandbox.services
    return install_teams(sandbox.emulator, services.settings, services.store, services.clock,
                         count)


def install_teams(emulator: SlackEmulator, settings: Settings, store: Store, clock: Clock,
                  count: int) -> list[str]:
    """`install_many` for any app: `settings.client_id` is the emulator's OAuth app."""
    installations = WorkspaceInstallationStore(settings, store, clock)
    teams = []
    for n in range(count):
        team = f"T0W{n:05d}"
        token = f"xoxb-{team}-first"
        emulator.add_team(team, f"Workspace {n}")
        with emulator._lock:  # the token Slack issued at that install
            emulator.oauth.tokens[token] = team
        installations.save(Installation(
            app_id=emulator.app_id, team_id=team, team_name=f"Workspace {n}", bot_token=token,
            bot_id=f"B0{n:05d}", bot_user_id=emulator.bot_user_id, bot_scopes=list(BOT_SCOPES),
            user_id="U0INSTALLER"))
        teams.append(team)
    return teams


class _Held(SlackDriver):
    """A driver that signs a request and keeps it instead of sending it."""

    held: tuple[bytes, dict[str, str]]

    def raw(self, body: bytes, headers: dict[str, str]) -> Reply:
        self.held = (body, headers)
        return Reply(status=0, body="", json=None, elapsed=0.0)


def burst(sandbox: Sandbox, teams: list[str], texts: tuple[str, ...] = FIRST_COMMANDS
          ) -> list[Reply]:
    return burst_at(sandbox.driver.app_url, sandbox.settings.signing_secret or "",
                    sandbox.emulator, teams, texts)


def burst_at(app_url: str, signing_secret: str, emulator: SlackEmulator, teams: list[str],
             texts: tuple[str, ...] = FIRST_COMMANDS) -> list[Reply]:
    """One slash command from each workspace (`texts` in turn), all released at the same
    moment. Every request is built and signed before the release, so a reply's `elapsed`
    is its HTTP round trip alone."""
    held = []
    for n, team in enumerate(teams):
        # A generous client timeout: this counts errors; the ack times are the bench's to
        # print (a shared CI machine can starve 500 threads of CPU for seconds).
        driver = _Held(app_url, signing_secret, emulator, team_id=team, timeout=120.0)
        driver.command("U0AAA", texts[n % len(texts)])
        held.append(driver)
    gate = threading.Barrier(len(held))

    def first(index: int) -> Reply:
        driver = held[index]
        gate.wait()
        return SlackDriver.raw(driver, *driver.held)

    with ThreadPoolExecutor(max_workers=len(held)) as pool:
        return list(pool.map(first, range(len(held))))
