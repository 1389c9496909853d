"""The Slack app manifest: what the CLI prints, the URLs and the scopes it asks for."""

from __future__ import annotations

import pytest
import yaml

from bot.cli.main import main
from bot.runtime.manifest import BOT_EVENTS, BOT_SCOPES, render_manifest
from tests.support.world import ROOT


def test_manifest_file_is_what_the_cli_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest"]) == 0
    assert capsys.readouterr().out == (ROOT / "manifest.yml").read_text()


def test_http_manifest_points_every_url_at_slack_events() -> None:
    manifest = yaml.safe_load(render_manifest("https://impact.example.org/"))
    url = "https://impact.example.org/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["features"]["slash_commands"][0]["url"] == url


def test_manifest_asks_only_for_the_scopes_the_features_need() -> None:
    manifest = yaml.safe_load(render_manifest(None))
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert set(scopes) == set(BOT_SCOPES)
    # Never user-level or admin powers, never write access to other people's messages.
    assert not any(s.startswith(("admin", "chat:write.customize", "users:read.email"))
                   for s in scopes)
    assert "channels:manage" not in scopes
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert manifest["features"]["slash_commands"][0]["command"] == "/impact"
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "share_as_win"


def test_http_manifest_names_the_oauth_redirect_for_multi_workspace_installs() -> None:
    manifest = yaml.safe_load(render_manifest("https://impact.example.org"))
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://impact.example.org/slack/oauth_redirect"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"])
