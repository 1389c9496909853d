"""Multi-workspace steps: install the app into a team through OAuth, drive each team."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from dataclasses import dataclass

from bot.emulator import SlackDriver
from bot.emulator.sandbox import Sandbox
from storage.tenancy import tenant
from tests.support.world import FIXTURES, import_example

TEAM_A, TEAM_B = "T0HEALTH", "T0SCHOOL"
SCHOOL = FIXTURES / "school-initiative.yml"


@dataclass
class Install:
    status: int
    page: str


def install(sandbox: Sandbox, team_id: str, *, rotating: bool = False) -> Install:
    """What a person does: open /slack/install, approve in Slack, land on the redirect."""
    with urllib.request.urlopen(f"{sandbox.base_url}/slack/install", timeout=10) as response:
        page = response.read().decode()
        # Bolt's state cookie is `Secure`; a browser on https would send it back.
        cookie = response.headers["Set-Cookie"].split(";")[0]
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert authorize, page
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize.group(1).replace("&amp;", "&"))
                                  .query)
    assert query["client_id"] == [sandbox.emulator.oauth.client_id]
    assert "commands" in query["scope"][0].split(",")
    code = sandbox.emulator.issue_oauth_code(team_id, rotating=rotating)
    redirect = (f"{sandbox.base_url}/slack/oauth_redirect?"
                + urllib.parse.urlencode({"code": code, "state": query["state"][0]}))
    request = urllib.request.Request(redirect, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        return Install(response.status, response.read().decode())


def driver_for(sandbox: Sandbox, team_id: str) -> SlackDriver:
    return SlackDriver(sandbox.driver.app_url, sandbox.settings.signing_secret or "",
                       sandbox.emulator, team_id=team_id)


def setup_both(sandbox: Sandbox) -> tuple[SlackDriver, SlackDriver]:
    """Both teams installed, each with its own initiative; a driver for each."""
    assert install(sandbox, TEAM_A).status == 200
    assert install(sandbox, TEAM_B).status == 200
    with tenant(TEAM_A):
        import_example(sandbox.store)
    with tenant(TEAM_B):
        import_example(sandbox.store, path=SCHOOL)
    return driver_for(sandbox, TEAM_A), driver_for(sandbox, TEAM_B)
