"""Someone who reads the logs or an error message learns no token, signing secret or
database password: not from our log lines, not from the libraries' debug output, not from
a Slack error that echoes a token, not from the CLI's one-line errors."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest
from slack_sdk.errors import SlackApiError

from bot.emulator.sandbox import Sandbox
from bot.runtime.logs import RedactingFilter, redact
from bot.runtime.settings import configure_logging
from tests.support.world import ROOT

SLACK_SECRETS = ("xoxb-1234-5678-AbCdEfGhIjKl", "xoxp-99-88-user-token", "xapp-1-A0-123-abc",
                 "xoxe.xoxb-1-rotating-refresh", "xoxe-1-refresh-token")


@pytest.mark.parametrize("token", SLACK_SECRETS)
def test_every_slack_token_shape_is_redacted_even_when_we_were_not_told_it(token: str) -> None:
    text = redact(f"auth failed for {token}, retrying")

    assert token not in text
    assert "[redacted]" in text


def test_a_slack_api_error_that_echoes_the_token_is_redacted_in_logs(
        caplog: pytest.LogCaptureFixture) -> None:
    secret = "0123456789abcdef-signing"
    error = SlackApiError(f"invalid_auth for token {SLACK_SECRETS[0]} (secret {secret})",
                          {"ok": False, "error": f"invalid_auth {SLACK_SECRETS[0]}"})
    record = logging.LogRecord("bot.test", logging.ERROR, __file__, 1,
                               "posting failed: %s", (error,), None)
    try:
        raise error
    except SlackApiError:
        record.exc_info = sys.exc_info()

    RedactingFilter([secret]).filter(record)
    formatted = logging.Formatter("%(message)s").format(record)

    assert SLACK_SECRETS[0] not in formatted and secret not in formatted
    assert "posting failed" in formatted and "Traceback" in formatted


@pytest.fixture
def app_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level,
             {n: logging.getLogger(n).level for n in ("alembic", "slack_sdk", "slack_bolt",
                                                       "apscheduler", "urllib3")})
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("app_logging")
def test_debug_logs_of_a_busy_session_hold_no_token_or_secret(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    settings = replace(sandbox.settings, log_level="DEBUG")
    configure_logging(settings)
    token, secret = sandbox.emulator.bot_token, settings.signing_secret or ""
    # Slack echoing the token back in an error is the worst case; so is a failed DM.
    sandbox.emulator.fail_next("chat.postMessage", status=200,
                               error=f"invalid_auth:{token}", count=3)

    sandbox.driver.command("U0AAA", "report prenatal-visits 72 from the clinic")
    sandbox.driver.command("U0AAA", "win We opened a new clinic")
    sandbox.driver.command("U0BACKBONE1", "export")
    sandbox.driver.app_home_opened("U0CCC")
    sandbox.settle()
    logged = capsys.readouterr().err

    assert "chat.postMessage" in logged or "chat_postMessage" in logged  # DEBUG is really on
    assert token not in logged
    assert secret not in logged
    assert "posting win 1 failed: invalid_auth:[redacted]" in logged


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IMPACTBOT_"))}
    base.pop("INITIATIVE_FILE", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=120,
                          env={**base, "PYTHONPATH": str(ROOT), **env})


@pytest.mark.slow
@pytest.mark.parametrize("level", ["WARNING", "DEBUG"])
def test_cli_errors_never_print_the_token_even_when_slack_echoes_it(
        sandbox: Sandbox, level: str) -> None:
    token = sandbox.emulator.bot_token
    sandbox.emulator.fail_next("chat.postMessage", status=200,
                               error=f"token_revoked {token}", count=10)

    result = _cli(["digest", "--post", "--at", "2026-11-13T22:00:00Z"],
                  {"DATABASE_URL": sandbox.settings.database_url, "LOG_LEVEL": level,
                   "SLACK_API_URL": sandbox.emulator.api_url, "SLACK_BOT_TOKEN": token,
                   "SLACK_SIGNING_SECRET": "cli-signing-secret-value"})

    assert result.returncode == 1, result.stderr
    assert "impactbot:" in result.stderr or level == "DEBUG"
    assert "SlackApiError" in result.stderr
    assert token not in result.stderr + result.stdout
    assert "cli-signing-secret-value" not in result.stderr + result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("level", ["WARNING", "DEBUG"])
def test_cli_database_errors_never_print_the_database_password(level: str) -> None:
    url = "postgresql+psycopg://impact:S3cretPassw0rd@127.0.0.1:1/nowhere"

    result = _cli(["digest", "--at", "2026-11-13T22:00:00Z"],
                  {"DATABASE_URL": url, "LOG_LEVEL": level})

    assert result.returncode == 1
    assert "S3cretPassw0rd" not in result.stderr + result.stdout
    assert "database" in result.stderr.lower() or "OperationalError" in result.stderr
