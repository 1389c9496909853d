"""The example world every sandbox test starts from: its people, channels and clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.emulator.sandbox import Sandbox
from bot.initiative.importer import ImportResult, import_file
from storage.db import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "initiative.yml"
FIXTURES = ROOT / "tests" / "fixtures"

# A Tuesday afternoon in Chicago, after the November reminders went out.
NOW = datetime(2026, 11, 10, 21, 0, tzinfo=UTC)

# People in the example initiative, as the emulator knows them.
ADMIN = "U0BACKBONE1"
PEOPLE = {
    "U0BACKBONE1": ("Bea Backbone", "America/Chicago"),
    "U0AAA": ("Ana Health", "America/Chicago"),
    "U0BBB": ("Ben Health", "Asia/Tokyo"),
    "U0CCC": ("Cy Clinic", "America/Los_Angeles"),
    "U0DDD": ("Dee Family", "Europe/Berlin"),
    "U0EEE": ("Eve United", "America/Chicago"),
    "U0OUTSIDER": ("Otto Outsider", "America/New_York"),
}
# The partner members of the example initiative (everyone a reminder can go to).
MEMBERS = ("U0AAA", "U0BBB", "U0CCC", "U0DDD", "U0EEE")

BACKBONE = "C0BACKBONE"
WINS = "C0WINS"
GENERAL = "C0GENERAL"
PRIVATE = "G0PRIVATE"
CHANNELS = {
    BACKBONE: ("backbone", False),
    WINS: ("wins", False),
    GENERAL: ("general", False),
    PRIVATE: ("partners-private", True),
}


def populate_world(sandbox: Sandbox) -> None:
    """The example people and channels, everyone in every channel."""
    emu = sandbox.emulator
    for user_id, (name, tz) in PEOPLE.items():
        emu.add_user(user_id, real_name=name, name=name.split()[0].lower(), tz=tz)
    for channel_id, (name, private) in CHANNELS.items():
        emu.add_channel(channel_id, name=name, is_private=private,
                        members=list(PEOPLE))


def import_example(store: Store, now: datetime = NOW, path: Path = EXAMPLE) -> ImportResult:
    """examples/initiative.yml (or another initiative file) imported into `store`."""
    return import_file(store, path, now)


START_LINE = ("  start: 2026-01-01                # reports are owed from here on (default: the "
              "first import)\n")


def import_without_start(store: Store, directory: Path) -> ImportResult:
    """The example initiative imported for the first time today (Tuesday 2026-11-10)
    without an explicit `start`: it starts today (SPEC §9)."""
    source = EXAMPLE.read_text()
    assert START_LINE in source
    path = directory / "initiative.yml"
    path.write_text(source.replace(START_LINE, ""))
    return import_example(store, path=path)

