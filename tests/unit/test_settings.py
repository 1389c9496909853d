"""Settings are checked once at start, with one line naming the bad variable; secrets never
reach a log line."""

from __future__ import annotations

import logging

import pytest

from bot.runtime.errors import ConfigError
from bot.runtime.logs import RedactingFilter
from bot.runtime.settings import load_settings

TOKEN = "xoxb-1234567890-0987654321-SuperSecretTokenValue"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def test_defaults_need_nothing() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///impactbot.db"
    assert settings.api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.log_level == "INFO"
    assert not settings.socket_mode


@pytest.mark.parametrize(("env", "named"), [
    ({"PORT": "eighty"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
    ({"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
    ({"SLACK_CLIENT_ID": "123.456"}, "SLACK_CLIENT_SECRET"),
    ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
    ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"INITIATIVE_FILE": "/nonexistent/initiative.yml"}, "INITIATIVE_FILE"),
])
def test_malformed_setting_is_named_in_one_line(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_plain_postgresql_url_uses_psycopg3() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://u@db/impact"})
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_settings_repr_hides_secrets() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET})
    assert TOKEN not in repr(settings)
    assert SECRET not in repr(settings)


def test_tokens_and_secrets_never_reach_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    handler_filter = RedactingFilter([TOKEN, SECRET])
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.DEBUG, logger="test.redaction"):
            logger.info("calling Slack with %s", TOKEN)
            logger.warning("signing secret is %s", SECRET)
            logger.info("a token we were never told about: xoxb-999-888-abcdef")
            try:
                raise RuntimeError(f"auth failed for {TOKEN}")
            except RuntimeError:
                logger.exception("request failed")
    finally:
        caplog.handler.removeFilter(handler_filter)

    assert caplog.text  # the messages were logged...
    assert TOKEN not in caplog.text  # ...without the secrets
    assert SECRET not in caplog.text
    assert "xoxb-999-888-abcdef" not in caplog.text
    assert "[redacted]" in caplog.text


def test_configured_logging_redacts_secrets_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """The handler the CLI installs redacts whatever a library or we log."""
    from bot.runtime.settings import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(load_settings({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                                         "LOG_LEVEL": "DEBUG"}))
        logging.getLogger("slack_bolt.redaction_probe").debug("body: token=%s&text=help", TOKEN)
        logging.getLogger("bot").error("verification with %s failed", SECRET)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])

    err = capfd.readouterr().err
    assert "body: token=[redacted]&text=help" in err
    assert "verification with [redacted] failed" in err
    assert TOKEN not in err
    assert SECRET not in err


def test_postgresql_url_without_the_driver_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'impact-bot\[postgres\]'"):
        load_settings({"DATABASE_URL": "postgresql://u@db/impact"})
