"""Settings from the environment (and `.env`), checked once at start."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.runtime.client_address import DEFAULT_FORWARDED_ALLOW_IPS, TrustedProxies
from bot.runtime.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///impactbot.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Slack's requests are small (a view submission with every block filled in is a few tens
# of KiB); a body above this is refused with 413 before a byte of it is read.
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything the process reads from its environment. Secrets are hidden from repr."""

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    port: int = 3000
    initiative_file: Path | None = None
    log_level: str = "INFO"
    # FORWARDED_ALLOW_IPS: the front-ends whose X-Forwarded-For names the client (the
    # public voice form's rate limit; bot/runtime/client_address.py).
    trusted_proxies: TrustedProxies = field(
        default_factory=lambda: TrustedProxies.parse(DEFAULT_FORWARDED_ALLOW_IPS))

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        return self.client_id is not None and self.client_secret is not None

    def secrets(self) -> list[str]:
        """Every value that must never appear in a log line."""
        values = [self.bot_token, self.signing_secret, self.app_token, self.client_secret]
        password = _url_password(self.database_url)
        return [v for v in [*values, password] if v]

    def require_slack(self) -> None:
        """Check what connecting to Slack needs; raise ConfigError naming what is missing."""
        if not self.signing_secret and not self.socket_mode:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: copy it from your Slack app's "
                              "Basic Information page into .env")
        if not self.bot_token and not self.oauth:
            raise ConfigError("SLACK_BOT_TOKEN is not set (or set SLACK_CLIENT_ID and "
                              "SLACK_CLIENT_SECRET for multi-workspace installs)")


def _url_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:
        return None


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Read and check settings. Raises ConfigError with one line naming the bad variable."""
    if env is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(Path.cwd() / ".env", override=False)
        env = os.environ

    bot_token = _optional(env, "SLACK_BOT_TOKEN")
    if bot_token and not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'")
    app_token = _optional(env, "SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
    client_id = _optional(env, "SLACK_CLIENT_ID")
    client_secret = _optional(env, "SLACK_CLIENT_SECRET")
    if bool(client_id) != bool(client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(f"{missing} is not set: OAuth needs both SLACK_CLIENT_ID and "
                          "SLACK_CLIENT_SECRET")

    api_url = _optional(env, "SLACK_API_URL") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError("SLACK_API_URL must be an http(s) URL, e.g. https://slack.com/api/")
    if not api_url.endswith("/"):
        api_url += "/"

    database_url = _optional(env, "DATABASE_URL") or DEFAULT_DATABASE_URL
    database_url = _check_database_url(database_url)

    port_text = _optional(env, "PORT") or "3000"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"PORT must be a whole number, not {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"PORT must be between 0 and 65535, not {port}")

    initiative_text = _optional(env, "INITIATIVE_FILE")
    initiative_file = Path(initiative_text) if initiative_text else None
    if initiative_file is not None and not initiative_file.is_file():
        raise ConfigError(f"INITIATIVE_FILE points at {initiative_text!r}, which is not a file")

    log_level = (_optional(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")

    # As gunicorn reads it: unset is the default, set but empty trusts no front-end.
    forwarded_text = env.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)
    try:
        trusted_proxies = TrustedProxies.parse(forwarded_text)
    except ValueError as exc:
        raise ConfigError("FORWARDED_ALLOW_IPS must be comma-separated IP addresses or "
                          f"networks (or *), not {str(exc)!r}") from None

    return Settings(
        bot_token=bot_token,
        signing_secret=_optional(env, "SLACK_SIGNING_SECRET"),
        app_token=app_token,
        client_id=client_id,
        client_secret=client_secret,
        api_url=api_url,
        database_url=database_url,
        port=port,
        initiative_file=initiative_file,
        log_level=log_level,
        trusted_proxies=trusted_proxies,
    )


def _check_database_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL is not a database URL, e.g. sqlite:///impactbot.db or "
                          "postgresql+psycopg://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL must be sqlite or postgresql, not {backend!r}")
    if backend == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ModuleNotFoundError:
            raise ConfigError("DATABASE_URL is a PostgreSQL URL, which needs the PostgreSQL "
                              "driver: pip install 'impact-bot[postgres]'") from None
    if backend == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    return url


def configure_logging(settings: Settings) -> None:
    """Log to stderr at LOG_LEVEL, with every secret redacted from every record."""
    from bot.runtime.logs import RedactingFilter

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(settings.secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Libraries chatter at INFO (alembic announces every migration context, slack_sdk
    # logs retries); keep what the operator sees to what matters, unless debugging.
    quiet = logging.NOTSET if settings.log_level == "DEBUG" else logging.WARNING
    for name in ("alembic", "slack_sdk", "slack_bolt", "apscheduler", "urllib3"):
        logging.getLogger(name).setLevel(quiet)
