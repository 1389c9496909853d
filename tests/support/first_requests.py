"""Many installed workspaces, and a burst of first requests from all of them at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from slack_sdk.oauth.installation_store import Installation

from bot.emulator.driver import Reply
from bot.emulator.sandbox import Sandbox
from bot.runtime.manifest import BOT_SCOPES
from bot.tenancy.oauth import WorkspaceInstallationStore


def install_many(sandbox: Sandbox, count: int) -> list[str]:
    """`count` workspaces installed (what each OAuth install stores), none seen by the app."""
    services = sandbox.services
    store = WorkspaceInstallationStore(services.settings, services.store, services.clock)
    teams = []
    for n in range(count):
        team = f"T0W{n:05d}"
        token = f"xoxb-{team}-first"
        sandbox.emulator.add_team(team, f"Workspace {n}")
        with sandbox.emulator._lock:  # the token Slack issued at that install
            sandbox.emulator.oauth.tokens[token] = team
        store.save(Installation(app_id=sandbox.emulator.app_id, team_id=team,
                                team_name=f"Workspace {n}", bot_token=token,
                                bot_id=f"B0{n:05d}", bot_user_id=sandbox.emulator.bot_user_id,
                                bot_scopes=list(BOT_SCOPES), user_id="U0INSTALLER"))
        teams.append(team)
    return teams


def burst(sandbox: Sandbox, teams: list[str], text: str = "help") -> list[Reply]:
    """One slash command from each workspace, all released at the same moment."""
    from bot.emulator import SlackDriver

    # A generous client timeout: this counts errors; the ack times are the bench's to print
    # (a shared CI machine can starve 500 threads of CPU for seconds).
    drivers = [SlackDriver(sandbox.driver.app_url, sandbox.settings.signing_secret or "",
                           sandbox.emulator, team_id=team, timeout=120.0) for team in teams]
    gate = threading.Barrier(len(drivers))

    def first(driver_index: int) -> Reply:
        gate.wait()
        return drivers[driver_index].command("U0AAA", text)

    with ThreadPoolExecutor(max_workers=len(drivers)) as pool:
        replies = list(pool.map(first, range(len(drivers))))
    return replies
