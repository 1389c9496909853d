"""`impactbot console`: the real app against the built-in Slack emulator, in a terminal.

Like Hubot's shell adapter or errbot's text backend: the same bot, a different backend.
This module sets the scene (people, channels, database) and runs the terminal; a line's
meaning is in `commands.py`, what it does in `session.py`, what the bot answered in
`transcript.py`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.console import commands as cc
from bot.console.session import Console, set_zone
from bot.emulator.sandbox import Sandbox
from bot.runtime.clock import SystemClock
from bot.runtime.errors import UserError
from bot.runtime.settings import Settings, configure_logging
from storage.models import Member, SlackUser

HISTORY_FILE = Path.home() / ".impactbot_history"
# The example initiative beside the package (a checkout or editable install), else here.
EXAMPLE_FILES = (Path(__file__).resolve().parents[2] / "examples" / "initiative.yml",
                 Path("examples") / "initiative.yml",
                 # where a wheel install puts it (pyproject.toml: data-files)
                 Path(sysconfig.get_path("data")) / "share" / "impact-bot" / "examples"
                 / "initiative.yml")

DEMO_PEOPLE = {  # id: (name, real name, time zone)
    "U0BACKBONE1": ("bea", "Bea Backbone", "America/Chicago"),
    "U0AAA": ("ana", "Ana", "America/Chicago"),
    "U0BBB": ("ben", "Ben", "Asia/Tokyo"),
    "U0CCC": ("cy", "Cy", "America/Los_Angeles"),
    "U0DDD": ("dee", "Dee", "Europe/Berlin"),
    "U0EEE": ("eve", "Eve", "America/Chicago"),
}
DEMO_CHANNELS = {"C0BACKBONE": ("backbone", False), "C0WINS": ("wins", False),
                 "C0GENERAL": ("general", False), "G0PRIVATE": ("partners", True)}
SOLO_USER = ("U0YOU", "you", "You", "America/Chicago")

BANNER = ("Impact Bot console: the real bot running against a built-in Slack emulator, right "
          "here in your terminal (no Slack account, no network). Type /impact help to talk to "
          "the bot, plain text to post a message as yourself, and :help for console commands.")


# ---------------------------------------------------------------------- the world


def _seed_demo(sandbox: Sandbox) -> tuple[str, str, str]:
    from bot.initiative.importer import import_file

    example = next((path for path in EXAMPLE_FILES if path.exists()), None)
    if example is None:
        raise UserError("--demo needs examples/initiative.yml: run it from a checkout of "
                        "impact-bot")
    import_file(sandbox.store, example, sandbox.clock.now())
    for uid, (name, real_name, tz) in DEMO_PEOPLE.items():
        sandbox.emulator.add_user(uid, name=name, real_name=real_name, tz=tz)
    for cid, (name, private) in DEMO_CHANNELS.items():
        sandbox.emulator.add_channel(cid, name=name, is_private=private, members=DEMO_PEOPLE)
    status = ("The demo initiative “Healthy Starts Lake County” (examples/initiative.yml) is "
              "loaded. You are Ana, a partner member; :as bea to be the backbone admin, :who "
              "for everyone.")
    return "U0AAA", "C0GENERAL", status


def _seed_from_database(sandbox: Sandbox) -> tuple[str, str, str]:
    """People and channels the database already knows (`--database` with an initiative)."""
    from bot.runtime.caller import NO_INITIATIVE_CONSOLE, load_initiative

    emu = sandbox.emulator
    with sandbox.store.session() as session:
        initiative = load_initiative(session)
        members = list(session.scalars(select(Member.user_id)))
        known = {u.user_id: u for u in session.scalars(select(SlackUser))}
        admins = list(initiative.admins or []) if initiative else []
        channels = ([(initiative.backbone_channel, "backbone"),
                     (initiative.wins_channel, "wins")] if initiative else [])
        name = initiative.name if initiative else ""
        zone = initiative.timezone if initiative else "UTC"
    people = list(dict.fromkeys([*admins, *members]))
    for uid in people:
        # Everyone in the initiative's zone (`:tz` changes one person's): a zone cached by
        # an earlier session came from this emulator's default, not from anyone's profile.
        cached = known.get(uid)
        emu.add_user(uid, name=uid.lower(), real_name=(cached.real_name if cached else None))
        set_zone(sandbox, uid, zone)
    emu.add_channel("C0GENERAL", name="general", members=people or [SOLO_USER[0]])
    for cid, cname in channels:
        if cid and cid not in emu.channels:
            emu.add_channel(cid, name=cname, members=people)
    if people:
        status = f"The initiative “{name}” is loaded from the database. :who for everyone."
        return people[0], "C0GENERAL", status
    uid, uname, real_name, tz = SOLO_USER
    emu.add_user(uid, name=uname, real_name=real_name, tz=tz)
    return uid, "C0GENERAL", NO_INITIATIVE_CONSOLE


# ---------------------------------------------------------------------- the terminal


def _quiet_logging() -> None:
    level = "DEBUG" if os.environ.get("LOG_LEVEL", "").upper() == "DEBUG" else "WARNING"
    configure_logging(replace(Settings(), log_level=level))


def _enable_history() -> None:
    """Readline history and completion, best effort (no readline, unwritable home: fine)."""
    try:
        import atexit
        import readline
    except ImportError:
        return
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY_FILE)
    readline.set_history_length(1000)
    from bot.rendering.help import SUBCOMMANDS

    first_words = [f":{name}" for name in cc.COMMANDS] + ["/impact"]
    subcommands = sorted({usage.split()[0] for usage, _who, _what in SUBCOMMANDS})

    def complete(text: str, state: int) -> str | None:
        typed = readline.get_line_buffer().lstrip()
        words = subcommands if typed.startswith("/impact ") else first_words
        matches = [w for w in words if w.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" ")
    readline.parse_and_bind("tab: complete")

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY_FILE)

    atexit.register(save)


def _typed_lines(console: Console) -> Iterable[str]:
    while True:
        try:
            yield input(console.prompt())
        except EOFError:
            console.say()
            return
        except KeyboardInterrupt:
            console.say("\n  (interrupted: :quit or Ctrl-D to leave)")


def _piped_lines(console: Console, stdin: TextIO) -> Iterable[str]:
    for raw in stdin:
        line = raw.rstrip("\r\n")
        console.say(console.prompt() + line)  # so the transcript reads like a session
        yield line


def _database_url(url: str) -> str:
    from bot.runtime.errors import ConfigError
    from bot.runtime.settings import _check_database_url

    try:
        return _check_database_url(url)
    except ConfigError as exc:  # the same checks as DATABASE_URL, named for the option
        raise UserError(str(exc).replace("DATABASE_URL", "--database", 1)) from None


def run_console(demo: bool, database_url: str | None) -> int:
    _quiet_logging()
    if database_url is not None:
        database_url = _database_url(database_url)
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(errors="replace")
    scratch = None if database_url else tempfile.mkdtemp(prefix="impactbot-console-")
    url = database_url or f"sqlite:///{Path(scratch or '.') / 'console.db'}"
    try:
        with Sandbox(url, now=SystemClock().now().replace(second=0, microsecond=0)) as sandbox:
            sandbox.services.surface = "console"
            user, channel, status = (_seed_demo if demo else _seed_from_database)(sandbox)
            console = Console(sandbox, out, user, channel, ansi=out.isatty())
            console.say(BANNER)
            where = ("a temporary SQLite file, deleted when you quit" if scratch else
                     make_url(url).render_as_string(hide_password=True))
            console.say(f"{status} Clock: {console.clock_line()}. Data: {where}.")
            console.say()
            interactive = sys.stdin.isatty()
            if interactive:
                _enable_history()
            lines = _typed_lines(console) if interactive else _piped_lines(console, sys.stdin)
            for line in lines:
                try:
                    if not console.handle(line):
                        break
                except KeyboardInterrupt:
                    console.say("  (interrupted)")
        return 0
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
