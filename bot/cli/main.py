"""`impactbot`: run, serve, schedule, import, export, remind, tick, digest, console, manifest."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.db_errors import describe_database_error
from bot.runtime.errors import UserError
from bot.runtime.settings import Settings, configure_logging, load_settings

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger("bot.cli.main")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"impactbot: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="impactbot", description="Impact Bot: the backbone's assistant "
                     "in Slack for a collective impact initiative.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sub.add_parser("run", help="connect to Slack (Socket Mode or HTTP) with the scheduler")
    sub.add_parser("serve", help="HTTP only, no scheduler (run many behind a load balancer)")
    sub.add_parser("scheduler", help="the scheduler alone (one or several: they share the work)")

    console = sub.add_parser("console", help="the real bot in your terminal, no Slack needed")
    console.add_argument("--demo", action="store_true",
                         help="seed examples/initiative.yml with demo people")
    console.add_argument("--database", metavar="URL",
                         help="database for the console (default: a fresh temporary SQLite)")

    imp = sub.add_parser("import", help="create or update the initiative from a YAML file")
    imp.add_argument("file", type=Path)

    exp = sub.add_parser("export", help="every measure report, as CSV or JSON")
    exp.add_argument("--format", choices=("csv", "json"), default="csv")
    exp.add_argument("--out", type=Path, help="write to this file instead of stdout")
    exp.add_argument("--history", action="store_true",
                     help="include superseded values (corrections) too")
    exp.add_argument("--totals", action="store_true", help="one row per measure and period: "
                     "the initiative's figure (pooled for rates) and its coverage")
    exp.add_argument("--measure", metavar="KEY", help="only this measure")
    exp.add_argument("--partner", metavar="KEY", help="only this partner")
    exp.add_argument("--from", dest="period_from", metavar="PERIOD",
                     help="periods from this one on (2026-09, 2026-Q3, 2026-W38)")
    exp.add_argument("--to", dest="period_to", metavar="PERIOD", help="periods up to this one")

    values = sub.add_parser("import-values", help="load a history of reports from a CSV file "
                            "(the export's columns); all or nothing")
    values.add_argument("file", type=Path)
    values.add_argument("--dry-run", action="store_true",
                        help="check the file and say what would change; write nothing")

    remind = sub.add_parser("remind", help="run one reminder tick")
    remind.add_argument("--at", metavar="ISO-8601", help="as of this instant (default: now)")
    remind.add_argument("--dry-run", action="store_true", help="list who would get what")

    tick = sub.add_parser("tick", help="run every scheduled job once (reminders, action "
                                       "reminders, digest, relays)")
    tick.add_argument("--at", metavar="ISO-8601", help="as of this instant (default: now)")
    tick.add_argument("--dry-run", action="store_true", help="print what would be sent")
    digest = sub.add_parser("digest", help="build the weekly digest")
    digest.add_argument("--at", metavar="ISO-8601", help="as of this instant (default: now)")
    mode = digest.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true", help="print it, post nothing (default)")
    mode.add_argument("--post", action="store_true", help="post it, once per ISO week")
    digest.add_argument("--force", action="store_true", help="with --post: post again")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_sub.required = True
    db_sub.add_parser("upgrade", help="apply migrations")

    for tenant_command in (imp, exp, values, remind, tick, digest):
        tenant_command.add_argument(
            "--team", metavar="TEAM_ID",
            help="multi-workspace mode: the Slack workspace (team id) whose initiative this is")

    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL for HTTP mode (omit for Socket Mode)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)  # so LOG_LEVEL=DEBUG there counts too
    debug = os.environ.get("LOG_LEVEL", "").upper() == "DEBUG"
    try:
        with _workspace(getattr(args, "team", None)):
            code = _COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, where it is handled, not at exit
        return code
    except UserError as exc:
        print(f"impactbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except BrokenPipeError:
        # `impactbot digest --preview | head`: the reader has all it wanted. Python's
        # recipe (docs: signal, "Note on SIGPIPE"): point stdout at devnull so the flush
        # at exit does not fail again, and end quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if debug:
            # The traceback, through the redacting log handler: an exception's message can
            # hold a token (a Slack error echoing it), and a bare traceback would print it.
            _log_failure(args.command)
            return EXIT_FAILURE
        print(f"impactbot: {_describe(exc)} (set LOG_LEVEL=DEBUG for details)", file=sys.stderr)
        return EXIT_FAILURE


def check_public_url(url: str) -> None:
    """Slack sends requests only to a public https URL (a Request URL must be https)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise UserError(f"--url must be the bot's public https address, like "
                        f"https://impact.example.org (got {url!r})")


def _describe(exc: Exception) -> str:
    """One readable line for an unexpected failure, with no secret in it."""
    from sqlalchemy.exc import DBAPIError

    from bot.runtime.logs import redact

    secrets = _env_secrets()
    if isinstance(exc, DBAPIError):
        return redact(describe_database_error(exc), secrets)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, secrets)


def _env_secrets() -> list[str]:
    """Every secret the environment holds: tokens, the signing secret, the database password."""
    from bot.runtime.settings import _url_password

    names = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET")
    values = [os.environ.get(name, "") for name in names]
    values.append(_url_password(os.environ.get("DATABASE_URL", "")) or "")
    return [v for v in values if v]


def _log_failure(command: str) -> None:
    """LOG_LEVEL=DEBUG: the whole traceback, through a redacting handler (an exception's
    message can hold a token, e.g. a Slack error echoing it)."""
    from bot.runtime.logs import RedactingFilter

    root = logging.getLogger()
    if not root.handlers:  # failed before logging was configured
        handler = logging.StreamHandler()
        handler.addFilter(RedactingFilter(_env_secrets()))
        root.addHandler(handler)
    logging.getLogger("bot.cli.main").exception("impactbot %s failed", command)


@contextmanager
def _workspace(team_id: str | None) -> Iterator[None]:
    """`--team`: do the command's database work in that workspace's tenant."""
    if team_id is None:
        yield
        return
    from storage.tenancy import TEAM_ID, tenant

    if not TEAM_ID.match(team_id):
        raise UserError(f"--team: {team_id!r} is not a Slack team id (like T0123ABCD)")
    with tenant(team_id):
        yield


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings)
    return settings


def _require_initiative(services: Services, *, one_workspace: bool = False) -> None:
    from bot.cli.checks import require_initiative

    require_initiative(services, one_workspace=one_workspace)


def _services(settings: Settings, *, at: str | None = None) -> Services:
    from bot.runtime.clock import ManualClock, SystemClock, parse_instant
    from bot.runtime.services import Services
    from storage.db import Store

    store = Store(settings.database_url)
    store.upgrade()
    clock: ManualClock | SystemClock
    if at is not None:
        try:
            clock = ManualClock(parse_instant(at))
        except ValueError as exc:
            raise UserError(f"--at: {exc}") from None
    else:
        clock = SystemClock()
    services = Services(settings, store, clock)
    if settings.initiative_file is not None:
        from bot.initiative.importer import import_file

        result = import_file(store, settings.initiative_file, clock.now())
        if result.changed:
            log.info("imported %s: %s", settings.initiative_file, result.summary())
    return services


def cmd_db(args: argparse.Namespace) -> int:
    from storage.db import Store

    settings = _settings()
    Store(settings.database_url).upgrade()
    print("Database is up to date.")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from bot.initiative.importer import import_file
    from bot.runtime.clock import SystemClock
    from storage.db import Store

    settings = _settings()
    store = Store(settings.database_url)
    store.upgrade()
    result = import_file(store, args.file, SystemClock().now())
    print(f"Imported {args.file}. {result.summary()}")
    return EXIT_OK


def cmd_import_values(args: argparse.Namespace) -> int:
    from bot.measures.history_import import run_import_values_command
    from bot.runtime.clock import SystemClock

    settings = _settings()
    services = _services(settings)
    _require_initiative(services, one_workspace=True)
    return run_import_values_command(services.store, args.file, SystemClock().now(),
                                     args.dry_run)


def cmd_manifest(args: argparse.Namespace) -> int:
    from bot.runtime.manifest import render_manifest

    if args.url is not None:
        check_public_url(args.url)
    print(render_manifest(args.url), end="")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.runtime.server import serve

    settings = _settings()
    settings.require_slack()
    serve(settings, with_scheduler=False)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    settings.require_slack()
    if settings.socket_mode:
        from bot.runtime.server import run_socket_mode

        run_socket_mode(settings)
    else:
        from bot.runtime.server import serve

        serve(settings, with_scheduler=True)
    return EXIT_OK


def cmd_scheduler(args: argparse.Namespace) -> int:
    from bot.runtime import scheduler

    settings = _settings()
    if not settings.bot_token and not settings.oauth:
        from bot.runtime.errors import ConfigError

        raise ConfigError("SLACK_BOT_TOKEN is not set: the scheduler posts as the bot (or set "
                          "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for multi-workspace mode)")
    services = _services(settings)
    sched = scheduler.build(services, blocking=True)
    log.info("scheduler started with jobs: %s",
             ", ".join(spec.id for spec in scheduler.registered_jobs()) or "none")
    sched.start()
    return EXIT_OK


def cmd_console(args: argparse.Namespace) -> int:
    from bot.console.main import run_console

    return run_console(demo=args.demo, database_url=args.database)


def cmd_export(args: argparse.Namespace) -> int:
    from bot.measures.export import run_export_command

    settings = _settings()
    services = _services(settings)
    _require_initiative(services, one_workspace=True)
    if args.totals:
        from bot.measures.totals import run_totals_command

        return run_totals_command(services, args)
    return run_export_command(services, args)


def cmd_remind(args: argparse.Namespace) -> int:
    from bot.reminders.tick import run_remind_command

    settings = _settings()
    services = _services(settings, at=args.at)
    if settings.oauth and getattr(args, "team", None) is None and not args.dry_run:
        from bot.reminders.remind_all import remind_every_workspace

        return remind_every_workspace(services)
    _require_initiative(services)
    return run_remind_command(services, args)


def cmd_tick(args: argparse.Namespace) -> int:
    from bot.cli.tick import run_tick_command

    settings = _settings()
    services = _services(settings, at=args.at)
    every = settings.oauth and getattr(args, "team", None) is None
    if not every:
        _require_initiative(services)
    return run_tick_command(services, args, every_workspace=every)


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.digest.posting import run_digest_command

    settings = _settings()
    services = _services(settings, at=args.at)
    _require_initiative(services, one_workspace=True)
    return run_digest_command(services, args)


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "serve": cmd_serve,
    "scheduler": cmd_scheduler,
    "console": cmd_console,
    "import": cmd_import,
    "export": cmd_export,
    "import-values": cmd_import_values,
    "remind": cmd_remind,
    "tick": cmd_tick,
    "digest": cmd_digest,
    "db": cmd_db,
    "manifest": cmd_manifest,
}
